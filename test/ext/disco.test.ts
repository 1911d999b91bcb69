// XEP-0030: server disco#info/#items aggregated from every enabled module through the disco
// folds, user bare-JID disco answered by the server (account identity for the user and his
// subscribers only), nodes, item-not-found.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { ping } from '../../src/ext/ping/index.ts';
import { version } from '../../src/ext/version/index.ts';
import { last } from '../../src/ext/last/index.ts';
import { time } from '../../src/ext/time/index.ts';
import { vcard } from '../../src/ext/vcard/index.ts';
import { privateStorage } from '../../src/ext/private/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { discoLocalFeatures, discoLocalIdentity, discoLocalItems, discoSmIdentity } from '../../src/core/server-hooks.ts';
import { next } from '../../src/hooks/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };

/** A module contributing a node and an item, the way MUC or PubSub would. */
const contributor = defineModule({
  name: 'contributor',
  defaults: {},
  hooks: () => [
    hook(discoLocalItems, (acc, p) => (p.node === undefined ? next([...acc, { jid: 'conference.localhost', name: 'Rooms' }]) : p.node === 'urn:example:list' ? next([...acc, { jid: 'localhost', node: 'urn:example:list/1' }]) : undefined)),
    hook(discoLocalFeatures, (acc, p) => (p.node === 'urn:example:node' ? next([...acc, 'urn:example:node-feature']) : undefined)),
    hook(discoLocalIdentity, (acc, p) => (p.node === 'urn:example:node' ? next([...acc, { category: 'automation', type: 'command-node', name: 'Example' }]) : undefined)),
  ],
});

const ALL = [disco, ping, version, last, time, vcard, privateStorage, offline, contributor];

async function setup(modules = ALL) {
  const server = await createTestServer({ users: USERS, modules });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  return { server, alice, bob };
}

async function ask(c: TestClient, to: string | undefined, ns: string, node?: string): Promise<XmlElement> {
  const id = `q${Math.random().toString(36).slice(2)}`;
  c.send(`<iq type='get' id='${id}'${to ? ` to='${to}'` : ''}><query xmlns='${ns}'${node ? ` node='${node}'` : ''}/></iq>`);
  await c.settle();
  return c.expect((e) => e.attrs.id === id, `answer to ${ns} on ${to}`);
}

const features = (r: XmlElement) => r.getChild('query')!.getChildren('feature').map((f) => f.attrs.var!);
const identities = (r: XmlElement) => r.getChild('query')!.getChildren('identity').map((i) => `${i.attrs.category}/${i.attrs.type}`);
const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;

test('server disco#info: server/im identity and the features of every enabled module', async () => {
  const { server, alice } = await setup();
  const r = await ask(alice, 'localhost', NS.DISCO_INFO);
  assert.is(r.attrs.type, 'result');
  assert.is(r.attrs.from, 'localhost');
  assert.equal(identities(r), ['server/im']);
  assert.is(r.getChild('query')!.getChild('identity')!.attrs.name, 'xmpp-blocks');
  const f = features(r);
  for (const v of [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING, NS.VERSION, NS.LAST, NS.TIME, NS.VCARD, NS.PRIVATE, 'msgoffline']) assert.ok(f.includes(v), `${v} in ${f.join(' ')}`);
  assert.equal(f, [...new Set(f)].sort(), 'sorted, no duplicates');
  assert.equal(server.hookErrors, []);
});

test('server disco#info only lists the features of modules that are enabled', async () => {
  const { alice } = await setup([disco, ping]);
  const f = features(await ask(alice, 'localhost', NS.DISCO_INFO));
  assert.equal(f, [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING].sort());
});

test('server disco#items from the discoLocalItems fold; nodes; unknown node → item-not-found', async () => {
  const { alice } = await setup();
  const items = await ask(alice, 'localhost', NS.DISCO_ITEMS);
  assert.equal(items.getChild('query')!.getChildren('item').map((i) => `${i.attrs.jid}|${i.attrs.name}`), ['conference.localhost|Rooms']);
  const listed = await ask(alice, 'localhost', NS.DISCO_ITEMS, 'urn:example:list');
  assert.is(listed.getChild('query')!.attrs.node, 'urn:example:list');
  assert.equal(listed.getChild('query')!.getChildren('item').map((i) => i.attrs.node), ['urn:example:list/1']);
  const node = await ask(alice, 'localhost', NS.DISCO_INFO, 'urn:example:node');
  assert.is(node.attrs.type, 'result');
  assert.is(node.getChild('query')!.attrs.node, 'urn:example:node');
  assert.equal(identities(node), ['automation/command-node']);
  assert.equal(features(node), ['urn:example:node-feature'], 'module features are not added to nodes');
  assert.is(errorOf(await ask(alice, 'localhost', NS.DISCO_INFO, 'urn:example:nope')), 'item-not-found');
  assert.is(errorOf(await ask(alice, 'localhost', NS.DISCO_ITEMS, 'urn:example:nope')), 'item-not-found');
});

test('user disco#info: account/registered for the user himself and subscribers; strangers get service-unavailable', async () => {
  const { server, alice, bob } = await setup();
  const carol = server.connect();
  await carol.login('carol@localhost/x', 'c');
  // bob's roster: alice has a `from` subscription (sees bob's presence), carol is not there.
  await server.storage.roster.upsertItem('localhost', 'localhost', 'bob', { jid: 'alice@localhost', subscription: 'from', ask: 'none', pendingIn: false, approved: false, groups: [] });
  const self = await ask(bob, undefined, NS.DISCO_INFO);
  assert.is(self.attrs.type, 'result');
  assert.is(self.attrs.from, 'bob@localhost');
  assert.equal(identities(self), ['account/registered']);
  const f = features(self);
  for (const v of [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING, NS.LAST, NS.VCARD]) assert.ok(f.includes(v), `${v} in ${f.join(' ')}`);
  const fromAlice = await ask(alice, 'bob@localhost', NS.DISCO_INFO);
  assert.equal(identities(fromAlice), ['account/registered']);
  assert.is(errorOf(await ask(carol, 'bob@localhost', NS.DISCO_INFO)), 'service-unavailable');
  assert.is(errorOf(await ask(carol, 'bob@localhost', NS.DISCO_ITEMS)), 'service-unavailable');
  const items = await ask(alice, 'bob@localhost', NS.DISCO_ITEMS);
  assert.is(items.attrs.type, 'result');
  assert.equal(items.getChild('query')!.getChildren('item'), []);
  assert.is(errorOf(await ask(bob, 'bob@localhost', NS.DISCO_INFO, 'urn:example:nope')), 'item-not-found');
  // Only alice's own view of bob gets bob's roster-based identity: carol is still out.
  assert.equal(bob.received(), [], 'bob was never asked himself');
  assert.equal(server.hookErrors, []);
});

test('a module adding a user identity (PEP-like) makes the account visible to anyone', async () => {
  const pep = defineModule({ name: 'pepLike', defaults: {}, hooks: () => [hook(discoSmIdentity, (acc, p) => (p.node === undefined ? next([...acc, { category: 'pubsub', type: 'pep' }]) : undefined))] });
  const { server } = await setup([disco, pep]);
  const carol = server.connect();
  await carol.login('carol@localhost/x', 'c');
  const r = await ask(carol, 'bob@localhost', NS.DISCO_INFO);
  assert.equal(identities(r), ['pubsub/pep']);
});

test('without the disco module, disco IQs get service-unavailable', async () => {
  const { alice } = await setup([ping]);
  assert.is(errorOf(await ask(alice, 'localhost', NS.DISCO_INFO)), 'service-unavailable');
});

test.run();
