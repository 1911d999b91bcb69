/**
 * Durability of group commit: a child process streams MAM appends and prints every
 * acknowledged id; we SIGKILL it mid-stream, reopen the file, and every acknowledged row must
 * be there.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { tempDir } from './temp-db.ts';

const WRITER = fileURLToPath(new URL('./fixtures/mam-writer.ts', import.meta.url));
const KILL_AFTER_ACKS = 3000;

test('every append acknowledged before SIGKILL is in the file after reopening', async () => {
  const path = join(tempDir('crash'), 'crash.sqlite');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), WRITER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  let buf = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l !== 'ready') acked.push(l);
    if (acked.length >= KILL_AFTER_ACKS && child.exitCode === null && !child.killed) child.kill('SIGKILL');
  });
  // A writer that never reaches the kill threshold must not hang the suite.
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const signal = await exited;
  clearTimeout(guard);
  assert.is(signal, 'SIGKILL', 'the writer was killed, not finished');
  assert.ok(acked.length >= KILL_AFTER_ACKS);

  const st = sqliteStorage({ path });
  try {
    const page = await st.mam.query('ht', 'example.com', 'alice');
    const stored = new Set(page.rows.map((r) => r.id));
    const missing = acked.filter((id) => !stored.has(id));
    assert.equal(missing, [], `${missing.length} acknowledged rows lost`);
    console.log(`  crash test: ${acked.length} acknowledged, ${page.count} in the file after SIGKILL`);
  } finally {
    await st.close();
  }
});

test.run();
