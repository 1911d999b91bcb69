/**
 * Roster port (RFC 6121 §2–§3): one item per contact with its subscription state.
 * @module
 */

/** Subscription state of a roster item (RFC 6121 §2.1.2.5). */
export type RosterSubscription = 'none' | 'to' | 'from' | 'both';

/** Outbound request pending on an item (RFC 6121 §2.1.2.2): we asked and got no answer yet. */
export type RosterAsk = 'none' | 'subscribe' | 'unsubscribe';

/** One contact in a user's roster. */
export interface RosterItem {
  /** The contact's normalised bare JID. */
  readonly jid: string;
  /** Handle the user gave the contact; absent when none. */
  readonly name?: string;
  readonly subscription: RosterSubscription;
  readonly ask: RosterAsk;
  /**
   * The contact sent us `subscribe` and the user has not answered yet (RFC 6121 §3.1.3); the
   * request is redelivered at each login, so it must survive restarts.
   */
  readonly pendingIn: boolean;
  /** The user pre-approved the contact's future subscription request (RFC 6121 §3.4). */
  readonly approved: boolean;
  /** Group names, without duplicates; order is not significant. */
  readonly groups: readonly string[];
}

/** A user's roster with its version (XEP-0237 / RFC 6121 §2.6). */
export interface Roster {
  /** Opaque; changes on every modification. `undefined` when the user never had a roster. */
  readonly version: string | undefined;
  /** Items sorted by `jid`. */
  readonly items: readonly RosterItem[];
}

/**
 * Persistent rosters. Every change bumps the per-user roster version, so the roster module can
 * answer roster-versioning requests with "no change" or the diff of pushes.
 */
export interface RosterStore {
  /** The whole roster (empty with `version: undefined` when the user has none). */
  getRoster(hostType: string, domain: string, user: string): Promise<Roster>;
  /** One item, or `undefined`. */
  getItem(hostType: string, domain: string, user: string, jid: string): Promise<RosterItem | undefined>;
  /** Current roster version, or `undefined` when the user never had a roster. */
  getVersion(hostType: string, domain: string, user: string): Promise<string | undefined>;
  /** Insert or replace the item keyed by `item.jid`; resolves the new roster version. */
  upsertItem(hostType: string, domain: string, user: string, item: RosterItem): Promise<string>;
  /** Delete one item; resolves the new version, or `undefined` (nothing changed) when absent. */
  removeItem(hostType: string, domain: string, user: string, jid: string): Promise<string | undefined>;
  /** Delete the user's roster and version. */
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  /** Delete every roster of `domain`. */
  removeDomain(hostType: string, domain: string): Promise<void>;
}
