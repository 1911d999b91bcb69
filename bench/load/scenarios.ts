/**
 * The load scenarios. Each is bounded in count and in time, and returns plain numbers so the
 * orchestrator can tabulate them side by side for every server.
 */
import { BenchConnection, type Account, type Endpoint } from './xmpp-connection.ts';
import { CpuMeter, readRssKiB } from './proc-stats.ts';
import { LatencyRecorder, round, runBounded, sleep, withTimeout } from './stats.ts';
import { attr, childText, isElement } from './xml-framer.ts';

export interface LoadContext {
  endpoint: Endpoint;
  /** PID of the process whose RSS and CPU are measured (beam.smp, lua, node). */
  serverPid: number;
  log: (line: string) => void;
}

/** `userN@domain`, password `pw-N`: the same accounts on every server. */
export function account(index: number): Account {
  return { username: `user${index}`, password: `pw-${index}` };
}

const LOGIN_TIMEOUT_MS = 30_000;

/** Creates users [0, count) by XEP-0077 in-band registration, a few connections at a time. */
export async function registerUsers(
  ctx: LoadContext,
  count: number,
  concurrency = 50,
): Promise<{ created: number; existed: number; seconds: number }> {
  let created = 0;
  let existed = 0;
  const started = performance.now();
  const { failed, firstErrors } = await runBounded(count, concurrency, async (i) => {
    const conn = await BenchConnection.open(ctx.endpoint);
    try {
      const outcome = await withTimeout(conn.register(account(i)), LOGIN_TIMEOUT_MS, `register user${i}`);
      if (outcome === 'created') created++;
      else existed++;
    } finally {
      conn.close();
    }
  });
  if (failed > 0) throw new Error(`${failed} registrations failed, e.g. ${firstErrors.join(' | ')}`);
  return { created, existed, seconds: (performance.now() - started) / 1000 };
}

export interface LoginBatch {
  connections: BenchConnection[];
  failed: number;
  firstErrors: string[];
  seconds: number;
  latency: LatencyRecorder;
}

/** Logs in users [from, from+count) with bounded concurrency; failures are counted, not thrown. */
export async function loginUsers(
  ctx: LoadContext,
  from: number,
  count: number,
  concurrency: number,
  latency = new LatencyRecorder(count),
): Promise<LoginBatch> {
  const connections: BenchConnection[] = [];
  const started = performance.now();
  const { failed, firstErrors } = await runBounded(count, concurrency, async (i) => {
    const t0 = performance.now();
    const conn = await BenchConnection.open(ctx.endpoint);
    try {
      await withTimeout(conn.login(account(from + i)), LOGIN_TIMEOUT_MS, `login user${from + i}`);
    } catch (err) {
      conn.destroy();
      throw err;
    }
    latency.record(performance.now() - t0);
    connections[i] = conn;
  });
  return {
    connections: connections.filter((c) => c !== undefined),
    failed,
    firstErrors,
    seconds: (performance.now() - started) / 1000,
    latency,
  };
}

/** Ends every stream and waits (bounded) until the sockets are gone, so the server is idle again. */
export async function closeAll(connections: BenchConnection[], timeoutMs = 10_000): Promise<void> {
  for (const conn of connections) conn.close();
  const deadline = performance.now() + timeoutMs;
  while (connections.some((c) => !c.socket.destroyed) && performance.now() < deadline) await sleep(50);
  for (const conn of connections) conn.destroy();
}

// ---------------------------------------------------------------------------------------------
// Scenarios 2 and 3: 1:1 chat messages between pairs (user 2k <-> user 2k+1, full JIDs)

let exchangeRuns = 0;

/**
 * Tracks every message between paired connections: bodies carry `run.sender.seq.sentAtMs`,
 * each sender keeps its in-flight sequence numbers, so a delivery is counted once, a second
 * copy is a duplicate, and whatever is still in flight after the drain is lost. The run id
 * keeps a previous scenario's stragglers (an overloaded server still draining its backlog)
 * from being miscounted as duplicates of this one.
 */
class MessageExchange {
  readonly run = ++exchangeRuns;
  /** Messages of an earlier exchange that arrived during this one. */
  stale = 0;
  readonly inflight: Map<number, number>[];
  readonly nextSeq: Uint32Array;
  sent = 0;
  delivered = 0;
  duplicates = 0;
  errors = 0;
  disconnects = 0;
  readonly latency: LatencyRecorder;
  onDelivered: ((sender: number) => void) | null = null;
  readonly #targets: string[];

  constructor(readonly connections: BenchConnection[], latencyCapacity: number) {
    this.inflight = connections.map(() => new Map());
    this.nextSeq = new Uint32Array(connections.length);
    this.latency = new LatencyRecorder(latencyCapacity);
    this.#targets = connections.map((_, i) => connections[i ^ 1]!.jid);
    connections.forEach((conn) => {
      conn.onStanza = (raw) => this.#receive(raw);
      conn.onClose = () => this.disconnects++;
    });
  }

  /** Sends the next message from `sender`; `sentAt` is when it was due (open-loop pacing). */
  send(sender: number, sentAt: number): void {
    const seq = this.nextSeq[sender]!++;
    this.inflight[sender]!.set(seq, sentAt);
    this.sent++;
    this.connections[sender]!.send(
      `<message to='${this.#targets[sender]}' type='chat' id='m${seq}'><body>${this.run}.${sender}.${seq}.${sentAt.toFixed(3)}</body></message>`,
    );
  }

  /** Deliveries are only counted when they leave an in-flight map, so this is exact. */
  get inflightTotal(): number {
    return this.sent - this.delivered;
  }

  #receive(raw: string): void {
    if (!isElement(raw, 'message')) return;
    if (attr(raw, 'type') === 'error') {
      this.errors++;
      return;
    }
    const body = childText(raw, 'body');
    if (body === undefined) return;
    const runDot = body.indexOf('.');
    if (Number(body.slice(0, runDot)) !== this.run) {
      this.stale++;
      return;
    }
    const firstDot = body.indexOf('.', runDot + 1);
    const secondDot = body.indexOf('.', firstDot + 1);
    const sender = Number(body.slice(runDot + 1, firstDot));
    const seq = Number(body.slice(firstDot + 1, secondDot));
    const sentAt = Number(body.slice(secondDot + 1));
    const inflight = this.inflight[sender];
    if (inflight === undefined || !inflight.delete(seq)) {
      this.duplicates++;
      return;
    }
    this.delivered++;
    this.latency.record(performance.now() - sentAt);
    this.onDelivered?.(sender);
  }

  /**
   * Waits for in-flight messages, at most `capMs`, and gives up early once nothing has arrived
   * for `stallMs`: a server still working through a backlog keeps delivering and gets the
   * whole cap, a server that dropped messages does not make every run wait for the cap.
   */
  async drain(capMs: number, stallMs = 2000): Promise<void> {
    const deadline = performance.now() + capMs;
    let lastDelivered = this.delivered;
    let lastProgress = performance.now();
    while (this.inflightTotal > 0) {
      const now = performance.now();
      if (now >= deadline || now - lastProgress >= stallMs) break;
      await sleep(20);
      if (this.delivered !== lastDelivered) {
        lastDelivered = this.delivered;
        lastProgress = performance.now();
      }
    }
  }

  detach(): void {
    for (const conn of this.connections) {
      conn.onStanza = null;
      conn.onClose = null;
    }
  }
}

export interface SaturationOptions {
  durationMs: number;
  /** Unacknowledged messages each sender keeps in flight. */
  window: number;
  drainMs: number;
}

export async function runSaturation(
  ctx: LoadContext,
  connections: BenchConnection[],
  opts: SaturationOptions,
): Promise<Record<string, number>> {
  const exchange = new MessageExchange(connections, 4_000_000);
  let running = true;
  exchange.onDelivered = (sender) => {
    if (running) exchange.send(sender, performance.now());
  };
  const meter = new CpuMeter(ctx.serverPid);
  meter.start();
  const started = performance.now();
  for (let w = 0; w < opts.window; w++) {
    for (let s = 0; s < connections.length; s++) exchange.send(s, performance.now());
  }
  await sleep(opts.durationMs);
  running = false;
  const elapsed = (performance.now() - started) / 1000;
  const deliveredInWindow = exchange.delivered;
  const cpu = meter.stop();
  await exchange.drain(opts.drainMs);
  exchange.detach();
  const [p50, p99] = exchange.latency.percentiles(50, 99);
  return {
    sat_msgs_per_s: round(deliveredInWindow / elapsed),
    sat_sent: exchange.sent,
    sat_delivered: exchange.delivered,
    sat_lost: exchange.sent - exchange.delivered,
    sat_duplicates: exchange.duplicates,
    sat_stale_arrivals: exchange.stale,
    sat_errors: exchange.errors,
    sat_disconnects: exchange.disconnects,
    sat_p50_ms: round(p50!, 2),
    sat_p99_ms: round(p99!, 2),
    sat_msgs_per_server_cpu_s: round(deliveredInWindow / cpu.serverCpuSeconds),
    sat_server_cores: round(cpu.serverCores, 2),
    sat_client_cores: round(cpu.clientCores, 2),
  };
}

export interface FixedRateOptions {
  /** Messages per second offered across all senders. */
  rate: number;
  durationMs: number;
  drainMs: number;
  /** Pacing tick: each tick sends every message that became due since the previous one. */
  tickMs: number;
}

export async function runFixedRate(
  ctx: LoadContext,
  connections: BenchConnection[],
  opts: FixedRateOptions,
): Promise<Record<string, number>> {
  const total = Math.round((opts.rate * opts.durationMs) / 1000);
  const exchange = new MessageExchange(connections, total);
  const meter = new CpuMeter(ctx.serverPid);
  meter.start();
  const started = performance.now();
  const interval = 1000 / opts.rate;
  let next = 0;
  let maxLagMs = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - started) / interval) + 1);
      if (due > next) maxLagMs = Math.max(maxLagMs, now - (started + next * interval));
      // Latency is measured from when each message was due, not when the tick ran, so a late
      // tick shows up in the figures instead of hiding (no coordinated omission).
      for (; next < due; next++) exchange.send(next % connections.length, started + next * interval);
      if (next >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, opts.tickMs);
    tick();
  });
  const cpu = meter.stop();
  const drainStarted = performance.now();
  await exchange.drain(opts.drainMs);
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  exchange.detach();
  const [p50, p99, p999, max] = exchange.latency.percentiles(50, 99, 99.9, 100);
  return {
    rate_offered_per_s: opts.rate,
    rate_sent: exchange.sent,
    rate_delivered: exchange.delivered,
    rate_lost: exchange.sent - exchange.delivered,
    rate_drain_s: round(drainSeconds, 1),
    rate_duplicates: exchange.duplicates,
    rate_errors: exchange.errors,
    rate_p50_ms: round(p50!, 2),
    rate_p99_ms: round(p99!, 2),
    rate_p999_ms: round(p999!, 2),
    rate_max_ms: round(max!, 2),
    rate_client_max_tick_lag_ms: round(maxLagMs, 2),
    rate_server_cores: round(cpu.serverCores, 2),
    rate_client_cores: round(cpu.clientCores, 2),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios 1 and 4: logins, and server memory per idle logged-in connection

export interface LoginRampOptions {
  /** Cumulative connection counts at which RSS is read, ascending (e.g. [1000, 5000]). */
  steps: number[];
  /** Logins in flight at once. */
  concurrency: number;
  /** Quiet time before each RSS reading so allocation from the logins settles. */
  settleMs: number;
}

/**
 * Logs users in, in steps, and keeps them connected and idle: every login is timed (connect
 * until initial presence is sent) and the server's RSS is read at each step. One ramp gives
 * both figures, which halves the run time where PLAIN costs a PBKDF2 per login; the logins of
 * later steps meet a server already holding the earlier sessions, as a real one would.
 * Returns the figures and the open connections (the caller reuses and closes them).
 */
export async function runLoginRamp(
  ctx: LoadContext,
  opts: LoginRampOptions,
): Promise<{ figures: Record<string, number>; connections: BenchConnection[] }> {
  const figures: Record<string, number> = {};
  await sleep(opts.settleMs);
  const baseline = readRssKiB(ctx.serverPid);
  figures['rss_idle_mib'] = round(baseline / 1024);
  const last = opts.steps[opts.steps.length - 1] ?? 0;
  const latency = new LatencyRecorder(last);
  const open: BenchConnection[] = [];
  let loginSeconds = 0;
  let serverCpuSeconds = 0;
  let clientCpuCores = 0;
  let failed = 0;
  try {
    for (const step of opts.steps) {
      const meter = new CpuMeter(ctx.serverPid);
      meter.start();
      const batch = await loginUsers(ctx, open.length + failed, step - open.length - failed, opts.concurrency, latency);
      const cpu = meter.stop();
      loginSeconds += batch.seconds;
      serverCpuSeconds += cpu.serverCpuSeconds;
      clientCpuCores = Math.max(clientCpuCores, cpu.clientCores);
      open.push(...batch.connections);
      failed += batch.failed;
      if (batch.failed > 0) ctx.log(`  ${batch.failed} logins failed, e.g. ${batch.firstErrors.join(' | ')}`);
      await sleep(opts.settleMs);
      const live = open.filter((c) => c.closed === null).length;
      const rss = readRssKiB(ctx.serverPid);
      const label = step % 1000 === 0 ? `${step / 1000}k` : String(step);
      figures[`rss_${label}_mib`] = round(rss / 1024);
      figures[`rss_per_conn_${label}_kib`] = round((rss - baseline) / Math.max(1, live), 2);
      figures[`live_conns_${label}`] = live;
    }
  } catch (err) {
    await closeAll(open);
    throw err;
  }
  const [p50, p99] = latency.percentiles(50, 99);
  Object.assign(figures, {
    logins: open.length,
    logins_per_s: round(open.length / loginSeconds),
    login_p50_ms: round(p50!, 2),
    login_p99_ms: round(p99!, 2),
    login_failed: failed,
    logins_per_server_cpu_s: round(open.length / serverCpuSeconds),
    login_server_cores: round(serverCpuSeconds / loginSeconds, 2),
    login_client_cores: round(clientCpuCores, 2),
  });
  return { figures, connections: open };
}
