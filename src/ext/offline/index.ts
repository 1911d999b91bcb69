/**
 * XEP-0160 offline message storage on the `offline` storage port.
 *
 * - Store (`offlineMessage`, priority 50): chat/normal messages for an existing user with no
 *   resource able to take them (the session manager has already dropped errors, bounced
 *   headlines and sent groupchat elsewhere). Not stored: messages with the XEP-0334
 *   `<no-store/>` hint, and messages carrying only chat-state notifications (XEP-0085 §5.5) —
 *   unless the XEP-0334 `<store/>` hint asks for it. Not stopped = the session manager bounces
 *   `service-unavailable`. Per-user limit: when full, `service-unavailable` to the sender and
 *   nothing stored.
 * - Deliver (`userAvailable`, `resendOfflineMessages`): when a session is available with
 *   priority ≥ 0, every stored message is popped and routed to its full JID with a XEP-0203
 *   `<delay from="domain" stamp="when stored"/>`.
 * - Privacy/blocking: a module that must prevent storage registers on `offlineMessage` at a
 *   priority below 50 and stops (answering the sender itself).
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { offlineMessage, removeDomain, removeUser, userAvailable } from '../../core/server-hooks.ts';
import { resendOfflineMessages } from '../../core/hooks/offline.ts';
import { isErrorStanza } from '../../core/stanza.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import { next, stop, type HookReturn } from '../../hooks/index.ts';

/** XEP-0085 chat states namespace. */
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
/** XEP-0023 message expiration (historical, still honoured when present). */
export const NS_EXPIRE = 'jabber:x:expire';

/** Options of {@link offline}. */
export interface OfflineOptions {
  /** Messages kept per user; more → `service-unavailable` (default 100). `0` or less = unlimited. */
  readonly maxMessagesPerUser: number;
  /** Priority of the store handler on `offlineMessage` (default 50). */
  readonly priority: number;
}

/** XEP-0082 date-time without fractions. */
export function xepStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Whether a chat/normal message should be stored (hints and chat-state-only messages). */
export function isStorable(el: XmlElement): boolean {
  if (isErrorStanza(el)) return false;
  let forced = false;
  let content = false;
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    const ns = c.ns ?? el.ns;
    if (ns === NS.HINTS) {
      if (c.name === 'no-store') return false;
      if (c.name === 'store') forced = true;
      continue;
    }
    if (ns === NS_CHATSTATES) continue;
    content = true;
  }
  return content || forced;
}

function storeHandler(env: ModuleEnv, opts: OfflineOptions) {
  const limit = opts.maxMessagesPerUser > 0 ? opts.maxMessagesPerUser : undefined;
  // Synchronous until a message is actually stored (only the storage write is a Promise).
  return (acc: Acc): Promise<HookReturn<Acc> | undefined> | undefined => {
    const type = acc.type;
    // The session manager only calls us for chat/normal/unknown-type messages; be strict anyway.
    if (acc.name !== 'message' || type === 'groupchat' || type === 'headline' || type === 'error') return;
    const el = acc.element;
    if (!isStorable(el)) return; // not stopped → the session manager bounces it
    const to = acc.to;
    const nowMs = env.clock.now();
    const seconds = Number(el.getChild('x', NS_EXPIRE)?.attrs.seconds);
    const expiresAt = Number.isFinite(seconds) && seconds >= 0 ? Math.round((nowMs + seconds * 1000) * 1000) : undefined;
    const stored = el.withAttrs({ from: acc.from.toString(), to: to.toString() });
    const input = { from: acc.from.toString(), to: to.toString(), timestamp: Math.round(nowMs * 1000), xml: serialize(stored, { defaultNs: NS.CLIENT }), ...(expiresAt !== undefined && { expiresAt }) };
    return env.storage.offline.push(env.hostType, to.domain, to.local, input, limit).then(
      (r) => {
        // XEP-0160 §3 / RFC 6121 §8.5.2.1.1: storage refused → the sender learns it, nothing stored.
        if (r === 'full') env.router.route(errorAcc(acc, new StanzaError('service-unavailable', 'Offline message storage is full')));
        return stop(acc);
      },
      (err: unknown) => {
        env.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'offline store failed');
        return undefined; // not stopped → the session manager bounces it
      },
    );
  };
}

/** Pop the user's messages and route each to `full` with a delay stamp. */
function deliverer(env: ModuleEnv) {
  return (full: Jid, sid: string): void => {
    const entry = env.sessions.entry(sid);
    if (entry === undefined || entry.priority === null || entry.priority < 0) return;
    const domain = full.domain;
    void env.storage.offline.popAll(env.hostType, domain, full.local, Math.round(env.clock.now() * 1000)).then(
      (msgs) => {
        for (const m of msgs) {
          try {
            let el = parseElement(m.xml, { defaultNs: NS.CLIENT });
            const hasOurDelay = el.getChildren('delay', NS.DELAY).some((d) => d.attrs.from === domain);
            if (!hasOurDelay) el = el.append(xml('delay', { xmlns: NS.DELAY, from: domain, stamp: xepStamp(m.timestamp / 1000) }, 'Offline Storage'));
            el = el.withAttrs({ to: full.toString() });
            const from = Jid.parse(m.from);
            env.router.route(Acc.fromElement(el, { from, to: full, hostType: env.hostType, lserver: domain, origin: 'server', clock: env.clock }));
          } catch (err) {
            env.logger.error({ err: err instanceof Error ? err.message : String(err), id: m.id }, 'offline message not deliverable (dropped)');
          }
        }
      },
      (err: unknown) => env.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'offline popAll failed'),
    );
  };
}

/** The XEP-0160 module. See the module comment and README.md. */
export const offline = defineModule<OfflineOptions>({
  name: 'offline',
  defaults: { maxMessagesPerUser: 100, priority: 50 },
  features: ['msgoffline'],
  hooks(_hostType, opts, env) {
    const deliver = deliverer(env);
    return [
      hook(offlineMessage, storeHandler(env, opts), opts.priority),
      hook(userAvailable, (_acc, p) => {
        deliver(p.jid, p.sid);
      }),
      hook(resendOfflineMessages, (_acc, p) => {
        deliver(p.jid, p.sid);
      }),
      hook(removeUser, async (acc, p) => {
        try {
          await env.storage.offline.removeUser(env.hostType, p.jid.domain, p.jid.local);
        } catch {
          acc.failed.push('offline');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await env.storage.offline.removeDomain(env.hostType, p.domain);
        } catch {
          acc.failed.push('offline');
        }
        return next(acc);
      }),
    ];
  },
});

export default offline;
