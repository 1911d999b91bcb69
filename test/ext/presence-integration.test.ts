// The presence module (RFC 6121 §4) together with the real privacy (XEP-0016), blocking
// (XEP-0191), offline (XEP-0160) and roster modules: broadcasts, probe answers and directed
// presence go through the shared privacyCheckPacket hook (synchronously when no list needs
// storage); blocking and unblocking update what contacts see; a priority raised from negative
// to ≥ 0 delivers stored messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { privacy } from '../../src/ext/privacy/index.ts';
import { blocking } from '../../src/ext/blocking/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { userSendPresence } from '../../src/c2s/hooks.ts';
import { privacyCheckPacket } from '../../src/core/hooks/privacy.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { USERS, errorCondition, login, presences, send } from './roster-helpers.ts';

const P = NS.PRIVACY;
const B = 'urn:xmpp:blocking';

async function setup(modules: unknown[] = [roster, presence, privacy, blocking]): Promise<TestServer> {
  return createTestServer({ users: USERS, modules: modules as never });
}

/** Subscription `sub` in `user`'s roster for `jid` (written to storage, as if negotiated earlier). */
async function item(server: TestServer, user: string, jid: string, subscription: 'both' | 'from' | 'to' = 'both'): Promise<void> {
  await server.storage.roster.upsertItem('localhost', 'localhost', user, { jid, subscription, ask: 'none', pendingIn: false, approved: false, groups: [] });
}

/** alice ⟷ bob and alice ⟷ carol with subscription both. */
async function friends(server: TestServer): Promise<void> {
  for (const [u, j] of [
    ['alice', 'bob@localhost'],
    ['bob', 'alice@localhost'],
    ['alice', 'carol@localhost'],
    ['carol', 'alice@localhost'],
  ] as const)
    await item(server, u, j);
}

let seq = 0;
async function iq(c: TestClient, type: 'get' | 'set', payload: string): Promise<XmlElement> {
  const id = `pi${++seq}`;
  await send(c, `<iq type='${type}' id='${id}'>${payload}</iq>`);
  const r = c.expect((e) => e.name === 'iq' && e.attrs.id === id, `reply to ${id}`);
  assert.is(r.attrs.type, 'result', `${id}: ${r.toString()}`);
  return r;
}
/** Presences from `from` (bare or full prefix) in `c`'s inbox, as `from[:type]`. */
const from = (list: string[], who: string) => list.filter((p) => p.startsWith(who));
const quiet = (...cs: TestClient[]) => cs.forEach((c) => c.received());

const DENY_BOB_OUT = `<list name='hide'><item type='jid' value='bob@localhost' action='deny' order='1'><presence-out/></item><item action='allow' order='2'/></list>`;

// ---------------------------------------------------------------------------------------- blocking

test('blocked subscriber: no initial presence, no probe, no update, no unavailable at logout; others unaffected', async () => {
  const server = await setup();
  await friends(server);
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await server.settle();
  quiet(alice, bob, carol);
  await send(alice, `<presence><status>here</status></presence>`);
  await server.settle();
  assert.equal(presences(bob), [], 'blocked bob sees nothing');
  assert.equal(from(presences(carol), 'alice@localhost/phone'), ['alice@localhost/phone']);
  const got = presences(alice);
  assert.ok(got.includes('carol@localhost/pc'), `carol answered the probe: ${got}`);
  assert.ok(!got.some((p) => p.startsWith('bob@')), `bob was not probed / his presence dropped: ${got}`);
  await send(alice, `<presence><show>away</show></presence>`);
  await server.settle();
  assert.equal(presences(bob), []);
  assert.equal(presences(carol), ['alice@localhost/phone']);
  alice.send('</stream:stream>');
  await server.settle();
  assert.equal(presences(bob), []);
  assert.equal(presences(carol), ['alice@localhost/phone:unavailable']);
  assert.equal(server.hookErrors, []);
});

test('a blocked contact probing us gets no answer; a directed presence to it → not-acceptable + <blocked/>', async () => {
  const server = await setup();
  await friends(server);
  const alice = await login(server, 'alice@localhost/phone');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await server.settle();
  quiet(alice);
  const bob = await login(server, 'bob@localhost/pc');
  await server.settle();
  assert.equal(from(presences(bob), 'alice@'), [], 'probe from bob unanswered');
  alice.send(`<presence id='d1' to='bob@localhost/pc'/>`);
  await server.settle();
  const err = alice.expect((e) => e.attrs.id === 'd1', 'error for d1');
  assert.is(errorCondition(err), 'not-acceptable');
  assert.ok(err.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'));
  assert.equal(presences(bob), []);
  assert.equal(server.hookErrors, []);
});

test('block: subscribers and directed-presence targets each get one unavailable per available resource', async () => {
  const server = await setup();
  await item(server, 'alice', 'bob@localhost');
  await item(server, 'bob', 'alice@localhost');
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  const phone = await login(server, 'alice@localhost/phone');
  const pc = await login(server, 'alice@localhost/pc');
  // carol has no subscription: she sees alice/phone only through directed presence.
  quiet(carol);
  await send(phone, `<presence to='carol@localhost/pc'><show>chat</show></presence>`);
  await server.settle();
  assert.equal(presences(carol), ['alice@localhost/phone']);
  quiet(bob, carol, phone, pc);
  await iq(phone, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/><item jid='carol@localhost'/></block>`);
  await server.settle();
  assert.equal(presences(bob).sort(), ['alice@localhost/pc:unavailable', 'alice@localhost/phone:unavailable'], 'one each, no duplicate');
  assert.equal(presences(carol), ['alice@localhost/phone:unavailable'], 'directed-presence target told too');
  // Nothing more at logout: they left the `available` set.
  phone.send('</stream:stream>');
  pc.send('</stream:stream>');
  await server.settle();
  assert.equal(presences(bob), []);
  assert.equal(presences(carol), []);
  assert.equal(server.hookErrors, []);
});

test('block a whole domain: directed-presence targets there get unavailable', async () => {
  const server = await createTestServer({ users: { ...USERS, 'dave@other.test': 'd' }, domains: ['localhost', 'other.test'], modules: [roster, presence, blocking] });
  const alice = await login(server, 'alice@localhost/phone');
  const dave = server.connect();
  await dave.login('dave@other.test/x', 'd');
  await send(dave, '<presence/>');
  quiet(dave);
  await send(alice, `<presence to='dave@other.test/x'/>`);
  await server.settle();
  assert.equal(presences(dave), ['alice@localhost/phone']);
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='other.test'/></block>`);
  await server.settle();
  assert.equal(presences(dave), ['alice@localhost/phone:unavailable']);
  assert.equal(server.hookErrors, []);
});

test('unblock (XEP-0191 §3.4): the subscriber gets our current presence and we probe it; unblock-all too', async () => {
  const server = await setup();
  await friends(server);
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  const alice = await login(server, 'alice@localhost/phone', { presence: `<presence><show>dnd</show><status>busy</status></presence>` });
  await server.settle();
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/><item jid='carol@localhost'/></block>`);
  await server.settle();
  quiet(alice, bob, carol);
  await send(alice, `<presence><show>xa</show><status>later</status></presence>`);
  await server.settle();
  assert.equal(presences(bob), []);
  await iq(alice, 'set', `<unblock xmlns='${B}'><item jid='bob@localhost'/></unblock>`);
  await server.settle();
  const toBob = bob.received().filter((e) => e.name === 'presence');
  assert.equal(toBob.map((e) => `${e.attrs.from}:${e.getChildText('show')}:${e.getChildText('status')}`), ['alice@localhost/phone:xa:later'], 'current presence, once');
  assert.equal(from(presences(alice), 'bob@'), ['bob@localhost/pc'], 'bob probed again: his presence is back');
  assert.equal(presences(carol), [], 'carol still blocked');
  // Updates reach bob again; and unblock-all brings carol back.
  await send(alice, `<presence/>`);
  await server.settle();
  assert.equal(presences(bob), ['alice@localhost/phone']);
  assert.equal(presences(carol), []);
  await iq(alice, 'set', `<unblock xmlns='${B}'/>`);
  await server.settle();
  assert.equal(presences(carol), ['alice@localhost/phone']);
  assert.equal(presences(bob), [], 'bob already saw us: nothing twice');
  assert.equal(from(presences(alice), 'carol@'), ['carol@localhost/pc']);
  assert.equal(server.hookErrors, []);
});

test('unblock while unavailable, or of a contact a privacy list still hides: nothing is sent', async () => {
  const server = await setup();
  await friends(server);
  const bob = await login(server, 'bob@localhost/pc');
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await server.settle();
  quiet(bob);
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await server.settle();
  // (The blocking module itself tells bob alice/phone is unavailable: with the test kit's availableOnBind the bound session counts as present.)
  quiet(bob);
  await iq(alice, 'set', `<unblock xmlns='${B}'/>`);
  await server.settle();
  assert.equal(presences(bob), [], 'alice never sent presence: nothing on unblock');
  await iq(alice, 'set', `<query xmlns='${P}'>${DENY_BOB_OUT}</query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='hide'/></query>`);
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await send(alice, '<presence/>');
  await server.settle();
  quiet(bob);
  await iq(alice, 'set', `<unblock xmlns='${B}'><item jid='bob@localhost'/></unblock>`);
  await server.settle();
  assert.equal(presences(bob), [], 'the privacy list still denies presence-out');
  assert.equal(server.hookErrors, []);
});

// ----------------------------------------------------------------------------------------- privacy

test('presence-out list: a denied subscriber gets no broadcast, update, probe answer or unavailable; directed → not-acceptable', async () => {
  const server = await setup();
  await friends(server);
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await iq(alice, 'set', `<query xmlns='${P}'>${DENY_BOB_OUT}</query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='hide'/></query>`);
  await send(alice, '<presence/>');
  await server.settle();
  quiet(alice);
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  await server.settle();
  assert.equal(from(presences(bob), 'alice@'), [], 'bob probed alice: no answer');
  assert.equal(from(presences(carol), 'alice@'), ['alice@localhost/phone'], 'carol probed alice: answered');
  // bob's own presence still reaches alice (presence-in is not denied), and carol's.
  assert.ok(presences(alice).includes('bob@localhost/pc'));
  await send(alice, `<presence><show>away</show></presence>`);
  await server.settle();
  assert.equal(presences(bob), []);
  assert.equal(presences(carol), ['alice@localhost/phone']);
  alice.send(`<presence id='d2' to='bob@localhost/pc'/>`);
  await server.settle();
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'd2', 'd2 error')), 'not-acceptable');
  assert.equal(presences(bob), []);
  await send(alice, `<presence type='unavailable'/>`);
  await server.settle();
  assert.equal(presences(bob), []);
  assert.equal(presences(carol), ['alice@localhost/phone:unavailable']);
  assert.equal(server.hookErrors, []);
});

test('default list applies from login on: initial broadcast skips the denied contact; a resource with another active list does not', async () => {
  const server = await setup();
  await friends(server);
  const admin = await login(server, 'alice@localhost/admin', { presence: false });
  await iq(admin, 'set', `<query xmlns='${P}'>${DENY_BOB_OUT}</query>`);
  await iq(admin, 'set', `<query xmlns='${P}'><default name='hide'/></query>`);
  admin.send('</stream:stream>');
  await server.settle();
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  quiet(bob, carol);
  const phone = await login(server, 'alice@localhost/phone');
  const open = await login(server, 'alice@localhost/open', { presence: false });
  await iq(open, 'set', `<query xmlns='${P}'><list name='all'><item action='allow' order='1'/></list></query>`);
  await iq(open, 'set', `<query xmlns='${P}'><active name='all'/></query>`);
  await send(open, '<presence/>');
  await server.settle();
  assert.equal(from(presences(bob), 'alice@'), ['alice@localhost/open'], 'only the resource without the list');
  assert.equal(from(presences(carol), 'alice@').sort(), ['alice@localhost/open', 'alice@localhost/phone']);
  void phone;
  assert.equal(server.hookErrors, []);
});

test('offline user: the server answers a probe with unavailable only if the default list allows it', async () => {
  const server = await setup();
  await friends(server);
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await iq(alice, 'set', `<query xmlns='${P}'>${DENY_BOB_OUT}</query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><default name='hide'/></query>`);
  alice.send('</stream:stream>');
  await server.settle();
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  await server.settle();
  assert.equal(from(presences(bob), 'alice@'), []);
  assert.equal(from(presences(carol), 'alice@'), ['alice@localhost:unavailable']);
  assert.equal(server.hookErrors, []);
});

test('lists needing the roster (subscription/group items) are checked asynchronously, same outcome', async () => {
  const server = await setup();
  await friends(server);
  await item(server, 'alice', 'bob@localhost', 'from');
  await item(server, 'bob', 'alice@localhost', 'to');
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await iq(alice, 'set', `<query xmlns='${P}'><list name='sub'><item type='subscription' value='from' action='deny' order='1'><presence-out/></item></list></query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='sub'/></query>`);
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  quiet(bob, carol);
  await send(alice, '<presence/>');
  await server.settle();
  assert.equal(presences(bob), [], 'bob (from) denied');
  assert.equal(presences(carol), ['alice@localhost/phone'], 'carol (both) allowed');
  await send(alice, `<presence><show>away</show></presence>`);
  await server.settle();
  assert.equal(presences(bob), []);
  assert.equal(presences(carol), ['alice@localhost/phone']);
  assert.equal(server.hookErrors, []);
});

test('incoming presence-in deny with the real presence module: the denied contact’s broadcast never shows', async () => {
  // privacy.test.ts routed this presence through a stand-in; here bob's own broadcast is it.
  const server = await setup();
  await friends(server);
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await iq(alice, 'set', `<query xmlns='${P}'><list name='in'><item type='jid' value='bob@localhost' action='deny' order='1'><presence-in/></item></list></query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='in'/></query>`);
  await send(alice, '<presence/>');
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  await server.settle();
  const got = presences(alice);
  assert.ok(!got.some((p) => p.startsWith('bob@')), got.join());
  assert.ok(got.includes('carol@localhost/pc'));
  // presence-in only: alice's presence still reaches bob.
  assert.ok(from(presences(bob), 'alice@').includes('alice@localhost/phone'));
  void carol;
  assert.equal(server.hookErrors, []);
});

test('hot path: with blocking and a JID-only privacy list the checks of an update run synchronously inside the presence hook', async () => {
  let window = false;
  const seen: boolean[] = [];
  const probe = defineModule({
    name: 'syncProbe',
    defaults: {},
    hooks: () => [
      // Opens a window that closes at the next microtask: a check reached inside it ran synchronously.
      hook(
        userSendPresence,
        () => {
          window = true;
          queueMicrotask(() => (window = false));
        },
        49,
      ),
      hook(privacyCheckPacket, () => void seen.push(window), 100),
    ],
  });
  const server = await setup([roster, presence, privacy, blocking, probe]);
  await friends(server);
  const bob = await login(server, 'bob@localhost/pc');
  const carol = await login(server, 'carol@localhost/pc');
  const alice = await login(server, 'alice@localhost/phone', { presence: false });
  await iq(alice, 'set', `<query xmlns='${P}'>${DENY_BOB_OUT.replace("value='bob@localhost'", "value='nobody@localhost'")}</query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='hide'/></query>`);
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='dave@localhost'/></block>`);
  // (The initial presence waits for the roster's subscription lists anyway.)
  await send(alice, '<presence/>');
  await server.settle();
  quiet(bob, carol);
  seen.length = 0;
  await send(alice, `<presence><show>away</show></presence>`);
  await server.settle();
  assert.equal(seen, [true, true], 'bob and carol checked synchronously');
  assert.equal(presences(bob), ['alice@localhost/phone']);
  // Control: a list with a subscription item reads the roster → the checks go asynchronous.
  await iq(alice, 'set', `<query xmlns='${P}'><list name='sub'><item type='subscription' value='none' action='deny' order='1'><presence-out/></item></list></query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='sub'/></query>`);
  seen.length = 0;
  await send(alice, `<presence><show>dnd</show></presence>`);
  await server.settle();
  assert.equal(seen, [false, false], 'roster-backed list: asynchronous');
  assert.equal(presences(carol), ['alice@localhost/phone', 'alice@localhost/phone']);
  assert.equal(server.hookErrors, []);
});

// ----------------------------------------------------------------------------------------- offline

test('priority raised from negative to ≥ 0 by an update delivers stored messages once (real offline module)', async () => {
  // offline.test.ts drove resendOfflineMessages from a stand-in presence; here the real module does.
  const server = await setup([presence, offline]);
  const alice = await login(server, 'alice@localhost/phone', { roster: false });
  const bob = await login(server, 'bob@localhost/pc', { roster: false, presence: '<presence><priority>-1</priority></presence>' });
  alice.send(`<message to='bob@localhost' type='chat' id='n1'><body>to bare</body></message>`);
  alice.send(`<message to='bob@localhost/pc' type='chat' id='n2'><body>to full</body></message>`);
  await server.settle();
  const msgs = () => bob.received().filter((e) => e.name === 'message');
  assert.equal(msgs().map((e) => e.attrs.id), ['n2'], 'negative priority: bare-JID message stored');
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 1);
  // Still negative: nothing.
  await send(bob, '<presence><priority>-3</priority></presence>');
  await server.settle();
  assert.equal(msgs(), []);
  await send(bob, '<presence><show>chat</show><priority>5</priority></presence>');
  await server.settle();
  const got = msgs();
  assert.equal(got.map((e) => e.attrs.id), ['n1']);
  assert.ok(got[0]!.getChild('delay', NS.DELAY), 'XEP-0203 delay stamp');
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 0);
  // ≥ 0 → ≥ 0: no second run; a live message arrives directly.
  await send(bob, '<presence><priority>2</priority></presence>');
  alice.send(`<message to='bob@localhost' type='chat' id='n3'><body>live</body></message>`);
  await server.settle();
  const live = msgs();
  assert.equal(live.map((e) => e.attrs.id), ['n3']);
  assert.is(live[0]!.getChild('delay', NS.DELAY), undefined);
  assert.equal(server.hookErrors, []);
});

test('three users, two resources: only the resource whose priority rises gets the stored messages', async () => {
  const server = await setup([presence, offline]);
  const alice = await login(server, 'alice@localhost/a', { roster: false });
  const carol = await login(server, 'carol@localhost/c', { roster: false });
  const tab = await login(server, 'bob@localhost/tab', { roster: false, presence: '<presence><priority>-1</priority></presence>' });
  const pc = await login(server, 'bob@localhost/pc', { roster: false, presence: '<presence><priority>-2</priority></presence>' });
  alice.send(`<message to='bob@localhost' type='chat' id='x1'><body>a</body></message>`);
  carol.send(`<message to='bob@localhost' type='normal' id='x2'><body>c</body></message>`);
  await server.settle();
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 2);
  await send(pc, '<presence><priority>0</priority></presence>');
  await server.settle();
  const ids = (c: TestClient) => c.received().filter((e) => e.name === 'message').map((e) => `${e.attrs.from}:${e.attrs.id}`);
  assert.equal(ids(pc), ['alice@localhost/a:x1', 'carol@localhost/c:x2']);
  assert.equal(ids(tab), []);
  await send(tab, '<presence><priority>1</priority></presence>');
  await server.settle();
  assert.equal(ids(tab), [], 'already popped');
  assert.equal(server.hookErrors, []);
});

test.run();
