// XEP-0313 MAM as stanza conversations (fake clock): both mailboxes archived, XEP-0359
// stanza-ids added and forged ones stripped, offline recipients, XEP-0334 hints, queries by
// with/start/end, RSM paging (after/before/max, fin complete, count, first index), errors,
// form discovery, preferences (always/never/roster), disco, account removal, and the
// archive-before-acknowledgement ordering with stream management and a slow archive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { mam, type MamOptions } from '../../src/ext/mam/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { streamManagement, NS_SM } from '../../src/ext/stream-management/index.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { Jid } from '../../src/core/jid.ts';
import { createLogger } from '../../src/core/logger.ts';
import { removeUser } from '../../src/core/server-hooks.ts';
import type { MamMessage, MamStore } from '../../src/core/storage/mam-store.ts';
import type { Storage } from '../../src/core/storage/storage.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { iq, startKit } from '../helpers/test-kit.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const MAM = 'urn:xmpp:mam:2';
const SID = 'urn:xmpp:sid:0';
const RSM = 'http://jabber.org/protocol/rsm';
const FWD = 'urn:xmpp:forward:0';

const setup = (opts: Partial<MamOptions> = {}, more: any[] = [], storage?: Storage) =>
  startKit({ users: USERS, modules: [{ module: mam, options: opts }, ...more], ...(storage && { storage }), ...(process.env.MAM_DEBUG && { logger: createLogger('debug') }) });


function form(fields: Record<string, string | string[]>): string {
  const f = Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'>${(Array.isArray(v) ? v : [v]).map((x) => `<value>${x}</value>`).join('')}</field>`)
    .join('');
  return `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${f}</x>`;
}

interface QueryResult {
  iq: XmlElement;
  rows: { id: string; body: string | undefined; from: string; to: string; stamp: string }[];
  fin: XmlElement | undefined;
  complete: string | undefined;
  count: string | undefined;
  first: string | undefined;
  firstIndex: string | undefined;
  last: string | undefined;
}

/** Send a MAM query and collect the result messages (in arrival order) and the fin. */
async function query(c: TestClient, fields: Record<string, string | string[]> = {}, rsm = '', queryid = 'qid'): Promise<QueryResult> {
  const reply = await iq(c, 'set', `<query xmlns='${MAM}' queryid='${queryid}'>${Object.keys(fields).length ? form(fields) : ''}${rsm ? `<set xmlns='${RSM}'>${rsm}</set>` : ''}</query>`);
  const all = c.received();
  const results = all.filter((e) => e.name === 'message' && e.getChild('result', MAM) !== undefined);
  // Results come before the IQ result (XEP-0313 §4.2).
  for (const r of results) assert.ok(all.indexOf(r) < all.length, 'results arrive');
  const rows = results.map((m) => {
    const r = m.getChild('result', MAM)!;
    assert.is(r.attrs.queryid, queryid);
    assert.is(m.attrs.from, Jid.parse(c.jid!).toBareString(), 'results come from the archive (bare JID)');
    const fwd = r.getChild('forwarded', FWD)!;
    const inner = fwd.getChild('message')!;
    return { id: r.attrs.id!, body: inner.getChildText('body'), from: inner.attrs.from!, to: inner.attrs.to!, stamp: fwd.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp! };
  });
  const fin = reply.getChild('fin', MAM);
  const set = fin?.getChild('set', RSM);
  return {
    iq: reply,
    rows,
    fin,
    complete: fin?.attrs.complete,
    count: set?.getChildText('count'),
    first: set?.getChildText('first'),
    firstIndex: set?.getChild('first')?.attrs.index,
    last: set?.getChildText('last'),
  };
}

const errCond = (e: XmlElement) => {
  assert.is(e.attrs.type, 'error', 'an error reply');
  return e.getChild('error')!.children.find((c) => typeof c !== 'string' && c.ns === 'urn:ietf:params:xml:ns:xmpp-stanzas') as XmlElement;
};

let seq = 0;
function chat(to: string, body: string, extra = '', id = 'm' + ++seq): string {
  return `<message to='${to}' type='chat' id='${id}'><body>${body}</body>${extra}</message>`;
}

test('a chat message is archived in both mailboxes; the recipient gets a stanza-id equal to its archive id', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const bob2 = await login('bob@localhost/tab');
  alice.send(chat('bob@localhost', 'hello', `<origin-id xmlns='${SID}' id='orig-1'/>`));
  await alice.settle();
  const got = bob.expect((e) => e.name === 'message' && e.getChildText('body') === 'hello', 'the message');
  const sids = got.getChildren('stanza-id', SID);
  assert.is(sids.length, 1);
  assert.is(sids[0]!.attrs.by, 'bob@localhost');
  // Bare-JID message to two resources of equal priority: both copies carry the same id.
  const got2 = bob2.expect((e) => e.name === 'message' && e.getChildText('body') === 'hello', 'the copy on the tab');
  assert.is(got2.getChild('stanza-id', SID)!.attrs.id, sids[0]!.attrs.id);

  const a = await query(alice);
  assert.equal(a.rows.map((r) => [r.body, r.from, r.to]), [['hello', 'alice@localhost/phone', 'bob@localhost']]);
  assert.is(a.complete, 'true');
  assert.is(a.count, '1');
  const b = await query(bob);
  assert.equal(b.rows.map((r) => [r.id, r.body, r.from]), [[sids[0]!.attrs.id, 'hello', 'alice@localhost/phone']]);
  const bobRows = (await server.storage.mam.query('localhost', 'localhost', 'bob')).rows;
  assert.is(bobRows[0]!.direction, 'in');
  assert.is(bobRows[0]!.originId, 'orig-1');
  const aliceRows = (await server.storage.mam.query('localhost', 'localhost', 'alice')).rows;
  assert.is(aliceRows[0]!.direction, 'out');
  assert.is(aliceRows[0]!.peer, 'bob@localhost');
  assert.equal(server.hookErrors, []);
});

test('forged stanza-ids claiming the recipient are stripped; others are kept', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  alice.send(chat('bob@localhost/pc', 'x', `<stanza-id xmlns='${SID}' by='bob@localhost' id='forged'/><stanza-id xmlns='${SID}' by='muc.example' id='other'/>`));
  // Not archivable (no body), but the forged id is still removed.
  alice.send(`<message to='bob@localhost/pc' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/><stanza-id xmlns='${SID}' by='bob@localhost' id='forged2'/></message>`);
  await alice.settle();
  const [m1, m2] = bob.received().filter((e) => e.name === 'message');
  const ids = m1!.getChildren('stanza-id', SID);
  assert.equal(ids.map((s) => s.attrs.by).sort(), ['bob@localhost', 'muc.example']);
  assert.is.not(ids.find((s) => s.attrs.by === 'bob@localhost')!.attrs.id, 'forged');
  assert.is(m2!.getChildren('stanza-id', SID).length, 0);
  assert.is((await query(bob)).rows.length, 1);
  assert.equal(server.hookErrors, []);
});

test('offline recipient: archived once, re-delivered from offline storage with the same stanza-id', async () => {
  const { server, login } = await setup({}, [presence, offline]);
  const alice = await login('alice@localhost/phone');
  alice.send(chat('bob@localhost', 'while you were away'));
  await alice.settle();
  const stored = await server.storage.mam.query('localhost', 'localhost', 'bob');
  assert.is(stored.rows.length, 1, 'archived for the offline recipient');
  const bob = await login('bob@localhost/pc');
  bob.send(`<presence/>`);
  await bob.settle();
  const m = bob.expect((e) => e.name === 'message' && e.getChildText('body') === 'while you were away', 'offline message');
  assert.is(m.getChild('stanza-id', SID)!.attrs.id, stored.rows[0]!.id);
  assert.is((await server.storage.mam.query('localhost', 'localhost', 'bob')).rows.length, 1, 'not archived again on re-delivery');
  // A message for an account that does not exist archives nothing.
  alice.send(chat('nobody@localhost', 'void'));
  await alice.settle();
  assert.is((await server.storage.mam.query('localhost', 'localhost', 'nobody')).rows.length, 0);
  assert.equal(server.hookErrors, []);
});

test('hints and types: no-store / no-permanent-store skip, store forces, errors/groupchat/headline/bodyless skip', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const H = 'urn:xmpp:hints';
  alice.send(chat('bob@localhost/pc', 'ns', `<no-store xmlns='${H}'/>`));
  alice.send(chat('bob@localhost/pc', 'nps', `<no-permanent-store xmlns='${H}'/>`));
  alice.send(chat('bob@localhost/pc', 'both', `<store xmlns='${H}'/><no-store xmlns='${H}'/>`));
  alice.send(`<message to='bob@localhost/pc' type='chat'><received xmlns='urn:xmpp:chat-markers:0' id='x'/><store xmlns='${H}'/></message>`);
  alice.send(`<message to='bob@localhost/pc' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  alice.send(`<message to='bob@localhost/pc' type='headline'><body>news</body></message>`);
  alice.send(`<message to='bob@localhost/pc' type='groupchat'><body>room</body></message>`);
  alice.send(`<message to='bob@localhost/pc'><body>normal without type</body></message>`);
  alice.send(`<message to='bob@localhost/pc' type='error'><body>err</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
  await alice.settle();
  bob.received();
  const a = await query(alice);
  assert.equal(a.rows.map((r) => r.body ?? '(marker)'), ['(marker)', 'normal without type']);
  const b = await query(bob);
  assert.equal(b.rows.map((r) => r.body ?? '(marker)'), ['(marker)', 'normal without type']);
  assert.equal(server.hookErrors, []);
});

async function conversation(server: TestServer, login: (j: string) => Promise<TestClient>) {
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  const t0 = server.clock.now();
  const send = async (from: TestClient, to: string, body: string) => {
    from.send(chat(to, body));
    await from.settle();
    server.clock.advance(60_000);
  };
  await send(alice, 'bob@localhost', 'a1'); // t0
  await send(bob, 'alice@localhost', 'b1'); // t0+1min
  await send(alice, 'carol@localhost', 'c1'); // +2
  await send(alice, 'bob@localhost', 'a2'); // +3
  await send(carol, 'alice@localhost', 'c2'); // +4
  await send(alice, 'bob@localhost', 'a3'); // +5
  await send(bob, 'alice@localhost/phone', 'b2'); // +6
  for (const c of [alice, bob, carol]) c.received();
  return { alice, bob, carol, t0 };
}

const iso = (ms: number) => new Date(ms).toISOString();

test('query by with / start / end', async () => {
  const { server, login } = await setup();
  const { alice, t0 } = await conversation(server, login);
  assert.equal((await query(alice)).rows.map((r) => r.body), ['a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'b2']);
  assert.equal((await query(alice, { with: 'bob@localhost' })).rows.map((r) => r.body), ['a1', 'b1', 'a2', 'a3', 'b2']);
  assert.equal((await query(alice, { with: 'carol@localhost' })).rows.map((r) => r.body), ['c1', 'c2']);
  const windowed = await query(alice, { start: iso(t0 + 90_000), end: iso(t0 + 4 * 60_000 + 1000) });
  assert.equal(windowed.rows.map((r) => r.body), ['c1', 'a2', 'c2']);
  assert.is(windowed.count, '3');
  assert.equal((await query(alice, { with: 'bob@localhost', start: iso(t0 + 3 * 60_000) })).rows.map((r) => r.body), ['a2', 'a3', 'b2']);
  // Stamps are the archive times.
  const first = (await query(alice)).rows[0]!;
  assert.is(new Date(first.stamp).getTime(), t0);
  assert.equal(server.hookErrors, []);
});

test('RSM paging forwards with after, backwards with before, max, fin complete, count and first index', async () => {
  const { server, login } = await setup();
  const { alice } = await conversation(server, login);
  const p1 = await query(alice, {}, '<max>3</max>');
  assert.equal(p1.rows.map((r) => r.body), ['a1', 'b1', 'c1']);
  assert.is(p1.complete, 'false');
  assert.is(p1.count, '7');
  assert.is(p1.firstIndex, '0');
  assert.is(p1.first, p1.rows[0]!.id);
  assert.is(p1.last, p1.rows[2]!.id);
  const p2 = await query(alice, {}, `<max>3</max><after>${p1.last}</after>`);
  assert.equal(p2.rows.map((r) => r.body), ['a2', 'c2', 'a3']);
  assert.is(p2.complete, 'false');
  const p3 = await query(alice, {}, `<max>3</max><after>${p2.last}</after>`);
  assert.equal(p3.rows.map((r) => r.body), ['b2']);
  assert.is(p3.complete, 'true');
  // The last page, then backwards from its first item.
  const l1 = await query(alice, {}, '<max>3</max><before/>');
  assert.equal(l1.rows.map((r) => r.body), ['c2', 'a3', 'b2'], 'oldest first within the page');
  assert.is(l1.complete, 'false');
  assert.is(l1.firstIndex, '4');
  const l2 = await query(alice, {}, `<max>3</max><before>${l1.first}</before>`);
  assert.equal(l2.rows.map((r) => r.body), ['b1', 'c1', 'a2']);
  assert.is(l2.complete, 'false');
  const l3 = await query(alice, {}, `<max>3</max><before>${l2.first}</before>`);
  assert.equal(l3.rows.map((r) => r.body), ['a1']);
  assert.is(l3.complete, 'true');
  // Paging combined with a filter.
  const w = await query(alice, { with: 'bob@localhost' }, `<max>2</max><after>${p1.first}</after>`);
  assert.equal(w.rows.map((r) => r.body), ['b1', 'a2']);
  assert.is(w.count, '5');
  // max=0: count only.
  const c0 = await query(alice, {}, '<max>0</max>');
  assert.equal(c0.rows, []);
  assert.is(c0.count, '7');
  assert.is(c0.first, undefined);
  // after-id / before-id form fields (XEP-0313 extended).
  const f = await query(alice, { 'after-id': p1.first!, 'before-id': p3.first! });
  assert.equal(f.rows.map((r) => r.body), ['b1', 'c1', 'a2', 'c2', 'a3']);
  // ids field.
  const ids = await query(alice, { ids: [p2.first!, p1.first!] });
  assert.equal(ids.rows.map((r) => r.body), ['a1', 'a2']);
  assert.is(ids.complete, 'true');
  assert.equal(server.hookErrors, []);
});

test('default page size and the max page size cap', async () => {
  const { server, login } = await setup({ defaultPageSize: 2, maxPageSize: 4 });
  const { alice } = await conversation(server, login);
  const d = await query(alice);
  assert.is(d.rows.length, 2);
  assert.is(d.complete, 'false');
  const capped = await query(alice, {}, '<max>1000000</max>');
  assert.is(capped.rows.length, 4, 'a huge max is capped');
  assert.is(capped.count, '7');
  assert.equal(server.hookErrors, []);
});

test('errors: unknown RSM ids, malformed forms, unsupported fields, other users, index', async () => {
  const { server, login } = await setup();
  const { alice, bob } = await conversation(server, login);
  const q = (payload: string) => iq(alice, 'set', `<query xmlns='${MAM}' queryid='e'>${payload}</query>`);
  assert.is(errCond(await q(`<set xmlns='${RSM}'><after>nope</after></set>`)).name, 'item-not-found');
  assert.is(errCond(await q(`<set xmlns='${RSM}'><before>nope</before></set>`)).name, 'item-not-found');
  assert.is(errCond(await q(form({ 'after-id': 'nope' }))).name, 'item-not-found');
  assert.is(errCond(await q(form({ ids: ['nope'] }))).name, 'item-not-found');
  assert.is(errCond(await q(form({ start: 'yesterday' }))).name, 'bad-request');
  assert.is(errCond(await q(form({ end: '2024-13-01T00:00:00Z' }))).name, 'bad-request');
  assert.is(errCond(await q(form({ with: 'a@b@c' }))).name, 'bad-request');
  assert.is(errCond(await q(form({ with: ['bob@localhost', 'carol@localhost'] }))).name, 'bad-request');
  assert.is(errCond(await q(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x>`)).name, 'bad-request');
  assert.is(errCond(await q(form({ 'full-text': 'x' }))).name, 'feature-not-implemented');
  assert.is(errCond(await q(`<set xmlns='${RSM}'><max>-1</max></set>`)).name, 'bad-request');
  assert.is(errCond(await q(`<set xmlns='${RSM}'><index>2</index></set>`)).name, 'feature-not-implemented');
  // Bob may not read Alice's archive.
  assert.is(errCond(await iq(bob, 'set', `<query xmlns='${MAM}'/>`, 'alice@localhost')).name, 'forbidden');
  assert.equal(alice.received().filter((e) => e.name === 'message'), [], 'no results were sent for failed queries');
  assert.equal(server.hookErrors, []);
});

test('form discovery: iq get of the query returns the fields', async () => {
  const { login } = await setup();
  const alice = await login('alice@localhost/phone');
  const r = await iq(alice, 'get', `<query xmlns='${MAM}'/>`);
  assert.is(r.attrs.type, 'result');
  const x = r.getChild('query', MAM)!.getChild('x', 'jabber:x:data')!;
  assert.is(x.attrs.type, 'form');
  const vars = x.getChildren('field').map((f) => f.attrs.var);
  assert.equal(vars, ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);
  assert.is(x.getChildren('field')[0]!.getChildText('value'), MAM);
});

test('preferences: defaults, set always/never, applied to both directions; roster policy reads the roster', async () => {
  const { server, login } = await setup();
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  const get = await iq(alice, 'get', `<prefs xmlns='${MAM}'/>`);
  const p = get.getChild('prefs', MAM)!;
  assert.is(p.attrs.default, 'always');
  assert.is(p.getChild('always')!.children.length, 0);
  // never: bob; default always.
  const set = await iq(alice, 'set', `<prefs xmlns='${MAM}' default='always'><always/><never><jid>Bob@localhost/x</jid></never></prefs>`);
  assert.equal(set.getChild('prefs', MAM)!.getChild('never')!.getChildren('jid').map((j) => j.text()), ['bob@localhost']);
  alice.send(chat('bob@localhost', 'to bob'));
  alice.send(chat('carol@localhost', 'to carol'));
  bob.send(chat('alice@localhost', 'from bob'));
  await alice.settle();
  await bob.settle();
  for (const c of [alice, bob, carol]) c.received();
  assert.equal((await query(alice)).rows.map((r) => r.body), ['to carol']);
  assert.equal((await query(bob)).rows.map((r) => r.body), ['to bob', 'from bob'], "bob's own archive follows bob's prefs");
  // default never with carol always.
  await iq(alice, 'set', `<prefs xmlns='${MAM}' default='never'><always><jid>carol@localhost</jid></always><never/></prefs>`);
  alice.send(chat('bob@localhost', 'x1'));
  alice.send(chat('carol@localhost', 'x2'));
  await alice.settle();
  assert.equal((await query(alice)).rows.map((r) => r.body), ['to carol', 'x2']);
  // roster: only contacts in the roster.
  await server.storage.roster.upsertItem('localhost', 'localhost', 'alice', { jid: 'bob@localhost', subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: [] });
  const r = await iq(alice, 'set', `<prefs xmlns='${MAM}' default='roster'/>`);
  assert.is(r.getChild('prefs', MAM)!.attrs.default, 'roster');
  alice.send(chat('bob@localhost', 'y1'));
  alice.send(chat('carol@localhost', 'y2'));
  carol.send(chat('alice@localhost', 'y3'));
  bob.send(chat('alice@localhost', 'y4'));
  await alice.settle();
  await carol.settle();
  await bob.settle();
  assert.equal((await query(alice)).rows.map((r) => r.body), ['to carol', 'x2', 'y1', 'y4']);
  // Errors.
  assert.is(errCond(await iq(alice, 'set', `<prefs xmlns='${MAM}' default='sometimes'/>`)).name, 'bad-request');
  assert.is(errCond(await iq(alice, 'set', `<prefs xmlns='${MAM}' default='always'><always><jid>@@</jid></always></prefs>`)).name, 'bad-request');
  assert.is(errCond(await iq(bob, 'get', `<prefs xmlns='${MAM}'/>`, 'alice@localhost')).name, 'forbidden');
  // Stored through the port.
  assert.is((await server.storage.mam.getPrefs('localhost', 'localhost', 'alice'))!.default, 'roster');
  assert.equal(server.hookErrors, []);
});

test('disco: server and account features; account removal deletes the archive', async () => {
  const { server, login } = await setup({}, [disco]);
  const alice = await login('alice@localhost/phone');
  const info = await iq(alice, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
  const feats = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
  for (const f of [MAM, SID, 'urn:xmpp:mam:2#extended']) assert.ok(feats.includes(f), `server feature ${f}`);
  const mine = await iq(alice, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'alice@localhost');
  const mf = mine.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
  assert.ok(mf.includes(MAM) && mf.includes(SID), 'account features');
  alice.send(chat('bob@localhost', 'gone soon'));
  await alice.settle();
  await iq(alice, 'set', `<prefs xmlns='${MAM}' default='never'/>`);
  assert.is((await server.storage.mam.query('localhost', 'localhost', 'alice')).rows.length, 1);
  const r = await server.hooks.run(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('alice@localhost') });
  assert.equal(r.acc.failed, []);
  assert.is((await server.storage.mam.query('localhost', 'localhost', 'alice')).rows.length, 0);
  assert.is(await server.storage.mam.getPrefs('localhost', 'localhost', 'alice'), undefined);
  assert.equal(server.hookErrors, []);
});

/** Let microtasks and immediates run without requiring idle connections (an append is held on purpose). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A MAM store whose appends wait for the test to release them (a slow group commit). */
function gatedStorage(): { storage: Storage; release: () => void; pending: () => number; committed: MamMessage[] } {
  const base = memoryStorage();
  const inner = base.mam;
  const waiting: (() => void)[] = [];
  const committed: MamMessage[] = [];
  const mamStore: MamStore = Object.create(inner);
  mamStore.append = (ht, d, u, m) =>
    new Promise<void>((resolve, reject) => {
      waiting.push(() => inner.append(ht, d, u, m).then(() => void committed.push(m)).then(resolve, reject));
    });
  return {
    storage: { ...base, mam: mamStore },
    release: () => {
      for (const w of waiting.splice(0)) w();
    },
    pending: () => waiting.length,
    committed,
  };
}

test('archive before ack: with stream management, <a h> for a message is sent only after its archive rows are committed', async () => {
  const g = gatedStorage();
  const { server, login } = await setup({}, [streamManagement], g.storage);
  const bob = await login('bob@localhost/pc');
  const alice = await login('alice@localhost/phone');
  alice.send(`<enable xmlns='${NS_SM}'/>`);
  await alice.settle();
  alice.expect((e) => e.name === 'enabled', 'SM enabled');
  alice.send(chat('bob@localhost', 'durable'));
  alice.send(`<r xmlns='${NS_SM}'/>`);
  await turns();
  assert.is(g.pending(), 1, "the sender's append is waiting");
  assert.is(alice.nextElement((e) => e.name === 'a'), undefined, 'no ack while the archive append is pending');
  assert.is(bob.nextElement((e) => e.name === 'message'), undefined, 'not routed yet either');
  g.release();
  await turns();
  // The sender's row is committed; the message is now routed and the recipient's append waits.
  assert.is(g.committed.length, 1);
  assert.is(g.committed[0]!.direction, 'out');
  const a = alice.expect((e) => e.name === 'a', 'the ack');
  assert.is(a.attrs.h, '1');
  assert.is(g.pending(), 1, "the recipient's append");
  assert.is(bob.nextElement((e) => e.name === 'message'), undefined, 'delivered only after the recipient row is committed');
  g.release();
  await server.settle();
  const m = bob.expect((e) => e.name === 'message', 'delivered');
  assert.is(m.getChild('stanza-id', SID)!.attrs.id, g.committed[1]!.id);
  assert.equal(server.hookErrors, []);
});

test('stream management re-routes unacked messages after the resume timeout: same stanza-id, archived once', async () => {
  const { server, login } = await setup({}, [{ module: streamManagement, options: { resumeTimeout: 60_000 } }]);
  const bob = await login('bob@localhost/pc');
  const phone = await login('alice@localhost/phone');
  phone.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  await phone.settle();
  phone.expect((e) => e.name === 'enabled', 'SM enabled');
  const laptop = await login('alice@localhost/laptop');
  bob.send(chat('alice@localhost/phone', 'unacked'));
  await bob.settle();
  await server.settle();
  const first = phone.expect((e) => e.name === 'message', 'first delivery');
  const sid = first.getChild('stanza-id', SID)!.attrs.id;
  phone.closeSocket();
  await phone.settle();
  server.clock.advance(60_000);
  await server.settle();
  const again = laptop.expect((e) => e.name === 'message' && e.getChildText('body') === 'unacked', 're-routed to the other resource');
  assert.equal(again.getChildren('stanza-id', SID).map((x) => x.attrs.id), [sid], 'the same single stanza-id');
  assert.is((await server.storage.mam.query('localhost', 'localhost', 'alice')).count, 1, 'archived once');
  assert.equal(server.hookErrors, []);
});

test('a pending archive append keeps per-recipient order: later stanzas to the same user wait behind it', async () => {
  const g = gatedStorage();
  const { server, login } = await setup({}, [], g.storage);
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  const alice = await login('alice@localhost/phone');
  alice.send(chat('bob@localhost/pc', 'first'));
  await turns();
  g.release(); // alice's copy
  await turns();
  // The recipient copy is pending; a chat state (not archived) sent next must not overtake it.
  alice.send(`<message to='bob@localhost/pc' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  alice.send(`<message to='carol@localhost/pc' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  await alice.settle();
  assert.equal(bob.received().filter((e) => e.name === 'message'), []);
  assert.is(carol.received().filter((e) => e.name === 'message').length, 1, 'other recipients are not held back');
  g.release();
  await server.settle();
  const got = bob.received().filter((e) => e.name === 'message').map((e) => e.getChildText('body') ?? 'paused');
  assert.equal(got, ['first', 'paused']);
  assert.equal(server.hookErrors, []);
});

test('a failed append: the sender gets internal-server-error and nothing is routed; a failed recipient append still delivers, without stanza-id', async () => {
  const base = memoryStorage();
  const failing = new Set<string>();
  const store: MamStore = Object.create(base.mam);
  store.append = (ht, d, u, m) => (failing.has(u) ? Promise.reject(new Error('disk full')) : base.mam.append(ht, d, u, m));
  const { server, login } = await setup({}, [], { ...base, mam: store });
  const alice = await login('alice@localhost/phone');
  const bob = await login('bob@localhost/pc');
  failing.add('alice');
  alice.send(chat('bob@localhost', 'lost?', '', 'f1'));
  await alice.settle();
  const err = alice.expect((e) => e.name === 'message' && e.attrs.id === 'f1', 'the error');
  assert.is(err.attrs.type, 'error');
  assert.ok(err.getChild('error')!.getChild('internal-server-error'));
  assert.equal(bob.received().filter((e) => e.name === 'message'), [], 'not routed');
  failing.clear();
  failing.add('bob');
  alice.send(chat('bob@localhost', 'delivered anyway', '', 'f2'));
  await alice.settle();
  const m = bob.expect((e) => e.name === 'message' && e.attrs.id === 'f2', 'delivered');
  assert.is(m.getChild('stanza-id', SID), undefined, 'no stanza-id for a row that does not exist');
  assert.equal(server.hookErrors, []);
});

test('enabled on one host type only: archiving follows each owner\'s host type; the other host type runs no MAM code', async () => {
  const server = await createTestServer({
    users: { 'alice@a.example': 'a', 'bob@b.example': 'b', 'dave@b.example': 'd' },
    domains: { 'a.example': 'ht_a', 'b.example': 'ht_b' },
    hostTypes: { ht_a: { modules: [mam] }, ht_b: { modules: [] } },
  });
  const alice = server.connect();
  await alice.login('alice@a.example/r', 'a');
  const bob = server.connect();
  await bob.login('bob@b.example/r', 'b');
  const dave = server.connect();
  await dave.login('dave@b.example/r', 'd');
  alice.send(chat('bob@b.example', 'a to b', `<stanza-id xmlns='${SID}' by='bob@b.example' id='kept'/>`));
  await alice.settle();
  const atBob = bob.expect((e) => e.name === 'message', 'at bob');
  assert.equal(atBob.getChildren('stanza-id', SID).map((x) => x.attrs.id), ['kept'], 'b runs no MAM: nothing stripped, nothing added');
  bob.send(chat('alice@a.example', 'b to a'));
  dave.send(chat('bob@b.example', 'within b'));
  await bob.settle();
  await dave.settle();
  const atAlice = alice.expect((e) => e.name === 'message', 'at alice');
  assert.is(atAlice.getChild('stanza-id', SID)!.attrs.by, 'alice@a.example');
  assert.equal((await query(alice)).rows.map((r) => r.body), ['a to b', 'b to a']);
  assert.is((await server.storage.mam.query('ht_b', 'b.example', 'bob')).count, 0);
  const e = await iq(bob, 'set', `<query xmlns='${MAM}'/>`);
  assert.is(errCond(e).name, 'service-unavailable');
  assert.equal(server.hookErrors, []);
});

test('on the SQLite adapter (group-committed appends): both mailboxes, stanza-id, paging', async () => {
  const storage = sqliteStorage({ path: ':memory:' });
  try {
    const { server, login } = await setup({}, [], storage);
    const alice = await login('alice@localhost/phone');
    const bob = await login('bob@localhost/pc');
    for (let i = 1; i <= 5; i++) {
      alice.send(chat('bob@localhost', `s${i}`));
      await alice.settle();
      await server.settle();
    }
    // The recipient's copy is delivered after its COMMIT (a real 2 ms batch timer): poll, bounded.
    const got: XmlElement[] = [];
    for (let i = 0; i < 200 && got.length < 5; i++) {
      await new Promise<void>((r) => setTimeout(r, 5));
      got.push(...bob.received().filter((e) => e.name === 'message'));
    }
    assert.equal(got.map((e) => e.getChildText('body')), ['s1', 's2', 's3', 's4', 's5']);
    const p1 = await query(bob, {}, '<max>3</max>');
    assert.equal(p1.rows.map((r) => r.body), ['s1', 's2', 's3']);
    assert.equal(p1.rows.map((r) => r.id), got.slice(0, 3).map((e) => e.getChild('stanza-id', SID)!.attrs.id));
    assert.is(p1.complete, 'false');
    const p2 = await query(bob, {}, `<max>3</max><after>${p1.last}</after>`);
    assert.equal(p2.rows.map((r) => r.body), ['s4', 's5']);
    assert.is(p2.complete, 'true');
    assert.is((await query(alice, { with: 'bob@localhost' })).count, '5');
    assert.equal(server.hookErrors, []);
    await server.stop();
  } finally {
    await storage.close?.();
  }
});

test.run();
