/**
 * Storage ports: the interfaces core and modules program against. Adapters live in
 * `src/storage` (`memory`, `sqlite`, …) and must pass `src/storage/conformance`.
 *
 * Conventions shared by every port:
 * - every method returns a Promise, so a network or worker-thread adapter drops in unchanged;
 * - `hostType` comes first (except the global {@link DomainStore} and {@link SessionStore});
 * - users are `(domain, user)` pairs already normalised by the caller (nodeprep/nameprep);
 * - stanzas are serialized XML strings (callers serialize and parse);
 * - timestamps are microseconds since the epoch unless a name says otherwise;
 * - expected failures are values (`'full'`, `'duplicate'`, `false`), not exceptions.
 * @module
 */
export type * from './auth-store.ts';
export type * from './roster-store.ts';
export type * from './offline-store.ts';
export * from './mam-store.ts';
export type * from './inbox-store.ts';
export * from './privacy-store.ts';
export type * from './vcard-store.ts';
export type * from './private-store.ts';
export type * from './last-store.ts';
export type * from './muc-light-store.ts';
export type * from './domain-store.ts';
export type * from './session-store.ts';
export type * from './sm-id-store.ts';
export type * from './fast-token-store.ts';
export type * from './pep-store.ts';
export type * from './muc-store.ts';
export * from './storage.ts';
