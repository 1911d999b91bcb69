/**
 * MAM paging is the subtlest port contract (RSM before/after, desc pages, completeness, counts).
 * Random archives and random queries must give the same page from the SQLite adapter as from
 * the memory adapter, and the memory adapter's pages must agree with a brute-force model.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { MamIdGenerator, type MamMessage, type MamQuery } from '../../src/core/storage/mam-store.ts';
import { tempSqliteFactory } from './temp-db.ts';

const makeSqlite = tempSqliteFactory('mam-model');
const PEERS = ['a@x', 'b@x', 'c@x'];

const archiveArb = fc.array(fc.record({ gapUs: fc.integer({ min: 0, max: 5 }), peer: fc.constantFrom(...PEERS) }), { maxLength: 30 });
const queryArb = (n: number) =>
  fc.record(
    {
      peer: fc.constantFrom(...PEERS),
      start: fc.integer({ min: 0, max: 5 * n + 1 }),
      end: fc.integer({ min: 0, max: 5 * n + 1 }),
      afterIdx: fc.integer({ min: 0, max: Math.max(0, n - 1) }),
      beforeIdx: fc.integer({ min: 0, max: Math.max(0, n - 1) }),
      limit: fc.integer({ min: 0, max: 8 }),
      order: fc.constantFrom('asc' as const, 'desc' as const),
    },
    { requiredKeys: [] },
  );

test('random archives and queries: sqlite pages equal memory pages equal the model', async () => {
  await fc.assert(
    fc.asyncProperty(
      archiveArb.chain((arch) => fc.tuple(fc.constant(arch), fc.array(queryArb(arch.length), { minLength: 1, maxLength: 8 }))),
      async ([arch, queries]) => {
        const gen = new MamIdGenerator();
        let t = 0;
        const rows: MamMessage[] = arch.map((a, i) => {
          t += a.gapUs;
          const { id, timestamp } = gen.next(t);
          return { id, timestamp, peer: a.peer, peerResource: '', direction: 'in', xml: `<m n='${i}'/>` };
        });
        const mem = memoryStorage();
        const sql = makeSqlite();
        try {
          for (const r of rows) {
            await mem.mam.append('ht', 'd', 'u', r);
            await sql.mam.append('ht', 'd', 'u', r);
          }
          for (const q of queries) {
            const query: MamQuery = {
              ...(q.peer !== undefined ? { peer: q.peer } : {}),
              ...(q.start !== undefined ? { start: q.start } : {}),
              ...(q.end !== undefined ? { end: q.end } : {}),
              ...(q.afterIdx !== undefined && rows.length ? { afterId: rows[q.afterIdx].id } : {}),
              ...(q.beforeIdx !== undefined && rows.length ? { beforeId: rows[q.beforeIdx].id } : {}),
              ...(q.limit !== undefined ? { limit: q.limit } : {}),
              ...(q.order !== undefined ? { order: q.order } : {}),
            };
            const a = await mem.mam.query('ht', 'd', 'u', query);
            const b = await sql.mam.query('ht', 'd', 'u', query);
            assert.equal(b, a, JSON.stringify(query));
            // Model: filter, window, order, cut.
            const match = rows.filter(
              (r) => (query.peer === undefined || r.peer === query.peer) && (query.start === undefined || r.timestamp >= query.start) && (query.end === undefined || r.timestamp <= query.end),
            );
            let win = match.filter((r) => (query.afterId === undefined || r.id > query.afterId) && (query.beforeId === undefined || r.id < query.beforeId));
            if (query.order === 'desc') win = win.reverse();
            const lim = query.limit ?? Infinity;
            assert.equal(a.rows.map((r) => r.id), win.slice(0, lim).map((r) => r.id));
            assert.is(a.count, match.length);
            assert.is(a.complete, win.length <= lim);
          }
        } finally {
          await sql.close();
        }
      },
    ),
    { numRuns: 60 },
  );
});

test.run();
