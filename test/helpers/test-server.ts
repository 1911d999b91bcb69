/**
 * A real server on ephemeral loopback ports for integration tests: STARTTLS, direct TLS and
 * WebSocket listeners with a self-signed certificate, accounts created up front.
 * @module
 */
import { createServer, type ListenerConfig, type ServerOptions, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { selfSignedCertificate, type PemCertificate } from '../../src/c2s/certificate.ts';
import { createLogger } from '../../src/core/logger.ts';
import { xmppSendElement } from '../../src/c2s/hooks.ts';
import type { C2sContext } from '../../src/c2s/context.ts';

let certificate: Promise<PemCertificate> | undefined;

/** One self-signed certificate for `localhost` per test process (generating one takes a while). */
export function testCertificate(): Promise<PemCertificate> {
  certificate ??= selfSignedCertificate(['localhost']);
  return certificate;
}

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** Listeners; default: TCP with STARTTLS, direct TLS, WebSocket (in that order). */
  readonly listeners?: readonly Omit<ListenerConfig, 'port' | 'host' | 'certificate'>[];
  /** Accounts to create: `{ 'alice@localhost': 'secret' }`. */
  readonly users?: Readonly<Record<string, string>>;
  readonly domains?: readonly string[];
  /** Modules enabled on every host type; default none. */
  readonly modules?: ServerOptions['modules'];
}

/** A started server and its bound addresses. */
export interface TestServer {
  readonly server: XmppServer;
  readonly certificate: PemCertificate;
  /** Bound address of listener `i` (in the order given). */
  address(i: number): { host: string; port: number; path?: string | undefined };
  stop(): Promise<void>;
}

/** Default listeners: STARTTLS on TCP, direct TLS, WebSocket. */
export const DEFAULT_LISTENERS = [
  { kind: 'tcp', tls: 'optional' },
  { kind: 'tcp', tls: 'direct' },
  { kind: 'websocket' },
] as const satisfies readonly Omit<ListenerConfig, 'port'>[];

/** Start a server on 127.0.0.1, ephemeral ports. Always `stop()` it in a `finally`. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const cert = await testCertificate();
  const listeners = (opts.listeners ?? DEFAULT_LISTENERS).map(
    (l): ListenerConfig => ({ ...l, port: 0, host: '127.0.0.1', ...(l.kind !== 'websocket' && l.tls !== 'none' && { certificate: cert }) }),
  );
  const server = createServer({
    domains: opts.domains ?? ['localhost'],
    listeners,
    storage: memoryStorage(),
    ...(opts.modules && { modules: opts.modules }),
    // Quiet unless asked for (XMPP_BLOCKS_LOG=debug npx tsx test/interop/…).
    logger: createLogger((process.env.XMPP_BLOCKS_LOG as 'debug' | undefined) ?? 'silent'),
  });
  await server.start();
  try {
    for (const [jid, password] of Object.entries(opts.users ?? {})) await server.users.add(jid, password);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    server,
    certificate: cert,
    address(i) {
      const a = server.addresses()[i];
      if (!a) throw new Error(`no listener #${i}`);
      // `path` is set on WebSocket listeners.
      return { host: a.host, port: a.port, path: (a as { path?: string }).path };
    },
    stop: () => server.stop(),
  };
}

/** The server-side context of each full JID's latest connection on `domain`, kept up to date by a hook on every element sent. */
export function trackConnections(server: XmppServer, domain = 'localhost'): Map<string, C2sContext> {
  const conns = new Map<string, C2sContext>();
  server.hooks.add(xmppSendElement, domain, (_ef, p) => {
    if (p.conn.jid?.resource) conns.set(p.conn.jid.toString(), p.conn);
  });
  return conns;
}
