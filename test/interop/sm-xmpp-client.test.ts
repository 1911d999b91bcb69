// Interop: @xmpp/client 0.14 with XEP-0198 stream management over plain TCP on loopback.
// The client enables SM with resumption by itself; the test kills its TCP connection (at a
// proxy in between: both ends see the socket die without a stream trailer, then from the
// client side) and lets @xmpp/client's reconnect module resume. A message sent while the
// socket is dead arrives exactly once, after <resumed/>.
//
// In-process: no TLS, so no process-wide certificate trust is needed (unlike
// xmpp-client.test.ts); every client is stopped and the server closed in `after`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createNetServer, connect as netConnect, type Server as NetServer, type Socket } from 'node:net';
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import type { XmppServer } from '../../src/server.ts';
import { streamManagement, smSlot } from '../../src/ext/stream-management/index.ts';
import type { C2sContext } from '../../src/c2s/context.ts';
import { waitFor, withTimeout, sleep } from '../helpers/wait.ts';
import { startTestServer, trackConnections } from '../helpers/test-server.ts';

interface SmApi {
  enabled: boolean;
  id: string;
  inbound: number;
  on(ev: 'resumed', fn: () => void): void;
}
type SmClient = XmppClient & {
  streamManagement: SmApi;
  reconnect: { delay: number; stop(): void };
  socket?: Socket | null;
  on(ev: 'disconnect', fn: () => void): void;
};

let server: XmppServer;
let proxy: NetServer;
let proxyPort = 0;
const pairs = new Set<[Socket, Socket]>();
const clients: SmClient[] = [];
/** The server-side contexts by full JID (latest connection), captured by a hook. */
let conns: Map<string, C2sContext>;

test.before(async () => {
  const ts = await startTestServer({
    listeners: [{ kind: 'tcp', tls: 'none' }],
    users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' },
    modules: [{ module: streamManagement, options: { ackFreq: 1, resumeTimeout: 30_000 } }],
  });
  server = ts.server;
  conns = trackConnections(server);
  const target = server.addresses()[0]!;
  // A TCP proxy whose connections the test can kill.
  proxy = createNetServer((down) => {
    const up = netConnect(target.port, target.host);
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    down.pipe(up);
    up.pipe(down);
    const end = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyPort = (proxy.address() as { port: number }).port;
});

test.after(async () => {
  for (const c of clients) {
    c.reconnect.stop();
    await withTimeout(c.stop(), 3000, 'client stop').catch(() => undefined);
  }
  for (const [a, b] of pairs) {
    a.destroy();
    b.destroy();
  }
  await new Promise<void>((r) => proxy.close(() => r()));
  await server.stop();
});

function makeClient(username: string, password: string, resource: string): { xmpp: SmClient; bodies: string[] } {
  const xmpp = client({ service: `xmpp://127.0.0.1:${proxyPort}`, domain: 'localhost', username, password, resource }) as SmClient;
  const bodies: string[] = [];
  xmpp.on('stanza', (el: XmppElement) => {
    if (el.is('message')) bodies.push(el.getChildText('body') ?? '');
  });
  xmpp.on('error', () => undefined);
  xmpp.reconnect.delay = 300;
  clients.push(xmpp);
  return { xmpp, bodies };
}

const smState = (jid: string) => conns.get(jid)?.state;

test('@xmpp/client: enable with resume, acks, resume after the TCP connection is killed; the queued message arrives once', async () => {
  const alice = makeClient('alice', 'alice-secret', 'phone');
  const bob = makeClient('bob', 'bob-secret', 'pc');
  await withTimeout(alice.xmpp.start(), 5000, 'alice online');
  await withTimeout(bob.xmpp.start(), 5000, 'bob online');
  await waitFor(() => alice.xmpp.streamManagement.enabled && alice.xmpp.streamManagement.id, { what: 'SM enabled for alice' });
  const smid = alice.xmpp.streamManagement.id;
  assert.ok(smid.length > 20);

  // Normal traffic is acknowledged: the server asks <r/>, the client answers <a/>.
  await bob.xmpp.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'one')));
  await waitFor(() => alice.bodies.length === 1, { what: 'first message' });
  const aliceCtx = () => conns.get('alice@localhost/phone')!;
  await waitFor(() => aliceCtx().getModState(smSlot)?.buffer.length === 0, { what: 'server buffer emptied by the ack' });

  // Kill alice's TCP connection at the proxy: both sockets are destroyed, no trailer.
  let resumed = 0;
  alice.xmpp.streamManagement.on('resumed', () => resumed++);
  alice.xmpp.reconnect.delay = 1500;
  const oldCtx = aliceCtx();
  for (const pair of [...pairs]) if (pair[0].remotePort === alice.xmpp.socket?.localPort) pair.forEach((s) => s.destroy());
  await waitFor(() => oldCtx.state === 'external.resumable', { what: 'server: alice dormant' });
  await bob.xmpp.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'while the socket is dead')));
  await waitFor(() => oldCtx.getModState(smSlot)?.buffer.length === 1, { what: 'buffered while dormant' });

  await waitFor(() => resumed === 1, { timeoutMs: 6000, what: 'alice resumed' });
  await waitFor(() => alice.bodies.length === 2, { what: 'queued message delivered' });
  assert.is(alice.xmpp.streamManagement.id, smid, 'the same SM session');
  assert.is(oldCtx.state, 'closed', 'the old connection terminated after handing over');
  assert.ok(aliceCtx() !== oldCtx && smState('alice@localhost/phone') === 'established');

  // Then from the client side: destroy its socket.
  alice.xmpp.reconnect.delay = 300;
  const ctx2 = aliceCtx();
  alice.xmpp.socket?.destroy();
  await waitFor(() => ctx2.state === 'external.resumable', { what: 'server: alice dormant again' });
  await bob.xmpp.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'second outage')));
  await waitFor(() => resumed === 2, { timeoutMs: 6000, what: 'alice resumed again' });
  await waitFor(() => alice.bodies.length === 3, { what: 'second queued message' });
  await sleep(300);
  assert.equal(alice.bodies, ['one', 'while the socket is dead', 'second outage'], 'each message exactly once');
  assert.is(server.sessions.count(), 2);
});

test.run();
