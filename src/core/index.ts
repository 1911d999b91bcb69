/**
 * The XMPP domain (`xmpp-blocks/core`): XML model and streaming parser, JIDs, RFC 6120
 * errors, the per-stanza `Acc`, domains and host types, router, session manager, IQ handler
 * registry, server-level hooks, and the storage ports every adapter implements.
 * @module
 */
export * from './xml/index.ts';
export * from './namespaces.ts';
export * from './errors.ts';
export * from './jid.ts';
export * from './stanza.ts';
export * from './acc.ts';
export * from './clock.ts';
export * from './logger.ts';
export type * from './session.ts';
export * from './domains.ts';
export * from './iq-handlers.ts';
export * from './router.ts';
export * from './session-manager.ts';
export * as serverHooks from './server-hooks.ts';
export * from './auth/scram.ts';
export * from './storage/index.ts';
