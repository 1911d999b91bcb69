/**
 * FAST tokens (XEP-0484): per account and client installation (the SASL2 user-agent id), the
 * token issued last and the one it replaced. The HT-* SASL mechanisms key an HMAC with the
 * token itself, so adapters store the token as issued — it is a secret, like a password
 * equivalent: delete it to revoke the client.
 * @module
 */

/** One token a client installation may authenticate with. */
export interface FastToken {
  /** The secret as issued in `<token token=…/>` (the HMAC key of the HT-* mechanisms). */
  readonly token: string;
  /** The mechanism it was requested for; it is accepted with that mechanism only. */
  readonly mechanism: string;
  /** Expiry, milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** The tokens of one (account, user-agent id). */
export interface FastTokenEntry {
  /** The token issued last. */
  readonly current: FastToken | undefined;
  /**
   * The token `current` replaced (rotation): still accepted until `current` is used for the
   * first time, in case the client never received it.
   */
  readonly previous: FastToken | undefined;
  /** The highest `<fast count/>` accepted so far (replay protection); 0 when none was sent. */
  readonly count: number;
}

/** Storage of FAST tokens. */
export interface FastTokenStore {
  /** The entry of one client installation, or `undefined`. */
  get(hostType: string, domain: string, user: string, agentId: string): Promise<FastTokenEntry | undefined>;
  /** Create or replace the entry of one client installation. */
  set(hostType: string, domain: string, user: string, agentId: string, entry: FastTokenEntry): Promise<void>;
  /** Delete one client installation's tokens (invalidation, revocation); `false` when there were none. */
  remove(hostType: string, domain: string, user: string, agentId: string): Promise<boolean>;
  /** The user-agent ids holding tokens for the account, sorted. */
  agents(hostType: string, domain: string, user: string): Promise<string[]>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
