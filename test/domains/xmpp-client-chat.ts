/**
 * Child-process side of `interop.test.ts`: two @xmpp/client 0.14 accounts, each in its own
 * domain, log in to one service, exchange a message each way and stop. Reports JSON lines.
 *
 * Usage: node --import tsx xmpp-client-chat.ts '<json ChatConfig>'
 * @module
 */
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import { sleep, waitFor } from '../helpers/wait.ts';

/** What the test passes in argv[2]. */
export interface ChatConfig {
  readonly service: string;
  readonly accounts: readonly { readonly username: string; readonly domain: string; readonly password: string; readonly resource: string }[];
}

export type ChatReport =
  | { event: 'online'; who: string; jid: string }
  | { event: 'received'; who: string; from: string; body: string | null }
  | { event: 'error'; who: string; message: string }
  | { event: 'done' }
  | { event: 'failed'; message: string };

const report = (r: ChatReport) => process.stdout.write(JSON.stringify(r) + '\n');
async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChatConfig;
  const received: { who: string; body: string | null }[] = [];
  const clients: { who: string; xmpp: XmppClient }[] = [];
  try {
    for (const a of config.accounts) {
      const who = `${a.username}@${a.domain}`;
      const xmpp = client({ service: config.service, domain: a.domain, resource: a.resource, username: a.username, password: a.password });
      xmpp.reconnect.stop();
      xmpp.on('error', (err) => report({ event: 'error', who, message: err.message }));
      xmpp.on('stanza', (st: XmppElement) => {
        if (!st.is('message')) return;
        const body = st.getChildText('body');
        received.push({ who, body });
        report({ event: 'received', who, from: st.attrs.from ?? '', body });
      });
      clients.push({ who, xmpp });
      const jid = await xmpp.start();
      report({ event: 'online', who, jid: jid.toString() });
    }
    const [a, b] = clients;
    await a!.xmpp.send(xml('message', { to: b!.xmpp.jid!.bare().toString(), type: 'chat' }, xml('body', {}, 'hello across domains')));
    await waitFor(() => received.some((r) => r.who === b!.who), { timeoutMs: 5000, what: 'the first message' });
    await b!.xmpp.send(xml('message', { to: a!.xmpp.jid!.toString(), type: 'chat' }, xml('body', {}, 'hello back')));
    await waitFor(() => received.some((r) => r.who === a!.who), { timeoutMs: 5000, what: 'the reply' });
    await sleep(200);
    report({ event: 'done' });
  } finally {
    for (const c of clients) await c.xmpp.stop().catch(() => {});
  }
}

const hardLimit = setTimeout(() => {
  report({ event: 'failed', message: 'hard timeout (20 s)' });
  process.exit(3);
}, 20_000);
main().then(
  () => clearTimeout(hardLimit),
  (err: unknown) => {
    report({ event: 'failed', message: err instanceof Error ? err.message : String(err) });
    clearTimeout(hardLimit);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
  },
);
