/** Temp database files for storage tests: one directory per test file, removed at exit. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStorage, type SqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { SqliteOptions } from '../../src/storage/sqlite/database.ts';

const dirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `xb-${prefix}-`));
  // The whole suite runs in one process: one exit listener for every directory (not one each,
  // which would trip the max-listeners warning).
  if (dirs.length === 0) process.once('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  dirs.push(dir);
  return dir;
}

export function removeDbFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

/** A factory of fresh SQLite storages whose `close` also deletes the file. */
export function tempSqliteFactory(prefix: string, opts: Omit<SqliteOptions, 'path'> = {}): () => SqliteStorage {
  const dir = tempDir(prefix);
  let n = 0;
  return () => {
    const path = join(dir, `db-${n++}.sqlite`);
    const st = sqliteStorage({ ...opts, path });
    return {
      ...st,
      close: async () => {
        await st.close();
        removeDbFiles(path);
      },
    };
  };
}
