// XEP-0163 PEP (on XEP-0060) and XEP-0115 caps as stanza conversations between alice and bob
// (mutual presence subscription) and carol (no subscription): disco, publish with auto-create
// and publish-options, notifications filtered by +notify, last published item on presence,
// items retrieval per access model, retract/delete/purge notifications, configuration, caps
// hash verification and caching, account removal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { NS } from '../../src/core/namespaces.ts';
import { Jid } from '../../src/core/jid.ts';
import { parseElement } from '../../src/core/xml/parse-element.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { removeDomain, removeUser } from '../../src/core/server-hooks.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { capsHash, NS_CAPS, NS_PUBSUB, NS_PUBSUB_ERRORS, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER, pep } from '../../src/ext/pep/index.ts';
import { createTestServer, type TestClient, type TestServer, type TestServerOptions } from '../../src/testing/index.ts';
import { befriend, errorCondition, login, send, USERS } from './roster-helpers.ts';

const NICK = 'http://jabber.org/protocol/nick';
const AVATAR = 'urn:xmpp:avatar:metadata';
const CLIENT_NODE = 'https://xmpp-blocks.test/client';

function pepServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return createTestServer({ users: USERS, modules: [roster, presence, disco, pep], ...opts });
}

/** XEP-0115 §5.1 for a client with one identity and no forms, written independently of the module (ASCII only). */
function verOf(features: readonly string[], identity = 'client/pc//Test'): string {
  const s = `${identity}<${[...features].sort().join('<')}<`;
  return createHash('sha1').update(s).digest('base64');
}

const isCapsQuery = (e: XmlElement) => e.name === 'iq' && e.attrs.type === 'get' && e.getChild('query', NS.DISCO_INFO) !== undefined;
const isEvent = (e: XmlElement) => e.name === 'message' && e.getChild('event', NS_PUBSUB_EVENT) !== undefined;

/** The features a test client announces: disco, caps, and `<node>+notify` for `notify`. */
const featuresFor = (notify: readonly string[]) => [NS.DISCO_INFO, NS_CAPS, ...notify.map((n) => `${n}+notify`)];

/** Answer the server's caps query like a client (XEP-0115 §6.2). */
async function answerCaps(c: TestClient, q: XmlElement, features: readonly string[]): Promise<void> {
  const node = q.getChild('query', NS.DISCO_INFO)!.attrs.node;
  const feats = features.map((f) => `<feature var='${f}'/>`).join('');
  await send(c, `<iq type='result' id='${q.attrs.id}' to='${q.attrs.from}'><query xmlns='${NS.DISCO_INFO}' node='${node}'><identity category='client' type='pc' name='Test'/>${feats}</query></iq>`);
}

/**
 * Send available presence with caps for `notify`; answer the caps query if one comes. Returns
 * whether the server asked.
 */
async function capsPresence(c: TestClient, notify: readonly string[], ver?: string): Promise<boolean> {
  const features = featuresFor(notify);
  await send(c, `<presence><c xmlns='${NS_CAPS}' hash='sha-1' node='${CLIENT_NODE}' ver='${ver ?? verOf(features)}'/></presence>`);
  const q = c.nextElement(isCapsQuery);
  if (q === undefined) return false;
  assert.is(q.attrs.from, 'localhost', 'the server asks from its own JID');
  assert.is(q.getChild('query', NS.DISCO_INFO)!.attrs.node, `${CLIENT_NODE}#${ver ?? verOf(features)}`);
  await answerCaps(c, q, features);
  return true;
}

/** Log in `full` (roster requested, no presence yet), then announce caps for `notify` (undefined: no presence at all). */
async function online(server: TestServer, full: string, notify?: readonly string[]): Promise<TestClient> {
  const c = await login(server, full, { presence: false });
  if (notify !== undefined) await capsPresence(c, notify);
  return c;
}

/** alice and bob with a mutual subscription (done with resources that then leave). */
async function friends(server: TestServer): Promise<void> {
  const a = await login(server, 'alice@localhost/setup', { presence: false });
  const b = await login(server, 'bob@localhost/setup', { presence: false });
  await befriend(a, 'alice@localhost', b, 'bob@localhost');
  for (const c of [a, b]) {
    c.send('</stream:stream>');
    await c.settle();
  }
}

let ids = 0;
/** Send an IQ (the `id` is added) and return the answer. */
async function iq(c: TestClient, type: 'get' | 'set', body: string, to?: string): Promise<XmlElement> {
  const id = `q${++ids}`;
  await send(c, `<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}>${body}</iq>`);
  return c.expect((e) => e.name === 'iq' && e.attrs.id === id, `answer to ${id}`);
}

const publishXml = (node: string, payload: string, opts: { id?: string; options?: Record<string, string> } = {}) => {
  const form = opts.options
    ? `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_PUBSUB}#publish-options</value></field>${Object.entries(opts.options)
        .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
        .join('')}</x></publish-options>`
    : '';
  return `<pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item${opts.id ? ` id='${opts.id}'` : ''}>${payload}</item></publish>${form}</pubsub>`;
};
const nick = (n: string) => `<nick xmlns='${NICK}'>${n}</nick>`;

async function publish(c: TestClient, node: string, payload: string, opts: { id?: string; options?: Record<string, string> } = {}): Promise<XmlElement> {
  return iq(c, 'set', publishXml(node, payload, opts));
}

/** Items of `node` at `owner` as `id:text`, or the error condition. */
async function itemsOf(c: TestClient, owner: string, node: string, extra = ''): Promise<string[] | string> {
  const r = await iq(c, 'get', `<pubsub xmlns='${NS_PUBSUB}'><items node='${node}'${extra}/></pubsub>`, owner);
  if (r.attrs.type === 'error') return errorCondition(r)!;
  return r
    .getChild('pubsub', NS_PUBSUB)!
    .getChild('items', NS_PUBSUB)!
    .getChildren('item', NS_PUBSUB)
    .map((i) => `${i.attrs.id}:${i.elements()[0]?.text() ?? ''}`);
}

const pubsubErrorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS_PUBSUB_ERRORS)?.name;

/** Events received, as `from node kind id [text]` (removes them from the inbox). */
function events(c: TestClient): string[] {
  const out: string[] = [];
  for (let m = c.nextElement(isEvent); m; m = c.nextElement(isEvent)) {
    assert.is(m.attrs.type, 'headline');
    const ev = m.getChild('event', NS_PUBSUB_EVENT)!;
    for (const child of ev.elements()) {
      if (child.name !== 'items') {
        out.push(`${m.attrs.from} ${child.attrs.node} ${child.name}`);
        continue;
      }
      for (const i of child.elements()) out.push([m.attrs.from, child.attrs.node, i.name, i.attrs.id, i.elements()[0]?.text()].filter((x) => x !== undefined).join(' '));
    }
  }
  return out;
}

test('XEP-0115 §5.2/§5.3: the verification string and hash of the XEP examples', () => {
  const simple = parseElement(
    `<query xmlns='${NS.DISCO_INFO}'><identity category='client' name='Exodus 0.9.1' type='pc'/><feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/></query>`,
  );
  assert.is(capsHash(simple, 'sha-1'), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  const complex = parseElement(
    `<query xmlns='${NS.DISCO_INFO}'><identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/><identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/><feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field><field var='ip_version'><value>ipv4</value><value>ipv6</value></field><field var='os'><value>Mac</value></field><field var='os_version'><value>10.5.1</value></field><field var='software'><value>Psi</value></field><field var='software_version'><value>0.11</value></field></x></query>`,
  );
  assert.is(capsHash(complex, 'sha-1'), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
  // §5.4: a repeated feature makes the answer ill-formed; an unknown algorithm is not verifiable.
  assert.is(capsHash(parseElement(`<query xmlns='${NS.DISCO_INFO}'><feature var='a'/><feature var='a'/></query>`), 'sha-1'), undefined);
  assert.is(capsHash(simple, 'md2'), undefined);
  assert.ok(capsHash(simple, 'sha-256'));
});

test('disco: identity pubsub/pep and the pubsub features for the owner and a subscriber; nodes as items; strangers see nothing', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const bob = await online(server, 'bob@localhost/pc', []);
  const carol = await online(server, 'carol@localhost/pc', []);
  for (const c of [alice, bob]) {
    const r = await iq(c, 'get', `<query xmlns='${NS.DISCO_INFO}'/>`, 'alice@localhost');
    const q = r.getChild('query', NS.DISCO_INFO)!;
    assert.ok(q.getChildren('identity').some((i) => i.attrs.category === 'pubsub' && i.attrs.type === 'pep'), 'pubsub/pep identity');
    const feats = q.getChildren('feature').map((f) => f.attrs.var);
    for (const f of ['publish', 'retrieve-items', 'auto-create', 'publish-options', 'access-presence', 'access-open', 'access-whitelist', 'last-published', 'retract-items', 'delete-nodes', 'purge-nodes', 'config-node', 'create-nodes', 'persistent-items', 'item-ids', 'multi-items']) {
      assert.ok(feats.includes(`${NS_PUBSUB}#${f}`), `feature ${f}`);
    }
  }
  const stranger = await iq(carol, 'get', `<query xmlns='${NS.DISCO_INFO}'/>`, 'alice@localhost');
  assert.is(errorCondition(stranger), 'service-unavailable');

  assert.is((await publish(alice, NICK, nick('Alice'))).attrs.type, 'result');
  assert.is((await publish(alice, 'urn:xmpp:bookmarks:1', `<conference xmlns='urn:xmpp:bookmarks:1'/>`, { id: 'room@muc', options: { 'pubsub#access_model': 'whitelist' } })).attrs.type, 'result');
  const nodesFor = async (c: TestClient) =>
    (await iq(c, 'get', `<query xmlns='${NS.DISCO_ITEMS}'/>`, 'alice@localhost'))
      .getChild('query', NS.DISCO_ITEMS)!
      .getChildren('item')
      .map((i) => `${i.attrs.jid} ${i.attrs.node}`);
  assert.equal(await nodesFor(alice), ['alice@localhost http://jabber.org/protocol/nick', 'alice@localhost urn:xmpp:bookmarks:1']);
  assert.equal(await nodesFor(bob), ['alice@localhost http://jabber.org/protocol/nick'], 'a whitelist node is not listed to others');
  // disco#info on a node: a leaf for those who may read it.
  const leaf = await iq(bob, 'get', `<query xmlns='${NS.DISCO_INFO}' node='${NICK}'/>`, 'alice@localhost');
  assert.ok(leaf.getChild('query', NS.DISCO_INFO)!.getChildren('identity').some((i) => i.attrs.category === 'pubsub' && i.attrs.type === 'leaf'));
  assert.equal(server.hookErrors, []);
});

test('publish auto-creates with the defaults; notifications only to available resources with +notify of the owner and subscribers', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', [NICK]);
  const alice2 = await online(server, 'alice@localhost/laptop', [AVATAR]);
  const bob = await online(server, 'bob@localhost/pc', [NICK]);
  const bobNoNotify = await online(server, 'bob@localhost/watch', []);
  const bobNoPresence = await online(server, 'bob@localhost/bot');
  const carol = await online(server, 'carol@localhost/pc', [NICK]);
  for (const c of [alice, alice2, bob, bobNoNotify, bobNoPresence, carol]) c.received();

  const r = await publish(alice, NICK, nick('Alice'));
  assert.is(r.attrs.type, 'result');
  const item = r.getChild('pubsub', NS_PUBSUB)!.getChild('publish', NS_PUBSUB)!;
  assert.is(item.attrs.node, NICK);
  const id = item.getChild('item', NS_PUBSUB)!.attrs.id!;
  assert.ok(id, 'a generated item id');
  for (const c of [bob, carol, alice2]) await c.settle();

  assert.equal(events(alice), [`alice@localhost ${NICK} item ${id} Alice`], 'the owner resource with +notify');
  assert.equal(events(bob), [`alice@localhost ${NICK} item ${id} Alice`], 'a subscriber with +notify');
  assert.equal(events(alice2), [], 'no +notify for this node');
  assert.equal(events(bobNoNotify), [], 'caps without +notify: nothing (XEP-0163 §4.3.1)');
  assert.equal(events(bobNoPresence), [], 'no presence, not available');
  assert.equal(events(carol), [], 'not subscribed to alice');

  // The defaults of XEP-0163 §4.1 / §6.2.
  const cfg = await iq(alice, 'get', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><configure node='${NICK}'/></pubsub>`);
  const values = Object.fromEntries(
    cfg.getChild('pubsub', NS_PUBSUB_OWNER)!.getChild('configure', NS_PUBSUB_OWNER)!.getChild('x', 'jabber:x:data')!.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value')]),
  );
  assert.is(values.FORM_TYPE, `${NS_PUBSUB}#node_config`);
  assert.is(values['pubsub#access_model'], 'presence');
  assert.is(values['pubsub#max_items'], '1');
  assert.is(values['pubsub#persist_items'], 'true');
  assert.is(values['pubsub#send_last_published_item'], 'on_sub_and_presence');

  // Unavailable: no more notifications to that resource.
  await send(bob, `<presence type='unavailable'/>`);
  await publish(alice, NICK, nick('Alice 2'));
  await bob.settle();
  assert.equal(events(bob), []);
  assert.equal(events(alice).length, 1);
  assert.equal(server.hookErrors, []);
});

test('publish errors: another account → forbidden; no node, no item, two payloads → bad-request', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const bob = await online(server, 'bob@localhost/pc', []);
  const r = await iq(bob, 'set', publishXml(NICK, nick('Mallory')), 'alice@localhost');
  assert.is(errorCondition(r), 'forbidden');
  const noNode = await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><publish><item>${nick('x')}</item></publish></pubsub>`);
  assert.equal([errorCondition(noNode), pubsubErrorOf(noNode)], ['bad-request', 'nodeid-required']);
  const noItem = await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><publish node='${NICK}'/></pubsub>`);
  assert.equal([errorCondition(noItem), pubsubErrorOf(noItem)], ['bad-request', 'item-required']);
  const two = await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><publish node='${NICK}'><item>${nick('a')}${nick('b')}</item></publish></pubsub>`);
  assert.equal([errorCondition(two), pubsubErrorOf(two)], ['bad-request', 'invalid-payload']);
  const sub = await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><subscribe node='${NICK}' jid='alice@localhost'/></pubsub>`);
  assert.equal([errorCondition(sub), pubsubErrorOf(sub)], ['feature-not-implemented', 'unsupported']);
  assert.equal(await server.storage.pep.listNodes('localhost', 'localhost', 'alice'), [], 'nothing was created');
  assert.equal(server.hookErrors, []);
});

test('publish-options: applied at auto-create; a differing option on an existing node → conflict + precondition-not-met', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const opts = { 'pubsub#access_model': 'open', 'pubsub#max_items': 'max', 'pubsub#persist_items': '1' };
  assert.is((await publish(alice, 'urn:xmpp:omemo:2:bundles', `<bundle xmlns='urn:xmpp:omemo:2'/>`, { id: '1', options: opts })).attrs.type, 'result');
  const node = await server.storage.pep.getNode('localhost', 'localhost', 'alice', 'urn:xmpp:omemo:2:bundles');
  assert.equal([node?.config['pubsub#access_model'], node?.config['pubsub#max_items'], node?.config['pubsub#persist_items']], ['open', 'max', 'true']);
  // Same options (written differently: `true` for `1`): fine.
  assert.is((await publish(alice, 'urn:xmpp:omemo:2:bundles', `<bundle xmlns='urn:xmpp:omemo:2'/>`, { id: '2', options: { ...opts, 'pubsub#persist_items': 'true' } })).attrs.type, 'result');
  const r = await publish(alice, 'urn:xmpp:omemo:2:bundles', `<bundle xmlns='urn:xmpp:omemo:2'/>`, { id: '3', options: { 'pubsub#access_model': 'presence' } });
  assert.equal([errorCondition(r), pubsubErrorOf(r)], ['conflict', 'precondition-not-met']);
  const unknown = await publish(alice, NICK, nick('x'), { options: { 'pubsub#collection': 'x' } });
  assert.equal([errorCondition(unknown), pubsubErrorOf(unknown)], ['conflict', 'precondition-not-met']);
  assert.equal(await itemsOf(alice, 'alice@localhost', 'urn:xmpp:omemo:2:bundles'), ['1:', '2:'], 'the refused publish stored nothing');
  assert.equal(server.hookErrors, []);
});

test('max_items: the oldest items go; republishing an id replaces it; max_items/ids in retrieval; the limit bounds max_items', async () => {
  const server = await pepServer({ modules: [roster, presence, disco, { module: pep, options: { maxItems: 5 } }] });
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const node = 'urn:example:list';
  for (const id of ['a', 'b', 'c']) assert.is((await publish(alice, node, `<v xmlns='urn:example'>${id}</v>`, { id, options: { 'pubsub#max_items': '2' } })).attrs.type, 'result');
  assert.equal(await itemsOf(alice, 'alice@localhost', node), ['b:b', 'c:c'], 'oldest first, only the two newest');
  await publish(alice, node, `<v xmlns='urn:example'>b2</v>`, { id: 'b' });
  assert.equal(await itemsOf(alice, 'alice@localhost', node), ['c:c', 'b:b2']);
  assert.equal(await itemsOf(alice, 'alice@localhost', node, ` max_items='1'`), ['b:b2']);
  const one = await iq(alice, 'get', `<pubsub xmlns='${NS_PUBSUB}'><items node='${node}'><item id='c'/></items></pubsub>`);
  assert.equal(one.getChild('pubsub', NS_PUBSUB)!.getChild('items', NS_PUBSUB)!.getChildren('item', NS_PUBSUB).map((i) => i.attrs.id), ['c']);
  const tooMany = await publish(alice, 'urn:example:big', `<v xmlns='urn:example'/>`, { options: { 'pubsub#max_items': '6' } });
  assert.equal([errorCondition(tooMany), pubsubErrorOf(tooMany)], ['conflict', 'precondition-not-met']);
  // Lowering max_items by configuration trims at once.
  const set = await iq(
    alice,
    'set',
    `<pubsub xmlns='${NS_PUBSUB_OWNER}'><configure node='${node}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_PUBSUB}#node_config</value></field><field var='pubsub#max_items'><value>1</value></field></x></configure></pubsub>`,
  );
  assert.is(set.attrs.type, 'result');
  assert.equal(await itemsOf(alice, 'alice@localhost', node), ['b:b2']);
  assert.equal(server.hookErrors, []);
});

test('last published item: on available presence with +notify (own and contacts), stamped; a cached ver needs no query', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  await publish(alice, NICK, nick('Alice'), { id: 'n1' });
  await publish(alice, AVATAR, `<metadata xmlns='${AVATAR}'/>`, { id: 'a1' });
  await publish(alice, 'urn:example:quiet', `<v xmlns='urn:example'/>`, { options: { 'pubsub#send_last_published_item': 'never' } });
  const carolSelf = await online(server, 'carol@localhost/pc', []);
  await publish(carolSelf, NICK, nick('Carol'), { id: 'c1' });
  const bobOwn = await online(server, 'bob@localhost/setup2', []);
  await publish(bobOwn, NICK, nick('Bob'), { id: 'b1' });

  // bob's roster claims he sees carol, but carol's roster does not let him: her side decides.
  await server.storage.roster.upsertItem('localhost', 'localhost', 'bob', { jid: 'carol@localhost', subscription: 'to', ask: 'none', pendingIn: false, approved: false, groups: [] });

  const bob = await online(server, 'bob@localhost/pc');
  assert.ok(await capsPresence(bob, [NICK, 'urn:example:quiet']), 'unknown ver: the server asks');
  await bob.settle();
  const got = bob.received().filter(isEvent);
  const summary = got.map((m) => `${m.attrs.from} ${m.getChild('event', NS_PUBSUB_EVENT)!.getChild('items')!.attrs.node}`).sort();
  assert.equal(summary, [`alice@localhost ${NICK}`, `bob@localhost ${NICK}`], "alice's and his own nick; not carol's (no subscription), not the avatar (no +notify), not a 'never' node");
  const delay = got[0]!.getChild('delay', 'urn:xmpp:delay');
  assert.ok(delay?.attrs.stamp, 'a delay stamp');

  // A second resource with the same (verified, now cached) ver: no query, the items at once.
  const bob2 = await online(server, 'bob@localhost/tablet');
  assert.not.ok(await capsPresence(bob2, [NICK, 'urn:example:quiet']), 'cached: no disco#info query');
  await bob2.settle();
  assert.is(bob2.received().filter(isEvent).length, 2);
  // A presence update with the same caps sends nothing again.
  await send(bob2, `<presence><show>away</show><c xmlns='${NS_CAPS}' hash='sha-1' node='${CLIENT_NODE}' ver='${verOf(featuresFor([NICK, 'urn:example:quiet']))}'/></presence>`);
  await bob2.settle();
  assert.equal(bob2.received().filter((e) => isEvent(e) || isCapsQuery(e)), []);
  assert.equal(server.hookErrors, []);
});

test('a new subscription brings the last item (on_sub); items retrieval then allowed', async () => {
  const server = await pepServer();
  const alice = await online(server, 'alice@localhost/phone', []);
  await publish(alice, NICK, nick('Alice'), { id: 'n1' });
  const carol = await online(server, 'carol@localhost/pc', [NICK]);
  carol.received();
  assert.is(await itemsOf(carol, 'alice@localhost', NICK), 'not-authorized');
  await send(carol, `<presence to='alice@localhost' type='subscribe'/>`);
  await send(alice, `<presence to='carol@localhost' type='subscribed'/>`);
  await carol.settle();
  assert.equal(events(carol), [`alice@localhost ${NICK} item n1 Alice`]);
  assert.equal(await itemsOf(carol, 'alice@localhost', NICK), ['n1:Alice']);
  assert.equal(server.hookErrors, []);
});

test('items retrieval: presence needs a subscription, whitelist is the owner alone, open is anyone; no node → item-not-found', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const bob = await online(server, 'bob@localhost/pc', []);
  const carol = await online(server, 'carol@localhost/pc', []);
  await publish(alice, NICK, nick('Alice'), { id: 'n' });
  await publish(alice, 'urn:xmpp:bookmarks:1', `<conference xmlns='urn:xmpp:bookmarks:1'/>`, { id: 'room', options: { 'pubsub#access_model': 'whitelist' } });
  await publish(alice, 'urn:xmpp:omemo:2:devices', `<devices xmlns='urn:xmpp:omemo:2'/>`, { id: 'current', options: { 'pubsub#access_model': 'open' } });

  assert.equal(await itemsOf(bob, 'alice@localhost', NICK), ['n:Alice']);
  const denied = await iq(carol, 'get', `<pubsub xmlns='${NS_PUBSUB}'><items node='${NICK}'/></pubsub>`, 'alice@localhost');
  assert.equal([errorCondition(denied), pubsubErrorOf(denied)], ['not-authorized', 'presence-subscription-required']);

  assert.equal(await itemsOf(alice, 'alice@localhost', 'urn:xmpp:bookmarks:1'), ['room:']);
  const closed = await iq(bob, 'get', `<pubsub xmlns='${NS_PUBSUB}'><items node='urn:xmpp:bookmarks:1'/></pubsub>`, 'alice@localhost');
  assert.equal([errorCondition(closed), pubsubErrorOf(closed)], ['not-allowed', 'closed-node']);

  assert.equal(await itemsOf(carol, 'alice@localhost', 'urn:xmpp:omemo:2:devices'), ['current:']);
  assert.is(await itemsOf(bob, 'alice@localhost', 'urn:example:none'), 'item-not-found');
  assert.is(await itemsOf(alice, 'alice@localhost', NICK, ` max_items='zero'`), 'bad-request');
  assert.equal(server.hookErrors, []);
});

test('retract (notify=true → <retract/> event, notify=false → none), delete (<delete/> event), purge (<purge/> event)', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const bob = await online(server, 'bob@localhost/pc', ['urn:example:list']);
  const node = 'urn:example:list';
  for (const id of ['a', 'b', 'c']) await publish(alice, node, `<v xmlns='urn:example'>${id}</v>`, { id, options: { 'pubsub#max_items': '10' } });
  await bob.settle();
  assert.is(events(bob).length, 3);

  const retract = (id: string, notify: string) => iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><retract node='${node}' notify='${notify}'><item id='${id}'/></retract></pubsub>`);
  assert.is((await retract('a', 'true')).attrs.type, 'result');
  await bob.settle();
  assert.equal(events(bob), [`alice@localhost ${node} retract a`]);
  assert.is((await retract('b', '0')).attrs.type, 'result');
  await bob.settle();
  assert.equal(events(bob), []);
  assert.is(errorCondition(await retract('zzz', '1')), 'item-not-found');
  assert.equal(await itemsOf(alice, 'alice@localhost', node), ['c:c']);
  assert.is(errorCondition(await iq(bob, 'set', `<pubsub xmlns='${NS_PUBSUB}'><retract node='${node}'><item id='c'/></retract></pubsub>`, 'alice@localhost')), 'forbidden');

  assert.is((await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><purge node='${node}'/></pubsub>`)).attrs.type, 'result');
  await bob.settle();
  assert.equal(events(bob), [`alice@localhost ${node} purge`]);
  assert.equal(await itemsOf(alice, 'alice@localhost', node), []);

  assert.is(errorCondition(await iq(bob, 'set', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><delete node='${node}'/></pubsub>`, 'alice@localhost')), 'forbidden');
  assert.is((await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><delete node='${node}'/></pubsub>`)).attrs.type, 'result');
  await bob.settle();
  assert.equal(events(bob), [`alice@localhost ${node} delete`]);
  assert.is(await itemsOf(alice, 'alice@localhost', node), 'item-not-found');
  assert.is(errorCondition(await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><delete node='${node}'/></pubsub>`)), 'item-not-found');
  assert.equal(server.hookErrors, []);
});

test('create and configure: conflict on an existing node; whitelist stops notifications to contacts; invalid values → not-acceptable', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', [NICK]);
  const bob = await online(server, 'bob@localhost/pc', [NICK]);
  const configure = (fields: string) =>
    `<configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_PUBSUB}#node_config</value></field>${fields}</x></configure>`;
  const created = await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><create node='${NICK}'/>${configure(`<field var='pubsub#max_items'><value>3</value></field>`)}</pubsub>`);
  assert.is(created.attrs.type, 'result');
  assert.is((await server.storage.pep.getNode('localhost', 'localhost', 'alice', NICK))?.config['pubsub#max_items'], '3');
  assert.is(errorCondition(await iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB}'><create node='${NICK}'/></pubsub>`)), 'conflict');

  const ownerSet = (fields: string) => iq(alice, 'set', `<pubsub xmlns='${NS_PUBSUB_OWNER}'>${configure(fields).replace('<configure>', `<configure node='${NICK}'>`)}</pubsub>`);
  assert.is(errorCondition(await ownerSet(`<field var='pubsub#access_model'><value>roster</value></field>`)), 'not-acceptable');
  assert.is(errorCondition(await ownerSet(`<field var='pubsub#max_items'><value>-1</value></field>`)), 'not-acceptable');
  assert.is((await ownerSet(`<field var='pubsub#access_model'><value>whitelist</value></field>`)).attrs.type, 'result');
  assert.is(errorCondition(await iq(bob, 'get', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><configure node='${NICK}'/></pubsub>`, 'alice@localhost')), 'forbidden');
  alice.received();
  bob.received();
  await publish(alice, NICK, nick('secret'), { id: 's' });
  await bob.settle();
  assert.equal(events(alice), [`alice@localhost ${NICK} item s secret`]);
  assert.equal(events(bob), [], 'whitelist: the owner alone');
  // The default configuration form (XEP-0060 §8.3).
  const def = await iq(alice, 'get', `<pubsub xmlns='${NS_PUBSUB_OWNER}'><default/></pubsub>`);
  assert.ok(def.getChild('pubsub', NS_PUBSUB_OWNER)?.getChild('default', NS_PUBSUB_OWNER)?.getChild('x', 'jabber:x:data'));
  assert.equal(server.hookErrors, []);
});

test('caps: an answer that does not match its ver serves that resource only; the next resource with that ver is asked again', async () => {
  const server = await pepServer();
  await friends(server);
  const alice = await online(server, 'alice@localhost/phone', []);
  const wrongVer = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  const bob = await online(server, 'bob@localhost/pc');
  assert.ok(await capsPresence(bob, [NICK], wrongVer), 'asked');
  const bob2 = await online(server, 'bob@localhost/tablet');
  assert.ok(await capsPresence(bob2, [NICK], wrongVer), 'asked again: the wrong ver was not cached');
  await publish(alice, NICK, nick('Alice'), { id: 'n' });
  for (const c of [bob, bob2]) await c.settle();
  assert.equal(events(bob), [`alice@localhost ${NICK} item n Alice`], 'the unverified answer still describes its own resource');
  assert.equal(events(bob2), [`alice@localhost ${NICK} item n Alice`]);
  // The right ver: asked once, then cached.
  const bob3 = await online(server, 'bob@localhost/three');
  assert.ok(await capsPresence(bob3, [NICK]));
  const bob4 = await online(server, 'bob@localhost/four');
  assert.not.ok(await capsPresence(bob4, [NICK]));
  // A client that answers with an error gets no notifications.
  const bob5 = await online(server, 'bob@localhost/five');
  await send(bob5, `<presence><c xmlns='${NS_CAPS}' hash='sha-1' node='${CLIENT_NODE}' ver='${verOf(['x'])}'/></presence>`);
  const q = bob5.expect(isCapsQuery, 'caps query');
  await send(bob5, `<iq type='error' id='${q.attrs.id}' to='localhost'><error type='cancel'><item-not-found xmlns='${NS.STANZA_ERRORS}'/></error></iq>`);
  bob5.received();
  await publish(alice, NICK, nick('Alice 2'), { id: 'n' });
  await bob5.settle();
  assert.equal(events(bob5), []);
  assert.equal(bob5.received().filter((e) => e.name === 'iq'), [], 'the answers were not routed anywhere');
  assert.equal(server.hookErrors, []);
});

test('account and domain removal delete the nodes', async () => {
  const server = await pepServer();
  const alice = await online(server, 'alice@localhost/phone', []);
  const bob = await online(server, 'bob@localhost/pc', []);
  await publish(alice, NICK, nick('Alice'));
  await publish(bob, NICK, nick('Bob'));
  const r = await server.hooks.runAsync(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('alice@localhost') });
  assert.equal(r.acc.failed, []);
  assert.equal(await server.storage.pep.listNodes('localhost', 'localhost', 'alice'), []);
  assert.is((await server.storage.pep.listNodes('localhost', 'localhost', 'bob')).length, 1, "bob's nodes stay");
  const d = await server.hooks.runAsync(removeDomain, 'localhost', { failed: [] }, { domain: 'localhost' });
  assert.equal(d.acc.failed, []);
  assert.equal(await server.storage.pep.listNodes('localhost', 'localhost', 'bob'), []);
  assert.equal(server.hookErrors, []);
});

test.run();
