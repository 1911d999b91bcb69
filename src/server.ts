/**
 * The composition root: `createServer(options)` wires the blocks — domains and host types,
 * the hook registry, router, session manager, IQ handlers, modules per host type, storage and
 * listeners — into a running XMPP server. Everything it builds is reachable on the returned
 * {@link XmppServer}, so an application can add hooks, IQ handlers or transports of its own.
 *
 * ```ts
 * const server = createServer({
 *   domains: ['example.com'],
 *   listeners: [{ kind: 'tcp', port: 5222, tls: 'optional', certificate }],
 *   storage: sqliteStorage({ path: 'data/xmpp.sqlite' }),
 * });
 * await server.start();
 * ```
 * @module
 */
import { HookRegistry, type HookErrorInfo } from './hooks/index.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { type Logger, createLogger } from './core/logger.ts';
import { DomainRegistry } from './core/domains.ts';
import { IqHandlerRegistry } from './core/iq-handlers.ts';
import { XmppRouter } from './core/router.ts';
import { SessionManager } from './core/session-manager.ts';
import { Jid } from './core/jid.ts';
import type { TokenizerKind } from './core/xml/tokenizer.ts';
import { deriveCredentialsAsync } from './core/auth/scram.ts';
import { removeUserEverywhere, type Storage } from './core/storage/index.ts';
import { removeUser as removeUserHook, type RemovalAcc } from './core/server-hooks.ts';
import { memoryStorage } from './storage/memory/index.ts';
import { C2sConnection, machineFor } from './c2s/connection.ts';
import type { C2sListenerOptions, C2sServices } from './c2s/options.ts';
import type { SaslMechanism } from './c2s/sasl/index.ts';
import { externalStatesOf, startModule, type ModuleHost, type XmppModule } from './c2s/module.ts';
import type { XmppTransport } from './c2s/transport.ts';
import type { PemCertificate } from './c2s/certificate.ts';
import { Listener, type ListenerAddress } from './c2s/transports/listener.ts';
import { DynamicDomains, type DomainCloseReason } from './core/dynamic-domains.ts';
import { startAdminServer, type AdminOptions, type AdminServer } from './admin/index.ts';

/** A module enabled with options, or just the module (its defaults). */
export type ModuleUse = XmppModule<any> | { readonly module: XmppModule<any>; readonly options?: object | undefined };

/** Configuration of one host type (the unit of configuration, reference §7). */
export interface HostTypeConfig {
  /** Modules enabled for this host type (replaces {@link ServerOptions.modules} for it). */
  readonly modules?: readonly ModuleUse[] | undefined;
}

/** One network listener. */
export interface ListenerConfig {
  /** `tcp` (RFC 6120, with STARTTLS or direct TLS) or `websocket` (RFC 7395). Default `tcp`. */
  readonly kind?: 'tcp' | 'websocket' | undefined;
  /** Port; `0` picks a free one (see {@link XmppServer.addresses}). */
  readonly port: number;
  /** Bind address (default `127.0.0.1`). */
  readonly host?: string | undefined;
  /**
   * `none`: no TLS. `optional` (default when a certificate is given): STARTTLS offered.
   * `required`: STARTTLS must come before SASL. `direct`: TLS from the first byte (XEP-0368).
   */
  readonly tls?: 'none' | 'optional' | 'required' | 'direct' | undefined;
  readonly certificate?: PemCertificate | undefined;
  /** Largest stanza in bytes (default 65536); larger → `policy-violation`. */
  readonly maxStanzaSize?: number | undefined;
  /**
   * Who finds the start tags in the XML parser: `'sax-wasm'` (default) or `'builtin'` (the
   * element builder alone, 1.7–1.9× the parse throughput); see {@link TokenizerKind}.
   */
  readonly tokenizer?: TokenizerKind | undefined;
  /** Pre-session state timeout in ms (default 5000). */
  readonly stateTimeoutMs?: number | undefined;
  /** Read rate limit per connection in bytes/s (token bucket; default generous). */
  readonly shaper?: { readonly bytesPerSecond: number } | undefined;
  /** Connections accepted at once (default unlimited). */
  readonly maxConnections?: number | undefined;
  /** Require the RFC 3921 session IQ after bind (default `false`). */
  readonly legacySession?: boolean | undefined;
  /** Offer PLAIN without TLS to non-loopback peers (default `false`). */
  readonly allowPlainWithoutTls?: boolean | undefined;
  /** WebSocket path (default `/xmpp-websocket`). */
  readonly path?: string | undefined;
}

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Static domains: a name (its own host type) or `{ domain, hostType }`. */
  readonly domains: readonly (string | { readonly domain: string; readonly hostType: string })[];
  /** Per host type configuration. */
  readonly hostTypes?: Readonly<Record<string, HostTypeConfig>> | undefined;
  /** Modules enabled on every host type that has no `modules` of its own. */
  readonly modules?: readonly ModuleUse[] | undefined;
  readonly listeners?: readonly ListenerConfig[] | undefined;
  /** Storage ports (default: in-memory). */
  readonly storage?: Storage | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  /** Sessions one account may have at once; the oldest is replaced (default 100). */
  readonly maxSessionsPerUser?: number | undefined;
  /** How long `stop()` waits for connections to finish closing (default 5000 ms). */
  readonly shutdownTimeoutMs?: number | undefined;
  /**
   * `true` (default, MongooseIM): a bound resource is available with priority 0 before any
   * presence; `false`: available only after initial presence (RFC 6121 §4.2 reading).
   */
  readonly availableOnBind?: boolean | undefined;
  /** SASL mechanisms in preference order (default: SCRAM-SHA-512/256/1 with -PLUS, PLAIN). */
  readonly mechanisms?: readonly SaslMechanism[] | undefined;
  /** Host types on which SASL ANONYMOUS is offered (default none). */
  readonly anonymousHostTypes?: readonly string[] | undefined;
  /** Called when a hook handler throws (default: logged). */
  readonly onHookError?: ((err: unknown, info: HookErrorInfo) => void) | undefined;
  /** Defaults for connections attached with {@link XmppServer.connect}. */
  readonly connectDefaults?: Partial<C2sListenerOptions> | undefined;
  /**
   * Dynamic domains (reference §7): domains of these host types live in `storage.domains`, are
   * loaded at start and followed by polling its change feed (see `src/core/dynamic-domains.ts`).
   * Each host type's modules come from {@link hostTypes} (or {@link modules}).
   */
  readonly dynamicDomains?: { readonly hostTypes: readonly string[]; readonly pollIntervalMs?: number | undefined; readonly keepEvents?: number | undefined } | undefined;
  /** The HTTP admin API (`src/admin`), started and stopped with the server. */
  readonly admin?: AdminOptions | undefined;
}

/** Account management bound to the server's storage and domains. */
export interface UserAdmin {
  /** Create an account; throws if the domain is not served or the account exists. */
  add(jid: string, password: string): Promise<void>;
  /** Delete an account and all its data; closes its sessions. */
  remove(jid: string): Promise<void>;
  setPassword(jid: string, password: string): Promise<void>;
  exists(jid: string): Promise<boolean>;
  list(domain: string): Promise<string[]>;
}

/** A composed server. */
export interface XmppServer {
  readonly hooks: HookRegistry;
  readonly domains: DomainRegistry;
  readonly iqHandlers: IqHandlerRegistry;
  readonly router: XmppRouter;
  readonly sessions: SessionManager;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly users: UserAdmin;
  /** Start modules and listeners. */
  start(): Promise<void>;
  /** Graceful stop: stop accepting, `system-shutdown` to every client, wait for them, stop modules. */
  stop(): Promise<void>;
  /** Bound addresses, in listener order (after `start`). */
  addresses(): ListenerAddress[];
  /** What modules are started with (start one yourself with `startModule(server.moduleHost, m, hostType)`). */
  readonly moduleHost: ModuleHost;
  /** What every connection is given (hooks, clock, router, session manager, auth store…). */
  readonly services: C2sServices;
  /**
   * The c2s options used by {@link connect} when none are given: `connectDefaults` plus the
   * external states of the enabled modules. One object, so its machine is built once.
   */
  readonly connectOptions: C2sListenerOptions;
  /**
   * Attach a connection on a transport of your own (tests, custom transports). Pass the same
   * options object for every connection of a kind: the machine is built once per object.
   */
  connect(transport: XmppTransport, listener?: C2sListenerOptions): C2sConnection;
  /** Live connections (any state). */
  connectionCount(): number;
  /** Runtime domain management (present with the `dynamicDomains` or `admin` option). */
  readonly dynamicDomains: DynamicDomains | undefined;
  /** Bound address of the admin API (after `start`, with the `admin` option). */
  adminAddress(): { host: string; port: number } | undefined;
}

function moduleOf(use: ModuleUse): { module: XmppModule<any>; options: object | undefined } {
  return 'kind' in use ? { module: use, options: undefined } : { module: use.module, options: use.options };
}

/** Compose a server from its blocks. Nothing listens until {@link XmppServer.start}. */
export function createServer(options: ServerOptions): XmppServer {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const storage = options.storage ?? memoryStorage();
  const hooks = new HookRegistry({
    onError:
      options.onHookError ??
      ((err, info) => logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), hook: info.hookName, tag: info.tag }, 'hook handler failed')),
  });
  const domains = new DomainRegistry();
  for (const d of options.domains) {
    if (typeof d === 'string') domains.addStatic(d, d);
    else domains.addStatic(d.domain, d.hostType);
  }
  const iqHandlers = new IqHandlerRegistry({ logger });
  const router = new XmppRouter({ hooks, domains, iqHandlers, logger });
  const sessions = new SessionManager({
    hooks,
    router,
    iqHandlers,
    logger,
    store: storage.sessions,
    maxSessionsPerUser: options.maxSessionsPerUser,
    availableOnBind: options.availableOnBind,
    userExists: (jid, hostType) => storage.auth.exists(hostType, jid.domain, jid.local),
  });
  router.setUserRouter(sessions);

  const hostTypes = [...new Set([...options.domains.map((d) => (typeof d === 'string' ? d : d.hostType)), ...(options.dynamicDomains?.hostTypes ?? [])])];
  const modulesFor = (ht: string) => (options.hostTypes?.[ht]?.modules ?? options.modules ?? []).map(moduleOf);
  const allModules = new Set(hostTypes.flatMap((ht) => modulesFor(ht).map((m) => m.module)));
  const externalStates = externalStatesOf(allModules);

  const services: C2sServices = {
    hooks,
    clock,
    logger,
    resolveHostType: (domain) => domains.hostTypeOf(domain),
    authStore: storage.auth,
    sessions,
    router,
    mechanisms: options.mechanisms,
    allowAnonymous: (ht) => options.anonymousHostTypes?.includes(ht) ?? false,
  };
  const connectOptions: C2sListenerOptions = { ...options.connectDefaults, externalStates: [...(options.connectDefaults?.externalStates ?? []), ...externalStates] };
  const moduleHost: ModuleHost = { hooks, iqHandlers, storage, router, sessions, domains, clock, logger };
  const connections = new Set<C2sConnection>();
  const listeners: { config: ListenerConfig; c2s: C2sListenerOptions; listener: Listener }[] = [];
  const stoppers: (() => void)[] = [];
  let started = false;

  const c2sOptionsOf = (l: ListenerConfig): C2sListenerOptions => ({
    tls: l.tls === 'required' ? 'required' : l.tls === 'optional' || (l.tls === undefined && l.certificate) ? 'optional' : 'off',
    stateTimeoutMs: l.stateTimeoutMs,
    legacySession: l.legacySession,
    allowPlainWithoutTls: l.allowPlainWithoutTls,
    externalStates,
  });

  const attach = (transport: XmppTransport, c2s: C2sListenerOptions): C2sConnection => {
    const conn = new C2sConnection({ transport, listener: c2s, services, machine: machineFor(c2s) });
    connections.add(conn);
    conn.onClosed(() => connections.delete(conn));
    return conn;
  };

  for (const config of options.listeners ?? []) {
    const c2s = c2sOptionsOf(config);
    const listener = new Listener({ ...config, clock, logger });
    listeners.push({ config, c2s, listener });
  }

  const closeDomain = async (domain: string, reason: DomainCloseReason): Promise<void> => {
    // Every connection addressed to the domain, bound or not (RFC 6120 §4.9.3.5 host-gone).
    const doomed = [...connections].filter((c) => c.lserver === domain);
    for (const c of doomed) c.exit(reason, 'host-gone', reason === 'domain-removed' ? 'Domain removed' : 'Domain disabled');
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(doomed.map((c) => new Promise<void>((r) => c.onClosed(r)))),
      new Promise<void>((r) => (timer = setTimeout(r, options.shutdownTimeoutMs ?? 5000))),
    ]);
    clearTimeout(timer);
    await sessions.flushStore();
  };
  const dynamicDomains =
    options.dynamicDomains || options.admin
      ? new DynamicDomains({
          registry: domains,
          store: storage.domains,
          storage,
          hooks,
          hostTypes: options.dynamicDomains?.hostTypes ?? [],
          pollIntervalMs: options.dynamicDomains?.pollIntervalMs,
          keepEvents: options.dynamicDomains?.keepEvents,
          clock,
          logger,
          closeDomain,
        })
      : undefined;
  let admin: AdminServer | undefined;

  const parseAccount = async (jid: string) => {
    const j = Jid.parse(jid);
    const hostType = domains.hostTypeOf(j.domain);
    if (hostType === undefined) throw new Error(`domain ${j.domain} is not served here`);
    if (!j.local) throw new Error(`${jid} has no localpart`);
    return { j, hostType };
  };

  const users: UserAdmin = {
    async add(jid, password) {
      const { j, hostType } = await parseAccount(jid);
      if (!(await storage.auth.register(hostType, j.domain, j.local, await deriveCredentialsAsync(password)))) throw new Error(`account ${j.bare()} exists`);
    },
    async remove(jid) {
      const { j, hostType } = await parseAccount(jid);
      for (const s of sessions.sessionsOf(j.bare())) s.exit('account-removed', 'not-authorized', 'Account removed');
      // Modules first (they may notify others, e.g. MUC Light rooms losing a member), then every
      // storage port, as domain removal does.
      const r = await hooks.run(removeUserHook, hostType, { failed: [] } as RemovalAcc, { jid: j });
      if (r.acc.failed.length > 0) logger.error({ jid: j.bare(), failed: r.acc.failed }, 'removeUser hook: some modules failed');
      await removeUserEverywhere(storage, hostType, j.domain, j.local);
    },
    async setPassword(jid, password) {
      const { j, hostType } = await parseAccount(jid);
      if (!(await storage.auth.setCredentials(hostType, j.domain, j.local, await deriveCredentialsAsync(password)))) throw new Error(`no account ${j.bare()}`);
    },
    async exists(jid) {
      const { j, hostType } = await parseAccount(jid);
      return storage.auth.exists(hostType, j.domain, j.local);
    },
    async list(domain) {
      const hostType = domains.hostTypeOf(domain.toLowerCase());
      if (hostType === undefined) throw new Error(`domain ${domain} is not served here`);
      return storage.auth.listUsers(hostType, domain.toLowerCase());
    },
  };

  const server: XmppServer = {
    hooks,
    domains,
    iqHandlers,
    router,
    sessions,
    storage,
    clock,
    logger,
    users,
    async start() {
      if (started) return;
      started = true;
      for (const ht of hostTypes) {
        for (const { module, options: opts } of modulesFor(ht)) stoppers.push(startModule(moduleHost, module, ht, opts as never));
      }
      try {
        if (dynamicDomains) await dynamicDomains.start();
        if (dynamicDomains && options.admin) admin = await startAdminServer(dynamicDomains, options.admin, logger);
        for (const l of listeners) await l.listener.start((t) => attach(t, l.c2s));
      } catch (err) {
        await server.stop();
        throw err;
      }
    },
    async stop() {
      await admin?.close();
      await dynamicDomains?.stop();
      admin = undefined;
      for (const l of listeners) await l.listener.stop();
      for (const c of connections) c.exit('system-shutdown', 'system-shutdown');
      const deadline = Date.now() + (options.shutdownTimeoutMs ?? 5000);
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const c of connections) c.destroy();
      while (stoppers.length) stoppers.pop()!();
      await sessions.flushStore();
      started = false;
    },
    addresses() {
      return listeners.map((l) => l.listener.address());
    },
    services,
    connectOptions,
    moduleHost,
    connect(transport, listener = connectOptions) {
      return attach(transport, listener);
    },
    connectionCount() {
      return connections.size;
    },
    dynamicDomains,
    adminAddress() {
      return admin?.address();
    },
  };
  return server;
}
