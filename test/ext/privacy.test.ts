// XEP-0016 privacy lists as stanza conversations: list CRUD, active/default lists, conflict,
// pushes, outgoing/incoming denies with the right errors, offline storage, the shared check hook.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestClient, TestServer } from '../../src/testing/index.ts';
import { bodies, errorCondition, iq, startKit } from '../helpers/test-kit.ts';
import { privacy } from '../../src/ext/privacy/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { offlineMessage } from '../../src/core/server-hooks.ts';
import { stop } from '../../src/hooks/index.ts';
import { privacyCheckPacket } from '../../src/core/hooks/privacy.ts';
import { Jid } from '../../src/core/jid.ts';
import { xml, type XmlElement } from '../../src/core/xml/element.ts';
import { NS } from '../../src/core/namespaces.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const P = NS.PRIVACY;

/** Stand-in for the offline module (stores at its documented priority, 50). */
function offlineStub(stored: XmlElement[]) {
  return defineModule({ name: 'offlineStub', defaults: {}, hooks: () => [hook(offlineMessage, (acc) => (stored.push(acc.element), stop(acc)), 50)] });
}

const setup = (extra: Omit<Parameters<typeof startKit>[0], 'users'> = {}) => startKit({ users: USERS, modules: [privacy], ...extra });


const DENY_BOB = `<query xmlns='${P}'><list name='nobob'><item type='jid' value='bob@localhost' action='deny' order='1'/><item action='allow' order='2'/></list></query>`;

test('list CRUD: set, get names, get one list, edit, remove; errors for unknown lists', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  assert.is((await iq(alice, 'set', DENY_BOB)).attrs.type, 'result');
  alice.received();
  const names = await iq(alice, 'get', `<query xmlns='${P}'/>`);
  assert.is(names.attrs.type, 'result');
  assert.equal(names.getChild('query', P)!.getChildren('list').map((l) => l.attrs.name), ['nobob']);
  const list = await iq(alice, 'get', `<query xmlns='${P}'><list name='nobob'/></query>`);
  const items = list.getChild('query', P)!.getChild('list')!.getChildren('item');
  assert.equal(items.map((i) => [i.attrs.type, i.attrs.value, i.attrs.action, i.attrs.order]), [
    ['jid', 'bob@localhost', 'deny', '1'],
    [undefined, undefined, 'allow', '2'],
  ]);
  // edit: message-only item
  assert.is((await iq(alice, 'set', `<query xmlns='${P}'><list name='nobob'><item type='jid' value='bob@localhost' action='deny' order='5'><message/></item></list></query>`)).attrs.type, 'result');
  const edited = await iq(alice, 'get', `<query xmlns='${P}'><list name='nobob'/></query>`);
  const it = edited.getChild('query', P)!.getChild('list')!.getChildren('item');
  assert.is(it.length, 1);
  assert.equal(it[0]!.elements().map((e) => e.name), ['message']);
  assert.is(errorCondition(await iq(alice, 'get', `<query xmlns='${P}'><list name='nope'/></query>`)), 'item-not-found');
  assert.is(errorCondition(await iq(alice, 'get', `<query xmlns='${P}'><list name='a'/><list name='b'/></query>`)), 'bad-request');
  assert.is((await iq(alice, 'set', `<query xmlns='${P}'><list name='nobob'/></query>`)).attrs.type, 'result');
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><list name='nobob'/></query>`)), 'item-not-found');
  assert.is(errorCondition(await iq(alice, 'get', `<query xmlns='${P}'><list name='nobob'/></query>`)), 'item-not-found');
  assert.equal(server.hookErrors, []);
});

test('malformed sets → bad-request; unknown roster group → item-not-found; reserved blocklist name refused', async () => {
  const { login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bad = [
    `<query xmlns='${P}'><list name='x'><item action='maybe' order='1'/></list></query>`,
    `<query xmlns='${P}'><list name='x'><item action='deny' order='-1'/></list></query>`,
    `<query xmlns='${P}'><list name='x'><item action='deny' order='1'/><item action='allow' order='1'/></list></query>`,
    `<query xmlns='${P}'><list name='x'><item type='jid' action='deny' order='1'/></list></query>`,
    `<query xmlns='${P}'><list name='x'><item type='subscription' value='sometimes' action='deny' order='1'/></list></query>`,
    `<query xmlns='${P}'><list name='x'><item type='colour' value='red' action='deny' order='1'/></list></query>`,
    `<query xmlns='${P}'><active name='a'/><default name='b'/></query>`,
    `<query xmlns='${P}'/>`,
  ];
  for (const b of bad) assert.is(errorCondition(await iq(alice, 'set', b)), 'bad-request', b);
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><list name='x'><item type='group' value='Enemies' action='deny' order='1'/></list></query>`)), 'item-not-found');
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><list name='urn:xmpp:blocking'><item action='deny' order='1'/></list></query>`)), 'not-acceptable');
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><active name='ghost'/></query>`)), 'item-not-found');
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><default name='ghost'/></query>`)), 'item-not-found');
});

test('active list per connection: outgoing message to a denied JID → not-acceptable, not delivered; other resource unaffected', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const alice2 = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  await iq(alice, 'set', DENY_BOB);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='nobob'/></query>`);
  alice.received();
  alice.send(`<message id='m1' to='bob@localhost' type='chat'><body>hi</body></message>`);
  await alice.settle();
  const err = alice.expect((e) => e.attrs.id === 'm1');
  assert.is(err.attrs.type, 'error');
  assert.is(errorCondition(err), 'not-acceptable');
  assert.is(err.attrs.from, 'bob@localhost');
  assert.equal(bodies(bob), []);
  // The other resource has no active list.
  alice2.send(`<message to='bob@localhost' type='chat'><body>from pc</body></message>`);
  await alice2.settle();
  assert.equal(bodies(bob), ['from pc']);
  // names show this session's active list
  const names = await iq(alice, 'get', `<query xmlns='${P}'/>`);
  assert.is(names.getChild('query', P)!.getChild('active')!.attrs.name, 'nobob');
  // decline the active list → traffic flows again
  await iq(alice, 'set', `<query xmlns='${P}'><active/></query>`);
  alice.send(`<message to='bob@localhost' type='chat'><body>again</body></message>`);
  await alice.settle();
  assert.equal(bodies(bob), ['again']);
  assert.equal(server.hookErrors, []);
});

test('incoming: denied message and iq get → service-unavailable to the sender; presence and groupchat silently dropped', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  await iq(alice, 'set', `<query xmlns='${P}'><list name='in'><item type='jid' value='bob@localhost' action='deny' order='1'><message/><iq/><presence-in/></item></list></query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='in'/></query>`);
  alice.received();
  bob.send(`<message id='b1' to='alice@localhost/phone' type='chat'><body>blocked?</body></message>`);
  bob.send(`<message id='b2' to='alice@localhost/phone' type='groupchat'><body>gc</body></message>`);
  bob.send(`<iq id='b3' to='alice@localhost/phone' type='get'><query xmlns='jabber:iq:version'/></iq>`);
  bob.send(`<iq id='b4' to='alice@localhost/phone' type='result'/>`);
  await bob.settle();
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'b1')), 'service-unavailable');
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'b3')), 'service-unavailable');
  assert.is(bob.nextElement((e) => e.attrs.id === 'b2' || e.attrs.id === 'b4'), undefined);
  // Presence: delivered through the router by a stand-in for the presence module.
  server.router.route(accOf(server, xml('presence', { from: 'bob@localhost/pc', to: 'alice@localhost/phone' })));
  await server.settle();
  assert.equal(alice.received(), []);
  assert.equal(bob.received(), []);
  // Carol is not on the list.
  carol.send(`<message to='alice@localhost/phone' type='chat'><body>carol</body></message>`);
  await carol.settle();
  assert.equal(bodies(alice), ['carol']);
  // Outgoing messages are not covered by a message-only item ("message" means incoming).
  alice.send(`<message to='bob@localhost' type='chat'><body>out ok</body></message>`);
  await alice.settle();
  assert.equal(bodies(bob), ['out ok']);
  assert.equal(server.hookErrors, []);
});

import { Acc } from '../../src/core/acc.ts';
function accOf(server: TestServer, el: XmlElement): Acc {
  return Acc.fromElement(el, { hostType: 'localhost', lserver: 'localhost', origin: 'server', clock: server.clock });
}

test('default list applies to sessions without an active list, from login on; conflict when another resource uses it', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  await iq(alice, 'set', DENY_BOB);
  await iq(alice, 'set', `<query xmlns='${P}'><list name='open'><item action='allow' order='1'/></list></query>`);
  assert.is((await iq(alice, 'set', `<query xmlns='${P}'><default name='nobob'/></query>`)).attrs.type, 'result');
  alice.received();
  // This session reloads its effective list (it has no active list).
  alice.send(`<message id='m1' to='bob@localhost' type='chat'><body>x</body></message>`);
  await alice.settle();
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'm1')), 'not-acceptable');
  // A new session starts with the default list.
  const alice2 = await login('alice@localhost/pc');
  bob.send(`<message to='alice@localhost/pc' type='chat'><body>hello pc</body></message>`);
  bob.send(`<message id='b2' to='alice@localhost/pc' type='chat'><body>hello pc</body></message>`);
  await bob.settle();
  assert.equal(bodies(alice2), []);
  // alice/pc uses the default list → alice/phone may not change or decline it, nor delete it.
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><default name='open'/></query>`)), 'conflict');
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><default/></query>`)), 'conflict');
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><list name='nobob'/></query>`)), 'conflict');
  // Once alice/pc activates another list, the default is free to change.
  await iq(alice2, 'set', `<query xmlns='${P}'><active name='open'/></query>`);
  assert.is(errorCondition(await iq(alice, 'set', `<query xmlns='${P}'><list name='open'/></query>`)), 'conflict', 'open is active on pc');
  assert.is((await iq(alice, 'set', `<query xmlns='${P}'><default/></query>`)).attrs.type, 'result');
  const names = await iq(alice, 'get', `<query xmlns='${P}'/>`);
  assert.is(names.getChild('query', P)!.getChild('default'), undefined);
  alice.send(`<message to='bob@localhost' type='chat'><body>free</body></message>`);
  await alice.settle();
  assert.equal(bodies(bob), ['free']);
  assert.equal(server.hookErrors, []);
});

test('pushes: every resource gets a list push on edit; a resource using the list reloads it', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const alice2 = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  await iq(alice, 'set', `<query xmlns='${P}'><list name='l'><item action='allow' order='1'/></list></query>`);
  await iq(alice2, 'set', `<query xmlns='${P}'><active name='l'/></query>`);
  for (const c of [alice, alice2]) c.received();
  await iq(alice, 'set', DENY_BOB.replace("name='nobob'", "name='l'"));
  for (const c of [alice, alice2]) {
    const push = c.expect((e) => e.name === 'iq' && e.attrs.type === 'set', 'privacy push');
    assert.is(push.getChild('query', P)!.getChild('list')!.attrs.name, 'l');
    assert.is(push.attrs.from, 'alice@localhost');
    c.send(`<iq type='result' id='${push.attrs.id}' to='alice@localhost'/>`);
  }
  await alice.settle();
  alice2.send(`<message id='m' to='bob@localhost' type='chat'><body>x</body></message>`);
  await alice2.settle();
  assert.is(errorCondition(alice2.expect((e) => e.attrs.id === 'm')), 'not-acceptable');
  assert.equal(bodies(bob), []);
  assert.equal(server.hookErrors, []);
});

test('subscription and group items read the roster; presence-out denies directed presence', async () => {
  const { server, login } = await setup();
  await server.storage.roster.upsertItem('localhost', 'localhost', 'alice', { jid: 'bob@localhost', subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: ['Work'] });
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  await iq(alice, 'set', `<query xmlns='${P}'><list name='r'><item type='group' value='Work' action='deny' order='1'><presence-out/></item><item type='subscription' value='none' action='deny' order='2'><message/></item></list></query>`);
  await iq(alice, 'set', `<query xmlns='${P}'><active name='r'/></query>`);
  alice.received();
  carol.send(`<message id='c1' to='alice@localhost/phone' type='chat'><body>stranger</body></message>`);
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>friend</body></message>`);
  await server.settle();
  assert.is(errorCondition(carol.expect((e) => e.attrs.id === 'c1')), 'service-unavailable');
  assert.equal(bodies(alice), ['friend']);
  alice.send(`<presence id='p1' to='bob@localhost/pc'/>`);
  await alice.settle();
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'p1')), 'not-acceptable');
  assert.equal(server.hookErrors, []);
});

test('offline storage honours the default list: denied → service-unavailable, not stored; allowed → stored', async () => {
  const stored: XmlElement[] = [];
  const { server, login } = await setup({ modules: [privacy, offlineStub(stored)] });
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', DENY_BOB.replace("action='deny' order='1'/>", "action='deny' order='1'><message/></item>"));
  await iq(alice, 'set', `<query xmlns='${P}'><default name='nobob'/></query>`);
  alice.send('</stream:stream>');
  await server.settle();
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  bob.send(`<message id='o1' to='alice@localhost' type='chat'><body>offline</body></message>`);
  carol.send(`<message id='o2' to='alice@localhost' type='chat'><body>offline</body></message>`);
  await server.settle();
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'o1')), 'service-unavailable');
  assert.equal(stored.map((e) => e.attrs.id), ['o2']);
  assert.equal(carol.received(), []);
  assert.equal(server.hookErrors, []);
});

test('with the offline module (store at 50): the default list keeps a denied sender out of storage', async () => {
  const { server, login } = await setup({ modules: [privacy, offline] });
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', DENY_BOB);
  await iq(alice, 'set', `<query xmlns='${P}'><default name='nobob'/></query>`);
  alice.send('</stream:stream>');
  await server.settle();
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  bob.send(`<message id='o1' to='alice@localhost' type='chat'><body>offline</body></message>`);
  carol.send(`<message id='o2' to='alice@localhost' type='chat'><body>offline</body></message>`);
  await server.settle();
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'alice'), 1);
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'o1')), 'service-unavailable');
  assert.equal(server.hookErrors, []);
});

test('privacyCheckPacket: other modules ask with or without a connection', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', DENY_BOB);
  await iq(alice, 'set', `<query xmlns='${P}'><default name='nobob'/></query>`);
  const user = Jid.parse('alice@localhost');
  const ask = async (from: string, to: string, direction: 'in' | 'out', conn?: object) =>
    (await server.hooks.run(privacyCheckPacket, 'localhost', 'allow', { user, from: Jid.parse(from), to: Jid.parse(to), stanza: xml('message', { type: 'chat' }), direction, conn })).acc;
  assert.is(await ask('bob@localhost/pc', 'alice@localhost', 'in'), 'deny');
  assert.is(await ask('carol@localhost/pc', 'alice@localhost', 'in'), 'allow');
  assert.is(await ask('alice@localhost/phone', 'bob@localhost', 'out'), 'deny');
  assert.is(await ask('alice@localhost/phone', 'bob@localhost', 'out', server.connections[0]), 'deny');
  assert.equal(server.hookErrors, []);
});

test.run();
