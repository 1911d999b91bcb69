/**
 * XEP-0012 Last Activity on the `last` storage port.
 *
 * - To the server (domain JID): `seconds` = server uptime (since the module started for the
 *   host type).
 * - To a user's bare JID (answered by the server): `0` while the user has an available
 *   resource, else the seconds since the last logout and the status of the last unavailable
 *   presence. Only the user himself and contacts with a presence subscription to him
 *   (`from`/`both` in his roster, read from the roster storage port — no roster module
 *   needed) may ask; others get `forbidden` (XEP-0012 §4). Nothing recorded → `item-not-found`.
 * - Recorded when a bound session ends (`userTerminate`) and when the client broadcasts an
 *   unavailable presence (`userSendPresence`, priority 10, never stops: the presence module
 *   still handles it).
 * @module
 */
import { defineModule, hook, type ModuleEnv, type ModuleIqHandler } from '../../c2s/module.ts';
import { defineModSlot } from '../../c2s/effects.ts';
import { userSendPresence, userTerminate } from '../../c2s/hooks.ts';
import type { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import type { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { discoSmFeatures, removeDomain, removeUser } from '../../core/server-hooks.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { next } from '../../hooks/index.ts';

/** Options of {@link last}. */
export interface LastOptions {
  /** Priority of the unavailable-presence recorder on `userSendPresence` (default 10: before presence). */
  readonly presencePriority: number;
}

/** The status text of the connection's last unavailable presence. */
export const lastStatusSlot = defineModSlot<string>('last.status');

function record(env: ModuleEnv, jid: Jid, status: string): void {
  const seconds = Math.floor(env.clock.now() / 1000);
  env.storage.last.set(env.hostType, jid.domain, jid.local, { seconds, status }).catch((err: unknown) => {
    env.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'last activity not stored');
  });
}

/** The XEP-0012 module. */
export const last = defineModule<LastOptions>({
  name: 'last',
  defaults: { presencePriority: 10 },
  features: [NS.LAST],
  slots: [lastStatusSlot],
  hooks(_hostType, opts, env) {
    return [
      hook(discoSmFeatures, (acc, p) => (p.node === undefined ? next([...acc, NS.LAST]) : undefined)),
      hook(
        userSendPresence,
        (ef, { conn, acc }) => {
          // Only the broadcast unavailable presence (no `to`, RFC 6121 §4.5.1) ends "activity".
          if (acc.type !== 'unavailable' || acc.element.attrs.to !== undefined || conn.jid === undefined) return;
          const status = acc.element.getChildText('status') ?? '';
          record(env, conn.jid, status);
          ef.setModState(lastStatusSlot, status);
        },
        opts.presencePriority,
      ),
      hook(userTerminate, (_ef, { conn }) => {
        const jid = conn.jid;
        if (jid === undefined || jid.resource === '' || conn.hostType !== env.hostType) return;
        record(env, jid, conn.getModState(lastStatusSlot) ?? '');
      }),
      hook(removeUser, async (acc, p) => {
        try {
          await env.storage.last.removeUser(env.hostType, p.jid.domain, p.jid.local);
        } catch {
          acc.failed.push('last');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await env.storage.last.removeDomain(env.hostType, p.domain);
        } catch {
          acc.failed.push('last');
        }
        return next(acc);
      }),
    ];
  },
  iqHandlers(_hostType, _opts, env): ModuleIqHandler[] {
    const startedAt = env.clock.now();
    const query = (seconds: number, status = '') => xml('query', { xmlns: NS.LAST, seconds: String(Math.max(0, Math.floor(seconds))) }, status || undefined);
    const userLast = async (acc: Acc, _iq: XmlElement, _payload: XmlElement) => {
      const to = acc.to;
      const from = acc.from;
      if (!from.bareEquals(to)) {
        const item = await env.storage.roster.getItem(env.hostType, to.domain, to.local, from.toBareString());
        if (item === undefined || (item.subscription !== 'from' && item.subscription !== 'both')) return new StanzaError('forbidden');
      }
      if (env.sessions.presentSessionsOf(to).length > 0) return query(0);
      const rec = await env.storage.last.get(env.hostType, to.domain, to.local);
      if (rec === undefined) return new StanzaError('item-not-found');
      return query(env.clock.now() / 1000 - rec.seconds, rec.status);
    };
    return [
      { key: { target: 'server', type: 'get', ns: NS.LAST, name: 'query' }, handler: () => query((env.clock.now() - startedAt) / 1000) },
      { key: { target: 'user', type: 'get', ns: NS.LAST, name: 'query' }, handler: userLast },
    ];
  },
});

export default last;
