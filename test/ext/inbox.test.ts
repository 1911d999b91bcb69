// Inbox (MongooseIM `erlang-solutions.com:xmpp:inbox:0`) as stanza conversations: unread
// counts on both sides, reset by a displayed marker (matching the last message id) or by IQ,
// query with box/order/limit/hidden_read/start/end and the fin totals, mute, archive (and back
// to inbox on a new message), mark unread, errors, form discovery, offline re-delivery counted
// once, MAM's stanza-id kept in the last message, disco, account removal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { inbox, NS_INBOX, NS_INBOX_CONVERSATION, type InboxOptions } from '../../src/ext/inbox/index.ts';
import { mam } from '../../src/ext/mam/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { Jid } from '../../src/core/jid.ts';
import { removeUser } from '../../src/core/server-hooks.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { iq, startKit } from '../helpers/test-kit.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const C = NS_INBOX_CONVERSATION;
const MARKERS = 'urn:xmpp:chat-markers:0';

const setup = (opts: Partial<InboxOptions> = {}, more: any[] = []) => startKit({ users: USERS, modules: [{ module: inbox, options: opts }, ...more] });

let seq = 0;
const errCond = (e: XmlElement) => {
  assert.is(e.attrs.type, 'error', 'an error reply');
  return (e.getChild('error')!.children.find((c) => typeof c !== 'string' && c.ns === 'urn:ietf:params:xml:ns:xmpp-stanzas') as XmlElement).name;
};

function chat(to: string, body: string, id = 'm' + ++seq): string {
  return `<message to='${to}' type='chat' id='${id}'><body>${body}</body></message>`;
}

interface Entry {
  with: string;
  body: string | undefined;
  unread: number;
  read: string | undefined;
  box: string | undefined;
  archive: string | undefined;
  mute: string | undefined;
  msg: XmlElement;
}

async function fetchInbox(c: TestClient, fields: Record<string, string> = {}, rsm = '') {
  const f = Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('');
  const x = Object.keys(fields).length ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_INBOX}</value></field>${f}</x>` : '';
  const reply = await iq(c, 'set', `<inbox xmlns='${NS_INBOX}' queryid='ib'>${x}${rsm ? `<set xmlns='http://jabber.org/protocol/rsm'>${rsm}</set>` : ''}</inbox>`);
  const me = Jid.parse(c.jid!).toBareString();
  const entries: Entry[] = c
    .received()
    .filter((e) => e.name === 'message' && e.getChild('result', NS_INBOX) !== undefined)
    .map((m) => {
      assert.is(m.attrs.from, me);
      const r = m.getChild('result', NS_INBOX)!;
      assert.is(r.attrs.queryid, 'ib');
      const inner = r.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!;
      const other = Jid.parse(inner.attrs.from!).toBareString() === me ? inner.attrs.to! : inner.attrs.from!;
      return {
        with: Jid.parse(other).toBareString(),
        body: inner.getChildText('body'),
        unread: Number(r.attrs.unread),
        read: r.getChildText('read'),
        box: r.getChildText('box'),
        archive: r.getChildText('archive'),
        mute: r.getChildText('mute'),
        msg: inner,
      };
    });
  const fin = reply.getChild('fin', NS_INBOX);
  return { reply, entries, count: fin?.getChildText('count'), unread: fin?.getChildText('unread-messages'), active: fin?.getChildText('active-conversations') };
}

async function talk(server: TestServer, from: TestClient, to: string, body: string, id?: string) {
  from.send(chat(to, body, id));
  await from.settle();
  await server.settle();
  server.clock.advance(1000);
}

test('unread counts: +1 per incoming message, reset by the owner sending; last message kept', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  await talk(server, alice, 'bob@localhost', 'one');
  await talk(server, alice, 'bob@localhost', 'two');
  await talk(server, alice, 'bob@localhost/pc', 'three');
  bob.received();
  let b = await fetchInbox(bob);
  assert.equal(b.entries.map((e) => [e.with, e.body, e.unread, e.read]), [['alice@localhost', 'three', 3, 'false']]);
  assert.equal([b.count, b.unread, b.active], ['1', '3', '1']);
  let a = await fetchInbox(alice);
  assert.equal(a.entries.map((e) => [e.with, e.body, e.unread, e.read]), [['bob@localhost', 'three', 0, 'true']]);
  await talk(server, bob, 'alice@localhost', 'reply');
  alice.received();
  b = await fetchInbox(bob);
  assert.equal(b.entries.map((e) => [e.body, e.unread]), [['reply', 0]], 'own message: read');
  a = await fetchInbox(alice);
  assert.equal(a.entries.map((e) => [e.body, e.unread]), [['reply', 1]]);
  assert.equal(server.hookErrors, []);
});

test('a displayed marker for the last message resets unread; one for an older message does not', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  await talk(server, alice, 'bob@localhost', 'one', 'id-1');
  await talk(server, alice, 'bob@localhost', 'two', 'id-2');
  bob.send(`<message to='alice@localhost' type='chat'><displayed xmlns='${MARKERS}' id='id-1'/></message>`);
  await bob.settle();
  assert.equal((await fetchInbox(bob)).entries.map((e) => e.unread), [2], 'older id: no reset');
  bob.send(`<message to='alice@localhost' type='chat'><received xmlns='${MARKERS}' id='id-2'/></message>`);
  await bob.settle();
  assert.equal((await fetchInbox(bob)).entries.map((e) => e.unread), [2], 'received is not a reset marker by default');
  bob.send(`<message to='alice@localhost' type='chat'><displayed xmlns='${MARKERS}' id='id-2'/></message>`);
  await bob.settle();
  assert.equal((await fetchInbox(bob)).entries.map((e) => [e.unread, e.read]), [[0, 'true']]);
  // The marker did not count as a message for alice either.
  assert.equal((await fetchInbox(alice)).entries.map((e) => [e.body, e.unread]), [['two', 0]]);
  assert.equal(server.hookErrors, []);
});

test('resetMarkers option: received resets too', async () => {
  const { server, login } = await setup({ resetMarkers: ['received', 'displayed'] });
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  await talk(server, alice, 'bob@localhost', 'one', 'r-1');
  bob.send(`<message to='alice@localhost' type='chat'><received xmlns='${MARKERS}' id='r-1'/></message>`);
  await bob.settle();
  assert.equal((await fetchInbox(bob)).entries.map((e) => e.unread), [0]);
});

async function threeConversations(server: TestServer, login: (j: string) => Promise<TestClient>) {
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  const t0 = server.clock.now();
  await talk(server, bob, 'alice@localhost', 'from bob'); // t0
  await talk(server, carol, 'alice@localhost', 'from carol 1'); // t0+1s
  await talk(server, carol, 'alice@localhost', 'from carol 2'); // t0+2s
  await talk(server, alice, 'nobody@localhost', 'to nobody'); // t0+3s (outgoing only)
  for (const c of [alice, bob, carol]) c.received();
  return { alice, bob, carol, t0 };
}

test('query: order, limit (RSM max), hidden_read, start/end, fin totals, result shape', async () => {
  const { server, login } = await setup();
  const { alice, t0 } = await threeConversations(server, login);
  const all = await fetchInbox(alice);
  assert.equal(all.entries.map((e) => [e.with, e.unread]), [['nobody@localhost', 0], ['carol@localhost', 2], ['bob@localhost', 1]], 'newest first by default');
  assert.equal([all.count, all.unread, all.active], ['3', '3', '2']);
  const e = all.entries[1]!;
  assert.equal([e.read, e.box, e.archive, e.mute], ['false', 'inbox', 'false', '0']);
  assert.is(e.msg.attrs.from, 'carol@localhost/pc');
  assert.equal((await fetchInbox(alice, { order: 'asc' })).entries.map((x) => x.with), ['bob@localhost', 'carol@localhost', 'nobody@localhost']);
  assert.equal((await fetchInbox(alice, {}, '<max>2</max>')).entries.map((x) => x.with), ['nobody@localhost', 'carol@localhost']);
  const unreadOnly = await fetchInbox(alice, { hidden_read: 'true' });
  assert.equal(unreadOnly.entries.map((x) => x.with), ['carol@localhost', 'bob@localhost']);
  const win = await fetchInbox(alice, { start: new Date(t0 + 500).toISOString(), end: new Date(t0 + 2500).toISOString() });
  assert.equal(win.entries.map((x) => x.with), ['carol@localhost']);
  // type='form' as in MongooseIM's published examples is accepted too.
  const r = await iq(alice, 'set', `<inbox xmlns='${NS_INBOX}'><x xmlns='jabber:x:data' type='form'><field var='order'><value>asc</value></field></x></inbox>`);
  assert.is(r.attrs.type, 'result');
  assert.is(alice.received().filter((m) => m.name === 'message').length, 3);
  assert.equal(server.hookErrors, []);
});

test('archive: move a conversation, query by box, back to inbox on a new message', async () => {
  const { server, login } = await setup();
  const { alice, bob } = await threeConversations(server, login);
  const set = await iq(alice, 'set', `<query xmlns='${C}' jid='bob@localhost'><archive>true</archive></query>`);
  assert.is(set.attrs.type, 'result');
  assert.is(set.getChild('query', C)!.getChildText('box'), 'archive');
  assert.is(set.getChild('query', C)!.getChildText('archive'), 'true');
  assert.equal((await fetchInbox(alice, { box: 'inbox' })).entries.map((x) => x.with), ['nobody@localhost', 'carol@localhost']);
  const arch = await fetchInbox(alice, { box: 'archive' });
  assert.equal(arch.entries.map((x) => [x.with, x.box, x.archive]), [['bob@localhost', 'archive', 'true']]);
  assert.equal((await fetchInbox(alice, { archive: 'true' })).entries.map((x) => x.with), ['bob@localhost'], 'deprecated archive field');
  assert.is((await fetchInbox(alice, { box: 'all' })).entries.length, 3);
  // bin: hidden from "all".
  await iq(alice, 'set', `<query xmlns='${C}' jid='nobody@localhost'><box>bin</box></query>`);
  assert.equal((await fetchInbox(alice)).entries.map((x) => x.with), ['carol@localhost', 'bob@localhost']);
  assert.equal((await fetchInbox(alice, { box: 'bin' })).entries.map((x) => x.with), ['nobody@localhost']);
  // A new message from bob brings the conversation back.
  await talk(server, bob, 'alice@localhost', 'again');
  alice.received();
  assert.equal((await fetchInbox(alice, { box: 'inbox' })).entries.map((x) => [x.with, x.body]), [['bob@localhost', 'again'], ['carol@localhost', 'from carol 2']]);
  assert.equal(server.hookErrors, []);
});

test('mute until a time, visible in properties and results, expires with the clock; unmute', async () => {
  const { server, login } = await setup();
  const { alice } = await threeConversations(server, login);
  const r = await iq(alice, 'set', `<query xmlns='${C}' jid='carol@localhost'><mute>3600</mute></query>`);
  const until = r.getChild('query', C)!.getChildText('mute')!;
  assert.is(new Date(until).getTime(), server.clock.now() + 3_600_000);
  const get = await iq(alice, 'get', `<query xmlns='${C}' jid='carol@localhost'/>`);
  assert.is(get.getChild('query', C)!.getChildText('mute'), until);
  assert.is((await fetchInbox(alice)).entries.find((e) => e.with === 'carol@localhost')!.mute, until);
  server.clock.advance(3_600_001);
  assert.is((await fetchInbox(alice)).entries.find((e) => e.with === 'carol@localhost')!.mute, '0', 'expired');
  await iq(alice, 'set', `<query xmlns='${C}' jid='carol@localhost'><mute>60</mute></query>`);
  const un = await iq(alice, 'set', `<query xmlns='${C}' jid='carol@localhost'><mute>0</mute></query>`);
  assert.is(un.getChild('query', C)!.getChildText('mute'), '0');
  assert.equal(server.hookErrors, []);
});

test('mark read / unread through properties, reset IQ', async () => {
  const { server, login } = await setup();
  const { alice } = await threeConversations(server, login);
  const r = await iq(alice, 'set', `<query xmlns='${C}' jid='carol@localhost'><read>true</read></query>`);
  assert.is(r.getChild('query', C)!.getChildText('read'), 'true');
  assert.is((await fetchInbox(alice)).entries.find((e) => e.with === 'carol@localhost')!.unread, 0);
  await iq(alice, 'set', `<query xmlns='${C}' jid='carol@localhost'><read>false</read></query>`);
  assert.is((await fetchInbox(alice)).entries.find((e) => e.with === 'carol@localhost')!.unread, 1);
  const reset = await iq(alice, 'set', `<reset xmlns='${C}' jid='bob@localhost'/>`);
  assert.is(reset.attrs.type, 'result');
  assert.is((await fetchInbox(alice)).entries.find((e) => e.with === 'bob@localhost')!.unread, 0);
  assert.equal(server.hookErrors, []);
});

test('errors', async () => {
  const { login, server } = await setup();
  const { alice, bob } = await threeConversations(server, login);
  const q = (fields: string) => iq(alice, 'set', `<inbox xmlns='${NS_INBOX}'><x xmlns='jabber:x:data' type='submit'>${fields}</x></inbox>`);
  assert.is(errCond(await q(`<field var='order'><value>sideways</value></field>`)), 'bad-request');
  assert.is(errCond(await q(`<field var='box'><value>drawer</value></field>`)), 'bad-request');
  assert.is(errCond(await q(`<field var='start'><value>today</value></field>`)), 'bad-request');
  assert.is(errCond(await q(`<field var='hidden_read'><value>maybe</value></field>`)), 'bad-request');
  assert.is(errCond(await q(`<field var='colour'><value>red</value></field>`)), 'bad-request');
  assert.is(errCond(await q(`<field var='FORM_TYPE'><value>urn:other</value></field>`)), 'bad-request');
  assert.is(errCond(await iq(alice, 'set', `<inbox xmlns='${NS_INBOX}'><set xmlns='http://jabber.org/protocol/rsm'><after>x</after></set></inbox>`)), 'feature-not-implemented');
  assert.is(errCond(await iq(alice, 'set', `<query xmlns='${C}' jid='zed@localhost'><read>true</read></query>`)), 'item-not-found');
  assert.is(errCond(await iq(alice, 'get', `<query xmlns='${C}' jid='zed@localhost'/>`)), 'item-not-found');
  assert.is(errCond(await iq(alice, 'set', `<reset xmlns='${C}' jid='zed@localhost'/>`)), 'item-not-found');
  assert.is(errCond(await iq(alice, 'set', `<query xmlns='${C}'><read>true</read></query>`)), 'bad-request');
  assert.is(errCond(await iq(alice, 'set', `<query xmlns='${C}' jid='bob@localhost'/>`)), 'bad-request');
  assert.is(errCond(await iq(alice, 'set', `<query xmlns='${C}' jid='bob@localhost'><mute>-5</mute></query>`)), 'bad-request');
  assert.is(errCond(await iq(alice, 'set', `<query xmlns='${C}' jid='bob@localhost'><box>drawer</box></query>`)), 'bad-request');
  assert.is(errCond(await iq(alice, 'set', `<query xmlns='${C}' jid='bob@localhost'><colour>red</colour></query>`)), 'bad-request');
  assert.is(errCond(await iq(bob, 'set', `<inbox xmlns='${NS_INBOX}'/>`, 'alice@localhost')), 'forbidden');
  assert.equal(alice.received().filter((e) => e.name === 'message'), []);
  assert.equal(server.hookErrors, []);
});

test('form discovery', async () => {
  const { login } = await setup();
  const alice = await login('alice@localhost/phone');
  const r = await iq(alice, 'get', `<inbox xmlns='${NS_INBOX}'/>`);
  const x = r.getChild('inbox', NS_INBOX)!.getChild('x', 'jabber:x:data')!;
  assert.equal(x.getChildren('field').map((f) => f.attrs.var), ['FORM_TYPE', 'start', 'end', 'hidden_read', 'order', 'box', 'archive']);
  const box = x.getChildren('field').find((f) => f.attrs.var === 'box')!;
  assert.equal(box.getChildren('option').map((o) => o.getChildText('value')), ['all', 'inbox', 'archive', 'bin']);
});

test('offline recipient: counted once across re-delivery; with MAM the stored last message has the stanza-id', async () => {
  const { server, login } = await setup({}, [mam, presence, offline]);
  const alice = await login('alice@localhost/phone');
  await talk(server, alice, 'bob@localhost', 'while away 1');
  await talk(server, alice, 'bob@localhost', 'while away 2');
  const bob = await login('bob@localhost/pc');
  bob.send('<presence/>');
  await bob.settle();
  await server.settle();
  assert.is(bob.received().filter((e) => e.name === 'message').length, 2, 'both delivered from offline storage');
  const b = await fetchInbox(bob);
  assert.equal(b.entries.map((e) => [e.body, e.unread]), [['while away 2', 2]]);
  const sid = b.entries[0]!.msg.getChild('stanza-id', 'urn:xmpp:sid:0');
  assert.is(sid?.attrs.by, 'bob@localhost');
  assert.equal(server.hookErrors, []);
});

test('enabled on one host type only: entries only for its users', async () => {
  const server = await createTestServer({
    users: { 'alice@a.example': 'a', 'bob@b.example': 'b' },
    domains: { 'a.example': 'ht_a', 'b.example': 'ht_b' },
    hostTypes: { ht_a: { modules: [inbox] }, ht_b: { modules: [] } },
  });
  const alice = server.connect();
  await alice.login('alice@a.example/r', 'a');
  const bob = server.connect();
  await bob.login('bob@b.example/r', 'b');
  await talk(server, alice, 'bob@b.example', 'a to b');
  await talk(server, bob, 'alice@a.example', 'b to a');
  bob.received();
  alice.received();
  assert.equal((await fetchInbox(alice)).entries.map((e) => [e.with, e.body, e.unread]), [['bob@b.example', 'b to a', 1]]);
  assert.equal(await server.storage.inbox.query('ht_b', 'b.example', 'bob'), []);
  assert.is(errCond(await iq(bob, 'set', `<inbox xmlns='${NS_INBOX}'/>`)), 'service-unavailable');
  assert.equal(server.hookErrors, []);
});

test('disco features and account removal', async () => {
  const { server, login } = await setup({}, [disco]);
  const { alice } = await threeConversations(server, login);
  const info = await iq(alice, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
  const feats = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
  assert.ok(feats.includes(NS_INBOX) && feats.includes(C));
  const r = await server.hooks.run(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('alice@localhost') });
  assert.equal(r.acc.failed, []);
  assert.equal(await server.storage.inbox.query('localhost', 'localhost', 'alice'), []);
});

test.run();
