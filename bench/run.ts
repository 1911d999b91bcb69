/**
 * `npm run bench [-- name …]`: every benchmark, each in its own process (so one's heap, GC
 * and file-descriptor limits don't skew another's), in a fixed order. Each prints its own
 * figures and ratios against the baseline it measures in the same run.
 *
 *   parse     XML pipeline vs ltx on the same 50 MiB stream (issue 2)
 *   c2s       per-stanza overhead in `established`, 0 vs 5 no-op handlers per hook (issue 3)
 *   storage   MAM appends/s through the port, group commit vs autocommit (issue 5)
 *   domains   10,000 dynamic domains vs one: msgs/s ratio; domain creation over HTTP (issue 8)
 *   sm-soak   1,000 SM clients, 100k messages, a third of the sockets killed and resumed (issue 7)
 *   servers   logins/s, msgs/s, latency, RSS vs Debian's prosody and ejabberd (issue 4; installs them)
 *
 * `servers` takes minutes and installs Debian packages; `npm run bench -- servers --quick`
 * runs its short variant.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BENCHES: Record<string, string> = {
  parse: 'parse.ts',
  c2s: 'c2s.ts',
  storage: 'storage.ts',
  domains: 'domains.ts',
  'sm-soak': 'sm-soak.ts',
  servers: 'server-compare.ts',
};

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const selected = names.length ? names : Object.keys(BENCHES);
const unknown = selected.filter((n) => !(n in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of selected) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, BENCHES[name]!), ...(name === 'servers' ? flags : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${name} failed (exit ${r.status ?? r.signal}) ===`);
  }
}
process.exit(failed ? 1 : 0);
