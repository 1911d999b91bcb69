/**
 * `createTestServer`: {@link createServer} on a fake clock with in-memory storage and no
 * sockets — and {@link TestClient}, which talks to it over an in-memory transport as a client
 * would. Modules under test run exactly as in production.
 * @module
 */
import type { HookRegistry, HookErrorInfo } from '../hooks/index.ts';
import type { DomainRegistry } from '../core/domains.ts';
import { deriveCredentials } from '../core/auth/scram.ts';
import type { IqHandlerRegistry } from '../core/iq-handlers.ts';
import { Jid } from '../core/jid.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { NS } from '../core/namespaces.ts';
import type { XmppRouter } from '../core/router.ts';
import type { SessionManager, SessionManagerOptions } from '../core/session-manager.ts';
import type { AuthStore } from '../core/storage/auth-store.ts';
import type { Storage } from '../core/storage/storage.ts';
import { type XmlElement, xml } from '../core/xml/element.ts';
import { serialize } from '../core/xml/serialize.ts';
import { memoryStorage } from '../storage/memory/index.ts';
import type { C2sConnection } from '../c2s/connection.ts';
import type { ModuleInstance, XmppModule } from '../c2s/module.ts';
import type { C2sListenerOptions, C2sServices } from '../c2s/options.ts';
import type { SaslMechanism } from '../c2s/sasl/index.ts';
import { createServer, type ServerOptions, type XmppServer } from '../server.ts';
import { FakeClock } from './fake-clock.ts';
import { MemoryTransport, type MemoryTransportOptions, type ServerOutputSink } from './memory-transport.ts';
import { isScram, ScramClient } from './scram-client.ts';

/** Options of {@link createTestServer}. */
export interface TestServerOptions {
  /** Accounts: `{ 'alice@localhost': 'secret' }` (credentials are derived, never stored plain). */
  readonly users?: Readonly<Record<string, string>>;
  /** Served domains: a list (host type = domain) or `{ domain: hostType }`. Default `['localhost']`. */
  readonly domains?: readonly string[] | Readonly<Record<string, string>>;
  /** Modules enabled on every host type (a module, or `{ module, options }`). */
  readonly modules?: readonly (XmppModule<any> | ModuleInstance)[];
  /** Modules per host type (overrides `modules` for that host type). */
  readonly hostTypes?: ServerOptions['hostTypes'];
  /** Listener options (external states of the modules are added). */
  readonly listener?: C2sListenerOptions;
  readonly clock?: FakeClock;
  readonly mechanisms?: readonly SaslMechanism[];
  readonly logger?: Logger;
  /** Storage ports (default: fresh in-memory storage). */
  readonly storage?: Storage;
  /** Session manager policy knobs. */
  readonly sessionManager?: Partial<Pick<SessionManagerOptions, 'maxSessionsPerUser' | 'availableOnBind'>>;
  /** ANONYMOUS allowed (all host types). */
  readonly allowAnonymous?: boolean;
  /** PBKDF2 iterations for the test accounts (default 4096, RFC 7677's minimum). */
  readonly iterations?: number;
  /** Any other {@link createServer} option (e.g. `dynamicDomains`), applied last. */
  readonly serverOptions?: Partial<ServerOptions>;
}

/** A composed in-memory server: {@link createServer} on a fake clock, no sockets. */
export interface TestServer {
  /** The real server underneath (modules started, no listeners). */
  readonly server: XmppServer;
  readonly clock: FakeClock;
  readonly hooks: HookRegistry;
  readonly domains: DomainRegistry;
  readonly router: XmppRouter;
  readonly sessions: SessionManager;
  readonly iqHandlers: IqHandlerRegistry;
  readonly storage: Storage;
  readonly authStore: AuthStore;
  readonly listener: C2sListenerOptions;
  readonly services: C2sServices;
  /** Every connection accepted so far. */
  readonly connections: readonly C2sConnection[];
  /** Hook handler exceptions (tests usually assert it stays empty). */
  readonly hookErrors: { err: unknown; info: HookErrorInfo }[];
  /** Accept a new in-memory connection. */
  connect(opts?: MemoryTransportOptions): TestClient;
  addUser(jid: string, password: string): Promise<void>;
  /** Let pending Promises (SASL steps, async handlers) settle; never waits on timers. */
  settle(): Promise<void>;
  /** Close every connection (`system-shutdown`) and settle. */
  stop(): Promise<void>;
}

/** Build a {@link TestServer}. */
export async function createTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const clock = opts.clock ?? new FakeClock();
  const hookErrors: { err: unknown; info: HookErrorInfo }[] = [];
  const domainMap: Record<string, string> = Array.isArray(opts.domains)
    ? Object.fromEntries((opts.domains as string[]).map((d) => [d, d]))
    : { ...((opts.domains as Record<string, string> | undefined) ?? { localhost: 'localhost' }) };
  const server = createServer({
    domains: Object.entries(domainMap).map(([domain, hostType]) => ({ domain, hostType })),
    modules: opts.modules,
    hostTypes: opts.hostTypes,
    storage: opts.storage ?? memoryStorage(),
    clock,
    logger: opts.logger ?? silentLogger,
    mechanisms: opts.mechanisms,
    anonymousHostTypes: opts.allowAnonymous ? [...new Set(Object.values(domainMap))] : undefined,
    maxSessionsPerUser: opts.sessionManager?.maxSessionsPerUser,
    availableOnBind: opts.sessionManager?.availableOnBind,
    onHookError: (err, info) => hookErrors.push({ err, info }),
    connectDefaults: opts.listener,
    ...opts.serverOptions,
  });
  await server.start();
  const connections: C2sConnection[] = [];

  const addUser = async (jid: string, password: string) => {
    const j = Jid.parse(jid);
    const ht = server.domains.hostTypeOf(j.domain);
    if (ht === undefined) throw new Error(`addUser: ${j.domain} is not served`);
    await server.storage.auth.register(ht, j.domain, j.local, deriveCredentials(password, { iterations: opts.iterations ?? 4096 }));
  };
  for (const [jid, pw] of Object.entries(opts.users ?? {})) await addUser(jid, pw);

  const settle = async () => {
    // Each turn runs every queued microtask and I/O callback; stop once no connection waits.
    // Storage adapters may wait on real timers (SQLite group commit flushes every few ms), so
    // after the first quick turns yield to the timers phase too. The wall-time bound is a
    // safety net against a connection that never finishes, not a timing assertion.
    const giveUp = Date.now() + 10_000;
    for (let i = 0; Date.now() < giveUp; i++) {
      await new Promise<void>((r) => (i < 200 ? setImmediate(r) : setTimeout(r, 1)));
      if (!connections.some((c) => c.busy && !c.closed)) {
        await new Promise<void>((r) => setImmediate(r));
        if (!connections.some((c) => c.busy && !c.closed)) return;
      }
    }
    throw new Error('settle: connections still busy after 10 s');
  };

  const ts: TestServer = {
    server,
    clock,
    hooks: server.hooks,
    domains: server.domains,
    router: server.router,
    sessions: server.sessions,
    iqHandlers: server.iqHandlers,
    storage: server.storage,
    authStore: server.storage.auth,
    listener: server.connectOptions,
    services: server.services,
    connections,
    hookErrors,
    connect(topts = {}) {
      const client = new TestClient(ts, topts);
      connections.push(client.connection);
      return client;
    },
    addUser,
    settle,
    async stop() {
      for (const c of connections) if (!c.closed) c.exit('system-shutdown', 'system-shutdown');
      await settle();
      await server.stop();
    },
  };
  return ts;
}

/** Stream `to`/`from`/`version`/`xml:lang` of {@link TestClient.openStream}; `null` omits an attribute. */
export interface OpenStreamOptions {
  readonly to?: string | null;
  readonly from?: string;
  readonly version?: string | null;
  readonly lang?: string;
  /** Root namespace (default the streams namespace). */
  readonly streamNs?: string;
  /** Content namespace (default `jabber:client`). */
  readonly contentNs?: string;
}

/** Options of {@link TestClient.login}. */
export interface LoginOptions {
  readonly mechanism?: string;
  readonly resource?: string;
  /** Negotiate STARTTLS first (default `false`). */
  readonly tls?: boolean;
}

/**
 * One client of a {@link TestServer}. Sends are synchronous; server output accumulates in an
 * inbox read with {@link received} / {@link nextElement}. After a step that involves a
 * Promise on the server (SASL, async handlers) call `await client.settle()`. The high-level
 * helpers (`openStream`, `authenticate`, `bind`, `login`) settle themselves and throw with
 * the unexpected element when the server does not answer as a compliant server must.
 */
export class TestClient implements ServerOutputSink {
  readonly transport: MemoryTransport;
  readonly connection: C2sConnection;
  readonly #server: TestServer;
  #inbox: XmlElement[] = [];
  /** Attributes of the last stream header the server sent. */
  header: Readonly<Record<string, string>> | undefined;
  /** Number of stream headers received. */
  headers = 0;
  /** The server sent `</stream:stream>`. */
  trailer = false;
  /** The server closed the connection. */
  closed = false;
  /** Condition of the `<stream:error/>` received, if any. */
  streamError: string | undefined;
  /** Text of that stream error. */
  streamErrorText: string | undefined;
  /** The full JID after {@link bind}. */
  jid: string | undefined;
  #domain = 'localhost';

  constructor(server: TestServer, opts: MemoryTransportOptions = {}) {
    this.#server = server;
    this.transport = new MemoryTransport(this, opts);
    this.connection = server.server.connect(this.transport, server.listener);
  }

  // ---------------------------------------------------------------- ServerOutputSink
  /** @internal */
  onHeader(attrs: Readonly<Record<string, string>>): void {
    this.header = attrs;
    this.headers++;
  }
  /** @internal */
  onElement(el: XmlElement): void {
    if (el.name === 'error' && el.ns === NS.STREAMS) {
      const cond = el.elements().find((c) => c.ns === NS.STREAM_ERRORS && c.name !== 'text');
      this.streamError = cond?.name;
      this.streamErrorText = el.getChild('text', NS.STREAM_ERRORS)?.text();
    }
    this.#inbox.push(el);
  }
  /** @internal */
  onTrailer(): void {
    this.trailer = true;
  }
  /** @internal */
  onClose(): void {
    this.closed = true;
  }

  // ---------------------------------------------------------------- low level

  /** Send raw text or an element (serialised in the `jabber:client` scope). */
  send(data: string | XmlElement): void {
    this.transport.clientWrite(typeof data === 'string' ? data : serialize(data, { defaultNs: NS.CLIENT }));
  }

  /** Let the server finish pending asynchronous work (no real waiting). */
  settle(): Promise<void> {
    return this.#server.settle();
  }

  /** Everything received and not yet read; empties the inbox. */
  received(): XmlElement[] {
    const out = this.#inbox;
    this.#inbox = [];
    return out;
  }

  /** Remove and return the first received element matching `predicate` (any element when omitted). */
  nextElement(predicate?: (el: XmlElement) => boolean): XmlElement | undefined {
    const i = predicate ? this.#inbox.findIndex(predicate) : this.#inbox.length > 0 ? 0 : -1;
    if (i < 0) return undefined;
    return this.#inbox.splice(i, 1)[0];
  }

  /** {@link nextElement}, throwing (with what was received) when nothing matches. */
  expect(predicate: (el: XmlElement) => boolean, what = 'element'): XmlElement {
    const el = this.nextElement(predicate);
    if (el === undefined) {
      throw new Error(`expected ${what}; received: ${this.#inbox.map((e) => serialize(e, { defaultNs: NS.CLIENT })).join(' ') || 'nothing'}${this.streamError ? ` (stream error ${this.streamError})` : ''}`);
    }
    return el;
  }

  /** The client's socket closes. */
  closeSocket(): void {
    this.transport.clientClose();
  }

  // ---------------------------------------------------------------- negotiation helpers

  /** Send a stream header; returns the `<stream:features/>` answer. */
  async openStream(opts: OpenStreamOptions = {}): Promise<XmlElement> {
    this.sendStreamHeader(opts);
    await this.settle();
    return this.expect((e) => e.name === 'features' && e.ns === NS.STREAMS, 'stream features');
  }

  /** Send a stream header only (for tests of header errors). */
  sendStreamHeader(opts: OpenStreamOptions = {}): void {
    const to = opts.to === undefined ? this.#domain : opts.to;
    if (to !== null) this.#domain = to;
    const version = opts.version === undefined ? '1.0' : opts.version;
    let s = `<stream:stream xmlns='${opts.contentNs ?? NS.CLIENT}' xmlns:stream='${opts.streamNs ?? NS.STREAMS}'`;
    if (to !== null) s += ` to='${to}'`;
    if (opts.from !== undefined) s += ` from='${opts.from}'`;
    if (version !== null) s += ` version='${version}'`;
    if (opts.lang !== undefined) s += ` xml:lang='${opts.lang}'`;
    this.send(s + '>');
  }

  /** STARTTLS (fake upgrade) and a new stream; returns the new features. */
  async startTls(): Promise<XmlElement> {
    this.send(`<starttls xmlns='${NS.TLS}'/>`);
    await this.settle();
    this.expect((e) => e.name === 'proceed' && e.ns === NS.TLS, '<proceed/>');
    return this.openStream();
  }

  /**
   * SASL-authenticate as `user` (localpart) and restart the stream; returns the post-auth
   * features. Throws when the server answers `<failure/>`.
   */
  async authenticate(user: string, password: string, mechanism = 'PLAIN'): Promise<XmlElement> {
    const ok = await this.trySasl(user, password, mechanism);
    if (ok !== true) throw new Error(`SASL ${mechanism} failed: ${ok}`);
    return this.openStream();
  }

  /**
   * One SASL exchange; `true` on `<success/>`, else the failure condition (no stream restart).
   */
  async trySasl(user: string, password: string, mechanism = 'PLAIN'): Promise<true | string> {
    const isSasl = (e: XmlElement) => e.ns === NS.SASL && (e.name === 'challenge' || e.name === 'success' || e.name === 'failure');
    const finish = (e: XmlElement): true | string => (e.name === 'success' ? true : (e.elements()[0]?.name ?? 'failure'));
    if (mechanism === 'PLAIN') {
      this.send(xml('auth', { xmlns: NS.SASL, mechanism }, Buffer.from(`\0${user}\0${password}`).toString('base64')));
      await this.settle();
      return finish(this.expect(isSasl, 'SASL answer'));
    }
    if (mechanism === 'ANONYMOUS') {
      // RFC 4505: an optional trace token; `=` is an empty initial response (RFC 6120 §6.4.2).
      this.send(xml('auth', { xmlns: NS.SASL, mechanism }, '='));
      await this.settle();
      return finish(this.expect(isSasl, 'SASL answer'));
    }
    if (!isScram(mechanism)) throw new Error(`TestClient cannot do ${mechanism}`);
    const scram = new ScramClient(mechanism, user, password, this.transport.channelBinding('tls-exporter'));
    this.send(xml('auth', { xmlns: NS.SASL, mechanism }, scram.first().toString('base64')));
    await this.settle();
    const challenge = this.expect(isSasl, 'SASL challenge');
    if (challenge.name !== 'challenge') return finish(challenge);
    this.send(xml('response', { xmlns: NS.SASL }, scram.final(Buffer.from(challenge.text(), 'base64')).toString('base64')));
    await this.settle();
    const last = this.expect(isSasl, 'SASL outcome');
    if (last.name === 'success' && !scram.verify(Buffer.from(last.text(), 'base64'))) throw new Error('server signature did not verify');
    return finish(last);
  }

  /** Bind `resource` (server-generated when omitted); returns the full JID. */
  async bind(resource?: string): Promise<string> {
    const id = `bind-${Math.random().toString(36).slice(2)}`;
    this.send(xml('iq', { type: 'set', id }, xml('bind', { xmlns: NS.BIND }, resource !== undefined && xml('resource', null, resource))));
    await this.settle();
    const res = this.expect((e) => e.name === 'iq' && e.attrs.id === id, 'bind result');
    if (res.attrs.type !== 'result') throw new Error(`bind failed: ${serialize(res)}`);
    this.jid = res.getChild('bind', NS.BIND)?.getChildText('jid');
    if (this.jid === undefined) throw new Error('bind result without <jid/>');
    if (this.#server.listener.legacySession) {
      const sid = `sess-${id}`;
      this.send(xml('iq', { type: 'set', id: sid }, xml('session', { xmlns: NS.SESSION })));
      await this.settle();
      const s = this.expect((e) => e.name === 'iq' && e.attrs.id === sid, 'session result');
      if (s.attrs.type !== 'result') throw new Error(`session failed: ${serialize(s)}`);
    }
    return this.jid;
  }

  /** Open a stream, (optionally STARTTLS,) authenticate and bind. Returns the full JID. */
  async login(jid: string, password: string, opts: LoginOptions = {}): Promise<string> {
    const j = Jid.parse(jid);
    await this.openStream({ to: j.domain });
    if (opts.tls) await this.startTls();
    await this.authenticate(j.local, password, opts.mechanism ?? 'PLAIN');
    return this.bind(opts.resource ?? (j.resource || undefined));
  }
}
