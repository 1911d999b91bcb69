/**
 * Inbox port (XEP-0430): one entry per conversation with its last message and unread count.
 * @module
 */

/** One conversation of a user's inbox. */
export interface InboxEntry {
  /** Normalised bare JID of the other party (or room). */
  readonly remoteJid: string;
  /** Id of the last message (its stanza-id or `id` attribute, as the module decides). */
  readonly msgId: string;
  /** The serialized last `<message/>`. */
  readonly xml: string;
  /** Microseconds since the epoch of the last message. */
  readonly timestamp: number;
  readonly unread: number;
  /** Microseconds since the epoch until which the conversation is muted; 0 = not muted. */
  readonly mutedUntil: number;
  /** `inbox` (default), `archive`, `bin` or another box name. */
  readonly box: string;
}

/** A new last message for a conversation. */
export interface InboxUpdate {
  readonly remoteJid: string;
  readonly msgId: string;
  readonly xml: string;
  readonly timestamp: number;
  /**
   * `increment` for an incoming message, `reset` for one the owner sent (they have read the
   * conversation), `keep` otherwise.
   */
  readonly unread: 'increment' | 'reset' | 'keep';
  /**
   * Box for a new entry (default `inbox`). An existing entry in another box than `bin`
   * keeps its box; one in `bin` moves back to this box (a new message revives it).
   */
  readonly box?: string;
}

/** Inbox query (XEP-0430 §3 filters). */
export interface InboxQuery {
  /** Only this box; undefined = every box except `bin`. */
  readonly box?: string;
  /** By timestamp; default `desc` (newest first). */
  readonly order?: 'asc' | 'desc';
  readonly limit?: number;
  /** Leave out conversations with no unread message. */
  readonly hiddenRead?: boolean;
  /** Inclusive bounds on `timestamp` (µs). */
  readonly start?: number;
  readonly end?: number;
}

/**
 * Per-user inbox. Updated for every message, so SQL adapters group-commit `upsert`.
 */
export interface InboxStore {
  /** Set the conversation's last message; resolves the entry as stored. */
  upsert(hostType: string, domain: string, user: string, update: InboxUpdate): Promise<InboxEntry>;
  getEntry(hostType: string, domain: string, user: string, remoteJid: string): Promise<InboxEntry | undefined>;
  query(hostType: string, domain: string, user: string, q?: InboxQuery): Promise<InboxEntry[]>;
  /**
   * Set unread to 0 (a displayed marker, XEP-0430 "mark as read"). With `msgId`, only when it is
   * the entry's last message id (a marker for an older message leaves newer ones unread).
   * Resolves `false` when there is no such entry or the id did not match.
   */
  resetUnread(hostType: string, domain: string, user: string, remoteJid: string, msgId?: string): Promise<boolean>;
  /** Set unread to a value (XEP-0430 "mark as unread" uses 1). `false` when no entry. */
  setUnread(hostType: string, domain: string, user: string, remoteJid: string, unread: number): Promise<boolean>;
  /** `false` when no entry. */
  setMutedUntil(hostType: string, domain: string, user: string, remoteJid: string, mutedUntilUs: number): Promise<boolean>;
  /** Move to another box; `false` when no entry. */
  setBox(hostType: string, domain: string, user: string, remoteJid: string, box: string): Promise<boolean>;
  /** Delete one conversation; `false` when there was none. */
  removeEntry(hostType: string, domain: string, user: string, remoteJid: string): Promise<boolean>;
  /** Delete every entry in `box` older than `beforeUs` (emptying the bin); resolves how many. */
  removeFromBox(hostType: string, domain: string, user: string, box: string, beforeUs?: number): Promise<number>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
