/**
 * Dynamic domains (reference §7): domains added, disabled, enabled and deleted at runtime in the
 * {@link DomainStore}, served without a restart, and kept in step across every server
 * instance sharing the database.
 *
 * - **Host types** are the unit of configuration: a dynamic domain may only be created with
 *   one of the host types this server was configured with for dynamic domains
 *   (`unknown-host-type` otherwise). Modules already run per host type, so adding a domain
 *   starts nothing: it is put into the {@link DomainRegistry}, which the c2s (login) and the
 *   router (delivery, subdomains) read on every lookup.
 * - **Static domains win**: they cannot be inserted, disabled, enabled or deleted here
 *   (`static`), and a dynamic row that names a static domain is ignored.
 * - A domain mapped to one host type cannot be inserted with another (`duplicate`) nor deleted
 *   as another (`wrong-host-type`). Errors are values ({@link DomainOpResult}), never throws.
 * - **Disable** takes the domain (and its subdomains) out of the registry — new logins get
 *   `host-unknown` — and closes its connections with the stream error `host-gone`
 *   (RFC 6120 §4.9.3.5: "the FQDN is no longer serviced by the receiving entity"; we prefer it
 *   to `system-shutdown`, which says the whole server is going down).
 * - **Delete** disables first (so other instances stop serving it at once), waits for the
 *   domain's connections to close (a closing session may still write, e.g. last activity),
 *   then runs the `removeDomain` server hook (modules) and `removeDomainEverywhere` on every
 *   storage port — for the domain and for each subdomain name its host type's patterns give it
 *   (MUC light rooms live under `muclight.<domain>`) — and only then deletes the row. When a
 *   removal step fails the domain stays disabled and the result is `removal-failed`; deleting
 *   again retries.
 * - **Several instances**: each one loads the enabled domains at start, then polls the change
 *   feed ({@link DomainStore.eventsSince}) every `pollIntervalMs` (default 1000 ms; MongooseIM
 *   polls every 30 s and pings its peers, we have no peer channel). A change made through this
 *   object is applied to the local registry at once; others see it at their next poll. Events
 *   are only hints: each named domain is re-read and the registry reconciled with its current
 *   row, so replays and coalesced events are harmless. The feed is pruned to its newest
 *   `keepEvents` (default 10,000) events; an instance that finds a hole in the ids (it lagged
 *   behind a prune) re-reads the whole table instead.
 * @module
 */
import type { HookRegistry } from '../hooks/index.ts';
import { isPromise } from '../hooks/index.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { DomainRegistry } from './domains.ts';
import { Jid } from './jid.ts';
import { type Logger, silentLogger } from './logger.ts';
import { removeDomain, type RemovalAcc } from './server-hooks.ts';
import type { DomainStatus, DomainStore } from './storage/domain-store.ts';
import { removeDomainEverywhere, type Storage } from './storage/storage.ts';

/** Why a domain operation was refused (MongooseIM's tagged error tuples). */
export type DomainOpError =
  | 'invalid-domain'
  | 'unknown-host-type'
  | 'static'
  | 'duplicate'
  | 'wrong-host-type'
  | 'not-found'
  | 'removal-failed';

/** Outcome of a domain operation: a value, never an exception. */
export type DomainOpResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DomainOpError; readonly message: string };

/** A domain as the admin API and the CLI show it. */
export interface DomainDetails {
  readonly domain: string;
  readonly hostType: string;
  readonly status: DomainStatus;
  /** From the configuration: cannot be changed at runtime. */
  readonly static: boolean;
}

/** Why the connections of a domain are closed. */
export type DomainCloseReason = 'domain-disabled' | 'domain-removed';

/** Options of {@link DynamicDomains}. */
export interface DynamicDomainsOptions {
  readonly registry: DomainRegistry;
  readonly store: DomainStore;
  /** Every storage port (for the removal of a deleted domain's data). */
  readonly storage: Storage;
  /** Where the `removeDomain` server hook runs (modules delete their own data). */
  readonly hooks: HookRegistry;
  /** Host types dynamic domains may use. */
  readonly hostTypes: readonly string[];
  /** Change feed poll interval in ms (default 1000). */
  readonly pollIntervalMs?: number | undefined;
  /** Events kept in the change feed; older ones are pruned after a poll (default 10,000). */
  readonly keepEvents?: number | undefined;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  /**
   * Close every connection of `domain` (stream error `host-gone`); resolves once they are gone
   * or after a bounded wait. The server supplies it; tools without connections pass nothing.
   */
  readonly closeDomain?: ((domain: string, reason: DomainCloseReason) => Promise<void>) | undefined;
}

/**
 * Validate and prepare a domain name with the JID domainpart rules (RFC 7622 §3.2): a bare
 * domain, no localpart or resource. Returns the prepared (lowercase) name or `undefined`.
 */
export function prepareDomainName(input: string): string | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > 1023) return undefined;
  if (input.includes('@') || input.includes('/')) return undefined;
  const jid = Jid.tryParse(input);
  if (jid === undefined || jid.local !== '' || jid.resource !== '') return undefined;
  return jid.domain;
}

const fail = <T>(error: DomainOpError, message: string): DomainOpResult<T> => ({ ok: false, error, message });
const ok = <T>(value: T): DomainOpResult<T> => ({ ok: true, value });

/** The dynamic domain service. See the module comment. */
export class DynamicDomains {
  readonly #registry: DomainRegistry;
  readonly #store: DomainStore;
  readonly #storage: Storage;
  readonly #hooks: HookRegistry;
  readonly #hostTypes: ReadonlySet<string>;
  readonly #pollMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #closeDomain: (domain: string, reason: DomainCloseReason) => Promise<void>;
  readonly #keepEvents: number;
  #lastEventId = 0;
  #prunedUpTo = 0;
  #timer: TimerHandle | undefined;
  #running = false;
  /** Bumped by start/stop so a poll still in flight from an earlier run never reschedules. */
  #generation = 0;
  /** Operations and polls run one at a time, so a poll never applies a row older than a local change. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: DynamicDomainsOptions) {
    this.#registry = options.registry;
    this.#store = options.store;
    this.#storage = options.storage;
    this.#hooks = options.hooks;
    this.#hostTypes = new Set(options.hostTypes);
    this.#pollMs = Math.max(1, options.pollIntervalMs ?? 1000);
    this.#keepEvents = Math.max(100, options.keepEvents ?? 10_000);
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    this.#closeDomain = options.closeDomain ?? (async () => {});
  }

  /** Host types dynamic domains may use. */
  get hostTypes(): readonly string[] {
    return [...this.#hostTypes];
  }

  /** Load every enabled domain, then poll the change feed until {@link stop}. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#generation++;
    await this.#serial(async () => {
      // The event id first: a change landing between the two reads is replayed, never lost.
      this.#lastEventId = await this.#store.lastEventId();
      for (const rec of await this.#store.list({ status: 'enabled' })) this.#serve(rec.domain, rec.hostType);
    });
    this.#schedule();
  }

  /** Stop polling (the registry keeps its domains); resolves when an operation or poll in flight has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#queue;
  }

  /** Read the change feed now and reconcile (what the timer does every interval). */
  poll(): Promise<void> {
    return this.#serial(() => this.#pollOnce());
  }

  // ------------------------------------------------------------ operations

  /** Add `domain` with `hostType` (enabled). `created` is false when it already existed with that host type. */
  insert(domainInput: string, hostType: string): Promise<DomainOpResult<DomainDetails & { readonly created: boolean }>> {
    return this.#serial(async () => {
      const domain = prepareDomainName(domainInput);
      if (domain === undefined) return fail('invalid-domain', `"${domainInput}" is not a valid domain name`);
      if (!this.#hostTypes.has(hostType)) return fail('unknown-host-type', `host type "${hostType}" is not configured for dynamic domains (allowed: ${[...this.#hostTypes].join(', ') || 'none'})`);
      if (this.#registry.isStatic(domain)) return fail('static', `${domain} is a static domain`);
      if (this.#registry.isSubdomain(domain)) return fail('duplicate', `${domain} is a subdomain of ${this.#registry.parentDomainOf(domain)}`);
      const before = await this.#store.get(domain);
      if (before !== undefined && before.hostType !== hostType) return fail('duplicate', `${domain} already exists with host type ${before.hostType}`);
      const r = await this.#store.insert(hostType, domain);
      if (r === 'duplicate') return fail('duplicate', `${domain} already exists with another host type`);
      const rec = before ?? { domain, hostType, status: 'enabled' as const };
      if (rec.status === 'enabled') this.#serve(domain, hostType);
      return ok({ domain, hostType, status: rec.status, static: false, created: before === undefined });
    });
  }

  /** Stop serving `domain` and close its connections; the row and the data stay. */
  disable(domainInput: string): Promise<DomainOpResult<DomainDetails>> {
    return this.#setStatus(domainInput, 'disabled');
  }

  /** Serve a disabled domain again. */
  enable(domainInput: string): Promise<DomainOpResult<DomainDetails>> {
    return this.#setStatus(domainInput, 'enabled');
  }

  /**
   * Delete `domain` and every trace of it (see the module comment). With `hostType`, refuse
   * (`wrong-host-type`) when the domain belongs to another one.
   */
  delete(domainInput: string, hostType?: string): Promise<DomainOpResult<{ readonly domain: string; readonly hostType: string }>> {
    return this.#serial(async () => {
      const domain = prepareDomainName(domainInput);
      if (domain === undefined) return fail('invalid-domain', `"${domainInput}" is not a valid domain name`);
      if (this.#registry.isStatic(domain)) return fail('static', `${domain} is a static domain`);
      const rec = await this.#store.get(domain);
      if (rec === undefined) return fail('not-found', `${domain} does not exist`);
      if (hostType !== undefined && rec.hostType !== hostType) return fail('wrong-host-type', `${domain} has host type ${rec.hostType}, not ${hostType}`);
      await this.#store.disable(domain);
      await this.#unserve(domain, 'domain-removed');
      const failed = await this.#removeData(rec.hostType, domain);
      if (failed.length > 0) return fail('removal-failed', `${domain} stays disabled: removing its data failed in ${failed.join(', ')}`);
      const r = await this.#store.delete(rec.hostType, domain);
      if (r === 'wrong-host-type') return fail('wrong-host-type', `${domain} was re-created with another host type meanwhile`);
      return ok({ domain, hostType: rec.hostType });
    });
  }

  /** One domain (static or dynamic), or `undefined`. */
  async get(domainInput: string): Promise<DomainDetails | undefined> {
    const domain = prepareDomainName(domainInput);
    if (domain === undefined) return undefined;
    if (this.#registry.isStatic(domain)) return { domain, hostType: this.#registry.hostTypeOf(domain)!, status: 'enabled', static: true };
    const rec = await this.#store.get(domain);
    return rec && { domain: rec.domain, hostType: rec.hostType, status: rec.status, static: false };
  }

  /** Static and dynamic domains, sorted by name; optionally of one host type. */
  async list(filter: { readonly hostType?: string | undefined; readonly status?: DomainStatus | undefined } = {}): Promise<DomainDetails[]> {
    const out = new Map<string, DomainDetails>();
    for (const rec of await this.#store.list({ ...(filter.hostType !== undefined && { hostType: filter.hostType }), ...(filter.status !== undefined && { status: filter.status }) })) {
      out.set(rec.domain, { domain: rec.domain, hostType: rec.hostType, status: rec.status, static: false });
    }
    if (filter.status !== 'disabled') {
      for (const d of this.#registry.allDomains()) {
        if (!this.#registry.isStatic(d)) continue;
        const ht = this.#registry.hostTypeOf(d)!;
        if (filter.hostType === undefined || filter.hostType === ht) out.set(d, { domain: d, hostType: ht, status: 'enabled', static: true });
      }
    }
    return [...out.values()].sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  }

  // ------------------------------------------------------------ internals

  #setStatus(domainInput: string, status: DomainStatus): Promise<DomainOpResult<DomainDetails>> {
    return this.#serial(async () => {
      const domain = prepareDomainName(domainInput);
      if (domain === undefined) return fail('invalid-domain', `"${domainInput}" is not a valid domain name`);
      if (this.#registry.isStatic(domain)) return fail('static', `${domain} is a static domain`);
      const r = status === 'enabled' ? await this.#store.enable(domain) : await this.#store.disable(domain);
      if (r === 'not-found') return fail('not-found', `${domain} does not exist`);
      const rec = await this.#store.get(domain);
      if (rec === undefined) return fail('not-found', `${domain} does not exist`);
      if (status === 'enabled') this.#serve(domain, rec.hostType);
      else await this.#unserve(domain, 'domain-disabled', false);
      return ok({ domain, hostType: rec.hostType, status: rec.status, static: false });
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  #schedule(): void {
    if (!this.#running) return;
    const generation = this.#generation;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.poll()
        .catch((err: unknown) => this.#logger.error({ err: err instanceof Error ? err.message : String(err) }, 'dynamic domains poll failed'))
        .finally(() => {
          if (generation === this.#generation) this.#schedule();
        });
    }, this.#pollMs);
  }

  async #pollOnce(): Promise<void> {
    for (;;) {
      const events = await this.#store.eventsSince(this.#lastEventId, 1000);
      if (events.length === 0) break;
      if (events[0]!.id > this.#lastEventId + 1) {
        // A hole: events we never saw were pruned (or ids skipped); the table is the truth.
        this.#lastEventId = events[events.length - 1]!.id;
        await this.#resync();
      } else {
        const touched = new Set<string>();
        for (const e of events) touched.add(e.domain);
        this.#lastEventId = events[events.length - 1]!.id;
        for (const domain of touched) await this.#reconcile(domain);
      }
      if (events.length < 1000) break;
    }
    const upTo = this.#lastEventId - this.#keepEvents;
    if (upTo > this.#prunedUpTo) {
      await this.#store.pruneEvents(upTo);
      this.#prunedUpTo = upTo;
    }
  }

  /** Reconcile every dynamic domain with the table (after missing events). */
  async #resync(): Promise<void> {
    const rows = await this.#store.list();
    const wanted = new Set<string>();
    for (const rec of rows) {
      if (rec.status === 'enabled' && this.#hostTypes.has(rec.hostType)) wanted.add(rec.domain);
    }
    for (const d of [...this.#registry.allDomains()]) {
      if (!this.#registry.isStatic(d) && !wanted.has(d)) await this.#unserve(d, 'domain-removed', false);
    }
    for (const rec of rows) if (wanted.has(rec.domain)) await this.#reconcile(rec.domain);
  }

  /** Make the registry match the domain's current row. */
  async #reconcile(domain: string): Promise<void> {
    if (this.#registry.isStatic(domain)) return;
    const rec = await this.#store.get(domain);
    const served = this.#registry.hostTypeOf(domain);
    if (rec !== undefined && rec.status === 'enabled' && this.#hostTypes.has(rec.hostType)) {
      if (served !== undefined && served !== rec.hostType) await this.#unserve(domain, 'domain-removed', false);
      this.#serve(domain, rec.hostType);
    } else if (served !== undefined) {
      await this.#unserve(domain, rec === undefined ? 'domain-removed' : 'domain-disabled', false);
    }
  }

  #serve(domain: string, hostType: string): void {
    if (!this.#hostTypes.has(hostType)) {
      this.#logger.warn({ domain, hostType }, 'dynamic domain has a host type this server does not serve; ignored');
      return;
    }
    const r = this.#registry.addDynamic(domain, hostType);
    if (r !== 'ok') this.#logger.warn({ domain, hostType, conflict: r }, 'dynamic domain not served');
  }

  /** Out of the registry, connections closed; `wait` for them to be gone (delete) or not (disable). */
  async #unserve(domain: string, reason: DomainCloseReason, wait = true): Promise<void> {
    this.#registry.removeDynamic(domain);
    const closed = this.#closeDomain(domain, reason).catch((err: unknown) => this.#logger.error({ domain, err: err instanceof Error ? err.message : String(err) }, 'closing the connections of a domain failed'));
    if (wait) await closed;
  }

  /** Run the removal on every store and module; the names of what failed. */
  async #removeData(hostType: string, domain: string): Promise<string[]> {
    const failed: string[] = [];
    for (const d of [domain, ...this.#registry.subdomainNamesFor(hostType, domain)]) {
      try {
        const r = this.#hooks.run(removeDomain, hostType, { failed: [] } as RemovalAcc, { domain: d });
        const res = isPromise(r) ? await r : r;
        failed.push(...res.acc.failed);
      } catch (err) {
        this.#logger.error({ domain: d, err: err instanceof Error ? err.message : String(err) }, 'removeDomain hook failed');
        failed.push('removeDomain hook');
      }
      try {
        await removeDomainEverywhere(this.#storage, hostType, d);
      } catch (err) {
        this.#logger.error({ domain: d, err: err instanceof Error ? err.message : String(err) }, 'removing domain data from storage failed');
        failed.push('storage');
      }
    }
    return failed;
  }
}
