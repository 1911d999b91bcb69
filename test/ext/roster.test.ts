// Roster management (RFC 6121 §2) and versioning (XEP-0237) as stanza conversations: get,
// set, remove, pushes to every interested resource, errors for malformed sets, removal that
// cancels subscriptions, account/domain cleanup, and a host type without the module.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NS } from '../../src/core/namespaces.ts';
import { Jid } from '../../src/core/jid.ts';
import { removeDomain, removeUser } from '../../src/core/server-hooks.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { createTestServer } from '../../src/testing/index.ts';
import { befriend, errorCondition, imServer, isPush, login, presences, pushes, rosterOf, send, USERS } from './roster-helpers.ts';

test('roster get: empty roster with a version; the rosterver stream feature is offered after auth', async () => {
  const server = await imServer();
  const c = server.connect();
  await c.openStream();
  const features = await c.authenticate('alice', 'a');
  assert.ok(features.getChild('ver', 'urn:xmpp:features:rosterver'), 'rosterver feature');
  await c.bind('phone');
  await send(c, `<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>`);
  const res = c.expect((e) => e.attrs.id === 'g1');
  assert.is(res.attrs.type, 'result');
  assert.is(res.attrs.to, 'alice@localhost/phone');
  const q = res.getChild('query', NS.ROSTER)!;
  assert.ok(q.attrs.ver !== undefined);
  assert.equal(q.getChildren('item'), []);
  assert.equal(server.hookErrors, []);
});

test('roster set: result to the sender, then a push to every interested resource (not to the others)', async () => {
  const server = await imServer();
  const phone = await login(server, 'alice@localhost/phone');
  const pc = await login(server, 'alice@localhost/pc');
  const tab = await login(server, 'alice@localhost/tab', { roster: false });
  await send(phone, `<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost' name='Nurse'><group>Servants</group></item></query></iq>`);
  const all = phone.received();
  const resultAt = all.findIndex((e) => e.attrs.id === 's1' && e.attrs.type === 'result');
  const pushAt = all.findIndex(isPush);
  assert.ok(resultAt >= 0 && pushAt > resultAt, 'result first, then the push (RFC 6121 §2.3.2)');
  const push = all[pushAt]!;
  assert.is(push.attrs.from, 'alice@localhost');
  const item = push.getChild('query', NS.ROSTER)!.getChild('item')!;
  assert.equal([item.attrs.jid, item.attrs.name, item.attrs.subscription, item.getChildText('group')], ['nurse@localhost', 'Nurse', 'none', 'Servants']);
  assert.ok(push.getChild('query', NS.ROSTER)!.attrs.ver, 'pushes carry ver');
  assert.equal(pushes(pc), ['nurse@localhost:none']);
  assert.equal(pushes(tab), [], 'a resource that never asked for the roster is not interested');
  // The client acknowledges the push; nothing comes back.
  pc.received();
  pc.send(`<iq type='result' id='${push.attrs.id}'/>`);
  await pc.settle();
  assert.equal(pc.received(), []);
  assert.equal(await rosterOf(tab), ['nurse@localhost:none']);
  // Now tab asked: it is interested.
  await send(phone, `<iq type='set' id='s2'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost' name='Nanny'/></query></iq>`);
  assert.equal(pushes(tab), ['nurse@localhost:none']);
  assert.equal(server.hookErrors, []);
});

test('roster update keeps the subscription; remove pushes subscription="remove"; unknown item → item-not-found', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  alice.received();
  await send(alice, `<iq type='set' id='u1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bobby'><group>A</group><group>B</group></item></query></iq>`);
  assert.is(alice.expect((e) => e.attrs.id === 'u1').attrs.type, 'result');
  assert.equal(pushes(alice), ['bob@localhost:both']);
  const r = alice.received();
  assert.equal(r, []);
  await send(alice, `<iq type='set' id='rm0'><query xmlns='jabber:iq:roster'><item jid='nobody@localhost' subscription='remove'/></query></iq>`);
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'rm0')), 'item-not-found');
  assert.equal(server.hookErrors, []);
});

test('roster versioning: up to date → empty result; stale → full roster with the new ver', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  await send(alice, `<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='x@localhost'/></query></iq>`);
  alice.received();
  await send(alice, `<iq type='get' id='g1'><query xmlns='jabber:iq:roster' ver=''/></iq>`);
  const full = alice.expect((e) => e.attrs.id === 'g1');
  const ver = full.getChild('query', NS.ROSTER)!.attrs.ver!;
  assert.is(full.getChild('query', NS.ROSTER)!.getChildren('item').length, 1, "ver='' means no cache: the full roster");
  await send(alice, `<iq type='get' id='g2'><query xmlns='jabber:iq:roster' ver='${ver}'/></iq>`);
  const same = alice.expect((e) => e.attrs.id === 'g2');
  assert.is(same.attrs.type, 'result');
  assert.is(same.elements().length, 0, 'empty result when up to date');
  await send(alice, `<iq type='set' id='s2'><query xmlns='jabber:iq:roster'><item jid='y@localhost'/></query></iq>`);
  const push = alice.expect(isPush);
  const newVer = push.getChild('query', NS.ROSTER)!.attrs.ver!;
  assert.is.not(newVer, ver);
  alice.received();
  await send(alice, `<iq type='get' id='g3'><query xmlns='jabber:iq:roster' ver='${ver}'/></iq>`);
  const stale = alice.expect((e) => e.attrs.id === 'g3').getChild('query', NS.ROSTER)!;
  assert.is(stale.attrs.ver, newVer);
  assert.equal(
    stale.getChildren('item').map((i) => i.attrs.jid),
    ['x@localhost', 'y@localhost'],
  );
});

test('versioning disabled: no ver anywhere and no rosterver feature', async () => {
  const server = await createTestServer({ users: USERS, modules: [{ module: roster, options: { versioning: false } }, presence] });
  const c = server.connect();
  await c.openStream();
  const features = await c.authenticate('alice', 'a');
  assert.not.ok(features.getChild('ver', 'urn:xmpp:features:rosterver'));
  await c.bind('phone');
  await send(c, `<iq type='get' id='g1'><query xmlns='jabber:iq:roster' ver='1'/></iq>`);
  assert.is(c.expect((e) => e.attrs.id === 'g1').getChild('query', NS.ROSTER)!.attrs.ver, undefined);
  await send(c, `<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='x@localhost'/></query></iq>`);
  assert.is(c.expect(isPush).getChild('query', NS.ROSTER)!.attrs.ver, undefined);
});

test('malformed roster sets → bad-request / not-acceptable; other values of subscription are ignored', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const cases: [string, string][] = [
    [`<item jid='a@localhost'/><item jid='b@localhost'/>`, 'bad-request'],
    [``, 'bad-request'],
    [`<item name='no jid'/>`, 'bad-request'],
    [`<item jid='@@bad@@'/>`, 'bad-request'],
    [`<item jid='a@localhost'><group>G</group><group>G</group></item>`, 'bad-request'],
    [`<item jid='a@localhost'><group></group></item>`, 'not-acceptable'],
    [`<item jid='a@localhost' name='${'n'.repeat(1025)}'/>`, 'not-acceptable'],
  ];
  let n = 0;
  for (const [items, cond] of cases) {
    const id = `bad${++n}`;
    await send(alice, `<iq type='set' id='${id}'><query xmlns='jabber:iq:roster'>${items}</query></iq>`);
    const res = alice.expect((e) => e.attrs.id === id);
    assert.is(res.attrs.type, 'error', items);
    assert.is(errorCondition(res), cond, items);
  }
  assert.equal(pushes(alice), [], 'nothing changed');
  // RFC 6121 §2.1.2.5: "the server MUST ignore all values of the subscription attribute other than remove".
  await send(alice, `<iq type='set' id='ok'><query xmlns='jabber:iq:roster'><item jid='a@localhost' subscription='both' ask='subscribe'/></query></iq>`);
  assert.is(alice.expect((e) => e.attrs.id === 'ok').attrs.type, 'result');
  assert.equal(pushes(alice), ['a@localhost:none']);
  assert.equal(server.hookErrors, []);
});

test("another user's roster: get and set → forbidden", async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  await login(server, 'bob@localhost/pc');
  await send(alice, `<iq type='get' id='g' to='bob@localhost'><query xmlns='jabber:iq:roster'/></iq>`);
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'g')), 'forbidden');
  await send(alice, `<iq type='set' id='s' to='bob@localhost'><query xmlns='jabber:iq:roster'><item jid='x@localhost'/></query></iq>`);
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 's')), 'forbidden');
});

test('removing a contact with subscription both sends unsubscribe and unsubscribed (RFC 6121 §2.5.2)', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  const bob2 = await login(server, 'bob@localhost/tab');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  for (const c of [alice, bob, bob2]) c.received();
  await send(alice, `<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>`);
  await bob.settle();
  assert.is(alice.expect((e) => e.attrs.id === 'rm').attrs.type, 'result');
  assert.equal(pushes(alice), ['bob@localhost:remove']);
  // Bob's side: both directions cancelled, pushed to both interested resources.
  assert.equal(pushes(bob), ['alice@localhost:to', 'alice@localhost:none']);
  assert.equal(pushes(bob2), ['alice@localhost:to', 'alice@localhost:none']);
  const bp = presences(bob);
  assert.ok(bp.includes('alice@localhost:unsubscribe'));
  assert.ok(bp.includes('alice@localhost:unsubscribed'));
  assert.ok(bp.includes('alice@localhost/phone:unavailable'), 'bob no longer sees alice');
  assert.equal(await rosterOf(alice), []);
  assert.equal(await rosterOf(bob), ['alice@localhost:none']);
  assert.equal(server.hookErrors, []);
});

test('removeUser and removeDomain clean the roster store', async () => {
  const server = await imServer();
  const alice = await login(server, 'alice@localhost/phone');
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  await send(bob, `<iq type='set' id='s'><query xmlns='jabber:iq:roster'><item jid='carol@localhost'/></query></iq>`);
  const res = await server.hooks.run(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('alice@localhost') });
  assert.equal(res.acc.failed, []);
  await server.settle();
  assert.equal((await server.storage.roster.getRoster('localhost', 'localhost', 'alice')).items, []);
  // Alice's contacts were told (unsubscribe + unsubscribed).
  assert.equal(await rosterOf(bob), ['alice@localhost:none', 'carol@localhost:none']);
  const res2 = await server.hooks.run(removeDomain, 'localhost', { failed: [] }, { domain: 'localhost' });
  assert.equal(res2.acc.failed, []);
  assert.equal((await server.storage.roster.getRoster('localhost', 'localhost', 'bob')).items, []);
  assert.equal(server.hookErrors, []);
});

test('a host type without the roster/presence modules runs none of their code', async () => {
  const server = await createTestServer({
    users: { ...USERS, 'dave@plain.test': 'd', 'erin@plain.test': 'e' },
    domains: { localhost: 'im', 'plain.test': 'plain' },
    hostTypes: { im: { modules: [roster, presence] }, plain: { modules: [] } },
  });
  const { rosterGetSubscriptionLists, rosterOutSubscription } = await import('../../src/core/hooks/roster.ts');
  const { rosterInSubscription, removeUser: ru, filterLocalPacket } = await import('../../src/core/server-hooks.ts');
  const h = await import('../../src/c2s/hooks.ts');
  for (const spec of [h.userSendPresence, h.userReceivePresence, h.userSendIq, h.foreignEvent, h.userTerminate, h.c2sStreamFeatures, rosterInSubscription, rosterOutSubscription, rosterGetSubscriptionLists, ru, filterLocalPacket]) {
    assert.is(server.hooks.count(spec, 'plain'), 0, spec.name);
  }
  assert.ok(server.hooks.count(h.userSendPresence, 'im') > 0);
  const dave = server.connect();
  await dave.login('dave@plain.test/a', 'd');
  const erin = server.connect();
  await erin.login('erin@plain.test/b', 'e');
  await send(dave, `<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`);
  assert.is(errorCondition(dave.expect((e) => e.attrs.id === 'g')), 'service-unavailable');
  await send(dave, `<presence/>`);
  await send(dave, `<presence to='erin@plain.test'/>`);
  await send(dave, `<presence to='erin@plain.test' type='subscribe'/>`);
  await erin.settle();
  assert.equal(presences(erin), [], 'no presence module: no presence is routed');
  assert.equal(presences(dave), []);
  assert.equal(server.hookErrors, []);
});

test.run();
