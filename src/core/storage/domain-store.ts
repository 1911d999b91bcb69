/**
 * Dynamic domains (reference §7): domain → host type with a change feed other nodes poll.
 * @module
 */

export type DomainStatus = 'enabled' | 'disabled';

export interface DomainRecord {
  readonly domain: string;
  readonly hostType: string;
  readonly status: DomainStatus;
}

/** What happened to a domain; consumers re-read it with {@link DomainStore.get}. */
export interface DomainEvent {
  /** Strictly increasing across the whole store. */
  readonly id: number;
  readonly domain: string;
  readonly kind: 'inserted' | 'deleted' | 'enabled' | 'disabled';
}

/** Outcome of a domain change. Errors are values (MongooseIM's tagged tuples). */
export type DomainChangeResult = 'ok' | 'duplicate' | 'not-found' | 'wrong-host-type';

/**
 * The dynamic domain table. Unlike the per-user ports it is global: methods are keyed by
 * domain, and `hostType` is passed where the operation is scoped to one (insert/delete check it).
 * Static domains from the configuration are not stored here.
 */
export interface DomainStore {
  /**
   * Add a domain (enabled). Idempotent for the same host type; `duplicate` when the domain is
   * mapped to another host type.
   */
  insert(hostType: string, domain: string): Promise<'ok' | 'duplicate'>;
  /** Delete the row (after `removeDomain` has run on every store). */
  delete(hostType: string, domain: string): Promise<'ok' | 'not-found' | 'wrong-host-type'>;
  enable(domain: string): Promise<'ok' | 'not-found'>;
  disable(domain: string): Promise<'ok' | 'not-found'>;
  get(domain: string): Promise<DomainRecord | undefined>;
  /** All domains (optionally of one host type and/or status), sorted by domain. */
  list(filter?: { hostType?: string; status?: DomainStatus }): Promise<DomainRecord[]>;
  /** Events with `id > afterId`, oldest first, at most `limit` (default 1000). */
  eventsSince(afterId: number, limit?: number): Promise<DomainEvent[]>;
  /** Id of the newest event, 0 when none (a node starts polling from here after loading `list()`). */
  lastEventId(): Promise<number>;
  /** Delete events with `id <= upToId` (the periodic cleaner); resolves how many. */
  pruneEvents(upToId: number): Promise<number>;
}
