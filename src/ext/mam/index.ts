/**
 * XEP-0313 Message Archive Management (`urn:xmpp:mam:2`) for 1:1 chats, with XEP-0059 paging
 * and XEP-0359 stanza-ids, on the `mam` storage port. See README.md for the rules, hooks and
 * the exact acknowledgement guarantee.
 *
 * - Outgoing (`userSendMessage`, priority 60): the sender's copy is appended and **awaited**.
 *   The connection processes nothing else while a handler's Promise is pending (the transport
 *   is paused), so an `<r/>` sent after the message is answered only once the row is committed:
 *   a stream-management `<a h>` that counts a message never precedes its archive row.
 * - Incoming (`filterLocalPacket` of the recipient's host type, priority 60 — before the session
 *   manager, so offline recipients are archived too): forged `<stanza-id by=recipient/>` are
 *   removed, the recipient's copy is appended, and the delivered message gets
 *   `<stanza-id id by=recipient-bare/>` once the row is committed.
 * @module
 */
import { defineModule, hook, type ModuleEnv, type ModuleIqHandler } from '../../c2s/module.ts';
import { userSendMessage } from '../../c2s/hooks.ts';
import { NS } from '../../core/namespaces.ts';
import { discoSmFeatures, filterLocalPacket, removeDomain, removeUser } from '../../core/server-hooks.ts';
import type { MamDefault } from '../../core/storage/mam-store.ts';
import { isPromise, next, stop } from '../../hooks/index.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { Archiver } from './archiver.ts';
import { fieldsHandler, NS_MAM_EXTENDED, prefsGetHandler, prefsSetHandler, queryHandler } from './query.ts';

export { isArchivable } from './archive.ts';
export { NS_MAM_EXTENDED } from './query.ts';

/** Options of {@link mam}. */
export interface MamOptions {
  /** Archiving policy of users who never set preferences (XEP-0313 §6). Default `always`. */
  readonly defaultPolicy: MamDefault;
  /** Results per page when the query has no RSM `<max/>`. Default 50. */
  readonly defaultPageSize: number;
  /** Cap on RSM `<max/>`: larger values return this many. Default 250. */
  readonly maxPageSize: number;
  /** Priority on `userSendMessage` (reference §4.2: 60, after privacy at 10). */
  readonly sendPriority: number;
  /** Priority on `filterLocalPacket` (reference §4.3: 60, after domain isolation at 10). */
  readonly filterPriority: number;
  /** Users whose preferences are cached in memory. Default 10 000. */
  readonly prefsCacheSize: number;
  /** Archive id generator node (0–4095); give each server of a cluster its own. Default 0. */
  readonly node: number;
}

const archivers = new WeakMap<ModuleEnv, Archiver>();

function archiverOf(env: ModuleEnv, opts: MamOptions): Archiver {
  let a = archivers.get(env);
  if (a === undefined) archivers.set(env, (a = new Archiver(env, opts)));
  return a;
}

/** The MAM module. */
export const mam = defineModule<MamOptions>({
  name: 'mam',
  defaults: { defaultPolicy: 'always', defaultPageSize: 50, maxPageSize: 250, sendPriority: 60, filterPriority: 60, prefsCacheSize: 10_000, node: 0 },
  features: [NS.MAM, NS_MAM_EXTENDED, NS.STANZA_ID],
  hooks(_hostType, opts, env) {
    const archiver = archiverOf(env, opts);
    return [
      hook(
        userSendMessage,
        (effects, p) => {
          const pending = archiver.archiveOutgoing(p.acc);
          if (pending === undefined) return undefined;
          // Continue (and route) once the row is durable. A failed append is not acknowledged
          // as if archived: the sender gets an error and the message is not routed.
          return pending.then((ok) => {
            if (ok) return undefined;
            env.router.route(errorAcc(p.acc, new StanzaError('internal-server-error', 'The message could not be archived')));
            return stop(effects);
          });
        },
        opts.sendPriority,
      ),
      hook(
        filterLocalPacket,
        (acc) => {
          const out = archiver.archiveIncoming(acc);
          if (out === acc) return undefined;
          return isPromise(out) ? out.then((a) => next(a)) : next(out);
        },
        opts.filterPriority,
      ),
      hook(discoSmFeatures, (acc, p) => (p.node === undefined ? next([...acc, NS.MAM, NS_MAM_EXTENDED, NS.STANZA_ID]) : undefined)),
      hook(removeUser, async (acc, p) => {
        archiver.forget(p.jid);
        try {
          await env.storage.mam.removeUser(env.hostType, p.jid.domain, p.jid.local);
        } catch {
          acc.failed.push('mam');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        archiver.forget();
        try {
          await env.storage.mam.removeDomain(env.hostType, p.domain);
        } catch {
          acc.failed.push('mam');
        }
        return next(acc);
      }),
    ];
  },
  iqHandlers(_hostType, opts, env): ModuleIqHandler[] {
    const archiver = archiverOf(env, opts);
    return [
      { key: { target: 'user', type: 'set', ns: NS.MAM, name: 'query' }, handler: queryHandler(env, opts) },
      { key: { target: 'user', type: 'get', ns: NS.MAM, name: 'query' }, handler: fieldsHandler() },
      { key: { target: 'user', type: 'get', ns: NS.MAM, name: 'prefs' }, handler: prefsGetHandler(archiver) },
      { key: { target: 'user', type: 'set', ns: NS.MAM, name: 'prefs' }, handler: prefsSetHandler(archiver) },
    ];
  },
});

export default mam;
