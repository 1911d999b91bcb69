#!/usr/bin/env node
// Runs the uvu suite under tsx and ends with one line "N passed, N failed[, N skipped]".
// uvu prints only Total/Passed/Skipped; a non-zero exit with no parsed failure (an import
// error, a crash, a timeout, a process that does not exit after its summary) counts as one
// failure so CI can never read it as green.
// Usage: npm test [-- <dir> [pattern]]   (defaults: test  \.test\.ts$)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// uvu's package `exports` hides bin.js, so locate it from the package's main entry (dist/).
const uvuBin = join(dirname(require.resolve('uvu')), '..', 'bin.js');
const dir = process.argv[2] ?? 'test';
const pattern = process.argv[3] ?? '\\.test\\.ts$';
const limitMs = Number(process.env.TEST_TIMEOUT_MS ?? 15 * 60 * 1000);

const child = spawn(process.execPath, ['--import', 'tsx', uvuBin, dir, pattern, '--no-color'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, FORCE_COLOR: '0' },
});
let out = '';
// uvu prints its summary when every test is done; a process still alive well after that holds
// an open handle (a server a test did not stop): fail now rather than at the global limit.
let exitTimer;
child.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
  if (exitTimer === undefined && /^\s*Duration:/m.test(out)) {
    exitTimer = setTimeout(() => {
      console.error('\nthe test process did not exit 20 s after its summary: an open handle (a server not stopped?); killing it');
      child.kill('SIGKILL');
    }, 20_000);
  }
});
child.stderr.on('data', (d) => { process.stderr.write(d); });
const timer = setTimeout(() => {
  console.error(`\ntest run exceeded ${limitMs} ms; killing it`);
  child.kill('SIGKILL');
}, limitMs);
child.on('close', (code, signal) => {
  clearTimeout(timer);
  clearTimeout(exitTimer);
  const num = (label) => {
    const m = out.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : undefined;
  };
  const total = num('Total');
  const passed = num('Passed') ?? 0;
  const skipped = num('Skipped') ?? 0;
  let failed = total === undefined ? 0 : total - passed;
  const ok = code === 0 && signal === null;
  if (!ok && failed === 0) failed = 1;
  if (total === undefined || total === 0) failed = Math.max(failed, 1);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(ok && failed === 0 ? 0 : 1);
});
