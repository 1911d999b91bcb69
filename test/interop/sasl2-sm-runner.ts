/**
 * Child-process side of `sasl2-sm.test.ts`: @xmpp/client 0.14 with SASL2 (XEP-0388), Bind2
 * (XEP-0386) and stream management negotiated inline (its client-core does both when the
 * server offers them). Alice logs in (SM enabled inside `<bind/>`), bob sends her a message,
 * then alice's TLS socket is destroyed from the client side, bob sends another message while
 * she is away, and alice's reconnect module resumes inside the SASL2 `<authenticate/>`.
 * Reports JSON lines on stdout. A separate process because trusting the test's self-signed
 * certificate (`NODE_EXTRA_CA_CERTS`) is process-wide.
 *
 * Usage: node --import tsx sasl2-sm-runner.ts '<json Sasl2SmRunnerConfig>'
 * @module
 */
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import { sleep, waitFor } from '../helpers/wait.ts';

/** What the test passes in argv[2]. */
export interface Sasl2SmRunnerConfig {
  readonly service: string;
  readonly domain: string;
  readonly settleMs: number;
}

/** One stdout line. */
export type Sasl2SmRunnerReport =
  | { event: 'negotiated'; who: string; authenticate: string; success: string }
  | { event: 'online'; who: string; jid: string; smEnabled: boolean; smId: string }
  | { event: 'disconnected'; who: string }
  | { event: 'resumed'; who: string; smId: string }
  | { event: 'received'; who: string; body: string | null; id: string | undefined }
  | { event: 'error'; who: string; message: string }
  | { event: 'done' }
  | { event: 'failed'; message: string };

interface SmApi {
  enabled: boolean;
  id: string;
  on(ev: 'resumed', fn: () => void): void;
}
type SmClient = XmppClient & {
  streamManagement: SmApi;
  reconnect: { delay: number; stop(): void };
  socket?: { socket?: { destroy(): void } | null } | null;
  on(ev: 'disconnect', fn: () => void): void;
};

function report(r: Sasl2SmRunnerReport): void {
  process.stdout.write(JSON.stringify(r) + '\n');
}

const NS_SASL2 = 'urn:xmpp:sasl:2';

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as Sasl2SmRunnerConfig;
  const clients: SmClient[] = [];
  const received: { who: string; body: string | null }[] = [];

  const make = (who: string, password: string): SmClient => {
    const xmpp = client({ service: config.service, domain: config.domain, username: who, password, resource: 'xmppjs', timeout: 10_000 }) as SmClient;
    let authenticate = '';
    xmpp.on('send', (el: XmppElement) => {
      if (el.is('authenticate', NS_SASL2)) authenticate = el.toString();
    });
    xmpp.on('nonza', (el: XmppElement) => {
      if (el.is('success', NS_SASL2)) report({ event: 'negotiated', who, authenticate, success: el.toString() });
    });
    xmpp.on('error', (err) => report({ event: 'error', who, message: `${err.name}: ${err.message} ${err.condition ?? ''}` }));
    xmpp.on('stanza', (st: XmppElement) => {
      if (!st.is('message')) return;
      const body = st.getChildText('body');
      received.push({ who, body });
      report({ event: 'received', who, body, id: st.attrs.id });
    });
    clients.push(xmpp);
    return xmpp;
  };

  /** `start()` may reject after going online (a client race on fast local servers): online is what counts. */
  const start = async (who: string, xmpp: SmClient): Promise<void> => {
    let wentOnline = false;
    const online = new Promise<unknown>((resolve) => xmpp.on('online', (j: unknown) => ((wentOnline = true), resolve(j))));
    const started = xmpp.start();
    started.catch((err: Error) => {
      if (!wentOnline) report({ event: 'error', who, message: `start failed: ${err.name}: ${err.message}` });
    });
    const jid = (await Promise.race([online, started])) as { toString(): string };
    // <enabled/> is handled in the <bound/> callback, just before online; give it a tick.
    await waitFor(() => xmpp.streamManagement.enabled, { timeoutMs: 3000, what: `${who}: SM enabled` });
    report({ event: 'online', who, jid: jid.toString(), smEnabled: xmpp.streamManagement.enabled, smId: xmpp.streamManagement.id });
  };

  try {
    const alice = make('alice', 'alice-secret');
    const bob = make('bob', 'bob-secret');
    bob.reconnect.stop();
    alice.reconnect.delay = 300;
    await start('alice', alice);
    await start('bob', bob);
    const aliceJid = alice.jid!.toString();

    await bob.send(xml('message', { to: aliceJid, type: 'chat', id: 'm1' }, xml('body', {}, 'one')));
    await waitFor(() => received.some((r) => r.who === 'alice'), { timeoutMs: 5000, what: 'alice to receive the first message' });
    // Let the server's <r/> and alice's <a/> go round.
    await sleep(config.settleMs);

    let resumed = false;
    alice.streamManagement.on('resumed', () => {
      resumed = true;
      report({ event: 'resumed', who: 'alice', smId: alice.streamManagement.id });
    });
    let disconnected = false;
    alice.on('disconnect', () => {
      if (disconnected) return;
      disconnected = true;
      report({ event: 'disconnected', who: 'alice' });
    });
    const raw = alice.socket?.socket;
    if (!raw) throw new Error('no TLS socket to destroy');
    raw.destroy();
    await waitFor(() => disconnected, { timeoutMs: 5000, what: 'alice to see the socket die' });
    await bob.send(xml('message', { to: aliceJid, type: 'chat', id: 'm2' }, xml('body', {}, 'while away')));
    await waitFor(() => resumed, { timeoutMs: 10_000, what: 'alice to resume' });
    await waitFor(() => received.filter((r) => r.who === 'alice').length >= 2, { timeoutMs: 5000, what: 'the queued message' });
    // Anything duplicated would arrive now.
    await sleep(config.settleMs);
    alice.reconnect.stop();
    for (const c of clients.splice(0)) await c.stop().catch(() => undefined);
    report({ event: 'done' });
  } catch (err) {
    const e = err as Error & { condition?: string };
    report({ event: 'failed', message: `${e?.name}: ${e?.message} ${e?.condition ?? ''} ${e?.stack ?? ''}` });
    for (const c of clients) c.reconnect.stop();
    await Promise.all(clients.map((c) => c.stop().catch(() => {})));
    process.exitCode = 1;
  }
}

const hardLimit = setTimeout(() => {
  report({ event: 'failed', message: 'runner hard timeout (25 s)' });
  process.exit(3);
}, 25_000);

main().then(
  () => {
    clearTimeout(hardLimit);
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  },
  () => clearTimeout(hardLimit),
);
