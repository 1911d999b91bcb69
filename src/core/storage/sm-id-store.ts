/**
 * Stream management ids (XEP-0198) and stale `h` values (reference §5.2).
 * @module
 */

/** Result of looking up a resumption id. */
export type SmIdLookup =
  | { readonly kind: 'sid'; readonly sid: string }
  /** The session is gone but its last handled count was kept (answered with `<failed h=…>`). */
  | { readonly kind: 'stale-h'; readonly h: number }
  | { readonly kind: 'not-found' };

/** smid ↔ sid mapping plus the stale-h table with its TTL cleaner. */
export interface SmIdStore {
  /** Map `smid` to `sid` (and back); replaces any previous mapping of either. */
  register(hostType: string, smid: string, sid: string): Promise<void>;
  /** Drop the mapping of `sid`; resolves its smid, if any. */
  unregister(hostType: string, sid: string): Promise<string | undefined>;
  /** Resolve a resumption id: the live session first, else a stale `h`. */
  lookup(hostType: string, smid: string): Promise<SmIdLookup>;
  /** The smid of a session, if registered. */
  smidOf(hostType: string, sid: string): Promise<string | undefined>;
  /** Keep the last handled count of a gone session; `stampMs` is when (ms since epoch). */
  writeStaleH(hostType: string, smid: string, h: number, stampMs: number): Promise<void>;
  readStaleH(hostType: string, smid: string): Promise<number | undefined>;
  deleteStaleH(hostType: string, smid: string): Promise<void>;
  /** Delete stale-h rows with `stamp < olderThanMs` (the "geriatric" cleaner); resolves how many. */
  cleanupStaleH(hostType: string, olderThanMs: number): Promise<number>;
}
