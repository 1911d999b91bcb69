/**
 * Child-process side of `fast.test.ts`: @xmpp/client 0.14 with XEP-0484 FAST. Phase 1 logs in
 * with the password; the client sees `<fast/>` in SASL2's `<inline/>`, has no token, so it
 * adds `<request-token/>` and keeps the `<token/>` of `<success/>` (captured through
 * `fast.saveToken`). Phase 2 is a new client with a **wrong** password whose `fast.fetchToken`
 * returns that token: it must authenticate with HT-SHA-256-NONE and go online. Both use the
 * same `<user-agent id>` (tokens are bound to it). Reports JSON lines on stdout. A separate
 * process because trusting the test's self-signed certificate (`NODE_EXTRA_CA_CERTS`) is
 * process-wide.
 *
 * Usage: node --import tsx fast-runner.ts '<json FastRunnerConfig>'
 * @module
 */
import { client, xml, type XmppClient, type XmppElement, type XmppFastToken } from '@xmpp/client';
import { waitFor } from '../helpers/wait.ts';

/** What the test passes in argv[2]. */
export interface FastRunnerConfig {
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  /** Phase 2's password: the login can only succeed with the token. */
  readonly wrongPassword: string;
  readonly userAgentId: string;
  /** Given to @xmpp/client as `resource` (the Bind2 `<tag/>`). */
  readonly tag: string;
}

/** One stdout line. */
export type FastRunnerReport =
  | { event: 'negotiated'; phase: 1 | 2; authenticate: string[]; success: string | undefined; sasl1: boolean }
  | { event: 'online'; phase: 1 | 2; jid: string }
  | { event: 'token'; token: XmppFastToken }
  | { event: 'error'; phase: 1 | 2; message: string }
  | { event: 'done' }
  | { event: 'failed'; message: string };

function report(r: FastRunnerReport): void {
  process.stdout.write(JSON.stringify(r) + '\n');
}

const NS_SASL2 = 'urn:xmpp:sasl:2';

/** One connection: start, wait until online, report what was negotiated, stop. */
async function connect(config: FastRunnerConfig, phase: 1 | 2, password: string, store: { token: XmppFastToken | undefined }): Promise<void> {
  const authenticate: string[] = [];
  let success: string | undefined;
  let sasl1 = false;
  const xmpp: XmppClient = client({
    service: config.service,
    domain: config.domain,
    username: config.username,
    password,
    resource: config.tag,
    userAgent: xml('user-agent', { id: config.userAgentId }, xml('software', {}, 'xmpp.js FAST interop')),
    // The default 2 s for each step is tight on a loaded CI machine (TLS handshakes, tsx).
    timeout: 10_000,
  });
  xmpp.reconnect.stop();
  // What an application does to keep the token across connections (the default keeps it in the client object).
  xmpp.fast.saveToken = async (t) => {
    store.token = t;
  };
  xmpp.fast.fetchToken = async () => store.token;
  xmpp.on('error', (err) => report({ event: 'error', phase, message: `${err.name}: ${err.message} ${err.condition ?? ''}` }));
  xmpp.on('send', (el: XmppElement) => {
    if (el.is('authenticate', NS_SASL2)) authenticate.push(el.toString());
    if (el.is('auth', 'urn:ietf:params:xml:ns:xmpp-sasl')) sasl1 = true;
  });
  xmpp.on('nonza', (el: XmppElement) => {
    if (el.is('success', NS_SASL2)) success = el.toString();
  });
  // As in sasl2-runner.ts: `start()` may reject with a TimeoutError after the client went
  // online (its header-write race); online is what counts, a rejection before it is a failure.
  let wentOnline = false;
  const online = new Promise<unknown>((resolve) => xmpp.on('online', (j: unknown) => ((wentOnline = true), resolve(j))));
  const started = xmpp.start();
  started.catch((err: Error) => {
    if (!wentOnline) report({ event: 'error', phase, message: `start failed: ${err.name}: ${err.message}` });
  });
  try {
    const jid = (await Promise.race([online, started])) as { toString(): string };
    report({ event: 'negotiated', phase, authenticate, success, sasl1 });
    report({ event: 'online', phase, jid: jid.toString() });
  } finally {
    await xmpp.stop().catch(() => {});
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as FastRunnerConfig;
  const store: { token: XmppFastToken | undefined } = { token: undefined };
  try {
    await connect(config, 1, config.password, store);
    // The <token/> is handled while <success/> is processed, before online; wait anyway (bounded).
    const token = await waitFor(() => store.token, { timeoutMs: 5000, what: 'the FAST token to be saved' });
    report({ event: 'token', token });
    await connect(config, 2, config.wrongPassword, store);
    report({ event: 'done' });
  } catch (err) {
    const e = err as Error & { condition?: string };
    report({ event: 'failed', message: `${e?.name}: ${e?.message} ${e?.condition ?? ''} ${e?.stack ?? ''}` });
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
