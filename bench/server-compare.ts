/**
 * Comparative load benchmark: the same raw-TCP load against our server, Debian's prosody and
 * Debian's ejabberd, one after the other in one run, each on its own loopback port.
 *
 *   npx tsx bench/server-compare.ts [--quick] [--only prosody,ejabberd] [--plain-passwords] [--peer-modules parity|minimal]
 *
 * Prints every figure per server, the ratios ours/ejabberd and ours/prosody, and pass/fail
 * against the goals of issue 4. See docs/benchmarks.md for method and recorded results.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readCpuPressure, readNoFileLimit, readRssKiB } from './load/proc-stats.ts';
import { closeAll, runFixedRate, runLoginRamp, runSaturation, type LoadContext } from './load/scenarios.ts';
import { round, sleep } from './load/stats.ts';
import { benchNice, setAutogroupNice } from './peers/child-processes.ts';
import { ejabberdTarget } from './peers/ejabberd.ts';
import { prosodyTarget } from './peers/prosody.ts';
import { BENCH_DOMAIN, type BenchTarget } from './peers/target.ts';
import { xmppBlocksTarget } from './peers/xmpp-blocks.ts';

export interface ServerCompareOptions {
  /** Smaller counts and shorter runs: the whole comparison in about two minutes. */
  quick?: boolean;
  /** Run only these targets (`xmpp-blocks`, `prosody`, `ejabberd`); default all available. */
  only?: string[];
  log?: (line: string) => void;
  /** Credential storage on prosody and ejabberd (ours always stores SCRAM keys); default hashed. */
  passwords?: 'hashed' | 'plain';
  /** Module set on prosody and ejabberd: `minimal` (default) or like ours' default set (`parity`). */
  peerModules?: 'parity' | 'minimal';
}

interface Profile {
  users: number;
  loginConcurrency: number;
  messagingUsers: number;
  warmupRate: number;
  warmupMs: number;
  rate: number;
  rateMs: number;
  saturationMs: number;
  window: number;
  drainMs: number;
  memorySteps: number[];
  settleMs: number;
}

const FULL: Profile = {
  users: 5000,
  loginConcurrency: 200,
  messagingUsers: 1000,
  warmupRate: 1000,
  warmupMs: 2000,
  rate: 5000,
  rateMs: 10_000,
  saturationMs: 10_000,
  window: 10,
  drainMs: 30_000,
  memorySteps: [1000, 5000],
  settleMs: 3000,
};

const QUICK: Profile = {
  users: 1000,
  loginConcurrency: 200,
  messagingUsers: 500,
  warmupRate: 1000,
  warmupMs: 1000,
  rate: 5000,
  rateMs: 4000,
  saturationMs: 4000,
  window: 10,
  drainMs: 15_000,
  memorySteps: [500, 1000],
  settleMs: 1500,
};

const PORTS = { 'xmpp-blocks': 35222, prosody: 15222, ejabberd: 25222 } as const;
const OURS = 'xmpp-blocks';

/** Higher is better for these; for every other figure lower is better. */
const HIGHER_IS_BETTER = new Set(['logins_per_s', 'sat_msgs_per_s', 'logins_per_server_cpu_s', 'sat_msgs_per_server_cpu_s']);
/** The figures whose ratios are printed (the rest are context: CPU, counts). */
const KEY_FIGURES = [
  'logins_per_s',
  'login_p50_ms',
  'login_p99_ms',
  'sat_msgs_per_s',
  'sat_lost',
  'rate_p50_ms',
  'rate_p99_ms',
  'rate_lost',
  'rss_per_conn_500_kib',
  'rss_per_conn_1k_kib',
  'rss_per_conn_5k_kib',
  'logins_per_server_cpu_s',
  'sat_msgs_per_server_cpu_s',
];

async function measureTarget(target: BenchTarget, profile: Profile, log: (line: string) => void): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  // Other work on the machine skews every figure; the load average goes in the table with them.
  figures['loadavg_1m_at_start'] = round(loadavg()[0]!, 2);
  figures['cpu_pressure_pct_at_start'] = readCpuPressure();
  if (target.createUsersWhen === 'before-start') await target.createUsers(profile.users);
  const started = performance.now();
  const server = await target.start();
  figures['startup_s'] = round((performance.now() - started) / 1000, 2);
  log(`  ${target.name}: pid ${server.pid} on 127.0.0.1:${server.port}`);
  const ctx: LoadContext = {
    endpoint: { host: '127.0.0.1', port: server.port, domain: BENCH_DOMAIN },
    serverPid: server.pid,
    log,
  };
  figures['rss_start_mib'] = round(readRssKiB(server.pid) / 1024);
  if (target.createUsersWhen === 'after-start') {
    const t0 = performance.now();
    await target.createUsers(profile.users);
    figures['register_users_s'] = round((performance.now() - t0) / 1000, 1);
  }

  log(`  logins + memory: ${profile.memorySteps.join(', then ')} idle sessions, ${profile.loginConcurrency} logins in flight`);
  const ramp = await runLoginRamp(ctx, {
    steps: profile.memorySteps,
    concurrency: profile.loginConcurrency,
    settleMs: profile.settleMs,
  });
  Object.assign(figures, ramp.figures);
  // Messaging uses the first sessions of the ramp; the rest leave so the server only routes.
  const pairs = ramp.connections.slice(0, Math.min(profile.messagingUsers, ramp.connections.length) & ~1);
  await closeAll(ramp.connections.slice(pairs.length), 20_000);
  try {
    if (pairs.length < 2) throw new Error('fewer than two sessions logged in: nothing to measure messages with');
    await sleep(1000);
    // Warm-up at a low rate, not recorded: every server's caches (and our JIT) see the path once.
    await runFixedRate(ctx, pairs, { rate: profile.warmupRate, durationMs: profile.warmupMs, drainMs: profile.drainMs, tickMs: 5 });
    log(`  fixed rate: ${profile.rate} msg/s for ${profile.rateMs / 1000} s across ${pairs.length} users`);
    Object.assign(figures, await runFixedRate(ctx, pairs, {
      rate: profile.rate,
      durationMs: profile.rateMs,
      drainMs: profile.drainMs,
      tickMs: 5,
    }));
    await sleep(1000);
    log(`  saturation: ${pairs.length} users, window ${profile.window}, ${profile.saturationMs / 1000} s`);
    Object.assign(figures, await runSaturation(ctx, pairs, {
      durationMs: profile.saturationMs,
      window: profile.window,
      drainMs: profile.drainMs,
    }));
  } finally {
    await closeAll(pairs);
  }
  figures['rss_end_mib'] = round(readRssKiB(server.pid) / 1024);
  figures['cpu_pressure_pct_at_end'] = readCpuPressure();
  return figures;
}

function ratio(ours: number | undefined, theirs: number | undefined): number {
  if (ours === undefined || theirs === undefined || theirs === 0) return Number.NaN;
  return round(ours / theirs, 2);
}

function formatTable(results: Map<string, Record<string, number>>): string {
  const names = [...results.keys()];
  const metrics = [...new Set([...results.values()].flatMap((r) => Object.keys(r)))];
  const withRatios = results.has(OURS);
  const others = names.filter((n) => n !== OURS);
  const header = ['figure', ...names, ...(withRatios ? others.map((o) => `ours/${o}`) : [])];
  const rows = metrics.map((metric) => [
    metric,
    ...names.map((n) => fmt(results.get(n)![metric])),
    ...(withRatios
      ? others.map((o) => (KEY_FIGURES.includes(metric) ? fmt(ratio(results.get(OURS)![metric], results.get(o)![metric])) : ''))
      : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '-';
  if (Number.isNaN(n)) return 'n/a';
  return String(n);
}

/** The goals of issue 4, checked for our server against ejabberd in this same run. */
function checkGoals(results: Map<string, Record<string, number>>): { goal: string; ok: boolean | null; detail: string }[] {
  const ours = results.get(OURS);
  const ej = results.get('ejabberd');
  const twice = (metric: string): { ok: boolean | null; detail: string } => {
    if (ours === undefined || ej === undefined) return { ok: null, detail: 'needs xmpp-blocks and ejabberd in the run' };
    const r = ratio(ours[metric], ej[metric]);
    return { ok: r >= 2, detail: `${fmt(ours[metric])} vs ${fmt(ej[metric])} = ${fmt(r)}x` };
  };
  const p99 = ours?.['rate_p99_ms'];
  const lost = ours === undefined ? undefined : (ours['rate_lost'] ?? 0) + (ours['sat_lost'] ?? 0);
  return [
    { goal: '>= 2x ejabberd msgs/s (saturation)', ...twice('sat_msgs_per_s') },
    { goal: '>= 2x ejabberd logins/s', ...twice('logins_per_s') },
    {
      goal: `p99 < 20 ms at ${ours?.['rate_offered_per_s'] ?? 5000} msg/s offered`,
      ok: p99 === undefined ? null : p99 < 20,
      detail: p99 === undefined ? 'xmpp-blocks not measured' : `${p99} ms`,
    },
    {
      goal: '0 lost messages',
      ok: lost === undefined ? null : lost === 0,
      detail: lost === undefined ? 'xmpp-blocks not measured' : `${lost} lost`,
    },
  ];
}

/**
 * Runs every scenario against every available target, sequentially so they never share the
 * CPU, and returns the figures flattened as `target.figure` and `ours/peer.figure`.
 */
export async function runServerCompare(opts: ServerCompareOptions = {}): Promise<Record<string, number>> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const profile = opts.quick === true ? QUICK : FULL;
  const limit = readNoFileLimit();
  const needed = Math.max(...profile.memorySteps) + profile.loginConcurrency + 100;
  if (limit.soft < needed) {
    throw new Error(`open-file limit ${limit.soft} < ${needed}: run with 'ulimit -n ${needed * 2}' (the CLI raises it itself)`);
  }
  setAutogroupNice('self', benchNice());
  const all: BenchTarget[] = [
    xmppBlocksTarget({ port: PORTS['xmpp-blocks'], log, modules: opts.peerModules ?? 'minimal' }),
    prosodyTarget({ port: PORTS.prosody, log, passwords: opts.passwords ?? 'hashed', modules: opts.peerModules ?? 'minimal' }),
    ejabberdTarget({ port: PORTS.ejabberd, log, passwords: opts.passwords ?? 'hashed', modules: opts.peerModules ?? 'minimal' }),
  ];
  const targets = opts.only === undefined ? all : all.filter((t) => opts.only!.includes(t.name));
  const results = new Map<string, Record<string, number>>();
  const skipped: string[] = [];
  log(`${new Date().toISOString()} server comparison, ${opts.quick === true ? 'quick' : 'full'} profile, ${opts.passwords ?? 'hashed'} passwords and ${opts.peerModules ?? 'minimal'} modules on the peers: ${JSON.stringify(profile)}`);
  for (const target of targets) {
    const reason = await target.unavailable();
    if (reason !== null) {
      log(`- ${target.name}: not measured — ${reason}`);
      skipped.push(target.name);
      continue;
    }
    log(`- ${target.name}`);
    const started = performance.now();
    try {
      results.set(target.name, await measureTarget(target, profile, log));
      log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`  FAILED: ${err instanceof Error ? err.message : String(err)} (server log: ${target.logFile})`);
      skipped.push(target.name);
    } finally {
      await target.stop();
    }
  }

  log('');
  if (results.size > 0) log(formatTable(results));
  log('');
  log('Goals (issue 4):');
  for (const g of checkGoals(results)) log(`  [${g.ok === null ? 'n/a ' : g.ok ? 'PASS' : 'FAIL'}] ${g.goal}: ${g.detail}`);
  log(`Higher is better for ${[...HIGHER_IS_BETTER].join(', ')}; lower for the other key figures. *_cores: CPU use in cores.`);

  const flat: Record<string, number> = {};
  for (const [name, figures] of results) for (const [k, v] of Object.entries(figures)) flat[`${name}.${k}`] = v;
  const ours = results.get(OURS);
  if (ours !== undefined) {
    for (const [name, figures] of results) {
      if (name === OURS) continue;
      for (const k of KEY_FIGURES) if (k in ours && k in figures) flat[`ours/${name}.${k}`] = ratio(ours[k], figures[k]);
    }
  }
  return flat;
}

function parseArgs(argv: string[]): ServerCompareOptions {
  const opts: ServerCompareOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--only') opts.only = (argv[++i] ?? '').split(',');
    else if (arg.startsWith('--only=')) opts.only = arg.slice(7).split(',');
    else if (arg === '--plain-passwords') opts.passwords = 'plain';
    // The `=` forms too: `npm run bench -- servers --only=prosody` passes only dash-words on.
    else if (arg === '--peer-modules') opts.peerModules = argv[++i] === 'parity' ? 'parity' : 'minimal';
    else if (arg.startsWith('--peer-modules=')) opts.peerModules = arg.endsWith('=parity') ? 'parity' : 'minimal';
    else throw new Error(`unknown argument ${arg} (use --quick, --only a,b, --plain-passwords, --peer-modules parity|minimal)`);
  }
  return opts;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const wanted = 65_536;
  if (readNoFileLimit().soft < 12_000 && process.env['BENCH_ULIMIT_RAISED'] === undefined) {
    // Node cannot raise its own RLIMIT_NOFILE; re-run under a shell that does (root may raise the hard limit too).
    const child = spawnSync('/bin/sh', ['-c', `ulimit -n ${wanted} || ulimit -n $(ulimit -Hn); exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_ULIMIT_RAISED: '1' },
    });
    process.exit(child.status ?? 1);
  }
  runServerCompare(parseArgs(process.argv.slice(2))).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
