/**
 * xmpp-blocks: composable XMPP server building blocks.
 *
 * The root entry re-exports the composition root (`createServer`) and the most used pieces;
 * each block also has its own subpath (`xmpp-blocks/core`, `/hooks`, `/c2s`, `/storage`,
 * `/ext/<module>`, `/testing`).
 * @module
 */
export * from './server.ts';
export { HookRegistry, defineHook, next, stop, GLOBAL, type HookSpec, type HookHandler } from './hooks/index.ts';
export { Jid, StanzaError, StreamError, XmlElement, xml, NS, Acc } from './core/index.ts';
export { defineModule, hook, defineModSlot, getModState, Effects } from './c2s/index.ts';
export { selfSignedCertificate, type PemCertificate } from './c2s/certificate.ts';
export { memoryStorage, sqliteStorage } from './storage/index.ts';
