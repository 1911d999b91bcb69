/**
 * Dynamic domains benchmark (issue 8, reference §7 "10 000 domains"):
 *
 * 1. **Routing with 10,000 dynamic domains vs one domain.** The same server configuration, the
 *    same users (20,000 by default) and the same message pattern, once spread over 10,000
 *    dynamic domains of one host type (2 users each), once all in one dynamic domain of that
 *    host type: only the number of domains differs. Messages go through the real router
 *    (filterPacket → domain lookup → strip → filterLocalPacket → session manager → RFC 6121
 *    delivery) to bound sessions; the sessions are in-process stubs that count deliveries, so
 *    the figure isolates what the number of domains could change. Reported: msgs/s of each and
 *    their ratio (1.0 = the number of domains costs nothing).
 * 2. **The same through the c2s** (test kit clients, in-memory transport: the sender's send
 *    pipeline, router, session manager, the recipient's receive pipeline): 2,000 online users,
 *    one every 5 of the 10,000 dynamic domains, vs 2,000 users in one dynamic domain.
 * 3. **Domain creation rate**: in-process (`DynamicDomains.insert`) and over the HTTP admin API
 *    (`PUT /api/domains/:d`, one keep-alive client, sequential and 8 in flight), on SQLite.
 *
 * Run: `npx tsx bench/domains.ts` (env `DOMAINS_BENCH_DOMAINS` default 10000,
 * `DOMAINS_BENCH_MSGS` default 200000, `DOMAINS_BENCH_ONLINE` default 2000,
 * `DOMAINS_BENCH_C2S_MSGS` default 100000, `DOMAINS_BENCH_HTTP` default 2000,
 * `DOMAINS_BENCH_ROUNDS` default 5). Layouts are measured in interleaved rounds, alternating
 * which goes first, best of each; msgs/s are per **CPU second** of this process (user + system,
 * GC threads included), because on a shared machine wall-clock time mostly measures how long
 * the process waited for a core (measured: ±20% between identical runs at load 5–10 on 2 cores).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer, type XmppServer } from '../src/server.ts';
import { memoryStorage } from '../src/storage/memory/index.ts';
import { sqliteStorage } from '../src/storage/sqlite/index.ts';
import { silentLogger } from '../src/core/logger.ts';
import { Acc } from '../src/core/acc.ts';
import { Jid } from '../src/core/jid.ts';
import { xml } from '../src/core/xml/element.ts';
import type { LocalSession } from '../src/core/session.ts';
import { NS } from '../src/core/namespaces.ts';
import type { TestClient } from '../src/testing/index.ts';
import { createDynamicTestServer } from '../test/domains/kit.ts';

const DOMAINS = Number(process.env.DOMAINS_BENCH_DOMAINS ?? 10_000);
const USERS_PER_DOMAIN = 2;
const MSGS = Number(process.env.DOMAINS_BENCH_MSGS ?? 200_000);
const HTTP_DOMAINS = Number(process.env.DOMAINS_BENCH_HTTP ?? 2000);
const ONLINE = Number(process.env.DOMAINS_BENCH_ONLINE ?? 2000);
const C2S_MSGS = Number(process.env.DOMAINS_BENCH_C2S_MSGS ?? 100_000);
const ROUNDS = Number(process.env.DOMAINS_BENCH_ROUNDS ?? 5);

/** Messages per CPU second spent running `fn` (which sends `n` messages). */
function perCpuSecond(n: number, fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return n / ((c.user + c.system) / 1e6);
}

/** Best msgs/s of each layout over {@link ROUNDS} interleaved rounds, alternating the order. */
function bestOfInterleaved(spread: () => number, single: () => number): [number, number] {
  let a = 0;
  let b = 0;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      a = Math.max(a, spread());
      b = Math.max(b, single());
    } else {
      b = Math.max(b, single());
      a = Math.max(a, spread());
    }
  }
  return [a, b];
}

/** A bound session that only counts what it is given. */
class CountingSession implements LocalSession {
  delivered = 0;
  constructor(
    readonly sid: string,
    readonly jid: Jid,
    readonly hostType: string,
  ) {}
  deliver(): void {
    this.delivered++;
  }
  exit(): void {}
  stop(): void {}
  cast(): void {}
  call<R>(): Promise<R> {
    return Promise.reject(new Error('not supported'));
  }
}

/** Deterministic pseudo-random pairs (same pattern for both layouts). */
function pairs(users: number, n: number): Uint32Array {
  const out = new Uint32Array(n * 2);
  let x = 0x2545f491;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % users;
  };
  for (let i = 0; i < n; i++) {
    const from = rnd();
    let to = rnd();
    if (to === from) to = (to + 1) % users;
    out[2 * i] = from;
    out[2 * i + 1] = to;
  }
  return out;
}

interface Layout {
  readonly server: XmppServer;
  readonly jids: Jid[];
  readonly sessions: CountingSession[];
}

/** `users` users over `domains` dynamic domains `d0.example`… of host type `tenants`. */
async function layout(domains: number): Promise<Layout> {
  const users = DOMAINS * USERS_PER_DOMAIN;
  const server = createServer({
    domains: ['static.example'],
    dynamicDomains: { hostTypes: ['tenants'], pollIntervalMs: 60_000 },
    storage: memoryStorage(),
    logger: silentLogger,
  });
  await server.start();
  for (let d = 0; d < domains; d++) {
    const r = await server.dynamicDomains!.insert(`d${d}.example`, 'tenants');
    if (!r.ok) throw new Error(r.message);
  }
  const jids: Jid[] = [];
  const sessions: CountingSession[] = [];
  for (let u = 0; u < users; u++) {
    const domain = `d${Math.floor((u * domains) / users)}.example`;
    const jid = Jid.of(`u${u}`, domain, 'bench');
    const s = new CountingSession(`s${String(u).padStart(8, '0')}`, jid, 'tenants');
    server.sessions.open(s);
    jids.push(jid);
    sessions.push(s);
  }
  await server.sessions.flushStore();
  return { server, jids, sessions };
}

/** msgs per CPU second routing `n` chat messages (bare JID addressed) along `p`. */
function route(l: Layout, p: Uint32Array, n: number, offset: number): number {
  return perCpuSecond(n, () => {
    for (let i = 0; i < n; i++) {
      const k = (offset + i) % (p.length / 2);
      const from = l.jids[p[2 * k]!]!;
      const to = l.jids[p[2 * k + 1]!]!.bare();
      const el = xml('message', { from: from.toString(), to: to.toString(), type: 'chat', id: `m${i}` }, xml('body', null, 'hello'));
      l.server.router.route(Acc.fromElement(el, { from, to, hostType: 'tenants', lserver: from.domain, origin: 'c2s' }));
    }
  });
}

async function routingFigures(): Promise<Record<string, number>> {
  const users = DOMAINS * USERS_PER_DOMAIN;
  const p = pairs(users, MSGS);
  const spread = await layout(DOMAINS);
  const single = await layout(1);
  try {
    route(spread, p, 20_000, 0);
    route(single, p, 20_000, 0);
    // Interleaved rounds, best of each: both layouts see the same GC and JIT conditions.
    const [a, b] = bestOfInterleaved(
      () => route(spread, p, MSGS, 0),
      () => route(single, p, MSGS, 0),
    );
    const deliveredSpread = spread.sessions.reduce((s, x) => s + x.delivered, 0);
    const deliveredSingle = single.sessions.reduce((s, x) => s + x.delivered, 0);
    if (deliveredSpread !== deliveredSingle || deliveredSpread < ROUNDS * MSGS) throw new Error(`deliveries differ: ${deliveredSpread} vs ${deliveredSingle}`);
    return {
      [`router msgs/s, ${DOMAINS} dynamic domains, ${users} users`]: Math.round(a),
      [`router msgs/s, 1 domain, ${users} users`]: Math.round(b),
      [`ratio ${DOMAINS} domains / 1 domain`]: Number((a / b).toFixed(3)),
    };
  } finally {
    await spread.server.stop();
    await single.server.stop();
  }
}

/**
 * The full c2s path (sender's pipeline, router, session manager, recipient's pipeline) with
 * `ONLINE` logged-in test-kit clients: spread over the 10,000 dynamic domains (one user every
 * `DOMAINS / ONLINE` domains) vs all in one domain.
 */
async function c2sFigures(): Promise<Record<string, number>> {
  const setup = async (spread: boolean) => {
    // Same configuration for both: only the number of dynamic domains differs.
    const ts = await createDynamicTestServer({});
    for (let d = 0; d < (spread ? DOMAINS : 1); d++) await ts.dynamic.insert(`d${d}.example`, 'tenants');
    const step = Math.max(1, Math.floor(DOMAINS / ONLINE));
    const clients: TestClient[] = [];
    const bares: string[] = [];
    for (let u = 0; u < ONLINE; u++) {
      const jid = `u${u}@d${spread ? u * step : 0}.example`;
      await ts.addUser(jid, 'pw');
      const c = ts.connect({ parseOutput: false });
      await c.login(`${jid}/bench`, 'pw');
      clients.push(c);
      bares.push(jid);
    }
    const p = pairs(ONLINE, C2S_MSGS);
    const elements = bares.map((to) => xml('message', { xmlns: NS.CLIENT, to, type: 'chat', id: 'x' }, xml('body', null, 'hello')));
    let delivered = 0;
    let other = 0;
    const drain = () => {
      for (const c of clients) for (const e of c.received()) if (e.name === 'message' && e.attrs.type === 'chat') delivered++; else other++;
    };
    const run = (n: number) => {
      delivered = 0;
      const rate = perCpuSecond(n, () => {
        for (let i = 0; i < n; i++) {
          const k = i % C2S_MSGS;
          clients[p[2 * k]!]!.transport.clientInject({ type: 'element', element: elements[p[2 * k + 1]!]!, size: 80 });
          if ((i & 1023) === 0) drain();
        }
      });
      drain();
      if (delivered !== n || other > 0) throw new Error(`c2s bench: ${delivered} of ${n} delivered, ${other} other elements`);
      return rate;
    };
    return { ts, run };
  };
  const spread = await setup(true);
  const single = await setup(false);
  try {
    spread.run(10_000);
    single.run(10_000);
    // Interleaved rounds, best of each (same GC and JIT conditions for both layouts).
    const [a, b] = bestOfInterleaved(
      () => spread.run(C2S_MSGS),
      () => single.run(C2S_MSGS),
    );
    return {
      [`c2s msgs/s, ${ONLINE} online users over ${DOMAINS} dynamic domains`]: Math.round(a),
      [`c2s msgs/s, ${ONLINE} online users in 1 domain`]: Math.round(b),
      [`c2s ratio ${DOMAINS} domains / 1 domain`]: Number((a / b).toFixed(3)),
    };
  } finally {
    await spread.ts.stop();
    await single.ts.stop();
  }
}

async function creationFigures(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'xb-domains-bench-'));
  const storage = sqliteStorage({ path: join(dir, 'xmpp-blocks.sqlite') });
  const server = createServer({
    domains: ['static.example'],
    dynamicDomains: { hostTypes: ['tenants'], pollIntervalMs: 60_000 },
    admin: { port: 0 },
    storage,
    logger: silentLogger,
  });
  await server.start();
  try {
    const inProc = Math.min(DOMAINS, 5000);
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < inProc; i++) {
      const r = await server.dynamicDomains!.insert(`p${i}.example`, 'tenants');
      if (!r.ok) throw new Error(r.message);
    }
    const inProcRate = inProc / (Number(process.hrtime.bigint() - t0) / 1e9);

    const a = server.adminAddress()!;
    const put = async (d: string) => {
      const res = await fetch(`http://${a.host}:${a.port}/api/domains/${d}`, { method: 'PUT', body: '{"hostType":"tenants"}', headers: { 'content-type': 'application/json' } });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`PUT ${d}: ${res.status}`);
    };
    for (let i = 0; i < 50; i++) await put(`w${i}.example`);
    t0 = process.hrtime.bigint();
    for (let i = 0; i < HTTP_DOMAINS; i++) await put(`h${i}.example`);
    const seqRate = HTTP_DOMAINS / (Number(process.hrtime.bigint() - t0) / 1e9);
    t0 = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < HTTP_DOMAINS) await put(`c${next++}.example`);
      }),
    );
    const parRate = HTTP_DOMAINS / (Number(process.hrtime.bigint() - t0) / 1e9);
    if (server.domains.hostTypeOf(`c${HTTP_DOMAINS - 1}.example`) !== 'tenants') throw new Error('the last domain is not served');
    return {
      'domains created/s in-process (DynamicDomains.insert, SQLite)': Math.round(inProcRate),
      'domains created/s over HTTP PUT, sequential (SQLite)': Math.round(seqRate),
      'domains created/s over HTTP PUT, 8 in flight (SQLite)': Math.round(parRate),
    };
  } finally {
    await server.stop();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every figure of this benchmark. */
export async function runDomainsBench(): Promise<Record<string, number>> {
  const load = Number(loadavg()[0]!.toFixed(2));
  return { 'load average (1 min) at start': load, ...(await routingFigures()), ...(await c2sFigures()), ...(await creationFigures()) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runDomainsBench();
  for (const [k, v] of Object.entries(results)) console.log(`${k}: ${v}`);
}
