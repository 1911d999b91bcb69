/**
 * Child-process side of `xmpp-client.test.ts`: for each scenario (a service URL and one forced
 * SASL mechanism) two @xmpp/client 0.14 accounts log in, exchange a message each way and stop;
 * everything is reported as JSON lines on stdout, tagged with the scenario. One process runs
 * every scenario: loading tsx and @xmpp/client costs about two seconds.
 *
 * It is a separate process because trusting the test's self-signed certificate
 * (`NODE_EXTRA_CA_CERTS`) and the WebSocket global (`--experimental-websocket` on Node 20) are
 * process-wide settings the shared test process must not change.
 *
 * Usage: node --experimental-websocket --import tsx xmpp-client-runner.ts '<json RunnerConfig>'
 * @module
 */
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import { sleep, waitFor } from '../helpers/wait.ts';

/** One login-and-exchange run. */
export interface RunnerScenario {
  readonly name: string;
  readonly service: string;
  readonly mechanism: string;
}

/** What the test passes in argv[2]. */
export interface RunnerConfig {
  readonly scenarios: readonly RunnerScenario[];
  readonly domain: string;
  readonly accounts: readonly { readonly username: string; readonly password: string; readonly resource: string }[];
  /** Quiet period after the last expected message, to catch duplicates (ms). */
  readonly settleMs: number;
}

/** What happened, as reported on one stdout line (without its scenario tag). */
type Report =
  | { event: 'online'; who: string; jid: string; secure: boolean; offered: string[]; authMechanisms: string[] }
  | { event: 'received'; who: string; from: string; type: string | undefined; body: string | null; id: string | undefined }
  | { event: 'error'; who: string; message: string; condition?: string }
  | { event: 'stopped'; who: string }
  | { event: 'done' }
  | { event: 'failed'; message: string };

/** One stdout line. */
export type RunnerReport = { scenario: string } & Report;

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

let current = '';

function report(r: Report): void {
  process.stdout.write(JSON.stringify({ scenario: current, ...r }) + '\n');
}

async function runScenario(config: RunnerConfig, scenario: RunnerScenario, clients: { who: string; xmpp: XmppClient }[]): Promise<void> {
  const received: { who: string; body: string | null }[] = [];
  for (const account of config.accounts) {
    const who = account.username;
    const offered: string[] = [];
    const authMechanisms: string[] = [];
    const xmpp = client({
      service: scenario.service,
      domain: config.domain,
      resource: account.resource,
      // Forcing the mechanism: @xmpp/client hands the callback the mechanisms both sides
      // support and uses exactly the one we pass back.
      credentials: async (authenticate, mechanisms) => {
        offered.push(...mechanisms);
        if (!mechanisms.includes(scenario.mechanism)) throw new Error(`${scenario.mechanism} not available; usable: ${mechanisms.join(', ')}`);
        await authenticate({ username: account.username, password: account.password }, scenario.mechanism);
      },
    });
    // A test must not reconnect behind our back.
    xmpp.reconnect.stop();
    xmpp.on('error', (err) => report({ event: 'error', who, message: err.message, ...(err.condition !== undefined && { condition: err.condition }) }));
    xmpp.on('send', (el: XmppElement) => {
      if (el.is('auth', NS_SASL) && el.attrs.mechanism) authMechanisms.push(el.attrs.mechanism);
    });
    xmpp.on('stanza', (st: XmppElement) => {
      if (!st.is('message')) return;
      const body = st.getChildText('body');
      received.push({ who, body });
      report({ event: 'received', who, from: st.attrs.from ?? '', type: st.attrs.type, body, id: st.attrs.id });
    });
    clients.push({ who, xmpp });
    const jid = await xmpp.start();
    report({ event: 'online', who, jid: jid.toString(), secure: xmpp.isSecure(), offered, authMechanisms });
  }

  const [alice, bob] = clients;
  if (!alice || !bob) throw new Error('two accounts expected');
  const aliceJid = alice.xmpp.jid!.toString();
  const bobBare = bob.xmpp.jid!.bare().toString();

  // alice → bob's bare JID (RFC 6121 §8.5.2: delivered to bob's available resource).
  await alice.xmpp.send(xml('message', { to: bobBare, type: 'chat', id: 'a2b' }, xml('body', {}, 'hello bob from alice')));
  await waitFor(() => received.some((r) => r.who === bob.who), { timeoutMs: 5000, what: 'bob to receive alice’s message' });
  // bob → alice's full JID.
  await bob.xmpp.send(xml('message', { to: aliceJid, type: 'chat', id: 'b2a' }, xml('body', {}, 'hello alice from bob')));
  await waitFor(() => received.some((r) => r.who === alice.who), { timeoutMs: 5000, what: 'alice to receive bob’s message' });
  await sleep(config.settleMs);

  for (const c of clients.splice(0)) {
    await c.xmpp.stop();
    report({ event: 'stopped', who: c.who });
  }
  report({ event: 'done' });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as RunnerConfig;
  for (const scenario of config.scenarios) {
    current = scenario.name;
    const clients: { who: string; xmpp: XmppClient }[] = [];
    try {
      await runScenario(config, scenario, clients);
    } catch (err) {
      report({ event: 'failed', message: err instanceof Error ? err.message : String(err) });
      // A failed scenario must not leave connections behind for the next one.
      await Promise.all(clients.map((c) => c.xmpp.stop().catch(() => {})));
    }
  }
}

// Hard limit: the test also kills us, but a stuck runner should say so itself.
const hardLimit = setTimeout(() => {
  report({ event: 'failed', message: 'runner hard timeout (25 s)' });
  process.exit(3);
}, 25_000);

main().then(
  () => clearTimeout(hardLimit),
  (err: unknown) => {
    report({ event: 'failed', message: err instanceof Error ? `${err.message}` : String(err) });
    clearTimeout(hardLimit);
    process.exitCode = 1;
    // Open sockets of a failed login must not keep the child alive.
    setTimeout(() => process.exit(1), 200).unref();
  },
);
