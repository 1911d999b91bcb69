/**
 * Offline message storage (XEP-0160): messages kept for a user with no available resource.
 * @module
 */

/** A message to store for later delivery. */
export interface OfflineMessageInput {
  /** Sender's full JID as a string. */
  readonly from: string;
  /** Recipient JID as addressed (bare or full). */
  readonly to: string;
  /** Microseconds since the epoch; becomes the XEP-0203 delay stamp. */
  readonly timestamp: number;
  /** Microseconds since the epoch after which the message may be discarded (XEP-0023); absent = never. */
  readonly expiresAt?: number;
  /** The serialized `<message/>` element. */
  readonly xml: string;
}

/** A stored offline message, as popped. */
export interface OfflineMessage extends OfflineMessageInput {
  /** Adapter-assigned id, increasing in storage order. */
  readonly id: string;
}

/** Outcome of {@link OfflineStore.push}: `full` means the per-user limit was reached and nothing was stored. */
export type OfflinePushResult = 'stored' | 'full';

/**
 * Offline messages. Writes are per message, so SQL adapters group-commit them: `push` resolves
 * only once the row is durable.
 */
export interface OfflineStore {
  /**
   * Store one message unless the user already has `limit` messages (then `'full'`, nothing
   * stored — the module answers `service-unavailable`). `limit` undefined = unlimited.
   */
  push(hostType: string, domain: string, user: string, msg: OfflineMessageInput, limit?: number): Promise<OfflinePushResult>;
  /**
   * Atomically read and delete every message of the user, oldest first. Messages whose
   * `expiresAt` is before `nowUs` (when given) are deleted but not returned.
   */
  popAll(hostType: string, domain: string, user: string, nowUs?: number): Promise<OfflineMessage[]>;
  /** Number of stored messages for the user. */
  count(hostType: string, domain: string, user: string): Promise<number>;
  /** Delete every expired message (`expiresAt < nowUs`) of the host type; resolves how many. */
  removeExpired(hostType: string, nowUs: number): Promise<number>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
