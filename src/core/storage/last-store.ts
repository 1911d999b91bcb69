/** Last activity (XEP-0012): when a user last went offline and with what status. @module */

export interface LastActivity {
  /** Seconds since the epoch of the last logout. */
  readonly seconds: number;
  /** The status text of the last unavailable presence ('' when none). */
  readonly status: string;
}

export interface LastStore {
  get(hostType: string, domain: string, user: string): Promise<LastActivity | undefined>;
  set(hostType: string, domain: string, user: string, last: LastActivity): Promise<void>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
