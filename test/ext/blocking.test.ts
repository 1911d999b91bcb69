// XEP-0191 blocking command as stanza conversations: blocklist get, block/unblock/unblock-all
// with pushes to resources that asked for the list, the <blocked/> error on outgoing stanzas,
// incoming stanzas dropped, unavailable to newly blocked contacts, offline storage honoured.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestClient } from '../../src/testing/index.ts';
import { bodies, errorCondition, iq, startKit } from '../helpers/test-kit.ts';
import { blocking } from '../../src/ext/blocking/index.ts';
import { privacy } from '../../src/ext/privacy/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { offlineMessage } from '../../src/core/server-hooks.ts';
import { stop } from '../../src/hooks/index.ts';
import { privacyCheckPacket } from '../../src/core/hooks/privacy.ts';
import { Jid } from '../../src/core/jid.ts';
import { xml, type XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const B = 'urn:xmpp:blocking';

function offlineStub(stored: XmlElement[]) {
  return defineModule({ name: 'offlineStub', defaults: {}, hooks: () => [hook(offlineMessage, (acc) => (stored.push(acc.element), stop(acc)), 50)] });
}

const setup = (modules: any[] = [blocking]) => startKit({ users: USERS, modules });

const blocklist = async (c: TestClient) => (await iq(c, 'get', `<blocklist xmlns='${B}'/>`)).getChild('blocklist', B)!.getChildren('item').map((i) => i.attrs.jid);
const pushes = (c: TestClient) => c.received().filter((e) => e.name === 'iq' && e.attrs.type === 'set').map((e) => `${e.elements()[0]!.name}:${e.elements()[0]!.getChildren('item').map((i) => i.attrs.jid).join(',')}`);

test('blocklist get, block, unblock, unblock-all; pushes only to resources that requested the list', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const alice2 = await login('alice@localhost/pc');
  const alice3 = await login('alice@localhost/tab'); // never asks for the blocklist
  assert.equal(await blocklist(alice), []);
  assert.equal(await blocklist(alice2), []);
  assert.is((await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/><item jid='carol@localhost'/></block>`)).attrs.type, 'result');
  await server.settle();
  assert.equal(pushes(alice), ['block:bob@localhost,carol@localhost']);
  assert.equal(pushes(alice2), ['block:bob@localhost,carol@localhost']);
  assert.equal(pushes(alice3), []);
  assert.equal(await blocklist(alice2), ['bob@localhost', 'carol@localhost']);
  await iq(alice2, 'set', `<unblock xmlns='${B}'><item jid='carol@localhost'/></unblock>`);
  await server.settle();
  assert.equal(pushes(alice), ['unblock:carol@localhost']);
  assert.equal(pushes(alice2), ['unblock:carol@localhost']);
  assert.equal(await blocklist(alice), ['bob@localhost']);
  await iq(alice, 'set', `<unblock xmlns='${B}'/>`);
  await server.settle();
  assert.equal(pushes(alice2), ['unblock:']);
  assert.equal(await blocklist(alice), []);
  assert.equal(server.hookErrors, []);
});

test('bad requests: empty block → bad-request, malformed JID → jid-malformed', async () => {
  const { login } = await setup();
  const alice = await login('alice@localhost/phone');
  assert.is(errorCondition(await iq(alice, 'set', `<block xmlns='${B}'/>`)), 'bad-request');
  assert.is(errorCondition(await iq(alice, 'set', `<block xmlns='${B}'><item jid='@@bad'/></block>`)), 'jid-malformed');
  assert.is(errorCondition(await iq(alice, 'set', `<block xmlns='${B}'><item/></block>`)), 'jid-malformed');
});

test('outgoing to a blocked contact: not-acceptable + <blocked/>, nothing delivered; incoming from it dropped, iq get → service-unavailable', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const alice2 = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await server.settle();
  for (const [c, id] of [[alice, 'm1'], [alice2, 'm2']] as const) {
    c.send(`<message id='${id}' to='bob@localhost/pc' type='chat'><body>hi</body></message>`);
    await c.settle();
    const err = c.expect((e) => e.attrs.id === id);
    assert.is(errorCondition(err), 'not-acceptable');
    assert.ok(err.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'));
  }
  alice.send(`<iq id='i1' type='get' to='bob@localhost/pc'><ping xmlns='urn:xmpp:ping'/></iq>`);
  alice.send(`<presence id='p1' to='bob@localhost/pc'/>`);
  await alice.settle();
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'i1')), 'not-acceptable');
  assert.is(errorCondition(alice.expect((e) => e.attrs.id === 'p1')), 'not-acceptable');
  assert.equal(bob.received().filter((e) => e.name !== 'presence'), []);
  bob.send(`<message id='b1' to='alice@localhost' type='chat'><body>let me in</body></message>`);
  bob.send(`<iq id='b2' type='get' to='alice@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await server.settle();
  assert.equal(bodies(alice), []);
  assert.equal(bodies(alice2), []);
  const errs = bob.received().filter((e) => e.attrs.type === 'error');
  // One error for the bare-JID message although two resources received (and dropped) it.
  assert.equal(errs.map((e) => `${e.attrs.id}:${errorCondition(e)}`).sort(), ['b1:service-unavailable', 'b2:service-unavailable']);
  // Carol is not blocked; domain blocking covers every user of a domain.
  carol.send(`<message to='alice@localhost/phone' type='chat'><body>carol</body></message>`);
  await carol.settle();
  assert.equal(bodies(alice), ['carol']);
  await iq(alice, 'set', `<unblock xmlns='${B}'><item jid='bob@localhost'/></unblock>`);
  await server.settle();
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>thanks</body></message>`);
  await bob.settle();
  assert.equal(bodies(alice), ['thanks']);
  assert.equal(server.hookErrors, []);
});

test('JID matching: a blocked full JID blocks one resource; a blocked domain blocks everyone there', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const bob2 = await login('bob@localhost/tab');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost/pc'/></block>`);
  await server.settle();
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>pc</body></message>`);
  bob2.send(`<message to='alice@localhost/phone' type='chat'><body>tab</body></message>`);
  await server.settle();
  assert.equal(bodies(alice), ['tab']);
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='localhost'/></block>`);
  await server.settle();
  bob2.send(`<message to='alice@localhost/phone' type='chat'><body>tab again</body></message>`);
  await server.settle();
  assert.equal(bodies(alice), []);
  assert.equal(server.hookErrors, []);
});

test('newly blocked contacts that could see us get unavailable from each available resource', async () => {
  const { server, login } = await setup();
  await server.storage.roster.upsertItem('localhost', 'localhost', 'alice', { jid: 'bob@localhost', subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: [] });
  const alice = await login('alice@localhost/phone');
  const alice2 = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/><item jid='carol@localhost'/></block>`);
  await server.settle();
  const unav = bob.received().filter((e) => e.name === 'presence' && e.attrs.type === 'unavailable').map((e) => e.attrs.from).sort();
  assert.equal(unav, ['alice@localhost/pc', 'alice@localhost/phone']);
  assert.equal(carol.received(), [], 'carol had no subscription: no presence');
  void alice2;
  assert.equal(server.hookErrors, []);
});

test('offline storage honours blocking: messages from a blocked JID are not stored', async () => {
  const stored: XmlElement[] = [];
  const { server, login } = await setup([blocking, offlineStub(stored)]);
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  alice.send('</stream:stream>');
  await server.settle();
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  bob.send(`<message id='o1' to='alice@localhost' type='chat'><body>offline</body></message>`);
  carol.send(`<message id='o2' to='alice@localhost' type='chat'><body>offline</body></message>`);
  await server.settle();
  assert.equal(stored.map((e) => e.attrs.id), ['o2']);
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'o1')), 'service-unavailable');
  assert.equal(server.hookErrors, []);
});

test('with the offline module (store at 50): a blocked sender is not stored, others are', async () => {
  const { server, login } = await setup([blocking, offline]);
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  alice.send('</stream:stream>');
  await server.settle();
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  bob.send(`<message id='o1' to='alice@localhost' type='chat'><body>offline</body></message>`);
  carol.send(`<message id='o2' to='alice@localhost' type='chat'><body>offline</body></message>`);
  await server.settle();
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'alice'), 1);
  assert.is(errorCondition(bob.expect((e) => e.attrs.id === 'o1')), 'service-unavailable');
  assert.equal(carol.received(), []);
  assert.equal(server.hookErrors, []);
});

test('with privacy lists too: privacyCheckPacket folds both, blocking says block; blocked error wins', async () => {
  const { server, login } = await setup([privacy, blocking]);
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await iq(alice, 'set', `<query xmlns='jabber:iq:privacy'><list name='l'><item type='jid' value='carol@localhost' action='deny' order='1'/></list></query>`);
  await iq(alice, 'set', `<query xmlns='jabber:iq:privacy'><default name='l'/></query>`);
  await server.settle();
  alice.received();
  const user = Jid.parse('alice@localhost');
  const ask = async (to: string, conn?: object) =>
    (await server.hooks.run(privacyCheckPacket, 'localhost', 'allow', { user, from: Jid.parse('alice@localhost/phone'), to: Jid.parse(to), stanza: xml('message'), direction: 'out', conn })).acc;
  assert.is(await ask('bob@localhost'), 'block');
  assert.is(await ask('bob@localhost', server.connections[0]), 'block');
  assert.is(await ask('carol@localhost'), 'deny');
  assert.is(await ask('carol@localhost', server.connections[0]), 'deny');
  assert.is(await ask('alice@localhost'), 'allow');
  alice.send(`<message id='x' to='carol@localhost' type='chat'><body>x</body></message>`);
  alice.send(`<message id='y' to='bob@localhost' type='chat'><body>y</body></message>`);
  await alice.settle();
  const ex = alice.expect((e) => e.attrs.id === 'x');
  assert.is(errorCondition(ex), 'not-acceptable');
  assert.not.ok(ex.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'));
  assert.ok(alice.expect((e) => e.attrs.id === 'y').getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'));
  assert.equal(server.hookErrors, []);
});

test('with presence and roster: a blocked contact presence never arrives; unavailable reaches the newly blocked contact', async () => {
  const { server, login } = await setup([roster, presence, blocking]);
  const both = (user: string, jid: string) =>
    server.storage.roster.upsertItem('localhost', 'localhost', user, { jid, subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: [] });
  await both('alice', 'bob@localhost');
  await both('bob', 'alice@localhost');
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  alice.send('<presence/>');
  bob.send('<presence/>');
  await server.settle();
  assert.ok(alice.received().some((e) => e.name === 'presence' && e.attrs.from === 'bob@localhost/pc'), 'presence flows before the block');
  bob.received();
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  await server.settle();
  assert.ok(bob.received().some((e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.attrs.from === 'alice@localhost/phone'));
  alice.received();
  bob.send(`<presence><show>away</show></presence>`);
  await server.settle();
  assert.equal(alice.received().filter((e) => e.name === 'presence'), []);
  assert.equal(server.hookErrors, []);
});

test('subscription requests from a blocked contact are neither delivered nor recorded by the roster', async () => {
  const { server, login } = await setup([roster, presence, blocking]);
  const alice = await login('alice@localhost/phone');
  await iq(alice, 'set', `<block xmlns='${B}'><item jid='bob@localhost'/></block>`);
  alice.send('</stream:stream>');
  await server.settle();
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  bob.send(`<presence to='alice@localhost' type='subscribe'/>`);
  carol.send(`<presence to='alice@localhost' type='subscribe'/>`);
  await server.settle();
  const items = (await server.storage.roster.getRoster('localhost', 'localhost', 'alice')).items;
  assert.equal(items.filter((i) => i.pendingIn).map((i) => i.jid), ['carol@localhost']);
  assert.equal(server.hookErrors, []);
});

test('disco#info of the server lists urn:xmpp:blocking', async () => {
  const { server } = await setup();
  const r = await server.hooks.run((await import('../../src/core/server-hooks.ts')).discoLocalFeatures, 'localhost', [], { from: Jid.parse('alice@localhost'), to: Jid.parse('localhost'), node: undefined, lang: undefined });
  assert.ok(r.acc.includes(B));
});

test.run();
