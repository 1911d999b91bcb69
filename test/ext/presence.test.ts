// Presence (RFC 6121 §4) and subscriptions (§3) as stanza conversations between two and three
// users with several resources: the handshake reaching `both`, pre-approval, cancel and
// decline, broadcast and updates, probes with delay stamps, directed presence, unavailable on
// logout / socket loss / replacement, negative priority, pending requests at next login.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NS } from '../../src/core/namespaces.ts';
import { GET_PRESENCE, PRESENCE_EVENT_TAG, type PresenceInfo } from '../../src/ext/presence/index.ts';
import { userAvailable } from '../../src/core/server-hooks.ts';
import { emptySubscriptionLists, rosterGetSubscriptionLists } from '../../src/core/hooks/roster.ts';
import { Jid } from '../../src/core/jid.ts';
import { befriend, errorCondition, imServer, login, presences, pushes, rosterOf, send } from './roster-helpers.ts';

test('full subscription handshake reaches both on both sides; pushes go to every interested resource', async () => {
  const server = await imServer();
  const phone = await login(server, 'alice@localhost/phone');
  const pc = await login(server, 'alice@localhost/pc');
  const bob = await login(server, 'bob@localhost/pc');
  const bobTab = await login(server, 'bob@localhost/tab');
  for (const c of [phone, pc, bob, bobTab]) c.received();

  // 1. alice asks (RFC 6121 §3.1.2): pending out; the request reaches every available bob, from alice's BARE JID.
  await send(phone, `<presence to='bob@localhost/pc' type='subscribe'/>`);
  await bob.settle();
  assert.equal(pushes(phone), ['bob@localhost:none:subscribe']);
  assert.equal(pushes(pc), ['bob@localhost:none:subscribe']);
  assert.equal(presences(bob), ['alice@localhost:subscribe']);
  assert.equal(presences(bobTab), ['alice@localhost:subscribe']);
  assert.equal(pushes(bob), [], 'nothing visible changed in bob roster (pending in is not pushed)');

  // 2. bob approves: bob → from, alice → to; alice's resources get subscribed and bob's presence.
  await send(bob, `<presence to='alice@localhost' type='subscribed'/>`);
  await phone.settle();
  assert.equal(pushes(bob), ['alice@localhost:from']);
  assert.equal(pushes(bobTab), ['alice@localhost:from']);
  assert.equal(pushes(phone), ['bob@localhost:to']);
  assert.equal(pushes(pc), ['bob@localhost:to']);
  const ap = presences(phone);
  assert.ok(ap.includes('bob@localhost:subscribed'), ap.join());
  assert.ok(ap.includes('bob@localhost/pc') && ap.includes('bob@localhost/tab'), `bob's resources announce themselves: ${ap}`);

  // 3. and the reverse.
  await send(bob, `<presence to='alice@localhost' type='subscribe'/>`);
  await send(phone, `<presence to='bob@localhost' type='subscribed'/>`);
  await bob.settle();
  assert.equal(await rosterOf(phone), ['bob@localhost:both']);
  assert.equal(await rosterOf(bob), ['alice@localhost:both']);
  assert.equal(pushes(pc), ['bob@localhost:both']);
  const bp = presences(bob);
  assert.ok(bp.includes('alice@localhost/phone') && bp.includes('alice@localhost/pc'), bp.join());
  assert.equal(server.hookErrors, []);
});

test('pre-approval (RFC 6121 §3.4): nothing is sent; the later request is approved by the server', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  for (const c of [alice, bob]) c.received();
  await send(bob, `<presence to='alice@localhost' type='subscribed'/>`);
  await alice.settle();
  assert.equal(pushes(bob), ['alice@localhost:none:approved']);
  assert.equal(alice.received(), [], 'a pre-approval is not routed');
  await send(alice, `<presence to='bob@localhost' type='subscribe'/>`);
  await bob.settle();
  assert.equal(presences(bob), [], 'bob is not asked');
  assert.equal(pushes(bob), ['alice@localhost:from']);
  assert.equal(pushes(alice), ['bob@localhost:none:subscribe', 'bob@localhost:to']);
  const ap = presences(alice);
  assert.ok(ap.includes('bob@localhost:subscribed'), ap.join());
  assert.ok(ap.includes('bob@localhost/pc'), ap.join());
  assert.equal(server.hookErrors, []);
});

test('decline: unsubscribed to a pending request clears both sides', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await send(alice, `<presence to='bob@localhost' type='subscribe'/>`);
  await send(bob, `<presence to='alice@localhost' type='unsubscribed'/>`);
  await alice.settle();
  assert.equal(await rosterOf(alice), ['bob@localhost:none']);
  assert.equal(await rosterOf(bob), [], 'the unanswered request left no item behind');
  assert.ok(presences(alice).includes('bob@localhost:unsubscribed'));
});

test('unsubscribe and unsubscribed from both: states step down and presence stops', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  alice.received();
  bob.received();
  // alice no longer wants bob's presence (§3.3): alice both→from, bob both→to; bob's presence goes unavailable at alice.
  await send(alice, `<presence to='bob@localhost' type='unsubscribe'/>`);
  await bob.settle();
  assert.equal(pushes(alice), ['bob@localhost:from']);
  assert.equal(pushes(bob), ['alice@localhost:to']);
  assert.ok(presences(alice).includes('bob@localhost/pc:unavailable'));
  assert.ok(presences(bob).includes('alice@localhost:unsubscribe'));
  // alice cancels bob's subscription to her (§3.2): alice from→none, bob to→none.
  await send(alice, `<presence to='bob@localhost' type='unsubscribed'/>`);
  await bob.settle();
  assert.equal(pushes(alice), ['bob@localhost:none']);
  assert.equal(pushes(bob), ['alice@localhost:none']);
  const bp = presences(bob);
  assert.ok(bp.includes('alice@localhost/phone:unavailable') && bp.includes('alice@localhost:unsubscribed'), bp.join());
  // Updates no longer reach bob.
  await send(alice, `<presence><show>away</show></presence>`);
  await bob.settle();
  assert.equal(presences(bob), []);
  assert.equal(server.hookErrors, []);
});

test('broadcast: initial presence and updates reach subscribers and own resources only; probes are never shown', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/x');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  const alice2 = await login(server, 'alice@localhost/pc', { presence: `<presence><status>second</status></presence>` });
  await bob.settle();
  const a2 = presences(alice2);
  // Its own echo, bob (probe answer), and alice/phone (own resources answer the probe too).
  assert.ok(a2.includes('alice@localhost/pc') && a2.includes('bob@localhost/pc') && a2.includes('alice@localhost/phone'), a2.join());
  assert.ok(!a2.some((p) => p.endsWith(':probe')), 'probes are answered by the server, never shown');
  assert.ok(presences(bob).includes('alice@localhost/pc'));
  assert.ok(presences(alice).includes('alice@localhost/pc'));
  for (const c of [alice, alice2, bob, carol]) c.received();
  await send(alice, `<presence><show>dnd</show><status>busy</status><priority>5</priority></presence>`);
  await bob.settle();
  const upd = bob.expect((e) => e.name === 'presence');
  assert.is(upd.attrs.from, 'alice@localhost/phone');
  assert.is(upd.getChildText('show'), 'dnd');
  assert.equal(presences(alice2), ['alice@localhost/phone']);
  assert.equal(presences(carol), [], 'carol is not subscribed');
  assert.equal(server.hookErrors, []);
});

test('probe answers carry a XEP-0203 delay stamp of when the presence was sent', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  const sentAt = server.clock.now();
  await send(alice, `<presence><status>since then</status></presence>`);
  server.clock.advance(3_600_000);
  const bob2 = await login(server, 'bob@localhost/tab');
  const p = bob2.expect((e) => e.name === 'presence' && e.attrs.from === 'alice@localhost/phone', "alice's presence");
  const delay = p.getChild('delay', NS.DELAY);
  assert.ok(delay, 'delay stamp');
  assert.is(delay!.attrs.from, 'localhost');
  assert.is(Date.parse(delay!.attrs.stamp!), sentAt);
  assert.is(p.getChildText('status'), 'since then');
  assert.not.ok(alice.received().some((e) => e.attrs.type === 'probe'));
  // carol is not subscribed: her probe is not answered.
  const carol = await login(server, 'carol@localhost/x');
  await send(carol, `<presence to='alice@localhost' type='probe'/>`);
  await alice.settle();
  assert.equal(presences(carol).filter((x) => x.startsWith('alice')), []);
});

test('a probe to a user with no available resource is answered unavailable, to subscribers only (RFC 6121 §4.3.2)', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  await send(bob, `</stream:stream>`);
  // A bound session without presence does not count as available.
  await login(server, 'bob@localhost/quiet', { presence: false });
  const alice2 = await login(server, 'alice@localhost/pc');
  const got = presences(alice2);
  assert.ok(got.includes('bob@localhost:unavailable'), got.join());
  const carol = await login(server, 'carol@localhost/x');
  await send(carol, `<presence to='bob@localhost' type='probe'/>`);
  assert.equal(presences(carol).filter((p) => p.startsWith('bob')), []);
  assert.equal(server.hookErrors, []);
});

test('directed presence: delivered to a non-contact, followed by unavailable at logout; directed unavailable forgets it', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const carol = await login(server, 'carol@localhost/x');
  const bob = await login(server, 'bob@localhost/pc');
  carol.received();
  bob.received();
  await send(alice, `<presence to='carol@localhost/x'><show>chat</show></presence>`);
  await send(alice, `<presence to='bob@localhost'/>`);
  await carol.settle();
  assert.equal(presences(carol), ['alice@localhost/phone']);
  assert.equal(presences(bob), ['alice@localhost/phone']);
  await send(alice, `<presence to='bob@localhost' type='unavailable'/>`);
  assert.equal(presences(bob), ['alice@localhost/phone:unavailable']);
  await send(alice, `</stream:stream>`);
  await carol.settle();
  const un = carol.expect((e) => e.name === 'presence');
  assert.is(un.attrs.type, 'unavailable');
  assert.is(un.getChildText('status'), 'Logged out');
  assert.equal(presences(bob), [], 'bob was already told');
});

test('directed presence works before initial presence and replies reach the resource', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  const carol = await login(server, 'carol@localhost/x');
  await send(alice, `<presence to='carol@localhost/x'/>`);
  await send(carol, `<presence to='alice@localhost/phone'/>`);
  await alice.settle();
  assert.equal(presences(alice), ['carol@localhost/x']);
});

test('unavailable: from the client, on socket loss, and on replacement (not to the replacing resource)', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const alice2 = await login(server, 'alice@localhost/pc');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  for (const c of [alice, alice2, bob]) c.received();

  await send(alice2, `<presence type='unavailable'><status>bye</status></presence>`);
  await bob.settle();
  const u = bob.expect((e) => e.name === 'presence');
  assert.equal([u.attrs.from, u.attrs.type, u.getChildText('status')], ['alice@localhost/pc', 'unavailable', 'bye']);
  assert.equal(presences(alice), ['alice@localhost/pc:unavailable']);
  // alice/pc is unavailable now: broadcasts no longer reach it.
  await send(bob, `<presence><show>away</show></presence>`);
  assert.equal(presences(alice2), []);
  assert.equal(presences(alice), ['bob@localhost/pc']);
  bob.received();

  alice.closeSocket();
  await bob.settle();
  const lost = bob.expect((e) => e.name === 'presence');
  assert.equal([lost.attrs.from, lost.attrs.type, lost.getChildText('status')], ['alice@localhost/phone', 'unavailable', 'Connection closed']);

  const bobAgain = server.connect();
  await bobAgain.login('bob@localhost/pc', 'b');
  await bobAgain.settle();
  assert.is(bob.streamError, 'conflict');
  assert.equal(presences(bobAgain), [], 'the replacing session does not hear its predecessor go');
  assert.equal(server.hookErrors, []);
});

test('replacement: contacts see unavailable with the replacement status', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  bob.received();
  const again = server.connect();
  await again.login('alice@localhost/phone', 'a');
  await bob.settle();
  const u = bob.expect((e) => e.name === 'presence');
  assert.equal([u.attrs.from, u.attrs.type, u.getChildText('status')], ['alice@localhost/phone', 'unavailable', 'Replaced by new connection']);
  assert.equal(presences(again), []);
});

test('negative priority: bare-JID messages skip that resource (RFC 6121 §4.7.2.3)', async () => {
  const server = await imServer();
  const neg = await login(server, 'alice@localhost/neg', { presence: `<presence><priority>-1</priority></presence>` });
  const pos = await login(server, 'alice@localhost/pos', { presence: `<presence><priority>1</priority></presence>` });
  const bob = await login(server, 'bob@localhost/pc');
  await send(bob, `<message to='alice@localhost' type='chat'><body>hi</body></message>`);
  await pos.settle();
  assert.ok(pos.nextElement((e) => e.name === 'message'));
  assert.not.ok(neg.nextElement((e) => e.name === 'message'));
  // Full-JID messages still reach it.
  await send(bob, `<message to='alice@localhost/neg' type='chat'><body>direct</body></message>`);
  assert.ok(neg.nextElement((e) => e.name === 'message'));
  // Only negative resources left: no resource takes bare-JID messages (no offline module: bounce).
  await send(pos, `<presence><priority>-5</priority></presence>`);
  await send(bob, `<message to='alice@localhost' type='chat' id='m2'><body>anyone?</body></message>`);
  await neg.settle();
  assert.not.ok(neg.nextElement((e) => e.name === 'message'));
  assert.not.ok(pos.nextElement((e) => e.name === 'message'));
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'm2')), 'service-unavailable');
  // Bad priorities are bad requests.
  await send(pos, `<presence id='p1'><priority>1000</priority></presence>`);
  assert.is(errorCondition(pos.expect((e) => e.attrs.id === 'p1')), 'bad-request');
});

test('a subscription request to an offline user is delivered at the next login (after initial presence)', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  await send(alice, `<presence to='bob@localhost' type='subscribe'><status>hi, it is alice</status></presence>`);
  const bob = await login(server, 'bob@localhost/pc', { presence: false });
  assert.equal(presences(bob), [], 'not before initial presence');
  await send(bob, `<presence/>`);
  assert.ok(presences(bob).includes('alice@localhost:subscribe'));
  // Still pending: the next resource gets it too.
  const bob2 = await login(server, 'bob@localhost/tab');
  assert.ok(presences(bob2).includes('alice@localhost:subscribe'));
  await send(bob2, `<presence to='alice@localhost' type='subscribed'/>`);
  const bob3 = await login(server, 'bob@localhost/third');
  assert.not.ok(presences(bob3).includes('alice@localhost:subscribe'), 'answered: no longer pending');
  assert.equal(server.hookErrors, []);
});

test('no presence is delivered to a resource that has not sent initial presence', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  const quiet = await login(server, 'alice@localhost/quiet', { presence: false });
  await send(bob, `<presence><show>away</show></presence>`);
  await send(bob, `<presence to='alice@localhost' type='subscribe'/>`);
  await quiet.settle();
  assert.equal(presences(quiet), []);
});

test('invalid presence type → bad-request; three users each see only their contacts', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  await send(alice, `<presence id='x' type='dancing'/>`);
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'x')), 'bad-request');
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/x');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  await befriend(bob, 'bob@localhost', carol, 'carol@localhost');
  for (const c of [alice, bob, carol]) c.received();
  await send(bob, `<presence><show>xa</show></presence>`);
  await carol.settle();
  assert.equal(presences(alice), ['bob@localhost/pc']);
  assert.equal(presences(carol), ['bob@localhost/pc']);
  assert.equal(presences(bob), ['bob@localhost/pc'], 'its own echo');
  await send(carol, `<presence><show>chat</show></presence>`);
  await bob.settle();
  assert.equal(presences(alice), [], 'alice and carol are not contacts');
  assert.equal(presences(bob), ['carol@localhost/x']);
  assert.equal(server.hookErrors, []);
});

test('get_presence call answers the current presence', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone', { presence: `<presence><show>away</show><status>lunch</status></presence>` });
  const info = await alice.connection.call<PresenceInfo>(PRESENCE_EVENT_TAG, GET_PRESENCE);
  assert.equal(info, { user: 'alice', resource: 'phone', show: 'away', status: 'lunch' });
});

test('userAvailable runs once per initial presence (with the priority already set); subscription lists come from the roster', async () => {
  const server = await imServer();
  const seen: string[] = [];
  server.hooks.add(userAvailable, 'localhost', (_acc, { jid, sid }) => {
    seen.push(`${jid}:${server.sessions.entry(sid)?.priority}`);
  });
  const alice = await login(server, 'alice@localhost/phone', { presence: `<presence><priority>3</priority></presence>` });
  await send(alice, `<presence><show>away</show><priority>3</priority></presence>`);
  await send(alice, `<presence type='unavailable'/>`);
  await send(alice, `<presence/>`);
  assert.equal(seen, ['alice@localhost/phone:3', 'alice@localhost/phone:0']);
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/x');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  await send(carol, `<presence to='alice@localhost' type='subscribe'/>`);
  await send(alice, `<presence to='carol@localhost' type='subscribed'/>`);
  await send(carol, `<presence to='bob@localhost' type='subscribe'/>`);
  await send(alice, `<presence to='dave@localhost' type='subscribe'/>`);
  const lists = await server.hooks.run(rosterGetSubscriptionLists, 'localhost', emptySubscriptionLists(), { jid: Jid.parse('alice@localhost') });
  assert.equal(lists.acc, { to: [], from: ['carol@localhost'], both: ['bob@localhost'], pendingIn: [] });
  const bobLists = await server.hooks.run(rosterGetSubscriptionLists, 'localhost', emptySubscriptionLists(), { jid: Jid.parse('bob@localhost') });
  assert.equal(bobLists.acc.pendingIn, ['carol@localhost']);
  assert.equal(server.hookErrors, []);
});

test.run();
