/** Private XML storage (XEP-0049). @module */

/** Per-user XML fragments keyed by namespace (the child element's namespace). */
export interface PrivateStore {
  /** The serialized element stored under `namespace`, or `undefined`. */
  get(hostType: string, domain: string, user: string, namespace: string): Promise<string | undefined>;
  /** Store several fragments at once (XEP-0049 allows several children in one set); atomic. */
  set(hostType: string, domain: string, user: string, entries: ReadonlyMap<string, string> | Readonly<Record<string, string>>): Promise<void>;
  /** `false` when there was none. */
  remove(hostType: string, domain: string, user: string, namespace: string): Promise<boolean>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
