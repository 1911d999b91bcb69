/**
 * A listener: accepts client connections on one port and hands each one, wrapped in an
 * {@link XmppTransport}, to the server. It owns sockets only until the hand-off; the server
 * (connection) closes what it was given.
 * @module
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { XmppTransport } from '../transport.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import { NS } from '../../core/namespaces.ts';
import type { TokenizerKind } from '../../core/xml/tokenizer.ts';
import { TcpTransport, isLoopback } from './tcp.ts';
import { WebSocketTransport, XMPP_SUBPROTOCOL } from './websocket.ts';
import { DEFAULT_SHAPER_RATE, TokenBucketShaper } from './shaper.ts';
import { tlsServerEndPoint } from './channel-binding.ts';

/** How TLS is offered. */
export type TlsMode = 'none' | 'optional' | 'required' | 'direct';

/** A PEM key and certificate (chain). */
export interface CertificateOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** Options of {@link XmppListener}. */
export interface ListenerOptions {
  /** `tcp` (RFC 6120, STARTTLS / direct TLS) or `websocket` (RFC 7395). Default `tcp`. */
  readonly kind?: 'tcp' | 'websocket' | undefined;
  /** Port; 0 picks a free one (see {@link XmppListener.address}). */
  readonly port: number;
  /** Default `127.0.0.1`: exposing a server is an explicit decision. */
  readonly host?: string | undefined;
  /**
   * `none`: plain only. `optional`: STARTTLS offered. `required`: STARTTLS offered and required
   * before authentication (enforced by the connection). `direct`: TLS from the first byte
   * (XEP-0368; for WebSocket: `wss://`). Default: `optional` with a certificate, else `none`.
   */
  readonly tls?: TlsMode | undefined;
  /** Needed by every mode but `none`. */
  readonly certificate?: CertificateOptions | undefined;
  /** Largest stanza in bytes (default 65536, issue 4): larger → `policy-violation`. */
  readonly maxStanzaSize?: number | undefined;
  /**
   * Who finds the start tags in the XML parser: `'sax-wasm'` (default) or `'builtin'` (the
   * element builder alone, 1.7–1.9× the parse throughput); see {@link TokenizerKind}.
   */
  readonly tokenizer?: TokenizerKind | undefined;
  /** Pre-session state timeout in ms (default 5000; enforced by the connection). */
  readonly stateTimeout?: number | undefined;
  /** Alias of {@link stateTimeout}. */
  readonly stateTimeoutMs?: number | undefined;
  /**
   * Per-connection read rate in bytes/s (token bucket, rate = burst). Default
   * {@link DEFAULT_SHAPER_RATE} (1 MiB/s); `false` disables shaping.
   */
  readonly shaper?: number | { readonly bytesPerSecond: number } | false | undefined;
  /** Open connections before new ones are refused with `resource-constraint`. Default 100 000. */
  readonly maxConnections?: number | undefined;
  /** Offer the RFC 3921 session establishment (`<session/>`). Default `false`. */
  readonly legacySession?: boolean | undefined;
  /**
   * Whether PLAIN-style mechanisms may run on an unencrypted connection from any peer. Default
   * `false`: only from loopback (127.0.0.0/8, ::1) — a local test client needs no certificate,
   * a password never crosses a network in clear.
   */
  readonly allowPlainWithoutTls?: boolean | undefined;
  /** WebSocket: the HTTP path (default `/xmpp-websocket`). */
  readonly path?: string | undefined;
  /** WebSocket: treat connections as secure (behind a TLS-terminating proxy). Default `false`. */
  readonly secure?: boolean | undefined;
  /** TLS handshake limit (default 5000 ms). */
  readonly tlsHandshakeTimeout?: number | undefined;
  /** Same as {@link ListenerDeps.clock} (either place). */
  readonly clock?: Clock | undefined;
  /** Same as {@link ListenerDeps.logger} (either place). */
  readonly logger?: Logger | undefined;
}

/** Where a listener is bound, and what it speaks there. */
export interface ListenerAddress {
  readonly host: string;
  readonly port: number;
  readonly kind: 'tcp' | 'websocket';
  readonly tls: TlsMode;
  /** WebSocket only: the HTTP path. */
  readonly path?: string | undefined;
}

/** {@link ListenerOptions} with every default applied. */
export interface ResolvedListenerOptions {
  readonly kind: 'tcp' | 'websocket';
  readonly port: number;
  readonly host: string;
  readonly tls: TlsMode;
  readonly certificate: CertificateOptions | undefined;
  readonly maxStanzaSize: number;
  readonly tokenizer: TokenizerKind;
  readonly stateTimeout: number;
  readonly shaper: number | false;
  readonly maxConnections: number;
  readonly legacySession: boolean;
  readonly allowPlainWithoutTls: boolean;
  readonly path: string;
  readonly secure: boolean;
  readonly tlsHandshakeTimeout: number;
}

/** Apply defaults and check consistency. */
export function resolveListenerOptions(o: ListenerOptions): ResolvedListenerOptions {
  const tls = o.tls ?? (o.certificate ? 'optional' : 'none');
  if (tls !== 'none' && o.certificate === undefined) throw new Error(`listener on port ${o.port}: tls '${tls}' needs a certificate`);
  const kind = o.kind ?? 'tcp';
  if (kind === 'websocket' && (tls === 'optional' || tls === 'required')) throw new Error(`listener on port ${o.port}: WebSocket has no STARTTLS; use tls 'direct' (wss) or 'none'`);
  return {
    kind,
    port: o.port,
    host: o.host ?? '127.0.0.1',
    tls,
    certificate: o.certificate,
    maxStanzaSize: o.maxStanzaSize ?? 65536,
    tokenizer: o.tokenizer ?? 'sax-wasm',
    stateTimeout: o.stateTimeout ?? o.stateTimeoutMs ?? 5000,
    shaper: typeof o.shaper === 'object' ? o.shaper.bytesPerSecond : (o.shaper ?? DEFAULT_SHAPER_RATE),
    maxConnections: o.maxConnections ?? 100_000,
    legacySession: o.legacySession ?? false,
    allowPlainWithoutTls: o.allowPlainWithoutTls ?? false,
    path: o.path ?? '/xmpp-websocket',
    secure: o.secure ?? false,
    tlsHandshakeTimeout: o.tlsHandshakeTimeout ?? 5000,
  };
}

/** Injected services. */
export interface ListenerDeps {
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

// RFC 6120 §4.9.1.1: a stream error needs a stream header first, so an over-limit client gets
// our header, <resource-constraint/> (§4.9.3.17) and the trailer at once, without waiting for
// its own header — the cheapest polite refusal a client library can report.
const REFUSAL =
  `<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAMS}' version='1.0'>` +
  `<stream:error><resource-constraint xmlns='${NS.STREAM_ERRORS}'/><text xmlns='${NS.STREAM_ERRORS}' xml:lang='en'>Too many connections</text></stream:error></stream:stream>`;

/** One listening port. See the module comment. */
export class XmppListener {
  readonly options: ResolvedListenerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #secureContext: SecureContext | undefined;
  readonly #serverEndPoint: Buffer | undefined;
  #server: NetServer | HttpServer | undefined;
  #wss: WebSocketServer | undefined;
  #connections = 0;
  #onTransport: ((t: XmppTransport) => void) | undefined;

  constructor(options: ListenerOptions, deps: ListenerDeps = {}) {
    this.options = resolveListenerOptions(options);
    this.#clock = deps.clock ?? options.clock ?? systemClock;
    this.#logger = deps.logger ?? options.logger ?? silentLogger;
    const cert = this.options.certificate;
    if (cert !== undefined) {
      this.#secureContext = createSecureContext({ key: cert.key, cert: cert.cert, minVersion: 'TLSv1.2' });
      try {
        this.#serverEndPoint = tlsServerEndPoint(firstPem(cert.cert));
      } catch (err) {
        this.#logger.warn({ err: String(err) }, 'cannot compute tls-server-end-point for the certificate');
      }
    }
  }

  /** Open connections handed out and not closed yet (and refused ones being closed). */
  get connectionCount(): number {
    return this.#connections;
  }

  /** Whether a PLAIN-style mechanism may run on `transport` (policy `allowPlainWithoutTls`). */
  plainAllowed(transport: XmppTransport): boolean {
    if (transport.isSecure()) return true;
    return this.options.allowPlainWithoutTls || isLoopback(transport.remoteAddress);
  }

  /** Start listening; `onTransport` receives every accepted connection. */
  start(onTransport: (t: XmppTransport) => void): Promise<void> {
    if (this.#server !== undefined) return Promise.reject(new Error('listener already started'));
    this.#onTransport = onTransport;
    const o = this.options;
    let server: NetServer | HttpServer;
    if (o.kind === 'websocket') {
      server = o.tls === 'direct' ? createHttpsServer({ key: o.certificate!.key, cert: o.certificate!.cert, handshakeTimeout: o.tlsHandshakeTimeout }) : createHttpServer();
      server.on('request', (_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'close' }).end('XMPP over WebSocket (RFC 7395) only\n');
      });
      this.#wss = new WebSocketServer({ noServer: true, maxPayload: 2 * o.maxStanzaSize, perMessageDeflate: false, handleProtocols: () => XMPP_SUBPROTOCOL });
      server.on('upgrade', this.#onUpgrade);
    } else if (o.tls === 'direct') {
      server = createTlsServer({ key: o.certificate!.key, cert: o.certificate!.cert, minVersion: 'TLSv1.2', handshakeTimeout: o.tlsHandshakeTimeout, requestCert: false });
      server.on('secureConnection', (s: TLSSocket) => this.#accept(s));
      server.on('tlsClientError', (err) => this.#logger.debug({ err: String(err) }, 'TLS handshake failed'));
    } else {
      server = createNetServer();
      server.on('connection', (s: Socket) => this.#accept(s));
    }
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.removeListener('error', reject);
        server.on('error', (err) => this.#logger.error({ err: String(err) }, 'listener error'));
        resolve();
      });
    });
  }

  /**
   * Stop accepting connections. Open connections are left to the server, which closes them
   * (graceful shutdown sends `system-shutdown` first).
   */
  stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    this.#server = undefined;
    // The promise resolves once the listening socket is closed; server.close()'s own callback
    // would wait for every accepted connection, which belong to the server now.
    return new Promise<void>((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close();
      this.#wss?.close();
      setImmediate(resolve);
    });
  }

  /** The bound address (after {@link start}). */
  address(): ListenerAddress {
    const a = this.#server?.address();
    if (a === null || a === undefined || typeof a === 'string') throw new Error('listener not started');
    const o = this.options;
    return { host: a.address, port: a.port, kind: o.kind, tls: o.tls, ...(o.kind === 'websocket' && { path: o.path }) };
  }

  #track(s: { once(ev: 'close', f: () => void): unknown }): void {
    this.#connections++;
    s.once('close', () => this.#connections--);
  }

  #accept(socket: Socket): void {
    const o = this.options;
    if (this.#connections >= o.maxConnections) {
      socket.on('error', () => {});
      socket.end(REFUSAL);
      const t = this.#clock.setTimeout(() => socket.destroy(), 5000);
      socket.once('close', () => this.#clock.clearTimeout(t));
      return;
    }
    this.#track(socket);
    const transport = new TcpTransport(socket, {
      maxStanzaSize: o.maxStanzaSize,
      tokenizer: o.tokenizer,
      secureContext: o.tls === 'optional' || o.tls === 'required' ? this.#secureContext : undefined,
      serverEndPoint: this.#serverEndPoint,
      shaper: o.shaper === false ? undefined : new TokenBucketShaper(o.shaper, this.#clock),
      tlsHandshakeTimeout: o.tlsHandshakeTimeout,
      clock: this.#clock,
      logger: this.#logger,
    });
    this.#handOver(transport);
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const o = this.options;
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    let refusal: string | undefined;
    if (path !== o.path) refusal = '404 Not Found';
    // RFC 7395 §3.2: the handshake must negotiate the `xmpp` subprotocol.
    else if (!protocols.includes(XMPP_SUBPROTOCOL)) refusal = '400 Bad Request';
    else if (this.#connections >= o.maxConnections) refusal = '503 Service Unavailable';
    if (refusal !== undefined) {
      socket.end(`HTTP/1.1 ${refusal}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    this.#wss!.handleUpgrade(req, socket, head, (ws) => {
      this.#track(ws);
      const raw = req.socket as Socket & { encrypted?: boolean };
      const transport = new WebSocketTransport(ws, raw, {
        maxStanzaSize: o.maxStanzaSize,
        tokenizer: o.tokenizer,
        secure: o.secure,
        serverEndPoint: this.#serverEndPoint,
        shaper: o.shaper === false ? undefined : new TokenBucketShaper(o.shaper, this.#clock),
        clock: this.#clock,
        logger: this.#logger,
      });
      this.#handOver(transport);
    });
  };

  #handOver(t: XmppTransport): void {
    try {
      this.#onTransport!(t);
    } catch (err) {
      this.#logger.error({ err: err instanceof Error ? err.message : String(err) }, 'onTransport threw; closing the connection');
      t.close();
    }
  }
}

/** The first certificate of a PEM chain (the server's own). */
function firstPem(cert: string | Buffer): string | Buffer {
  const s = typeof cert === 'string' ? cert : cert.toString('latin1');
  const end = s.indexOf('-----END CERTIFICATE-----');
  if (!s.includes('-----BEGIN CERTIFICATE-----') || end < 0) return cert;
  return s.slice(s.indexOf('-----BEGIN CERTIFICATE-----'), end + '-----END CERTIFICATE-----'.length);
}

/** Alias of {@link XmppListener}. */
export { XmppListener as Listener };
