/**
 * Child-process side of `sasl2.test.ts`: @xmpp/client 0.14 logs two accounts in with SASL2
 * (XEP-0388) and Bind2 (XEP-0386) — it prefers SASL2 whenever the server offers it — then a
 * message goes each way. Reports JSON lines on stdout: what the client sent and received
 * during negotiation, the bound JID, messages. A separate process because trusting the test's
 * self-signed certificate (`NODE_EXTRA_CA_CERTS`) is process-wide.
 *
 * Usage: node --import tsx sasl2-runner.ts '<json Sasl2RunnerConfig>'
 * @module
 */
import { randomUUID } from 'node:crypto';
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import { sleep, waitFor } from '../helpers/wait.ts';

/** What the test passes in argv[2]. */
export interface Sasl2RunnerConfig {
  readonly service: string;
  readonly domain: string;
  readonly mechanism: string;
  /** Given to @xmpp/client as `resource`, which it sends as the Bind2 `<tag/>`. */
  readonly accounts: readonly { readonly username: string; readonly password: string; readonly tag: string }[];
  readonly settleMs: number;
}

/** One stdout line. */
export type Sasl2RunnerReport =
  | { event: 'negotiated'; who: string; authenticate: string | undefined; success: string | undefined; sasl1: boolean; bindIq: boolean }
  | { event: 'online'; who: string; jid: string; secure: boolean }
  | { event: 'received'; who: string; from: string; body: string | null; id: string | undefined }
  | { event: 'error'; who: string; message: string }
  | { event: 'done' }
  | { event: 'failed'; message: string };

function report(r: Sasl2RunnerReport): void {
  process.stdout.write(JSON.stringify(r) + '\n');
}

const NS_SASL2 = 'urn:xmpp:sasl:2';

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as Sasl2RunnerConfig;
  const clients: { who: string; xmpp: XmppClient }[] = [];
  const received: { who: string; body: string | null }[] = [];
  try {
    for (const account of config.accounts) {
      const who = account.username;
      let authenticate: string | undefined;
      let success: string | undefined;
      let sasl1 = false;
      let bindIq = false;
      const xmpp = client({
        service: config.service,
        domain: config.domain,
        resource: account.tag,
        // The default 2 s for each step is tight on a loaded CI machine (TLS handshakes, tsx).
        timeout: 10_000,
        credentials: async (auth, mechanisms) => {
          if (!mechanisms.includes(config.mechanism)) throw new Error(`${config.mechanism} not offered: ${mechanisms.join(', ')}`);
          // @xmpp/client passes a <user-agent/> only when it builds the callback itself.
          const userAgent = xml('user-agent', { id: randomUUID() }, xml('software', {}, 'xmpp.js interop'));
          await (auth as unknown as (c: object, m: string, ua: XmppElement) => Promise<void>)({ username: account.username, password: account.password }, config.mechanism, userAgent);
        },
      });
      xmpp.reconnect.stop();
      xmpp.on('error', (err) => report({ event: 'error', who, message: `${err.name}: ${err.message} ${err.condition ?? ''} ${(err as { code?: string }).code ?? ''}` }));
      xmpp.on('send', (el: XmppElement) => {
        if (el.is('authenticate', NS_SASL2)) authenticate = el.toString();
        if (el.is('auth', 'urn:ietf:params:xml:ns:xmpp-sasl')) sasl1 = true;
        if (el.is('iq') && el.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')) bindIq = true;
      });
      xmpp.on('nonza', (el: XmppElement) => {
        if (el.is('success', NS_SASL2)) success = el.toString();
      });
      xmpp.on('stanza', (st: XmppElement) => {
        if (!st.is('message')) return;
        const body = st.getChildText('body');
        received.push({ who, body });
        report({ event: 'received', who, from: st.attrs.from ?? '', body, id: st.attrs.id });
      });
      clients.push({ who, xmpp });
      // `start()` waits for the stream header on a promise it creates only after its header
      // write completes; when our answer is parsed first (a fast local server, TLS write
      // callbacks delayed under load) that promise never settles and start() rejects with a
      // TimeoutError although the client went online. So online is what we wait for; a start()
      // rejection after it is that client race and is ignored, one before it is a failure.
      let wentOnline = false;
      const online = new Promise<unknown>((resolve) => xmpp.on('online', (j: unknown) => ((wentOnline = true), resolve(j))));
      const started = xmpp.start();
      started.catch((err: Error) => {
        if (!wentOnline) report({ event: 'error', who, message: `start failed: ${err.name}: ${err.message}` });
      });
      const jid = (await Promise.race([online, started])) as { toString(): string };
      report({ event: 'negotiated', who, authenticate, success, sasl1, bindIq });
      report({ event: 'online', who, jid: jid.toString(), secure: xmpp.isSecure() });
    }
    const [alice, bob] = clients;
    if (!alice || !bob) throw new Error('two accounts expected');
    await alice.xmpp.send(xml('message', { to: bob.xmpp.jid!.bare().toString(), type: 'chat', id: 'a2b' }, xml('body', {}, 'hello bob over sasl2')));
    await waitFor(() => received.some((r) => r.who === bob.who), { timeoutMs: 5000, what: 'bob to receive the message' });
    await bob.xmpp.send(xml('message', { to: alice.xmpp.jid!.toString(), type: 'chat', id: 'b2a' }, xml('body', {}, 'hello alice over bind2')));
    await waitFor(() => received.some((r) => r.who === alice.who), { timeoutMs: 5000, what: 'alice to receive the message' });
    await sleep(config.settleMs);
    for (const c of clients.splice(0)) await c.xmpp.stop();
    report({ event: 'done' });
  } catch (err) {
    const e = err as Error & { condition?: string; element?: { toString(): string } };
    report({ event: 'failed', message: `${e?.name}: ${e?.message} ${e?.condition ?? ''} ${e?.element?.toString() ?? ''} ${e?.stack ?? ''}` });
    await Promise.all(clients.map((c) => c.xmpp.stop().catch(() => {})));
    process.exitCode = 1;
  }
}

const hardLimit = setTimeout(() => {
  report({ event: 'failed', message: 'runner hard timeout (20 s)' });
  process.exit(3);
}, 20_000);

main().then(
  () => {
    clearTimeout(hardLimit);
    // A dangling client timer (the start() race above) must not keep us alive for seconds.
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  },
  () => clearTimeout(hardLimit),
);
