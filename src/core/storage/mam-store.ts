/**
 * Message archive port (XEP-0313) and the time-based archive ids it is keyed by.
 * @module
 */

/** Direction of an archived message from the owner's point of view. */
export type MamDirection = 'in' | 'out';

/** One archived message. */
export interface MamMessage {
  /**
   * Archive id, also the XEP-0359 `<stanza-id/>` the server stamps. Must sort (as a string) in
   * archive order; use {@link MamIdGenerator} so that it does.
   */
  readonly id: string;
  /** Normalised bare JID of the other party. */
  readonly peer: string;
  /** Resource of the other party ('' when none). */
  readonly peerResource: string;
  readonly direction: MamDirection;
  /** Microseconds since the epoch. */
  readonly timestamp: number;
  /** XEP-0359 `<origin-id/>` set by the sending client, if any (used to drop duplicates). */
  readonly originId?: string;
  /** The serialized `<message/>` element. */
  readonly xml: string;
}

/**
 * A page request. Filters (`peer`, `start`, `end`) select the result set; `afterId`,
 * `beforeId`, `limit` and `order` page through it (XEP-0059 RSM).
 */
export interface MamQuery {
  /** Only messages with this bare JID. */
  readonly peer?: string;
  /** Inclusive lower bound on `timestamp` (µs). */
  readonly start?: number;
  /** Inclusive upper bound on `timestamp` (µs). */
  readonly end?: number;
  /** Only ids strictly greater (RSM `<after/>`). */
  readonly afterId?: string;
  /** Only ids strictly smaller (RSM `<before/>`). */
  readonly beforeId?: string;
  /** Maximum rows in the page; undefined = all. 0 is allowed (RSM "count only"). */
  readonly limit?: number;
  /**
   * `asc` (default): the page is the oldest `limit` rows, oldest first. `desc`: the newest
   * `limit` rows, newest first (RSM `<before/>` last page: reverse them for the client).
   */
  readonly order?: 'asc' | 'desc';
}

/** One page of results. */
export interface MamPage {
  /** Rows in the requested `order`. */
  readonly rows: readonly MamMessage[];
  /**
   * No row beyond this page in the paging direction (XEP-0313 `complete="true"`): for `asc`
   * nothing newer, for `desc` nothing older, still within `beforeId`/`afterId` and the filters.
   */
  readonly complete: boolean;
  /** Rows matching `peer`/`start`/`end` alone, ignoring paging (RSM `<count/>`). */
  readonly count: number;
  /** Id of `rows[0]` (RSM `<first/>`). */
  readonly first?: string;
  /** Id of the last row (RSM `<last/>`). */
  readonly last?: string;
}

/** Default archiving behaviour (XEP-0313 §6). */
export type MamDefault = 'always' | 'never' | 'roster';

/** A user's archiving preferences. */
export interface MamPrefs {
  readonly default: MamDefault;
  /** Bare JIDs always archived. */
  readonly always: readonly string[];
  /** Bare JIDs never archived. */
  readonly never: readonly string[];
}

/**
 * Per-user message archive. `append` is called for every message, so SQL adapters
 * group-commit it; it resolves only once the row is durable, which is when the module may
 * acknowledge the stanza-id.
 */
export interface MamStore {
  /** Archive one message for `user` (the owner). Rejects when `id` already exists for the owner. */
  append(hostType: string, domain: string, user: string, msg: MamMessage): Promise<void>;
  /** One page of the owner's archive. */
  query(hostType: string, domain: string, user: string, q?: MamQuery): Promise<MamPage>;
  /** One message by archive id. */
  getMessage(hostType: string, domain: string, user: string, id: string): Promise<MamMessage | undefined>;
  /** The archived message with this origin-id from/to `peer`, if any (duplicate suppression). */
  findByOriginId(hostType: string, domain: string, user: string, peer: string, originId: string): Promise<MamMessage | undefined>;
  /** Preferences; `undefined` when never set (the module applies its configured default). */
  getPrefs(hostType: string, domain: string, user: string): Promise<MamPrefs | undefined>;
  setPrefs(hostType: string, domain: string, user: string, prefs: MamPrefs): Promise<void>;
  /** Delete the owner's archive and preferences. */
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}

/**
 * Makes archive ids: 13 hex digits of the microsecond timestamp then 3 hex digits of node
 * suffix, so string order is time order (as MongooseIM's time-based UIDs) and the timestamp is
 * recoverable. Ids are strictly increasing per generator even when the clock stalls or steps
 * back (the timestamp part is bumped past the last one).
 */
export class MamIdGenerator {
  private last = 0;
  private readonly suffix: string;

  /** @param node 0–4095, distinguishes generators of a cluster writing to one archive. */
  constructor(node = 0) {
    if (!Number.isInteger(node) || node < 0 || node > 0xfff) throw new RangeError('node must be 0..4095');
    this.suffix = node.toString(16).padStart(3, '0');
  }

  /** A new id for a message at `timestampUs`; returns the id and the timestamp it encodes. */
  next(timestampUs: number): { id: string; timestamp: number } {
    const ts = Math.max(Math.floor(timestampUs), this.last + 1);
    this.last = ts;
    return { id: ts.toString(16).padStart(13, '0') + this.suffix, timestamp: ts };
  }
}

/** The timestamp (µs) encoded in an id made by {@link MamIdGenerator}. */
export function mamIdTimestamp(id: string): number {
  return parseInt(id.slice(0, 13), 16);
}
