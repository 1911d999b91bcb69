/**
 * Storage adapters for the ports in `core/storage`: `memory`, `sqlite`, and the conformance
 * suite every adapter must pass. Subpaths `xmpp-blocks/storage/memory` and
 * `xmpp-blocks/storage/sqlite` import one family alone.
 * @module
 */
export { memoryStorage } from './memory/index.ts';
export { sqliteStorage, type SqliteStorage, type SqliteOptions, SchemaTooNewError, SCHEMA_VERSION } from './sqlite/index.ts';
export * from '../core/storage/index.ts';
