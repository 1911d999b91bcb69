/**
 * Blocking command (XEP-0191) on the privacy store's blocklist view. The blocklist is cached in
 * each connection's slot (loaded when the session opens, updated by `cast` on every change), so
 * the per-stanza checks are synchronous. See README.md.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import * as c2s from '../../c2s/hooks.ts';
import { defineModSlot, getModState, type Effects } from '../../c2s/effects.ts';
import type { C2sContext } from '../../c2s/context.ts';
import { next, stop, type HookReturn } from '../../hooks/index.ts';
import { Acc } from '../../core/acc.ts';
import { Jid } from '../../core/jid.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { isErrorStanza } from '../../core/stanza.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { NS } from '../../core/namespaces.ts';
import { offlineMessage, rosterInSubscription } from '../../core/server-hooks.ts';
import {
  answersForAll,
  isOwnAccountOrServer,
  isPrivacyBypass,
  isToOwnAccount,
  markPrivacyBypass,
  ownIqReply,
  ownPushAcc,
  privacyCheckPacket,
  type PrivacyVerdict,
} from '../../core/hooks/privacy.ts';
import { PRESENCE_CAST_TAG, type PresenceBlockingEvent } from '../../core/hooks/presence.ts';

/** `urn:xmpp:blocking:errors` (XEP-0191 §3.5). */
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/** Options of the blocking module. */
export interface BlockingOptions {
  /**
   * Priority of the stanza checks on the c2s send/receive hooks. Default 9: before the privacy
   * module (10), so a blocked contact always yields the `<blocked/>` condition.
   */
  readonly checkPriority: number;
  /** Priority on `offlineMessage` and `rosterInSubscription`; must be lower than the offline/roster modules'. Default 9. */
  readonly offlinePriority: number;
}

/** Per-connection state: the blocklist and whether this resource asked for it (and so gets pushes). */
export interface BlockingState {
  /** Normalised blocked JIDs (bare, full, domain or domain/resource). */
  readonly blocked: ReadonlySet<string>;
  readonly requested: boolean;
}

/** The module's per-connection slot. */
export const blockingSlot = defineModSlot<BlockingState>('blocking');

type BlockingCast = { readonly kind: 'block'; readonly jids: readonly string[] } | { readonly kind: 'unblock'; readonly jids: readonly string[] | 'all' };

const NAME = 'blocking';
let pushSeq = 0;

/** XEP-0191 §6 (XEP-0016 JID matching): full, bare, domain/resource, domain. */
function isBlocked(blocked: ReadonlySet<string>, peer: Jid): boolean {
  if (blocked.size === 0) return false;
  if (blocked.has(peer.toBareString()) || blocked.has(peer.domain)) return true;
  return peer.resource !== '' && (blocked.has(peer.toString()) || blocked.has(peer.domain + '/' + peer.resource));
}

async function loadBlocked(env: ModuleEnv, user: Jid): Promise<Set<string>> {
  return new Set(await env.storage.privacy.getBlocklist(env.hostType, user.domain, user.local));
}

function applyChange(blocked: ReadonlySet<string>, change: BlockingCast): Set<string> {
  if (change.kind === 'unblock' && change.jids === 'all') return new Set();
  const out = new Set(blocked);
  for (const j of change.jids as readonly string[]) {
    if (change.kind === 'block') out.add(j);
    else out.delete(j);
  }
  return out;
}

function blockedError(): StanzaError {
  return new StanzaError('not-acceptable', { appCondition: xml('blocked', { xmlns: NS_BLOCKING_ERRORS }) });
}

/** The `<item jid/>` list of a block/unblock request, normalised; `jid-malformed` for a bad JID. */
function requestJids(el: XmlElement): string[] | StanzaError {
  const out: string[] = [];
  for (const item of el.getChildren('item')) {
    const j = Jid.tryParse(item.attrs.jid);
    if (j === undefined) return new StanzaError('jid-malformed', `invalid JID ${item.attrs.jid ?? '(none)'}`);
    if (!out.includes(j.toString())) out.push(j.toString());
  }
  return out;
}

/**
 * XEP-0191 §3.3: a newly blocked contact that could see us gets `unavailable` from each
 * available resource. "Could see us" is read from the roster (subscription from/both); the
 * presence module (cast {@link PresenceBlockingEvent}) covers directed-presence targets.
 * Returns the contacts notified here.
 */
async function sendUnavailable(env: ModuleEnv, user: Jid, jids: readonly string[]): Promise<string[]> {
  const notified: string[] = [];
  const sessions = env.sessions.presentSessionsOf(user);
  if (sessions.length === 0) return notified;
  for (const s of jids) {
    const contact = Jid.tryParse(s);
    if (contact === undefined || contact.local === '') continue;
    const item = await env.storage.roster.getItem(env.hostType, user.domain, user.local, contact.toBareString());
    if (item === undefined || (item.subscription !== 'from' && item.subscription !== 'both')) continue;
    notified.push(contact.toString());
    for (const session of sessions) {
      const el = xml('presence', { type: 'unavailable', from: session.jid.toString(), to: contact.toString() });
      env.router.route(Acc.fromElement(el, { from: session.jid, to: contact, hostType: env.hostType, lserver: user.domain, origin: 'server', clock: env.clock }));
    }
  }
  return notified;
}

async function handleIq(env: ModuleEnv, ef: Effects, conn: C2sContext, user: Jid, type: 'get' | 'set', payload: XmlElement): Promise<XmlElement | StanzaError | null> {
  const store = env.storage.privacy;
  const state = getModState(conn, blockingSlot);
  if (type === 'get') {
    if (payload.name !== 'blocklist') return new StanzaError('bad-request');
    const jids = await store.getBlocklist(env.hostType, user.domain, user.local);
    // XEP-0191 §3.2: a resource that asked for the list gets pushes from now on.
    ef.setModState(blockingSlot, { blocked: new Set(jids), requested: true });
    return xml('blocklist', { xmlns: NS.BLOCKING }, ...jids.map((jid) => xml('item', { jid })));
  }
  const jids = requestJids(payload);
  if (jids instanceof StanzaError) return jids;
  let change: BlockingCast;
  let presenceEvent: PresenceBlockingEvent;
  if (payload.name === 'block') {
    // XEP-0191 §3.3: a block request without items is bad-request.
    if (jids.length === 0) return new StanzaError('bad-request', 'nothing to block');
    const added = await store.block(env.hostType, user.domain, user.local, jids);
    change = { kind: 'block', jids };
    presenceEvent = { kind: 'blocked', jids: added, notified: await sendUnavailable(env, user, added) };
  } else if (payload.name === 'unblock') {
    if (jids.length === 0) {
      await store.unblockAll(env.hostType, user.domain, user.local);
      change = { kind: 'unblock', jids: 'all' };
    } else {
      await store.unblock(env.hostType, user.domain, user.local, jids);
      change = { kind: 'unblock', jids };
    }
    presenceEvent = { kind: 'unblocked' };
  } else return new StanzaError('bad-request');
  // This connection applies the change at once (its next stanza must see it); every session,
  // this one included, gets the cast for the push (XEP-0191 §3.3/§3.4) — applying it twice is harmless.
  ef.setModState(blockingSlot, { blocked: applyChange(state?.blocked ?? new Set(), change), requested: state?.requested ?? false });
  for (const s of env.sessions.sessionsOf(user)) s.cast(NAME, change);
  // Then the presence module (if enabled) follows, with this blocklist already in place.
  for (const s of env.sessions.sessionsOf(user)) s.cast(PRESENCE_CAST_TAG, presenceEvent);
  return null;
}

/** The blocking command module (XEP-0191). */
export const blocking = defineModule<BlockingOptions>({
  name: NAME,
  defaults: { checkPriority: 9, offlinePriority: 9 },
  features: [NS.BLOCKING],
  slots: [blockingSlot],
  hooks(hostType, opts, env) {
    const outCheck = (ef: Effects, p: c2s.C2sStanzaParams): HookReturn<Effects> | undefined => {
      const blocked = getModState(p.conn, blockingSlot)?.blocked;
      const acc = p.acc;
      if (blocked === undefined || !isBlocked(blocked, acc.to) || isOwnAccountOrServer(p.conn.jid!, acc.to)) return;
      // XEP-0191 §3.5: not routed; not-acceptable with <blocked/> back to the user.
      if (!isErrorStanza(acc.element)) ef.route(markPrivacyBypass(errorAcc(acc, blockedError())));
      return stop(ef);
    };
    const inCheck = (ef: Effects, p: c2s.C2sStanzaParams): HookReturn<Effects> | undefined => {
      const blocked = getModState(p.conn, blockingSlot)?.blocked;
      const acc = p.acc;
      if (blocked === undefined || !isBlocked(blocked, acc.from) || isPrivacyBypass(acc) || isOwnAccountOrServer(p.conn.jid!, acc.from)) return;
      // XEP-0191 §3.3: presences vanish; messages and IQ get/set → service-unavailable (as if we had no account).
      const el = acc.element;
      const type = el.attrs.type;
      const bounce =
        el.name === 'message'
          ? type !== 'error' && type !== 'groupchat' && answersForAll(env.sessions, p.conn.jid!, p.conn.sid, acc.to)
          : el.name === 'iq' && (type === 'get' || type === 'set');
      if (bounce) env.router.route(errorAcc(acc, new StanzaError('service-unavailable')));
      return stop(ef);
    };
    const prio = opts.checkPriority;
    return [
      hook(c2s.userOpenSession, async (ef, p) => {
        ef.setModState(blockingSlot, { blocked: await loadBlocked(env, p.jid.bare()), requested: false });
      }),
      hook(c2s.userSendMessage, outCheck, prio),
      hook(c2s.userSendIq, outCheck, prio),
      hook(c2s.userSendPresence, outCheck, prio),
      hook(c2s.userReceiveMessage, inCheck, prio),
      hook(c2s.userReceiveIq, inCheck, prio),
      hook(c2s.userReceivePresence, inCheck, prio),
      hook(
        c2s.userSendIq,
        (ef, p) => {
          const acc = p.acc;
          const el = acc.element;
          const type = el.attrs.type;
          if (type !== 'get' && type !== 'set') return;
          const payload = el.getChildByNs(NS.BLOCKING);
          if (payload === undefined) return;
          const user = p.conn.jid!;
          if (!isToOwnAccount(acc.to, user)) return;
          return ownIqReply(acc, handleIq(env, ef, p.conn, user.bare(), type, payload), env.logger, 'blocking IQ failed').then((reply) => stop(ef.route(reply)));
        },
        50,
      ),
      hook(c2s.foreignEvent, (ef, p) => {
        if (p.tag !== NAME) return;
        const change = p.content as BlockingCast;
        const conn = p.conn;
        const user = conn.jid;
        const state = getModState(conn, blockingSlot);
        if (user === undefined || state === undefined) return stop(ef);
        ef.setModState(blockingSlot, { blocked: applyChange(state.blocked, change), requested: state.requested });
        if (state.requested) {
          const items = change.jids === 'all' ? [] : change.jids.map((jid) => xml('item', { jid }));
          ef.route(ownPushAcc(user, `block-push-${++pushSeq}`, xml(change.kind, { xmlns: NS.BLOCKING }, ...items), hostType, conn.lserver!));
        }
        return stop(ef);
      }),
      // Blocking is honoured for offline storage: a blocked sender's message is not stored.
      hook(
        offlineMessage,
        (acc, p) => {
          const user = p.to.bare();
          if (isOwnAccountOrServer(user, p.from)) return;
          return loadBlocked(env, user).then((blocked) => {
            if (!isBlocked(blocked, p.from)) return next(acc);
            if (!isErrorStanza(acc.element) && acc.type !== 'groupchat') env.router.route(errorAcc(acc, new StanzaError('service-unavailable')));
            return stop(acc);
          });
        },
        opts.offlinePriority,
      ),
      // Subscription requests from a blocked contact are neither delivered nor recorded by the roster.
      hook(
        rosterInSubscription,
        (deliver, p) =>
          loadBlocked(env, p.to).then((blocked) => (isBlocked(blocked, p.from) ? stop(false) : next(deliver))),
        opts.offlinePriority,
      ),
      hook(
        privacyCheckPacket,
        (verdict, p) => {
          if (verdict !== 'allow') return stop(verdict);
          const user = p.user.bare();
          const peer = p.direction === 'out' ? p.to : p.from;
          if (isOwnAccountOrServer(user, peer)) return;
          const conn = p.conn as C2sContext | undefined;
          const verdictOf = (blocked: ReadonlySet<string>) => (isBlocked(blocked, peer) ? stop<PrivacyVerdict>('block') : undefined);
          const cached = conn?.jid?.bareEquals(user) ? getModState(conn, blockingSlot)?.blocked : undefined;
          return cached !== undefined ? verdictOf(cached) : loadBlocked(env, user).then(verdictOf);
        },
        40,
      ),
    ];
  },
});
