import type { StoredCredentials } from '../auth/scram.ts';

/**
 * Accounts and their credentials. Credentials are SCRAM keys only ({@link StoredCredentials});
 * an adapter never sees a plaintext password. `user` is the already-normalised localpart and
 * `domain` the normalised domainpart.
 */
export interface AuthStore {
  /** Create an account; resolves `false` (and changes nothing) when it already exists. */
  register(hostType: string, domain: string, user: string, creds: StoredCredentials): Promise<boolean>;
  /** Replace the credentials of an existing account; `false` when there is no such account. */
  setCredentials(hostType: string, domain: string, user: string, creds: StoredCredentials): Promise<boolean>;
  /** The stored credentials, or `undefined` when there is no such account. */
  getCredentials(hostType: string, domain: string, user: string): Promise<StoredCredentials | undefined>;
  exists(hostType: string, domain: string, user: string): Promise<boolean>;
  /** Delete an account; `false` when there was none. */
  removeUser(hostType: string, domain: string, user: string): Promise<boolean>;
  /** Localparts of every account of `domain`, sorted. */
  listUsers(hostType: string, domain: string): Promise<string[]>;
  countUsers(hostType: string, domain: string): Promise<number>;
  /** Delete every account of `domain`. */
  removeDomain(hostType: string, domain: string): Promise<void>;
}
