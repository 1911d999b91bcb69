/**
 * Storage benchmark: MAM appends per second through the `MamStore` port on a file on disk, with
 * group commit (the default) and with one transaction per append (autocommit), same row shape,
 * same run. The reference measured 67k rows/s batched vs 9.4k/s autocommit with raw
 * better-sqlite3 (reference/dependencies.md §4); this measures what the port delivers.
 *
 * Group commit is driven the way a server drives it: many appends in flight (one per message
 * being routed), each awaited by its sender. Autocommit awaits each append in turn.
 *
 * Run: `npx tsx bench/storage.ts` (env `STORAGE_BENCH_ROWS`, default 20000 group-commit rows;
 * autocommit writes a quarter of that since it is ~7× slower).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sqliteStorage } from '../src/storage/sqlite/index.ts';
import type { SqliteOptions } from '../src/storage/sqlite/database.ts';
import { MamIdGenerator, type MamMessage } from '../src/core/storage/mam-store.ts';

const PEERS = ['bob@example.com', 'carol@example.com', 'dave@example.net', 'erin@example.org'];

function row(gen: MamIdGenerator, i: number): MamMessage {
  const { id, timestamp } = gen.next(Date.now() * 1000);
  const peer = PEERS[i % PEERS.length];
  return {
    id, timestamp, peer, peerResource: 'phone', direction: i % 2 ? 'in' : 'out', originId: `o-${i}`,
    xml: `<message from='${peer}/phone' to='alice@example.com' type='chat' id='m${i}'><body>message number ${i} of the benchmark</body></message>`,
  };
}

async function measure(label: string, rows: number, opts: Omit<SqliteOptions, 'path'>, inFlight: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'xb-bench-'));
  const st = sqliteStorage({ ...opts, path: join(dir, `${label}.sqlite`) });
  try {
    const gen = new MamIdGenerator();
    // Warm-up: statement compilation and the first WAL pages.
    for (let i = 0; i < 50; i++) await st.mam.append('ht', 'example.com', 'warmup', row(gen, i));
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < rows; done += inFlight) {
      const n = Math.min(inFlight, rows - done);
      await Promise.all(Array.from({ length: n }, (_, k) => st.mam.append('ht', 'example.com', `user${(done + k) % 100}`, row(gen, done + k))));
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const count = (await st.mam.query('ht', 'example.com', 'user0', { limit: 0 })).count;
    if (count !== Math.ceil(rows / 100)) throw new Error(`expected ${Math.ceil(rows / 100)} rows for user0, found ${count}`);
    return rows / secs;
  } finally {
    await st.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs both modes; resolves `{ groupCommitRowsPerSec, autocommitRowsPerSec, ratio }`. */
export async function runStorageBench(): Promise<Record<string, number>> {
  const rows = Number(process.env.STORAGE_BENCH_ROWS ?? 20_000);
  const groupCommitRowsPerSec = await measure('group', rows, {}, 1000);
  const autocommitRowsPerSec = await measure('autocommit', Math.max(1000, Math.floor(rows / 4)), { groupCommit: false }, 1);
  const ratio = groupCommitRowsPerSec / autocommitRowsPerSec;
  console.log(`storage: MAM append via port, group commit  ${groupCommitRowsPerSec.toFixed(0)} rows/s`);
  console.log(`storage: MAM append via port, autocommit    ${autocommitRowsPerSec.toFixed(0)} rows/s`);
  console.log(`storage: group commit / autocommit          ${ratio.toFixed(1)}×`);
  return { groupCommitRowsPerSec, autocommitRowsPerSec, ratio };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runStorageBench();
