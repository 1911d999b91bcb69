/**
 * The adapter conformance suite: the same uvu tests for every storage adapter. A new adapter
 * (PostgreSQL, Redis, …) passes when
 *
 * ```ts
 * import { runConformance } from 'xmpp-blocks/storage/conformance';
 * runConformance('postgres', () => postgresStorage({ url }));
 * ```
 *
 * registers and runs green. `makeStorage` is called once per test and must return an empty
 * storage; the suite closes it after the test (an adapter may clean up its files in `close`).
 * Only the ports' documented behaviour is checked, never adapter internals.
 * @module
 */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Storage } from '../../core/storage/storage.ts';
import { removeDomainEverywhere, removeUserEverywhere } from '../../core/storage/storage.ts';
import { MamIdGenerator, mamIdTimestamp, type MamMessage } from '../../core/storage/mam-store.ts';
import { BLOCKLIST_NAME, type PrivacyItem } from '../../core/storage/privacy-store.ts';
import type { RosterItem } from '../../core/storage/roster-store.ts';
import type { FastToken, FastTokenEntry } from '../../core/storage/fast-token-store.ts';
import type { PepItem } from '../../core/storage/pep-store.ts';
import type { MucAffiliationEntry, MucRoomRecord } from '../../core/storage/muc-store.ts';
import type { StoredCredentials } from '../../core/auth/scram.ts';

/** Creates an empty storage for one test. */
export type StorageFactory = () => Promise<Storage> | Storage;

interface Ctx {
  st: Storage;
}

const HT = 'ht';
const D = 'example.com';
const D2 = 'other.org';

function creds(tag: string): StoredCredentials {
  return { scram: { sha256: { salt: `salt-${tag}`, iterations: 4096, storedKey: `sk-${tag}`, serverKey: `svk-${tag}` } } };
}

function item(jid: string, over: Partial<RosterItem> = {}): RosterItem {
  return { jid, subscription: 'none', ask: 'none', pendingIn: false, approved: false, groups: [], ...over };
}

function fastToken(tag: string, mechanism = 'HT-SHA-256-NONE', expiresAt = 1_900_000_000_000): FastToken {
  return { token: `tok-${tag}`, mechanism, expiresAt };
}

function fastEntry(tag: string, count = 0): FastTokenEntry {
  return { current: fastToken(tag), previous: undefined, count };
}

function pepItem(id: string, n = 0, payload = `<metadata xmlns="urn:xmpp:avatar:metadata"><info id="${id}"/></metadata>`): PepItem {
  return { id, payload, publisher: 'alice@example.com', timestamp: 1_700_000_000_000_000 + n };
}

function mucRoom(name: string, affiliations: readonly MucAffiliationEntry[] = [], over: Partial<MucRoomRecord> = {}): MucRoomRecord {
  return { name, config: { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_roomname': name }, affiliations, ...over };
}

/** `room` with `jid`'s affiliation set (an existing entry replaced), for read-modify-write of shared rooms. */
function withAffiliation(room: MucRoomRecord | undefined, name: string, entry: MucAffiliationEntry): MucRoomRecord {
  const r = room ?? mucRoom(name);
  return { ...r, affiliations: [...r.affiliations.filter((a) => a.jid !== entry.jid), entry] };
}

/** Register one uvu suite per port and run them. */
export function runConformance(name: string, makeStorage: StorageFactory): void {
  const suites: Test<Ctx>[] = [];
  const port = (portName: string, body: (it: (title: string, fn: (st: Storage) => Promise<void>) => void) => void): void => {
    const s = suite<Ctx>(`${name} · ${portName}`, {} as Ctx);
    s.before.each(async (ctx) => {
      ctx.st = await makeStorage();
    });
    s.after.each(async (ctx) => {
      await ctx.st.close();
    });
    body((title, fn) => s(title, (ctx) => fn(ctx.st)));
    suites.push(s);
  };

  port('auth', (it) => {
    it('register, exists, credentials round-trip; duplicate refused', async (st) => {
      assert.is(await st.auth.exists(HT, D, 'alice'), false);
      assert.is(await st.auth.getCredentials(HT, D, 'alice'), undefined);
      assert.is(await st.auth.register(HT, D, 'alice', creds('a')), true);
      assert.is(await st.auth.register(HT, D, 'alice', creds('b')), false);
      assert.is(await st.auth.exists(HT, D, 'alice'), true);
      assert.equal(await st.auth.getCredentials(HT, D, 'alice'), creds('a'));
      assert.is(await st.auth.exists(HT, D2, 'alice'), false);
    });
    it('setCredentials replaces, and is false for unknown users', async (st) => {
      await st.auth.register(HT, D, 'alice', creds('a'));
      assert.is(await st.auth.setCredentials(HT, D, 'alice', creds('b')), true);
      assert.equal(await st.auth.getCredentials(HT, D, 'alice'), creds('b'));
      assert.is(await st.auth.setCredentials(HT, D, 'nobody', creds('b')), false);
      assert.is(await st.auth.exists(HT, D, 'nobody'), false);
    });
    it('list (sorted), count, removeUser, removeDomain keep other domains', async (st) => {
      await Promise.all(['carol', 'alice', 'bob'].map((u) => st.auth.register(HT, D, u, creds(u))));
      await st.auth.register(HT, D2, 'alice', creds('x'));
      assert.equal(await st.auth.listUsers(HT, D), ['alice', 'bob', 'carol']);
      assert.is(await st.auth.countUsers(HT, D), 3);
      assert.is(await st.auth.removeUser(HT, D, 'bob'), true);
      assert.is(await st.auth.removeUser(HT, D, 'bob'), false);
      assert.equal(await st.auth.listUsers(HT, D), ['alice', 'carol']);
      await st.auth.removeDomain(HT, D);
      assert.equal(await st.auth.listUsers(HT, D), []);
      assert.is(await st.auth.countUsers(HT, D), 0);
      assert.equal(await st.auth.listUsers(HT, D2), ['alice']);
    });
  });

  port('roster', (it) => {
    it('an unknown user has an empty roster and no version', async (st) => {
      assert.equal(await st.roster.getRoster(HT, D, 'alice'), { version: undefined, items: [] });
      assert.is(await st.roster.getVersion(HT, D, 'alice'), undefined);
      assert.is(await st.roster.getItem(HT, D, 'alice', 'bob@x'), undefined);
    });
    it('upsert stores every field and changes the version each time', async (st) => {
      const bob = item('bob@x', { name: 'Bob', subscription: 'both', ask: 'subscribe', pendingIn: true, approved: true, groups: ['Friends', 'Work'] });
      const v1 = await st.roster.upsertItem(HT, D, 'alice', bob);
      assert.equal(await st.roster.getItem(HT, D, 'alice', 'bob@x'), bob);
      const v2 = await st.roster.upsertItem(HT, D, 'alice', item('bob@x', { subscription: 'to' }));
      assert.is.not(v1, v2);
      const got = await st.roster.getItem(HT, D, 'alice', 'bob@x');
      assert.equal(got, item('bob@x', { subscription: 'to' }));
      assert.is(got!.name, undefined, 'a replaced item loses its old name');
      assert.is(await st.roster.getVersion(HT, D, 'alice'), v2);
    });
    it('getRoster is sorted by jid and carries the current version', async (st) => {
      await st.roster.upsertItem(HT, D, 'alice', item('carol@x'));
      const v = await st.roster.upsertItem(HT, D, 'alice', item('bob@x', { groups: ['G'] }));
      const r = await st.roster.getRoster(HT, D, 'alice');
      assert.is(r.version, v);
      assert.equal(r.items.map((i) => i.jid), ['bob@x', 'carol@x']);
      assert.equal(r.items[0].groups, ['G']);
    });
    it('removeItem bumps the version only when something was removed', async (st) => {
      const v1 = await st.roster.upsertItem(HT, D, 'alice', item('bob@x'));
      assert.is(await st.roster.removeItem(HT, D, 'alice', 'nobody@x'), undefined);
      assert.is(await st.roster.getVersion(HT, D, 'alice'), v1);
      const v2 = await st.roster.removeItem(HT, D, 'alice', 'bob@x');
      assert.ok(v2 !== undefined && v2 !== v1);
      assert.equal((await st.roster.getRoster(HT, D, 'alice')).items, []);
    });
    it('removeUser and removeDomain', async (st) => {
      await st.roster.upsertItem(HT, D, 'alice', item('bob@x'));
      await st.roster.upsertItem(HT, D, 'bob', item('alice@x'));
      await st.roster.upsertItem(HT, D2, 'alice', item('bob@x'));
      await st.roster.removeUser(HT, D, 'alice');
      assert.equal(await st.roster.getRoster(HT, D, 'alice'), { version: undefined, items: [] });
      assert.is((await st.roster.getRoster(HT, D, 'bob')).items.length, 1);
      await st.roster.removeDomain(HT, D);
      assert.equal(await st.roster.getRoster(HT, D, 'bob'), { version: undefined, items: [] });
      assert.is((await st.roster.getRoster(HT, D2, 'alice')).items.length, 1);
    });
  });

  port('offline', (it) => {
    const msg = (n: number, expiresAt?: number) => ({ from: 'bob@x/r', to: 'alice@example.com', timestamp: 1000 + n, xml: `<message id='${n}'/>`, ...(expiresAt !== undefined ? { expiresAt } : {}) });
    it('push, count, popAll oldest first, and popAll empties', async (st) => {
      for (let i = 0; i < 5; i++) assert.is(await st.offline.push(HT, D, 'alice', msg(i)), 'stored');
      assert.is(await st.offline.count(HT, D, 'alice'), 5);
      const popped = await st.offline.popAll(HT, D, 'alice');
      assert.equal(popped.map((m) => m.xml), [0, 1, 2, 3, 4].map((i) => `<message id='${i}'/>`));
      assert.equal({ ...popped[0], id: 'x' }, { ...msg(0), id: 'x' });
      assert.is(await st.offline.count(HT, D, 'alice'), 0);
      assert.equal(await st.offline.popAll(HT, D, 'alice'), []);
    });
    it('the per-user limit answers full and stores nothing, also for concurrent pushes', async (st) => {
      const results = await Promise.all([0, 1, 2, 3, 4].map((i) => st.offline.push(HT, D, 'alice', msg(i), 3)));
      assert.equal(results.filter((r) => r === 'stored').length, 3);
      assert.equal(results.filter((r) => r === 'full').length, 2);
      assert.is(await st.offline.count(HT, D, 'alice'), 3);
      assert.is(await st.offline.push(HT, D, 'bob', msg(9), 3), 'stored', 'the limit is per user');
    });
    it('expired messages are dropped by popAll(now) and removeExpired', async (st) => {
      await st.offline.push(HT, D, 'alice', msg(0, 500));
      await st.offline.push(HT, D, 'alice', msg(1, 5000));
      await st.offline.push(HT, D, 'alice', msg(2));
      await st.offline.push(HT, D, 'bob', msg(3, 500));
      assert.is(await st.offline.removeExpired(HT, 1000), 2);
      assert.is(await st.offline.count(HT, D, 'alice'), 2);
      const got = await st.offline.popAll(HT, D, 'alice', 6000);
      assert.equal(got.map((m) => m.xml), [`<message id='2'/>`]);
      assert.is(await st.offline.count(HT, D, 'alice'), 0);
    });
    it('removeUser and removeDomain', async (st) => {
      await st.offline.push(HT, D, 'alice', msg(0));
      await st.offline.push(HT, D, 'bob', msg(1));
      await st.offline.push(HT, D2, 'alice', msg(2));
      await st.offline.removeUser(HT, D, 'alice');
      assert.is(await st.offline.count(HT, D, 'alice'), 0);
      assert.is(await st.offline.count(HT, D, 'bob'), 1);
      await st.offline.removeDomain(HT, D);
      assert.is(await st.offline.count(HT, D, 'bob'), 0);
      assert.is(await st.offline.count(HT, D2, 'alice'), 1);
    });
  });

  port('mam', (it) => {
    /** 10 messages, alternating peers bob/carol, 1 s apart. */
    const fill = async (st: Storage, user = 'alice', domain = D): Promise<MamMessage[]> => {
      const gen = new MamIdGenerator(1);
      const rows: MamMessage[] = [];
      for (let i = 0; i < 10; i++) {
        const { id, timestamp } = gen.next(1_700_000_000_000_000 + i * 1_000_000);
        rows.push({
          id, timestamp, peer: i % 2 ? 'carol@x' : 'bob@x', peerResource: i % 2 ? 'phone' : '', direction: i % 3 ? 'in' : 'out',
          ...(i === 4 ? { originId: 'orig-4' } : {}), xml: `<message id='m${i}'><body>${i}</body></message>`,
        });
      }
      await Promise.all(rows.map((r) => st.mam.append(HT, domain, user, r)));
      return rows;
    };
    const ids = (rows: readonly MamMessage[]) => rows.map((r) => r.id);

    it('ids sort in time order and encode their timestamp', () => {
      const g = new MamIdGenerator(7);
      const a = g.next(1_700_000_000_000_000);
      const b = g.next(1_700_000_000_000_000); // same µs: still strictly greater
      const c = g.next(1_600_000_000_000_000); // clock went back
      assert.ok(a.id < b.id && b.id < c.id);
      assert.is(mamIdTimestamp(a.id), 1_700_000_000_000_000);
      assert.is(mamIdTimestamp(b.id), b.timestamp);
      return Promise.resolve();
    });
    it('a whole archive ascending, every field round-trips', async (st) => {
      const rows = await fill(st);
      const page = await st.mam.query(HT, D, 'alice');
      assert.equal(page.rows, rows);
      assert.is(page.complete, true);
      assert.is(page.count, 10);
      assert.is(page.first, rows[0].id);
      assert.is(page.last, rows[9].id);
    });
    it('RSM forward paging with afterId until complete', async (st) => {
      const rows = await fill(st);
      const seen: string[] = [];
      let after: string | undefined;
      for (let n = 0; ; n++) {
        const p = await st.mam.query(HT, D, 'alice', { limit: 4, ...(after ? { afterId: after } : {}) });
        assert.is(p.count, 10);
        seen.push(...ids(p.rows));
        after = p.last;
        if (p.complete) break;
        assert.ok(n < 5);
      }
      assert.equal(seen, ids(rows));
    });
    it('the last page (desc) and paging back with beforeId', async (st) => {
      const rows = await fill(st);
      const last = await st.mam.query(HT, D, 'alice', { limit: 3, order: 'desc' });
      assert.equal(ids(last.rows), ids(rows.slice(7).reverse()));
      assert.is(last.complete, false);
      const prev = await st.mam.query(HT, D, 'alice', { limit: 10, order: 'desc', beforeId: last.last });
      assert.equal(ids(prev.rows), ids(rows.slice(0, 7).reverse()));
      assert.is(prev.complete, true);
      const exact = await st.mam.query(HT, D, 'alice', { limit: 7, order: 'desc', beforeId: last.last });
      assert.is(exact.complete, true, 'a page that ends exactly at the oldest row is complete');
    });
    it('between afterId and beforeId', async (st) => {
      const rows = await fill(st);
      const p = await st.mam.query(HT, D, 'alice', { afterId: rows[2].id, beforeId: rows[6].id });
      assert.equal(ids(p.rows), ids(rows.slice(3, 6)));
    });
    it('filters by peer and by start/end (inclusive); count ignores paging', async (st) => {
      const rows = await fill(st);
      const bob = await st.mam.query(HT, D, 'alice', { peer: 'bob@x', limit: 2 });
      assert.equal(ids(bob.rows), ids(rows.filter((r) => r.peer === 'bob@x').slice(0, 2)));
      assert.is(bob.count, 5);
      assert.is(bob.complete, false);
      const win = await st.mam.query(HT, D, 'alice', { start: rows[2].timestamp, end: rows[5].timestamp });
      assert.equal(ids(win.rows), ids(rows.slice(2, 6)));
      assert.is(win.count, 4);
      const both = await st.mam.query(HT, D, 'alice', { peer: 'carol@x', start: rows[2].timestamp, end: rows[5].timestamp });
      assert.equal(ids(both.rows), [rows[3].id, rows[5].id]);
    });
    it('limit 0 answers only the count', async (st) => {
      await fill(st);
      const p = await st.mam.query(HT, D, 'alice', { limit: 0 });
      assert.equal(p.rows, []);
      assert.is(p.count, 10);
      assert.is(p.complete, false);
      assert.is(p.first, undefined);
    });
    it('getMessage, findByOriginId; a duplicate id is rejected', async (st) => {
      const rows = await fill(st);
      assert.equal(await st.mam.getMessage(HT, D, 'alice', rows[3].id), rows[3]);
      assert.is(await st.mam.getMessage(HT, D, 'alice', 'nope'), undefined);
      assert.equal(await st.mam.findByOriginId(HT, D, 'alice', 'bob@x', 'orig-4'), rows[4]);
      assert.is(await st.mam.findByOriginId(HT, D, 'alice', 'carol@x', 'orig-4'), undefined);
      let failed = false;
      await st.mam.append(HT, D, 'alice', rows[0]).catch(() => (failed = true));
      assert.ok(failed);
      assert.is((await st.mam.query(HT, D, 'alice')).count, 10);
    });
    it('a failing append does not lose the other appends of its batch', async (st) => {
      const rows = await fill(st);
      const gen = new MamIdGenerator(2);
      const fresh = { ...rows[0], id: gen.next(1_800_000_000_000_000).id };
      const [dup, ok] = await Promise.allSettled([st.mam.append(HT, D, 'alice', rows[0]), st.mam.append(HT, D, 'alice', fresh)]);
      assert.is(dup.status, 'rejected');
      assert.is(ok.status, 'fulfilled');
      assert.equal(await st.mam.getMessage(HT, D, 'alice', fresh.id), fresh);
    });
    it('archives are per owner', async (st) => {
      await fill(st, 'alice');
      await fill(st, 'bob');
      await fill(st, 'alice', D2);
      assert.is((await st.mam.query(HT, D, 'bob')).count, 10);
      await st.mam.removeUser(HT, D, 'alice');
      assert.is((await st.mam.query(HT, D, 'alice')).count, 0);
      assert.is((await st.mam.query(HT, D, 'bob')).count, 10);
      await st.mam.removeDomain(HT, D);
      assert.is((await st.mam.query(HT, D, 'bob')).count, 0);
      assert.is((await st.mam.query(HT, D2, 'alice')).count, 10);
    });
    it('prefs round-trip and are removed with the user', async (st) => {
      assert.is(await st.mam.getPrefs(HT, D, 'alice'), undefined);
      await st.mam.setPrefs(HT, D, 'alice', { default: 'roster', always: ['z@x', 'a@x'], never: ['n@x'] });
      assert.equal(await st.mam.getPrefs(HT, D, 'alice'), { default: 'roster', always: ['a@x', 'z@x'], never: ['n@x'] });
      await st.mam.setPrefs(HT, D, 'alice', { default: 'never', always: [], never: [] });
      assert.equal(await st.mam.getPrefs(HT, D, 'alice'), { default: 'never', always: [], never: [] });
      await st.mam.removeUser(HT, D, 'alice');
      assert.is(await st.mam.getPrefs(HT, D, 'alice'), undefined);
    });
  });

  port('inbox', (it) => {
    const up = (remoteJid: string, ts: number, unread: 'increment' | 'reset' | 'keep' = 'increment', box?: string) => ({
      remoteJid, msgId: `id-${ts}`, xml: `<message id='id-${ts}'/>`, timestamp: ts, unread, ...(box ? { box } : {}),
    });
    it('incoming messages count unread; an outgoing one resets', async (st) => {
      await st.inbox.upsert(HT, D, 'alice', up('bob@x', 1));
      const e = await st.inbox.upsert(HT, D, 'alice', up('bob@x', 2));
      assert.equal(e, { remoteJid: 'bob@x', msgId: 'id-2', xml: `<message id='id-2'/>`, timestamp: 2, unread: 2, mutedUntil: 0, box: 'inbox' });
      assert.equal(await st.inbox.getEntry(HT, D, 'alice', 'bob@x'), e);
      assert.is((await st.inbox.upsert(HT, D, 'alice', up('bob@x', 3, 'keep'))).unread, 2);
      assert.is((await st.inbox.upsert(HT, D, 'alice', up('bob@x', 4, 'reset'))).unread, 0);
    });
    it('concurrent upserts all count', async (st) => {
      await Promise.all([1, 2, 3, 4, 5].map((t) => st.inbox.upsert(HT, D, 'alice', up('bob@x', t))));
      assert.is((await st.inbox.getEntry(HT, D, 'alice', 'bob@x'))!.unread, 5);
    });
    it('query: newest first by default, asc, limit, hiddenRead, start/end', async (st) => {
      await st.inbox.upsert(HT, D, 'alice', up('a@x', 10));
      await st.inbox.upsert(HT, D, 'alice', up('b@x', 30, 'reset'));
      await st.inbox.upsert(HT, D, 'alice', up('c@x', 20));
      const jids = async (q = {}) => (await st.inbox.query(HT, D, 'alice', q)).map((e) => e.remoteJid);
      assert.equal(await jids(), ['b@x', 'c@x', 'a@x']);
      assert.equal(await jids({ order: 'asc' }), ['a@x', 'c@x', 'b@x']);
      assert.equal(await jids({ limit: 2 }), ['b@x', 'c@x']);
      assert.equal(await jids({ hiddenRead: true }), ['c@x', 'a@x']);
      assert.equal(await jids({ start: 15, end: 30 }), ['b@x', 'c@x']);
      assert.equal(await st.inbox.query(HT, D, 'nobody'), []);
    });
    it('boxes: bin is hidden by default; a new message revives a binned conversation', async (st) => {
      await st.inbox.upsert(HT, D, 'alice', up('a@x', 1));
      await st.inbox.upsert(HT, D, 'alice', up('b@x', 2));
      assert.is(await st.inbox.setBox(HT, D, 'alice', 'a@x', 'archive'), true);
      assert.is(await st.inbox.setBox(HT, D, 'alice', 'b@x', 'bin'), true);
      assert.is(await st.inbox.setBox(HT, D, 'alice', 'z@x', 'bin'), false);
      const jids = async (q = {}) => (await st.inbox.query(HT, D, 'alice', q)).map((e) => e.remoteJid);
      assert.equal(await jids(), ['a@x']);
      assert.equal(await jids({ box: 'bin' }), ['b@x']);
      assert.equal(await jids({ box: 'inbox' }), []);
      assert.is((await st.inbox.upsert(HT, D, 'alice', up('a@x', 3))).box, 'archive', 'a new message keeps a non-bin box');
      assert.is((await st.inbox.upsert(HT, D, 'alice', up('b@x', 4))).box, 'inbox');
      assert.is(await st.inbox.setBox(HT, D, 'alice', 'b@x', 'bin'), true);
      assert.is(await st.inbox.removeFromBox(HT, D, 'alice', 'bin', 4), 0, 'only older than the bound');
      assert.is(await st.inbox.removeFromBox(HT, D, 'alice', 'bin'), 1);
      assert.is(await st.inbox.getEntry(HT, D, 'alice', 'b@x'), undefined);
    });
    it('resetUnread (with and without msgId), setUnread, setMutedUntil survives new messages', async (st) => {
      await st.inbox.upsert(HT, D, 'alice', up('bob@x', 1));
      await st.inbox.upsert(HT, D, 'alice', up('bob@x', 2));
      assert.is(await st.inbox.resetUnread(HT, D, 'alice', 'bob@x', 'id-1'), false, 'a marker for an older message');
      assert.is((await st.inbox.getEntry(HT, D, 'alice', 'bob@x'))!.unread, 2);
      assert.is(await st.inbox.resetUnread(HT, D, 'alice', 'bob@x', 'id-2'), true);
      assert.is((await st.inbox.getEntry(HT, D, 'alice', 'bob@x'))!.unread, 0);
      assert.is(await st.inbox.setUnread(HT, D, 'alice', 'bob@x', 1), true);
      assert.is(await st.inbox.resetUnread(HT, D, 'alice', 'bob@x'), true);
      assert.is(await st.inbox.resetUnread(HT, D, 'alice', 'nobody@x'), false);
      assert.is(await st.inbox.setMutedUntil(HT, D, 'alice', 'bob@x', 99_000), true);
      assert.is((await st.inbox.upsert(HT, D, 'alice', up('bob@x', 3))).mutedUntil, 99_000);
      assert.is(await st.inbox.setMutedUntil(HT, D, 'alice', 'nobody@x', 1), false);
    });
    it('removeEntry, removeUser, removeDomain', async (st) => {
      await st.inbox.upsert(HT, D, 'alice', up('a@x', 1));
      await st.inbox.upsert(HT, D, 'alice', up('b@x', 1));
      await st.inbox.upsert(HT, D, 'bob', up('a@x', 1));
      await st.inbox.upsert(HT, D2, 'alice', up('a@x', 1));
      assert.is(await st.inbox.removeEntry(HT, D, 'alice', 'a@x'), true);
      assert.is(await st.inbox.removeEntry(HT, D, 'alice', 'a@x'), false);
      await st.inbox.removeUser(HT, D, 'alice');
      assert.equal(await st.inbox.query(HT, D, 'alice'), []);
      assert.is((await st.inbox.query(HT, D, 'bob')).length, 1);
      await st.inbox.removeDomain(HT, D);
      assert.equal(await st.inbox.query(HT, D, 'bob'), []);
      assert.is((await st.inbox.query(HT, D2, 'alice')).length, 1);
    });
  });

  port('privacy', (it) => {
    const items: PrivacyItem[] = [
      { type: 'subscription', value: 'none', action: 'deny', order: 20, what: ['presence-in'] },
      { type: 'jid', value: 'bob@x', action: 'allow', order: 3, what: [] },
      { type: 'group', value: 'Work', action: 'deny', order: 10, what: ['message', 'iq'] },
      { action: 'allow', order: 99, what: [] },
    ];
    it('lists are stored sorted by order and replaced whole', async (st) => {
      assert.is(await st.privacy.getList(HT, D, 'alice', 'public'), undefined);
      await st.privacy.setList(HT, D, 'alice', 'public', items);
      assert.equal(await st.privacy.getList(HT, D, 'alice', 'public'), [...items].sort((a, b) => a.order - b.order));
      await st.privacy.setList(HT, D, 'alice', 'public', [items[3]]);
      assert.equal(await st.privacy.getList(HT, D, 'alice', 'public'), [items[3]]);
    });
    it('names and default; deleting the default list clears it', async (st) => {
      assert.equal(await st.privacy.getListNames(HT, D, 'alice'), { names: [] });
      await st.privacy.setList(HT, D, 'alice', 'work', items);
      await st.privacy.setList(HT, D, 'alice', 'home', items);
      assert.is(await st.privacy.setDefault(HT, D, 'alice', 'missing'), false);
      assert.is(await st.privacy.setDefault(HT, D, 'alice', 'work'), true);
      assert.equal(await st.privacy.getListNames(HT, D, 'alice'), { names: ['home', 'work'], default: 'work' });
      assert.is(await st.privacy.getDefault(HT, D, 'alice'), 'work');
      assert.is(await st.privacy.setDefault(HT, D, 'alice', undefined), true);
      assert.is(await st.privacy.getDefault(HT, D, 'alice'), undefined);
      await st.privacy.setDefault(HT, D, 'alice', 'work');
      assert.is(await st.privacy.deleteList(HT, D, 'alice', 'work'), true);
      assert.is(await st.privacy.deleteList(HT, D, 'alice', 'work'), false);
      assert.equal(await st.privacy.getListNames(HT, D, 'alice'), { names: ['home'] });
    });
    it('the blocklist is a view on a reserved, hidden list', async (st) => {
      assert.equal(await st.privacy.getBlocklist(HT, D, 'alice'), []);
      assert.equal(await st.privacy.block(HT, D, 'alice', ['z@x', 'b@x', 'b@x']), ['b@x', 'z@x']);
      assert.equal(await st.privacy.block(HT, D, 'alice', ['b@x', 'c@x']), ['c@x']);
      assert.equal(await st.privacy.getBlocklist(HT, D, 'alice'), ['b@x', 'c@x', 'z@x']);
      const list = await st.privacy.getList(HT, D, 'alice', BLOCKLIST_NAME);
      assert.ok(list && list.length === 3 && list.every((i) => i.type === 'jid' && i.action === 'deny' && i.what.length === 0));
      assert.equal((await st.privacy.getListNames(HT, D, 'alice')).names, []);
      assert.equal(await st.privacy.unblock(HT, D, 'alice', ['c@x', 'nope@x']), ['c@x']);
      assert.equal(await st.privacy.getBlocklist(HT, D, 'alice'), ['b@x', 'z@x']);
      assert.equal(await st.privacy.unblockAll(HT, D, 'alice'), ['b@x', 'z@x']);
      assert.equal(await st.privacy.getBlocklist(HT, D, 'alice'), []);
    });
    it('removeUser and removeDomain', async (st) => {
      await st.privacy.setList(HT, D, 'alice', 'l', items);
      await st.privacy.setDefault(HT, D, 'alice', 'l');
      await st.privacy.block(HT, D, 'alice', ['b@x']);
      await st.privacy.setList(HT, D, 'bob', 'l', items);
      await st.privacy.setList(HT, D2, 'bob', 'l', items);
      await st.privacy.removeUser(HT, D, 'alice');
      assert.equal(await st.privacy.getListNames(HT, D, 'alice'), { names: [] });
      assert.equal(await st.privacy.getBlocklist(HT, D, 'alice'), []);
      await st.privacy.removeDomain(HT, D);
      assert.equal(await st.privacy.getListNames(HT, D, 'bob'), { names: [] });
      assert.equal(await st.privacy.getListNames(HT, D2, 'bob'), { names: ['l'] });
    });
  });

  port('vcard, private, last', (it) => {
    it('vcard get/set/remove', async (st) => {
      assert.is(await st.vcard.get(HT, D, 'alice'), undefined);
      await st.vcard.set(HT, D, 'alice', '<vCard xmlns="vcard-temp"><FN>A</FN></vCard>');
      await st.vcard.set(HT, D, 'alice', '<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
      await st.vcard.set(HT, D2, 'alice', '<vCard/>');
      assert.is(await st.vcard.get(HT, D, 'alice'), '<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
      assert.is(await st.vcard.removeUser(HT, D, 'alice'), true);
      assert.is(await st.vcard.removeUser(HT, D, 'alice'), false);
      await st.vcard.set(HT, D, 'bob', '<vCard/>');
      await st.vcard.removeDomain(HT, D);
      assert.is(await st.vcard.get(HT, D, 'bob'), undefined);
      assert.is(await st.vcard.get(HT, D2, 'alice'), '<vCard/>');
    });
    it('private storage per namespace', async (st) => {
      await st.private.set(HT, D, 'alice', { 'storage:bookmarks': '<storage xmlns="storage:bookmarks"/>', 'x:y': '<q xmlns="x:y"/>' });
      await st.private.set(HT, D, 'alice', new Map([['x:y', '<q xmlns="x:y">2</q>']]));
      assert.is(await st.private.get(HT, D, 'alice', 'storage:bookmarks'), '<storage xmlns="storage:bookmarks"/>');
      assert.is(await st.private.get(HT, D, 'alice', 'x:y'), '<q xmlns="x:y">2</q>');
      assert.is(await st.private.get(HT, D, 'bob', 'x:y'), undefined);
      assert.is(await st.private.remove(HT, D, 'alice', 'x:y'), true);
      assert.is(await st.private.remove(HT, D, 'alice', 'x:y'), false);
      await st.private.set(HT, D2, 'alice', { 'x:y': '<q/>' });
      await st.private.removeUser(HT, D, 'alice');
      assert.is(await st.private.get(HT, D, 'alice', 'storage:bookmarks'), undefined);
      await st.private.removeDomain(HT, D2);
      assert.is(await st.private.get(HT, D2, 'alice', 'x:y'), undefined);
    });
    it('last activity', async (st) => {
      assert.is(await st.last.get(HT, D, 'alice'), undefined);
      await st.last.set(HT, D, 'alice', { seconds: 1_700_000_000, status: 'gone' });
      await st.last.set(HT, D, 'bob', { seconds: 5, status: '' });
      assert.equal(await st.last.get(HT, D, 'alice'), { seconds: 1_700_000_000, status: 'gone' });
      await st.last.removeUser(HT, D, 'alice');
      assert.is(await st.last.get(HT, D, 'alice'), undefined);
      await st.last.removeDomain(HT, D);
      assert.is(await st.last.get(HT, D, 'bob'), undefined);
    });
  });

  port('fastTokens', (it) => {
    it('get on nothing is undefined; set then get round-trips both tokens and the count', async (st) => {
      assert.is(await st.fastTokens.get(HT, D, 'alice', 'agent-1'), undefined);
      assert.equal(await st.fastTokens.agents(HT, D, 'alice'), []);
      const first = fastEntry('a1');
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', first);
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'agent-1'), first);
      const rotated: FastTokenEntry = { current: fastToken('a2', 'HT-SHA-512-ENDP', 1_900_000_000_123), previous: fastToken('a1'), count: 7 };
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', rotated);
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'agent-1'), rotated);
    });
    it('set replaces the whole entry (the previous token and current alike)', async (st) => {
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', { current: fastToken('a2'), previous: fastToken('a1'), count: 3 });
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', fastEntry('a3'));
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'agent-1'), { current: fastToken('a3'), previous: undefined, count: 0 });
      const onlyPrevious: FastTokenEntry = { current: undefined, previous: fastToken('a3'), count: 4 };
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', onlyPrevious);
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'agent-1'), onlyPrevious);
      assert.equal(await st.fastTokens.agents(HT, D, 'alice'), ['agent-1']);
    });
    it('entries of other agents, users and domains are independent', async (st) => {
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', fastEntry('a'));
      await st.fastTokens.set(HT, D, 'alice', 'agent-2', fastEntry('b', 1));
      await st.fastTokens.set(HT, D, 'bob', 'agent-1', fastEntry('c', 2));
      await st.fastTokens.set(HT, D2, 'alice', 'agent-1', fastEntry('d', 3));
      await st.fastTokens.set(HT, D, 'alice', 'agent-1', fastEntry('e', 4));
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'agent-1'), fastEntry('e', 4));
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'agent-2'), fastEntry('b', 1));
      assert.equal(await st.fastTokens.get(HT, D, 'bob', 'agent-1'), fastEntry('c', 2));
      assert.equal(await st.fastTokens.get(HT, D2, 'alice', 'agent-1'), fastEntry('d', 3));
      assert.is(await st.fastTokens.get(HT, D, 'bob', 'agent-2'), undefined);
    });
    it('remove deletes one agent and says whether there was one; agents are sorted', async (st) => {
      for (const agent of ['c-agent', 'a-agent', 'b-agent']) await st.fastTokens.set(HT, D, 'alice', agent, fastEntry(agent));
      await st.fastTokens.set(HT, D, 'bob', 'b-agent', fastEntry('bob'));
      assert.equal(await st.fastTokens.agents(HT, D, 'alice'), ['a-agent', 'b-agent', 'c-agent']);
      assert.is(await st.fastTokens.remove(HT, D, 'alice', 'b-agent'), true);
      assert.is(await st.fastTokens.remove(HT, D, 'alice', 'b-agent'), false);
      assert.is(await st.fastTokens.remove(HT, D, 'alice', 'nobody'), false);
      assert.is(await st.fastTokens.get(HT, D, 'alice', 'b-agent'), undefined);
      assert.equal(await st.fastTokens.agents(HT, D, 'alice'), ['a-agent', 'c-agent']);
      assert.equal(await st.fastTokens.get(HT, D, 'bob', 'b-agent'), fastEntry('bob'));
    });
    it('removeUser and removeDomain delete only their own entries', async (st) => {
      await st.fastTokens.set(HT, D, 'alice', 'a1', fastEntry('1'));
      await st.fastTokens.set(HT, D, 'alice', 'a2', fastEntry('2'));
      await st.fastTokens.set(HT, D, 'bob', 'a1', fastEntry('3'));
      await st.fastTokens.set(HT, D2, 'alice', 'a1', fastEntry('4'));
      await st.fastTokens.removeUser(HT, D, 'alice');
      assert.equal(await st.fastTokens.agents(HT, D, 'alice'), []);
      assert.is(await st.fastTokens.get(HT, D, 'alice', 'a1'), undefined);
      assert.equal(await st.fastTokens.agents(HT, D, 'bob'), ['a1']);
      assert.equal(await st.fastTokens.get(HT, D2, 'alice', 'a1'), fastEntry('4'));
      await st.fastTokens.set(HT, D, 'carol', 'a1', fastEntry('5'));
      await st.fastTokens.removeDomain(HT, D);
      assert.equal(await st.fastTokens.agents(HT, D, 'bob'), []);
      assert.equal(await st.fastTokens.agents(HT, D, 'carol'), []);
      assert.equal(await st.fastTokens.get(HT, D2, 'alice', 'a1'), fastEntry('4'));
    });
    it('a read sees every write issued before it, even when not awaited', async (st) => {
      const writes = [
        st.fastTokens.set(HT, D, 'alice', 'a1', fastEntry('1')),
        st.fastTokens.set(HT, D, 'alice', 'a2', fastEntry('2')),
        st.fastTokens.set(HT, D, 'alice', 'a1', fastEntry('3', 9)),
      ];
      assert.equal(await st.fastTokens.get(HT, D, 'alice', 'a1'), fastEntry('3', 9));
      const removed = st.fastTokens.remove(HT, D, 'alice', 'a2');
      assert.equal(await st.fastTokens.agents(HT, D, 'alice'), ['a1']);
      await Promise.all(writes);
      assert.is(await removed, true);
    });
  });

  port('pep', (it) => {
    const N = 'urn:xmpp:avatar:metadata';
    const cfg = { 'pubsub#access_model': 'presence', 'pubsub#max_items': '10' };
    const ids = async (st: Storage, node = N, domain = D, user = 'alice') => (await st.pep.getItems(HT, domain, user, node))?.map((i) => i.id);
    it('createNode, getNode round-trips the config; a second create is exists; listNodes is sorted', async (st) => {
      assert.is(await st.pep.getNode(HT, D, 'alice', N), undefined);
      assert.equal(await st.pep.listNodes(HT, D, 'alice'), []);
      assert.is(await st.pep.createNode(HT, D, 'alice', N, cfg), 'ok');
      assert.is(await st.pep.createNode(HT, D, 'alice', N, { 'pubsub#access_model': 'open' }), 'exists');
      assert.equal(await st.pep.getNode(HT, D, 'alice', N), { node: N, config: cfg });
      assert.is(await st.pep.createNode(HT, D, 'alice', 'b-node', {}), 'ok');
      assert.is(await st.pep.createNode(HT, D, 'alice', 'a-node', { 'pubsub#title': 'A' }), 'ok');
      assert.equal(await st.pep.listNodes(HT, D, 'alice'), [
        { node: 'a-node', config: { 'pubsub#title': 'A' } },
        { node: 'b-node', config: {} },
        { node: N, config: cfg },
      ]);
    });
    it('configureNode replaces the whole config; false without a node', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      assert.is(await st.pep.configureNode(HT, D, 'alice', N, { 'pubsub#max_items': '1' }), true);
      assert.equal(await st.pep.getNode(HT, D, 'alice', N), { node: N, config: { 'pubsub#max_items': '1' } });
      assert.is(await st.pep.configureNode(HT, D, 'alice', 'nope', cfg), false);
      assert.is(await st.pep.getNode(HT, D, 'alice', 'nope'), undefined);
    });
    it('deleteNode removes the node with its items; a new node by that name starts empty', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i1'), 10);
      assert.is(await st.pep.deleteNode(HT, D, 'alice', N), true);
      assert.is(await st.pep.deleteNode(HT, D, 'alice', N), false);
      assert.is(await st.pep.getNode(HT, D, 'alice', N), undefined);
      assert.is(await st.pep.getItems(HT, D, 'alice', N), undefined);
      assert.equal(await st.pep.listNodes(HT, D, 'alice'), []);
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), []);
    });
    it('publish to a missing node stores nothing and is false', async (st) => {
      assert.is(await st.pep.publish(HT, D, 'alice', N, pepItem('i1'), 10), false);
      assert.is(await st.pep.getNode(HT, D, 'alice', N), undefined);
      assert.is(await st.pep.getItems(HT, D, 'alice', N), undefined);
    });
    it('items round-trip (empty payload too) and come newest first', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), []);
      const first = pepItem('z-first', 1);
      const second: PepItem = { id: 'a-second', payload: '', publisher: 'bob@example.com', timestamp: 1_700_000_000_000_002 };
      const third = pepItem('m-third', 3);
      for (const i of [first, second, third]) assert.is(await st.pep.publish(HT, D, 'alice', N, i, 10), true);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), [third, second, first]);
    });
    it('republishing an id replaces the item and makes it the newest', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      for (const id of ['i1', 'i2', 'i3']) await st.pep.publish(HT, D, 'alice', N, pepItem(id), 10);
      const again = pepItem('i1', 9, '<data xmlns="urn:xmpp:avatar:data">new</data>');
      await st.pep.publish(HT, D, 'alice', N, again, 10);
      assert.equal(await ids(st), ['i1', 'i3', 'i2']);
      assert.equal((await st.pep.getItems(HT, D, 'alice', N, { max: 1 }))![0], again);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i1', 10), 10); // already the newest
      assert.equal(await ids(st), ['i1', 'i3', 'i2']);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { ids: ['i1'] }), [pepItem('i1', 10)]);
    });
    it('publish keeps only the maxItems newest (1 included; a republished old id survives)', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      for (const id of ['i1', 'i2', 'i3', 'i4']) await st.pep.publish(HT, D, 'alice', N, pepItem(id), 3);
      assert.equal(await ids(st), ['i4', 'i3', 'i2']);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i2'), 3);
      assert.equal(await ids(st), ['i2', 'i4', 'i3']);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i5'), 2);
      assert.equal(await ids(st), ['i5', 'i2']);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i6', 6), 1);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), [pepItem('i6', 6)]);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i6', 7), 1);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), [pepItem('i6', 7)]);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i7'), 1);
      assert.equal(await ids(st), ['i7']);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i8'), 5); // a larger limit keeps what is there
      assert.equal(await ids(st), ['i8', 'i7']);
    });
    it('retract deletes one item and says whether there was one', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      for (const id of ['i1', 'i2', 'i3']) await st.pep.publish(HT, D, 'alice', N, pepItem(id), 10);
      assert.is(await st.pep.retract(HT, D, 'alice', N, 'i2'), true);
      assert.is(await st.pep.retract(HT, D, 'alice', N, 'i2'), false);
      assert.is(await st.pep.retract(HT, D, 'alice', N, 'nope'), false);
      assert.is(await st.pep.retract(HT, D, 'alice', 'no-node', 'i1'), false);
      assert.equal(await ids(st), ['i3', 'i1']);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i4'), 10);
      assert.equal(await ids(st), ['i4', 'i3', 'i1']);
    });
    it('purge deletes every item and keeps the node; false without a node', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      for (const id of ['i1', 'i2']) await st.pep.publish(HT, D, 'alice', N, pepItem(id), 10);
      assert.is(await st.pep.purge(HT, D, 'alice', N), true);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), []);
      assert.equal(await st.pep.getNode(HT, D, 'alice', N), { node: N, config: cfg });
      assert.is(await st.pep.purge(HT, D, 'alice', N), true);
      assert.is(await st.pep.purge(HT, D, 'alice', 'nope'), false);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i3'), 10);
      await st.pep.publish(HT, D, 'alice', N, pepItem('i1'), 10);
      assert.equal(await ids(st), ['i1', 'i3']);
    });
    it('getItems by ids (in the order asked, missing skipped) and by max', async (st) => {
      await st.pep.createNode(HT, D, 'alice', N, cfg);
      for (const [n, id] of ['i1', 'i2', 'i3', 'i4'].entries()) await st.pep.publish(HT, D, 'alice', N, pepItem(id, n), 10);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { ids: ['i1', 'nope', 'i3'] }), [pepItem('i1', 0), pepItem('i3', 2)]);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { ids: ['i3', 'i1'] }), [pepItem('i3', 2), pepItem('i1', 0)]);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { ids: ['nope'] }), []);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { ids: [] }), []);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { max: 2 }), [pepItem('i4', 3), pepItem('i3', 2)]);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { max: 10 }), [pepItem('i4', 3), pepItem('i3', 2), pepItem('i2', 1), pepItem('i1', 0)]);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { max: 0 }), []);
    });
    it('getItems is undefined when there is no such node, whatever the options', async (st) => {
      assert.is(await st.pep.getItems(HT, D, 'alice', N), undefined);
      assert.is(await st.pep.getItems(HT, D, 'alice', N, { max: 1 }), undefined);
      assert.is(await st.pep.getItems(HT, D, 'alice', N, { ids: ['i1'] }), undefined);
    });
    it('nodes and items of other nodes, users and domains are independent', async (st) => {
      for (const [domain, user, node] of [[D, 'alice', N], [D, 'alice', 'other'], [D, 'bob', N], [D2, 'alice', N]]) {
        assert.is(await st.pep.createNode(HT, domain, user, node, { 'pubsub#title': `${user}@${domain}/${node}` }), 'ok');
        await st.pep.publish(HT, domain, user, node, pepItem('same-id', 1, `<p>${user}@${domain}/${node}</p>`), 10);
      }
      await st.pep.publish(HT, D, 'alice', N, pepItem('i2'), 1);
      await st.pep.configureNode(HT, D, 'alice', N, {});
      assert.equal(await ids(st), ['i2']);
      assert.equal(await st.pep.getItems(HT, D, 'alice', 'other'), [pepItem('same-id', 1, `<p>alice@${D}/other</p>`)]);
      assert.equal(await st.pep.getItems(HT, D, 'bob', N), [pepItem('same-id', 1, `<p>bob@${D}/${N}</p>`)]);
      assert.equal(await st.pep.getItems(HT, D2, 'alice', N), [pepItem('same-id', 1, `<p>alice@${D2}/${N}</p>`)]);
      assert.equal((await st.pep.getNode(HT, D, 'bob', N))!.config, { 'pubsub#title': `bob@${D}/${N}` });
      assert.is(await st.pep.deleteNode(HT, D, 'alice', N), true);
      assert.equal(await ids(st, 'other'), ['same-id']);
      assert.equal(await ids(st, N, D, 'bob'), ['same-id']);
      assert.equal(await ids(st, N, D2), ['same-id']);
      assert.is(await st.pep.retract(HT, D, 'bob', N, 'same-id'), true);
      assert.equal(await ids(st, N, D2), ['same-id']);
      assert.is(await st.pep.purge(HT, D2, 'alice', N), true);
      assert.equal(await ids(st, 'other'), ['same-id']);
      assert.equal((await st.pep.listNodes(HT, D, 'bob')).map((n) => n.node), [N]);
    });
    it('removeUser and removeDomain delete only their own nodes and items', async (st) => {
      for (const [domain, user] of [[D, 'alice'], [D, 'bob'], [D, 'carol'], [D2, 'alice']]) {
        await st.pep.createNode(HT, domain, user, N, cfg);
        await st.pep.createNode(HT, domain, user, 'other', {});
        await st.pep.publish(HT, domain, user, N, pepItem(`${user}-1`), 10);
      }
      await st.pep.removeUser(HT, D, 'alice');
      assert.equal(await st.pep.listNodes(HT, D, 'alice'), []);
      assert.is(await st.pep.getItems(HT, D, 'alice', N), undefined);
      assert.equal(await ids(st, N, D, 'bob'), ['bob-1']);
      assert.equal(await ids(st, N, D2), ['alice-1']);
      await st.pep.removeDomain(HT, D);
      assert.equal(await st.pep.listNodes(HT, D, 'bob'), []);
      assert.equal(await st.pep.listNodes(HT, D, 'carol'), []);
      assert.is(await st.pep.getItems(HT, D, 'carol', N), undefined);
      assert.equal((await st.pep.listNodes(HT, D2, 'alice')).map((n) => n.node), ['other', N]);
      assert.equal(await ids(st, N, D2), ['alice-1']);
      assert.is(await st.pep.createNode(HT, D, 'alice', N, cfg), 'ok');
      assert.equal(await st.pep.getItems(HT, D, 'alice', N), []);
    });
    it('a read sees every write issued before it, even when not awaited', async (st) => {
      const writes: Promise<unknown>[] = [
        st.pep.createNode(HT, D, 'alice', N, cfg),
        st.pep.publish(HT, D, 'alice', N, pepItem('i1'), 10),
        st.pep.publish(HT, D, 'alice', N, pepItem('i2'), 10),
        st.pep.createNode(HT, D, 'alice', 'gone', {}),
      ];
      assert.equal(await ids(st), ['i2', 'i1']);
      writes.push(st.pep.configureNode(HT, D, 'alice', N, { 'pubsub#max_items': '1' }));
      assert.equal(await st.pep.getNode(HT, D, 'alice', N), { node: N, config: { 'pubsub#max_items': '1' } });
      writes.push(st.pep.publish(HT, D, 'alice', N, pepItem('i1', 5), 2), st.pep.retract(HT, D, 'alice', N, 'i2'));
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { ids: ['i1', 'i2'] }), [pepItem('i1', 5)]);
      const deleted = st.pep.deleteNode(HT, D, 'alice', 'gone');
      assert.equal((await st.pep.listNodes(HT, D, 'alice')).map((n) => n.node), [N]);
      const purged = st.pep.purge(HT, D, 'alice', N);
      assert.equal(await st.pep.getItems(HT, D, 'alice', N, { max: 5 }), []);
      assert.equal(await Promise.all(writes), ['ok', true, true, 'ok', true, true, true]);
      assert.is(await deleted, true);
      assert.is(await purged, true);
    });
  });

  port('muc', (it) => {
    const S = 'conference.example.com';
    const S2 = 'conference.other.org';
    const names = (room: MucRoomRecord | undefined) => room?.affiliations.map((a) => a.jid);
    const full = mucRoom('coven', [
      { jid: 'zed@example.com', affiliation: 'outcast', reason: 'spam' },
      { jid: 'alice@example.com', affiliation: 'owner' },
      { jid: 'bob@other.org', affiliation: 'member', reason: '' },
      { jid: 'carol@example.com', affiliation: 'admin' },
    ], {
      config: { 'muc#roomconfig_roomname': 'The Coven', 'muc#roomconfig_getmemberlist': ['moderator', 'participant'], 'muc#roomconfig_presencebroadcast': [], 'x-empty': '' },
      subject: { text: 'Spells', by: 'alice' },
    });
    it('getRoom and listRooms on nothing: undefined and []', async (st) => {
      assert.is(await st.muc.getRoom(HT, S, 'coven'), undefined);
      assert.equal(await st.muc.listRooms(HT, S), []);
    });
    it('saveRoom then getRoom round-trips config (list values too), affiliations sorted by JID, subject', async (st) => {
      await st.muc.saveRoom(HT, S, full);
      assert.equal(await st.muc.getRoom(HT, S, 'coven'), {
        ...full,
        affiliations: [
          { jid: 'alice@example.com', affiliation: 'owner' },
          { jid: 'bob@other.org', affiliation: 'member', reason: '' },
          { jid: 'carol@example.com', affiliation: 'admin' },
          { jid: 'zed@example.com', affiliation: 'outcast', reason: 'spam' },
        ],
      });
    });
    it('a room without subject or affiliations round-trips without them; an empty subject is kept', async (st) => {
      await st.muc.saveRoom(HT, S, mucRoom('bare'));
      assert.equal(await st.muc.getRoom(HT, S, 'bare'), mucRoom('bare'));
      assert.ok(!('subject' in (await st.muc.getRoom(HT, S, 'bare'))!));
      await st.muc.saveRoom(HT, S, mucRoom('cleared', [], { subject: { text: '', by: 'bob' } }));
      assert.equal((await st.muc.getRoom(HT, S, 'cleared'))!.subject, { text: '', by: 'bob' });
    });
    it('saveRoom replaces the whole record: config, affiliations and subject absent from the new one are gone', async (st) => {
      await st.muc.saveRoom(HT, S, full);
      const next = mucRoom('coven', [{ jid: 'dave@example.com', affiliation: 'member' }, { jid: 'alice@example.com', affiliation: 'admin', reason: 'demoted' }], {
        config: { 'muc#roomconfig_roomname': 'Renamed' },
      });
      await st.muc.saveRoom(HT, S, next);
      assert.equal(await st.muc.getRoom(HT, S, 'coven'), {
        name: 'coven',
        config: { 'muc#roomconfig_roomname': 'Renamed' },
        affiliations: [{ jid: 'alice@example.com', affiliation: 'admin', reason: 'demoted' }, { jid: 'dave@example.com', affiliation: 'member' }],
      });
      await st.muc.saveRoom(HT, S, { ...next, affiliations: [] });
      assert.equal((await st.muc.getRoom(HT, S, 'coven'))!.affiliations, []);
      assert.equal(await st.muc.listRooms(HT, S), ['coven']);
    });
    it('stored rooms are copies: changing what was saved or returned changes nothing', async (st) => {
      const config: Record<string, string | string[]> = { list: ['a', 'b'], one: 'x' };
      const affiliations: MucAffiliationEntry[] = [{ jid: 'alice@example.com', affiliation: 'owner' }];
      const subject = { text: 'hi', by: 'alice' };
      const saved = st.muc.saveRoom(HT, S, { name: 'r', config, affiliations, subject });
      (config.list as string[]).push('c');
      config.one = 'y';
      affiliations.push({ jid: 'bob@example.com', affiliation: 'member' });
      subject.text = 'changed';
      await saved;
      const expected = { name: 'r', config: { list: ['a', 'b'], one: 'x' }, affiliations: [{ jid: 'alice@example.com', affiliation: 'owner' }], subject: { text: 'hi', by: 'alice' } };
      const got = (await st.muc.getRoom(HT, S, 'r'))!;
      assert.equal(got, expected);
      (got.config.list as string[]).push('z');
      (got.affiliations as MucAffiliationEntry[]).pop();
      (got.subject as { text: string }).text = 'mutated';
      assert.equal(await st.muc.getRoom(HT, S, 'r'), expected);
    });
    it('listRooms is sorted and per service; deleteRoom says whether there was one', async (st) => {
      for (const name of ['lobby', 'attic', 'music']) await st.muc.saveRoom(HT, S, mucRoom(name));
      await st.muc.saveRoom(HT, S2, mucRoom('zoo'));
      assert.equal(await st.muc.listRooms(HT, S), ['attic', 'lobby', 'music']);
      assert.equal(await st.muc.listRooms(HT, S2), ['zoo']);
      assert.is(await st.muc.deleteRoom(HT, S, 'lobby'), true);
      assert.is(await st.muc.deleteRoom(HT, S, 'lobby'), false);
      assert.is(await st.muc.deleteRoom(HT, S, 'zoo'), false);
      assert.is(await st.muc.getRoom(HT, S, 'lobby'), undefined);
      assert.equal(await st.muc.listRooms(HT, S), ['attic', 'music']);
      assert.equal(await st.muc.listRooms(HT, S2), ['zoo']);
    });
    it('a deleted room takes its affiliations; one saved again by that name starts from its new record', async (st) => {
      await st.muc.saveRoom(HT, S, full);
      assert.is(await st.muc.deleteRoom(HT, S, 'coven'), true);
      await st.muc.saveRoom(HT, S, mucRoom('coven'));
      assert.equal(await st.muc.getRoom(HT, S, 'coven'), mucRoom('coven'));
    });
    it('rooms of the same name on other services, and other rooms, are independent', async (st) => {
      const a = { jid: 'alice@example.com', affiliation: 'owner' } as const;
      await st.muc.saveRoom(HT, S, mucRoom('coven', [a], { subject: { text: 'one', by: 'alice' } }));
      await st.muc.saveRoom(HT, S2, mucRoom('coven', [{ ...a, affiliation: 'member' }], { config: { other: 'yes' } }));
      await st.muc.saveRoom(HT, S, mucRoom('attic', [a]));
      await st.muc.saveRoom(HT, S, mucRoom('coven', []));
      assert.equal(await st.muc.getRoom(HT, S2, 'coven'), mucRoom('coven', [{ ...a, affiliation: 'member' }], { config: { other: 'yes' } }));
      assert.equal(await st.muc.getRoom(HT, S, 'attic'), mucRoom('attic', [a]));
      assert.is(await st.muc.deleteRoom(HT, S2, 'coven'), true);
      assert.equal(await st.muc.getRoom(HT, S, 'coven'), mucRoom('coven', []));
      assert.equal(await st.muc.listRooms(HT, S2), []);
    });
    it('removeUser drops only that JID, in every room of every service; the rooms stay', async (st) => {
      const aff = (jid: string): MucAffiliationEntry => ({ jid, affiliation: 'member' });
      await st.muc.saveRoom(HT, S, mucRoom('one', [aff('alice@example.com'), aff('bob@example.com'), aff('alice@other.org')]));
      await st.muc.saveRoom(HT, S, mucRoom('two', [{ jid: 'alice@example.com', affiliation: 'outcast', reason: 'x' }]));
      await st.muc.saveRoom(HT, S2, mucRoom('three', [aff('alice@example.com'), aff('alice@example.com.evil'), aff('xalice@example.com')]));
      await st.muc.saveRoom(HT, S2, mucRoom('four', [aff('bob@example.com')]));
      await st.muc.removeUser(HT, D, 'alice');
      assert.equal(names(await st.muc.getRoom(HT, S, 'one')), ['alice@other.org', 'bob@example.com']);
      assert.equal(await st.muc.getRoom(HT, S, 'two'), mucRoom('two'));
      assert.equal(names(await st.muc.getRoom(HT, S2, 'three')), ['alice@example.com.evil', 'xalice@example.com']);
      assert.equal(names(await st.muc.getRoom(HT, S2, 'four')), ['bob@example.com']);
      assert.equal(await st.muc.listRooms(HT, S), ['one', 'two']);
      await st.muc.removeUser(HT, D, 'nobody');
      assert.equal(names(await st.muc.getRoom(HT, S, 'one')), ['alice@other.org', 'bob@example.com']);
    });
    it("removeDomain deletes the service's rooms and that domain's users' affiliations in other services' rooms", async (st) => {
      const aff = (jid: string): MucAffiliationEntry => ({ jid, affiliation: 'admin' });
      await st.muc.saveRoom(HT, S, mucRoom('gone', [aff('bob@other.org')]));
      await st.muc.saveRoom(HT, S, mucRoom('also-gone'));
      await st.muc.saveRoom(HT, D, mucRoom('on-the-domain', [aff('bob@other.org')]));
      const mixed = [aff('alice@example.com'), aff('bob@other.org'), aff('carol@conference.example.com'), aff('dave@sub.example.com'), aff('eve@example.com'), aff('example.com')];
      await st.muc.saveRoom(HT, S2, mucRoom('stays', mixed, { subject: { text: 's', by: 'bob' } }));
      await st.muc.removeDomain(HT, S);
      assert.equal(await st.muc.listRooms(HT, S), []);
      assert.is(await st.muc.getRoom(HT, S, 'gone'), undefined);
      assert.equal(
        names(await st.muc.getRoom(HT, S2, 'stays')),
        mixed.map((a) => a.jid).filter((j) => j !== 'carol@conference.example.com'),
        'a JID on the service domain is one of its users; nothing else changes',
      );
      await st.muc.removeDomain(HT, D);
      assert.equal(await st.muc.listRooms(HT, D), []);
      assert.equal(await st.muc.getRoom(HT, S2, 'stays'), mucRoom('stays', [aff('bob@other.org'), aff('dave@sub.example.com'), aff('example.com')], { subject: { text: 's', by: 'bob' } }));
      await st.muc.saveRoom(HT, S, mucRoom('gone'));
      assert.equal(await st.muc.getRoom(HT, S, 'gone'), mucRoom('gone'));
    });
    it('a read sees every write issued before it, even when not awaited', async (st) => {
      const writes: Promise<unknown>[] = [st.muc.saveRoom(HT, S, full), st.muc.saveRoom(HT, S, mucRoom('attic', [{ jid: 'alice@example.com', affiliation: 'member' }]))];
      assert.equal(names(await st.muc.getRoom(HT, S, 'coven')), ['alice@example.com', 'bob@other.org', 'carol@example.com', 'zed@example.com']);
      writes.push(st.muc.saveRoom(HT, S, mucRoom('coven', [{ jid: 'bob@other.org', affiliation: 'owner' }])));
      assert.equal(await st.muc.getRoom(HT, S, 'coven'), mucRoom('coven', [{ jid: 'bob@other.org', affiliation: 'owner' }]));
      writes.push(st.muc.saveRoom(HT, S, mucRoom('music')));
      assert.equal(await st.muc.listRooms(HT, S), ['attic', 'coven', 'music']);
      const deleted = st.muc.deleteRoom(HT, S, 'music');
      writes.push(st.muc.removeUser(HT, D, 'alice'));
      assert.equal(await st.muc.getRoom(HT, S, 'attic'), mucRoom('attic'));
      assert.equal(await st.muc.listRooms(HT, S), ['attic', 'coven']);
      writes.push(st.muc.removeDomain(HT, S));
      assert.equal(await st.muc.listRooms(HT, S), []);
      assert.equal(await Promise.all(writes), [undefined, undefined, undefined, undefined, undefined, undefined]);
      assert.is(await deleted, true);
    });
  });

  port('mucLight', (it) => {
    const MUC = 'muclight.example.com';
    const room = {
      domain: MUC, name: 'room1', config: { roomname: 'Room', subject: '' }, version: 'v1',
      members: [
        { user: 'bob', domain: D, affiliation: 'member' as const },
        { user: 'alice', domain: D, affiliation: 'owner' as const },
      ],
    };
    it('create, exists, get (members sorted)', async (st) => {
      assert.is(await st.mucLight.create(HT, room), 'ok');
      assert.is(await st.mucLight.create(HT, { ...room, version: 'other' }), 'exists');
      const got = await st.mucLight.get(HT, MUC, 'room1');
      assert.equal(got, { ...room, members: [room.members[1], room.members[0]] });
      assert.is(await st.mucLight.get(HT, MUC, 'nope'), undefined);
    });
    it('setConfig merges and sets the version; a stale expected version changes nothing', async (st) => {
      await st.mucLight.create(HT, room);
      const r = await st.mucLight.setConfig(HT, MUC, 'room1', { subject: 'hi' }, 'v2', 'v1');
      assert.ok(r.ok && r.room.version === 'v2');
      assert.equal((await st.mucLight.get(HT, MUC, 'room1'))!.config, { roomname: 'Room', subject: 'hi' });
      assert.equal(await st.mucLight.setConfig(HT, MUC, 'room1', { subject: 'x' }, 'v3', 'v1'), { ok: false, error: 'version-mismatch' });
      assert.equal(await st.mucLight.setConfig(HT, MUC, 'nope', {}, 'v3'), { ok: false, error: 'not-found' });
      assert.is((await st.mucLight.get(HT, MUC, 'room1'))!.config.subject, 'hi');
    });
    it('setAffiliations adds, changes and removes; roomsOfUser follows', async (st) => {
      await st.mucLight.create(HT, room);
      await st.mucLight.create(HT, { ...room, name: 'room0', members: [{ user: 'carol', domain: D, affiliation: 'owner' }] });
      const r = await st.mucLight.setAffiliations(HT, MUC, 'room1', [
        { user: 'bob', domain: D, affiliation: 'none' },
        { user: 'carol', domain: D, affiliation: 'member' },
        { user: 'alice', domain: D, affiliation: 'member' },
      ], 'v2');
      assert.ok(r.ok);
      assert.equal((await st.mucLight.get(HT, MUC, 'room1'))!.members, [
        { user: 'alice', domain: D, affiliation: 'member' },
        { user: 'carol', domain: D, affiliation: 'member' },
      ]);
      assert.equal(await st.mucLight.roomsOfUser(HT, D, 'carol'), [
        { domain: MUC, name: 'room0', version: 'v1' },
        { domain: MUC, name: 'room1', version: 'v2' },
      ]);
      assert.equal(await st.mucLight.roomsOfUser(HT, D, 'bob'), []);
    });
    it('removeUser leaves rooms without the user and reports them; destroy; removeDomain', async (st) => {
      await st.mucLight.create(HT, room);
      assert.equal(await st.mucLight.removeUser(HT, D, 'bob'), [{ domain: MUC, name: 'room1', version: 'v1' }]);
      assert.equal((await st.mucLight.get(HT, MUC, 'room1'))!.members.map((m) => m.user), ['alice']);
      assert.is(await st.mucLight.destroy(HT, MUC, 'room1'), true);
      assert.is(await st.mucLight.destroy(HT, MUC, 'room1'), false);
      assert.equal(await st.mucLight.roomsOfUser(HT, D, 'alice'), []);
      await st.mucLight.create(HT, room);
      await st.mucLight.create(HT, { ...room, domain: 'muc.other.org', members: [...room.members, { user: 'dan', domain: D2, affiliation: 'member' }] });
      await st.mucLight.removeDomain(HT, MUC);
      assert.is(await st.mucLight.get(HT, MUC, 'room1'), undefined);
      await st.mucLight.removeDomain(HT, D);
      assert.equal((await st.mucLight.get(HT, 'muc.other.org', 'room1'))!.members.map((m) => m.user), ['dan']);
    });
  });

  port('domains', (it) => {
    it('insert is idempotent per host type; another host type is a duplicate', async (st) => {
      assert.is(await st.domains.insert('ht1', 'a.com'), 'ok');
      assert.is(await st.domains.insert('ht1', 'a.com'), 'ok');
      assert.is(await st.domains.insert('ht2', 'a.com'), 'duplicate');
      assert.equal(await st.domains.get('a.com'), { domain: 'a.com', hostType: 'ht1', status: 'enabled' });
      assert.is(await st.domains.get('b.com'), undefined);
    });
    it('delete checks the host type', async (st) => {
      await st.domains.insert('ht1', 'a.com');
      assert.is(await st.domains.delete('ht2', 'a.com'), 'wrong-host-type');
      assert.is(await st.domains.delete('ht1', 'b.com'), 'not-found');
      assert.is(await st.domains.delete('ht1', 'a.com'), 'ok');
      assert.is(await st.domains.get('a.com'), undefined);
    });
    it('enable/disable and list filters', async (st) => {
      await st.domains.insert('ht1', 'b.com');
      await st.domains.insert('ht1', 'a.com');
      await st.domains.insert('ht2', 'c.com');
      assert.is(await st.domains.disable('b.com'), 'ok');
      assert.is(await st.domains.disable('zz.com'), 'not-found');
      assert.equal((await st.domains.list()).map((d) => d.domain), ['a.com', 'b.com', 'c.com']);
      assert.equal((await st.domains.list({ hostType: 'ht1' })).map((d) => d.domain), ['a.com', 'b.com']);
      assert.equal((await st.domains.list({ status: 'disabled' })).map((d) => d.domain), ['b.com']);
      assert.equal((await st.domains.list({ hostType: 'ht1', status: 'enabled' })).map((d) => d.domain), ['a.com']);
      assert.is(await st.domains.enable('b.com'), 'ok');
      assert.is((await st.domains.get('b.com'))!.status, 'enabled');
    });
    it('the change feed: increasing ids, one event per change, pruning keeps the high-water mark', async (st) => {
      assert.is(await st.domains.lastEventId(), 0);
      await st.domains.insert('ht1', 'a.com');
      await st.domains.insert('ht1', 'a.com'); // no-op: no event
      await st.domains.disable('a.com');
      await st.domains.disable('a.com'); // no-op
      await st.domains.enable('a.com');
      await st.domains.insert('ht1', 'b.com');
      await st.domains.delete('ht1', 'a.com');
      const ev = await st.domains.eventsSince(0);
      assert.equal(ev.map((e) => [e.domain, e.kind]), [['a.com', 'inserted'], ['a.com', 'disabled'], ['a.com', 'enabled'], ['b.com', 'inserted'], ['a.com', 'deleted']]);
      for (let i = 1; i < ev.length; i++) assert.ok(ev[i].id > ev[i - 1].id);
      const last = await st.domains.lastEventId();
      assert.is(last, ev[ev.length - 1].id);
      assert.equal(await st.domains.eventsSince(ev[2].id, 1), [ev[3]]);
      assert.is(await st.domains.pruneEvents(ev[3].id), 4);
      assert.equal(await st.domains.eventsSince(0), [ev[4]]);
      assert.is(await st.domains.pruneEvents(last), 1);
      assert.is(await st.domains.lastEventId(), last);
      await st.domains.insert('ht1', 'c.com');
      assert.ok((await st.domains.eventsSince(last))[0].id > last, 'ids never reuse pruned values');
    });
  });

  port('sessions', (it) => {
    const row = (sid: string, user: string, resource: string, over: Partial<import('../../core/storage/session-store.ts').SessionRow> = {}) => ({
      sid, user, domain: D, resource, priority: null, info: { ip: '127.0.0.1' }, node: 'n1', ...over,
    });
    it('set, get, lookups sorted by sid; counts', async (st) => {
      await st.sessions.set(row('s2', 'alice', 'phone', { priority: 5 }));
      await st.sessions.set(row('s1', 'alice', 'laptop'));
      await st.sessions.set(row('s3', 'bob', 'phone', { domain: D2 }));
      assert.equal(await st.sessions.get('s2'), row('s2', 'alice', 'phone', { priority: 5 }));
      assert.equal((await st.sessions.byUser(D, 'alice')).map((r) => r.sid), ['s1', 's2']);
      assert.equal((await st.sessions.byFullJid(D, 'alice', 'phone')).map((r) => r.sid), ['s2']);
      assert.equal((await st.sessions.byDomain(D)).map((r) => r.sid), ['s1', 's2']);
      assert.is(await st.sessions.countAll(), 3);
      assert.is(await st.sessions.countUnique(), 2);
    });
    it('set replaces the row with the same sid (priority, info, even the user)', async (st) => {
      await st.sessions.set(row('s1', 'alice', 'r'));
      await st.sessions.set(row('s1', 'alice', 'r', { priority: 1, info: { csi: 'inactive' } }));
      assert.equal(await st.sessions.byUser(D, 'alice'), [row('s1', 'alice', 'r', { priority: 1, info: { csi: 'inactive' } })]);
      await st.sessions.set(row('s1', 'carol', 'r'));
      assert.equal(await st.sessions.byUser(D, 'alice'), []);
      assert.is(await st.sessions.countUnique(), 1);
    });
    it('delete and cleanupNode', async (st) => {
      await st.sessions.set(row('s1', 'alice', 'a', { node: 'n1' }));
      await st.sessions.set(row('s2', 'bob', 'a', { node: 'n2' }));
      await st.sessions.set(row('s3', 'carol', 'a', { node: 'n1' }));
      assert.is(await st.sessions.delete('s2'), true);
      assert.is(await st.sessions.delete('s2'), false);
      assert.equal((await st.sessions.cleanupNode('n1')).map((r) => r.sid), ['s1', 's3']);
      assert.is(await st.sessions.countAll(), 0);
      assert.is(await st.sessions.countUnique(), 0);
    });
  });

  port('smIds', (it) => {
    it('register, lookup both ways, unregister', async (st) => {
      assert.equal(await st.smIds.lookup(HT, 'smid1'), { kind: 'not-found' });
      await st.smIds.register(HT, 'smid1', 'sid1');
      assert.equal(await st.smIds.lookup(HT, 'smid1'), { kind: 'sid', sid: 'sid1' });
      assert.is(await st.smIds.smidOf(HT, 'sid1'), 'smid1');
      await st.smIds.register(HT, 'smid1', 'sid2'); // resumed on a new session
      assert.equal(await st.smIds.lookup(HT, 'smid1'), { kind: 'sid', sid: 'sid2' });
      assert.is(await st.smIds.smidOf(HT, 'sid1'), undefined);
      assert.is(await st.smIds.unregister(HT, 'sid1'), undefined);
      assert.is(await st.smIds.unregister(HT, 'sid2'), 'smid1');
      assert.equal(await st.smIds.lookup(HT, 'smid1'), { kind: 'not-found' });
    });
    it('stale h: written when the session is gone, read by lookup, cleaned by age', async (st) => {
      await st.smIds.writeStaleH(HT, 'old', 7, 1000);
      await st.smIds.writeStaleH(HT, 'new', 9, 5000);
      assert.equal(await st.smIds.lookup(HT, 'old'), { kind: 'stale-h', h: 7 });
      assert.is(await st.smIds.readStaleH(HT, 'new'), 9);
      assert.is(await st.smIds.cleanupStaleH(HT, 2000), 1);
      assert.is(await st.smIds.readStaleH(HT, 'old'), undefined);
      await st.smIds.deleteStaleH(HT, 'new');
      assert.equal(await st.smIds.lookup(HT, 'new'), { kind: 'not-found' });
    });
  });

  port('removal across ports', (it) => {
    /** A MUC service of no domain the tests remove: only the affiliations in its room go. */
    const SHARED_MUC = 'conference.shared.example';
    const populate = async (st: Storage, domain: string, user: string) => {
      await st.auth.register(HT, domain, user, creds(user));
      await st.roster.upsertItem(HT, domain, user, item('x@y'));
      await st.offline.push(HT, domain, user, { from: 'x@y', to: `${user}@${domain}`, timestamp: 1, xml: '<message/>' });
      await st.mam.append(HT, domain, user, { id: new MamIdGenerator().next(1).id, peer: 'x@y', peerResource: '', direction: 'in', timestamp: 1, xml: '<message/>' });
      await st.mam.setPrefs(HT, domain, user, { default: 'always', always: [], never: [] });
      await st.inbox.upsert(HT, domain, user, { remoteJid: 'x@y', msgId: '1', xml: '<message/>', timestamp: 1, unread: 'increment' });
      await st.privacy.setList(HT, domain, user, 'l', []);
      await st.privacy.block(HT, domain, user, ['x@y']);
      await st.vcard.set(HT, domain, user, '<vCard/>');
      await st.private.set(HT, domain, user, { 'a:b': '<a xmlns="a:b"/>' });
      await st.last.set(HT, domain, user, { seconds: 1, status: '' });
      await st.mucLight.create(HT, { domain: `muc.${domain}`, name: `r-${user}`, config: {}, version: '1', members: [{ user, domain, affiliation: 'owner' }] });
      await st.fastTokens.set(HT, domain, user, 'agent', fastEntry(user));
      await st.pep.createNode(HT, domain, user, 'urn:xmpp:avatar:metadata', {});
      await st.pep.publish(HT, domain, user, 'urn:xmpp:avatar:metadata', pepItem(user), 1);
      await st.muc.saveRoom(HT, `conference.${domain}`, mucRoom(`r-${user}`, [{ jid: `${user}@${domain}`, affiliation: 'owner' }]));
      await st.muc.saveRoom(HT, SHARED_MUC, withAffiliation(await st.muc.getRoom(HT, SHARED_MUC, 'lobby'), 'lobby', { jid: `${user}@${domain}`, affiliation: 'member' }));
    };
    const hasMucAffiliation = async (st: Storage, service: string, room: string, jid: string): Promise<boolean> =>
      (await st.muc.getRoom(HT, service, room))?.affiliations.some((a) => a.jid === jid) ?? false;
    const isEmpty = async (st: Storage, domain: string, user: string): Promise<boolean> =>
      !(await st.auth.exists(HT, domain, user)) &&
      (await st.roster.getRoster(HT, domain, user)).version === undefined &&
      (await st.offline.count(HT, domain, user)) === 0 &&
      (await st.mam.query(HT, domain, user)).count === 0 &&
      (await st.mam.getPrefs(HT, domain, user)) === undefined &&
      (await st.inbox.query(HT, domain, user, { box: 'inbox' })).length === 0 &&
      (await st.privacy.getListNames(HT, domain, user)).names.length === 0 &&
      (await st.privacy.getBlocklist(HT, domain, user)).length === 0 &&
      (await st.vcard.get(HT, domain, user)) === undefined &&
      (await st.private.get(HT, domain, user, 'a:b')) === undefined &&
      (await st.last.get(HT, domain, user)) === undefined &&
      (await st.mucLight.roomsOfUser(HT, domain, user)).length === 0 &&
      (await st.fastTokens.get(HT, domain, user, 'agent')) === undefined &&
      (await st.fastTokens.agents(HT, domain, user)).length === 0 &&
      (await st.pep.listNodes(HT, domain, user)).length === 0 &&
      (await st.pep.getItems(HT, domain, user, 'urn:xmpp:avatar:metadata')) === undefined &&
      !(await hasMucAffiliation(st, `conference.${domain}`, `r-${user}`, `${user}@${domain}`)) &&
      !(await hasMucAffiliation(st, SHARED_MUC, 'lobby', `${user}@${domain}`));

    it('removeUserEverywhere leaves nothing of the account and keeps others', async (st) => {
      await populate(st, D, 'alice');
      await populate(st, D, 'bob');
      assert.is(await isEmpty(st, D, 'alice'), false);
      await removeUserEverywhere(st, HT, D, 'alice');
      assert.is(await isEmpty(st, D, 'alice'), true);
      assert.is(await isEmpty(st, D, 'bob'), false);
    });
    it('removeDomainEverywhere leaves nothing of the domain and keeps others', async (st) => {
      await populate(st, D, 'alice');
      await populate(st, D, 'bob');
      await populate(st, D2, 'alice');
      await removeDomainEverywhere(st, HT, D);
      assert.is(await isEmpty(st, D, 'alice'), true);
      assert.is(await isEmpty(st, D, 'bob'), true);
      assert.is(await isEmpty(st, D2, 'alice'), false);
    });
  });

  for (const s of suites) s.run();
}
