/**
 * Stream management soak: `clients` users with XEP-0198 (resume enabled) exchange `messages`
 * chat messages in `rounds` rounds while a third of them (`killFraction`) lose their socket
 * at random moments and resume on a new connection one to three rounds later.
 *
 * In-process, through the test kit's in-memory transport (server output serialised and
 * re-parsed, as on a wire) and its fake clock: no sockets, no timers, deterministic for a
 * seed. Each client counts what it handles (`h`), answers the server's `<r/>`, and on a kill
 * either has handled what was already written to it or loses it in flight (50/50: then the
 * server must re-send it after `<resumed/>`).
 *
 * The result: delivered / sent must be exactly 1 with no duplicate and nothing delivered to
 * the wrong user, plus the time it took. Bounded: `maxMs` aborts a run that takes too long.
 *
 * Run: `npx tsx bench/sm-soak.ts [clients] [messages]`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { createTestServer, type TestClient, type TestServer } from '../src/testing/index.ts';
import { streamManagement, NS_SM } from '../src/ext/stream-management/index.ts';
import { NS } from '../src/core/namespaces.ts';

/** Options of {@link runSmSoak}. */
export interface SmSoakOptions {
  /** Users, one SM connection each (default 1000). */
  readonly clients?: number;
  /** Messages sent in total (default 100 000). */
  readonly messages?: number;
  /** Send rounds (default 100); kills and resumes happen between and inside rounds. */
  readonly rounds?: number;
  /** Share of clients whose socket is killed once during the run (default 1/3). */
  readonly killFraction?: number;
  /** Server `<r/>` frequency (default 10). */
  readonly ackFreq?: number;
  /** PRNG seed (default 1). */
  readonly seed?: number;
  /** Abort when the run takes longer than this, ms (default 120 000). */
  readonly maxMs?: number;
  /** Progress output (default none). */
  readonly log?: ((line: string) => void) | undefined;
}

/** What {@link runSmSoak} measured. */
export interface SmSoakResult {
  readonly transport: 'in-memory (test kit)';
  readonly clients: number;
  readonly sent: number;
  /** Distinct messages received by their addressee. */
  readonly delivered: number;
  /** delivered / sent: must be exactly 1. */
  readonly ratio: number;
  /** Extra copies received (must be 0). */
  readonly duplicates: number;
  /** Messages received by someone else than their addressee (must be 0). */
  readonly misdelivered: number;
  readonly kills: number;
  readonly resumes: number;
  readonly failedResumes: number;
  /** Stanzas written to a client but lost with its socket (re-sent by the server after resume). */
  readonly lostInFlight: number;
  /** Stanzas the server re-sent after `<resumed/>`. */
  readonly resent: number;
  /** Wall time of the exchange (logins excluded), ms. */
  readonly ms: number;
  /** Wall time including the logins, ms. */
  readonly totalMs: number;
  readonly messagesPerSecond: number;
}

const U32 = 0x1_0000_0000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Peer {
  readonly index: number;
  readonly user: string;
  readonly jid: string;
  client: TestClient | undefined;
  smid: string;
  /** Stanzas handled on the SM session (what `<a h>` and `<resume h>` carry). */
  h: number;
  /** Round at which a dead peer resumes. */
  resumeAt: number;
  killed: boolean;
}

/** Run the soak. See the module comment. */
export async function runSmSoak(opts: SmSoakOptions = {}): Promise<SmSoakResult> {
  const nClients = opts.clients ?? 1000;
  const nMessages = opts.messages ?? 100_000;
  const rounds = Math.max(1, opts.rounds ?? 100);
  const killTotal = Math.floor(nClients * (opts.killFraction ?? 1 / 3));
  const maxMs = opts.maxMs ?? 120_000;
  const log = opts.log ?? (() => undefined);
  const rnd = mulberry32(opts.seed ?? 1);
  const pick = (n: number) => Math.floor(rnd() * n);
  const t0 = performance.now();
  const check = () => {
    if (performance.now() - t0 > maxMs) throw new Error(`sm soak: over ${maxMs} ms, aborted`);
  };

  const users: Record<string, string> = {};
  for (let i = 0; i < nClients; i++) users[`u${i}@localhost`] = `p${i}`;
  const server: TestServer = await createTestServer({
    users,
    // Lower than production: 1 300 logins; the soak is about stream management, not PBKDF2.
    iterations: 256,
    modules: [{ module: streamManagement, options: { ackFreq: opts.ackFreq ?? 10, bufferMax: 1000 } }],
  });

  const peers: Peer[] = [];
  const byJid = new Map<string, Peer>();
  /** Message id → times received by its addressee. */
  const seen = new Map<string, number>();
  /** Message id → addressee index. */
  const addressee = new Map<string, number>();
  let misdelivered = 0;
  let lostInFlight = 0;
  let resent = 0;

  const handle = (p: Peer, count: boolean) => {
    const c = p.client!;
    for (const el of c.received()) {
      const isStanza = (el.name === 'message' || el.name === 'iq' || el.name === 'presence') && el.ns === NS.CLIENT;
      if (!count) {
        if (isStanza) lostInFlight++;
        continue;
      }
      if (isStanza) {
        p.h = (p.h + 1) % U32;
        if (el.name !== 'message') continue;
        const id = el.attrs.id!;
        if (el.getChild('delay', NS.DELAY)) resent++;
        if (addressee.get(id) !== p.index) misdelivered++;
        else seen.set(id, (seen.get(id) ?? 0) + 1);
      } else if (el.name === 'r' && el.ns === NS_SM) {
        c.send(`<a xmlns='${NS_SM}' h='${p.h}'/>`);
      } else if (el.ns === NS.STREAMS && el.name === 'error') {
        throw new Error(`${p.jid}: stream error ${c.streamError}`);
      }
    }
  };

  for (let i = 0; i < nClients; i++) {
    const user = `u${i}`;
    const client = server.connect();
    const jid = await client.login(`${user}@localhost/soak`, `p${i}`);
    client.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
    await client.settle();
    const enabled = client.expect((e) => e.name === 'enabled' && e.ns === NS_SM, '<enabled/>');
    const p: Peer = { index: i, user, jid, client, smid: enabled.attrs.id!, h: 0, resumeAt: -1, killed: false };
    peers.push(p);
    byJid.set(jid, p);
    if (i % 200 === 199) check();
  }
  const tStart = performance.now();
  log(`${nClients} clients logged in with SM in ${(tStart - t0).toFixed(0)} ms`);

  let kills = 0;
  let resumes = 0;
  let failedResumes = 0;
  let sent = 0;
  const perRound = Math.ceil(nMessages / rounds);
  const killable = peers.map((p) => p.index);
  // Shuffle: the first `killTotal` are killed, spread over the rounds.
  for (let i = killable.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [killable[i], killable[j]] = [killable[j]!, killable[i]!];
  }
  const killQueue = killable.slice(0, killTotal);

  const kill = (p: Peer, round: number) => {
    const c = p.client!;
    // Either the client handled what was written before the socket died, or it is lost.
    handle(p, rnd() < 0.5);
    c.closeSocket();
    p.client = undefined;
    p.killed = true;
    p.resumeAt = round + 1 + pick(3);
    kills++;
  };

  const resume = async (p: Peer) => {
    const c = server.connect();
    await c.openStream();
    await c.authenticate(p.user, `p${p.index}`);
    c.send(`<resume xmlns='${NS_SM}' previd='${p.smid}' h='${p.h}'/>`);
    await c.settle();
    const answer = c.nextElement((e) => e.ns === NS_SM && (e.name === 'resumed' || e.name === 'failed'));
    if (answer?.name !== 'resumed') {
      failedResumes++;
      throw new Error(`${p.jid}: resume failed: ${answer?.toString() ?? 'no answer'}`);
    }
    p.client = c;
    resumes++;
  };

  for (let round = 0; round < rounds && sent < nMessages; round++) {
    check();
    for (const p of peers) if (p.client === undefined && p.resumeAt <= round) await resume(p);
    const killsThisRound = Math.ceil((killTotal * (round + 1)) / rounds) - Math.ceil((killTotal * round) / rounds);
    // Kills happen in the middle of the round's traffic, at random points.
    const killPoints = new Set<number>();
    for (let k = 0; k < killsThisRound; k++) killPoints.add(pick(perRound));
    let pendingKills = killsThisRound;
    const n = Math.min(perRound, nMessages - sent);
    for (let i = 0; i < n; i++) {
      if (pendingKills > 0 && killPoints.has(i)) {
        const candidates = killPoints.size;
        for (let k = 0; k < Math.max(1, Math.floor(pendingKills / candidates)) && killQueue.length > 0; k++) {
          const victim = peers[killQueue.shift()!]!;
          if (victim.client !== undefined) kill(victim, round);
          pendingKills--;
        }
      }
      let from = peers[pick(nClients)]!;
      while (from.client === undefined) from = peers[pick(nClients)]!;
      let to = peers[pick(nClients)]!;
      while (to === from) to = peers[pick(nClients)]!;
      const id = `m${sent}`;
      addressee.set(id, to.index);
      from.client!.send(`<message to='${to.jid}' type='chat' id='${id}'><body>${sent}</body></message>`);
      sent++;
      // Clients read their sockets now and then (acks flow back while traffic goes on).
      if ((i & 255) === 255) for (const p of peers) if (p.client) handle(p, true);
    }
    while (pendingKills > 0 && killQueue.length > 0) {
      const victim = peers[killQueue.shift()!]!;
      if (victim.client !== undefined) kill(victim, round);
      pendingKills--;
    }
    await server.settle();
    for (const p of peers) if (p.client) handle(p, true);
    await server.settle();
    if (round % 10 === 9) log(`round ${round + 1}: sent ${sent}, kills ${kills}, resumes ${resumes}`);
  }
  // Everyone still away comes back; then read everything until quiet.
  for (const p of peers) if (p.client === undefined) await resume(p);
  for (let i = 0; i < 3; i++) {
    await server.settle();
    for (const p of peers) handle(p, true);
  }
  const ms = performance.now() - tStart;

  let delivered = 0;
  let duplicates = 0;
  for (const [, n] of seen) {
    delivered++;
    duplicates += n - 1;
  }
  if (server.hookErrors.length > 0) throw new Error(`hook errors: ${String(server.hookErrors[0]!.err)}`);
  for (const p of peers) if (p.client?.closed) throw new Error(`${p.jid} closed: ${p.client.streamError ?? 'no stream error'}`);
  await server.stop();
  return {
    transport: 'in-memory (test kit)',
    clients: nClients,
    sent,
    delivered,
    ratio: delivered / sent,
    duplicates,
    misdelivered,
    kills,
    resumes,
    failedResumes,
    lostInFlight,
    resent,
    ms: Math.round(ms),
    totalMs: Math.round(performance.now() - t0),
    messagesPerSecond: Math.round(sent / (ms / 1000)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const clients = Number(process.argv[2] ?? 1000);
  const messages = Number(process.argv[3] ?? 100_000);
  const r = await runSmSoak({ clients, messages, log: (l) => console.log(l) });
  console.log(JSON.stringify(r, null, 2));
  const ok = r.ratio === 1 && r.duplicates === 0 && r.misdelivered === 0;
  console.log(ok ? `OK: delivered/sent = ${r.ratio} (${r.delivered}/${r.sent}), no duplicates, ${r.ms} ms` : 'FAILED');
  if (!ok) process.exitCode = 1;
}
