/**
 * `presence`: server-side presence (RFC 6121 §4; reference §5.1). The c2s core never routes a
 * presence: without this module there is no presence at all — by design.
 *
 * Per connection (slot {@link presenceSlot}): the contacts' subscription states, the JIDs that
 * have seen this resource available (`available`), the last broadcast presence, its priority
 * and time.
 *
 * - initial presence: priority into the session manager, `userAvailable`, probes to `to`/`both`
 *   contacts (and the user's other resources), broadcast to `from`/`both` contacts and the
 *   user's resources, pending subscription requests delivered to this resource;
 * - updates: to `available` contacts with a `from` subscription, and the user's resources;
 * - unavailable (client, logout, stream end, socket loss, replacement — `userTerminate` at 90);
 * - directed presence (tracked in `available`), probes answered with the last presence and a
 *   XEP-0203 delay stamp when the prober may see it, never shown to the client;
 * - subscription presences: `rosterOutSubscription`, then routed from the **bare** JID
 *   (RFC 6121 §3.1.2);
 * - roster changes arrive as `cast`s tagged `roster` ({@link RosterItemEvent}): presence or
 *   `unavailable` is sent when a contact gains or loses the right to see this resource.
 * @module
 */
import { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { Jid } from '../../core/jid.ts';
import { errorReply, isErrorStanza } from '../../core/stanza.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { filterLocalPacket, userAvailable, type SubscriptionType } from '../../core/server-hooks.ts';
import { type XmlElement, xml } from '../../core/xml/element.ts';
import {
  ROSTER_EVENT_TAG,
  emptySubscriptionLists,
  isRosterItemEvent,
  rosterGetSubscriptionLists,
  rosterOutSubscription,
  type SubscriptionLists,
} from '../../core/hooks/roster.ts';
import { markPrivacyBypass, privacyCheckPacket, privacyJidMatches, type PrivacyVerdict } from '../../core/hooks/privacy.ts';
import { resendOfflineMessages } from '../../core/hooks/offline.ts';
import { PRESENCE_CAST_TAG, isPresenceBlockingEvent, type PresenceBlockingEvent } from '../../core/hooks/presence.ts';
import { isPromise, next, stop, type HookReturn, type RunResult } from '../../hooks/index.ts';
import { foreignEvent, userReceivePresence, userSendPresence, userTerminate } from '../../c2s/hooks.ts';
import type { Effects } from '../../c2s/effects.ts';
import { defineModSlot, type C2sContext } from '../../c2s/context.ts';
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { withDelay } from './delay.ts';

/** Subscription of a contact as far as presence cares. */
export type PresenceSubscription = 'to' | 'from' | 'both';

/** The presence module's per-connection state (reference §5.1 `presences_state`). */
export interface PresenceState {
  /** Contact (bare JID) → subscription; loaded at initial presence, kept current by roster casts. */
  readonly subscriptions: Map<string, PresenceSubscription>;
  /** JIDs that have seen this resource available: `from` contacts (bare) and directed-presence targets (as addressed). */
  readonly available: Set<string>;
  /** Last broadcast available presence (no from/to); `undefined` before initial presence and after unavailable. */
  last: XmlElement | undefined;
  priority: number;
  /** Clock time (ms) of {@link last}, for the delay stamp of probe answers. */
  timestamp: number;
}

/** The presence module's connection slot. */
export const presenceSlot = defineModSlot<PresenceState>('presence');

/**
 * `call` tag and content for {@link PresenceInfo} (reference §5.1 `get_presence`). The same tag
 * carries the blocking casts of `src/core/hooks/presence.ts` (`PRESENCE_CAST_TAG`).
 */
export const PRESENCE_EVENT_TAG = PRESENCE_CAST_TAG;
export const GET_PRESENCE = 'get_presence';

/** Answer of the `get_presence` call. */
export interface PresenceInfo {
  readonly user: string;
  readonly resource: string;
  /** `show` value, `available` without one, `unavailable` when no presence is up. */
  readonly show: string;
  readonly status: string;
}

/** Session info key: `true` while the session has presence up (initial presence sent, not unavailable). */
export const PRESENCE_INFO_KEY = 'presenceAvailable';

/** Options of the presence module (none yet). */
export type PresenceOptions = Record<string, never>;

const VALID_TYPES: ReadonlySet<string> = new Set(['available', 'unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error']);

/** Status text of the unavailable presence sent when a connection ends (reference §5.1). */
const STOP_TEXT: Readonly<Record<string, string>> = {
  replaced: 'Replaced by new connection',
  'socket-closed': 'Connection closed',
  'stream-end': 'Logged out',
  'system-shutdown': 'Server shutdown',
  'account-removed': 'Account removed',
  'connection-timeout': 'Connection timed out',
};

/** The contact may see this user's presence. */
const sees = (s: PresenceSubscription | undefined): boolean => s === 'from' || s === 'both';
/** This user may see the contact's presence. */
const seesThem = (s: PresenceSubscription | undefined): boolean => s === 'to' || s === 'both';

function then<T, R>(v: T | Promise<T>, f: (t: T) => R): R | Promise<Awaited<R>> {
  return isPromise<T>(v) ? (v.then(f) as Promise<Awaited<R>>) : f(v);
}

/** RFC 6121 §4.7.2.3: an integer in -128..127, default 0. */
function parsePriority(el: XmlElement): number | StanzaError {
  const p = el.getChildText('priority');
  if (p === undefined) return 0;
  const t = p.trim();
  if (!/^[+-]?\d{1,3}$/.test(t)) return new StanzaError('bad-request', 'Invalid priority');
  const n = Number(t);
  return n < -128 || n > 127 ? new StanzaError('bad-request', 'Priority out of range') : n;
}

/** `urn:xmpp:blocking:errors` (XEP-0191 §3.5), for a directed presence to a blocked JID. */
const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

function stripAddresses(el: XmlElement): XmlElement {
  return el.attrs.from === undefined && el.attrs.to === undefined ? el : el.withAttrs({ from: undefined, to: undefined });
}

/** Helpers bound to one started instance. */
class PresenceService {
  readonly #env: ModuleEnv;
  constructor(env: ModuleEnv) {
    this.#env = env;
  }

  /** Route `el` from this resource's full JID to `to`. */
  send(conn: C2sContext, to: Jid | string, el: XmlElement): void {
    const jid = conn.jid!;
    this.#env.router.route(
      Acc.fromElement(el, {
        from: jid,
        to: typeof to === 'string' ? Jid.parse(to) : to,
        hostType: conn.hostType!,
        lserver: conn.lserver!,
        origin: 'c2s',
        clock: this.#env.clock,
      }),
    );
  }

  /**
   * The shared privacy check (`privacyCheckPacket`, direction `out`) for `el` from this resource
   * to `to`. Synchronous when the verdict is known from the connection's state (no handler, a
   * cached blocklist, a JID-only privacy list); a Promise only when a list needs storage.
   */
  verdict(conn: C2sContext, to: Jid, el: XmlElement): PrivacyVerdict | Promise<PrivacyVerdict> {
    const me = conn.jid!;
    const r = this.#env.hooks.run(privacyCheckPacket, conn.hostType!, 'allow', { user: me, from: me, to, stanza: el, direction: 'out', conn });
    return isPromise(r) ? r.then((x) => x.acc) : r.acc;
  }

  /** The `targets` (JID strings) that `el` may reach from this resource (privacy/blocking), in order. */
  allowed(conn: C2sContext, targets: readonly string[], el: XmlElement): readonly string[] | Promise<readonly string[]> {
    // Neither privacy nor blocking enabled for this host type: nothing to ask.
    if (targets.length === 0 || this.#env.hooks.count(privacyCheckPacket, conn.hostType!) === 0) return targets;
    const verdicts: (PrivacyVerdict | Promise<PrivacyVerdict>)[] = [];
    let async = false;
    for (const t of targets) {
      const v = this.verdict(conn, Jid.parse(t), el);
      if (isPromise(v)) async = true;
      verdicts.push(v);
    }
    const pick = (vs: readonly PrivacyVerdict[]) => targets.filter((_, i) => vs[i] === 'allow');
    return async ? Promise.all(verdicts).then(pick) : pick(verdicts as PrivacyVerdict[]);
  }

  /** Priority into the session table (`null` = unavailable), and whether presence is up (session info {@link PRESENCE_INFO_KEY}). */
  setPriority(conn: C2sContext, priority: number | null): void {
    const session = this.#env.sessions.get(conn.jid!);
    if (session === undefined || session.sid !== conn.sid) return;
    this.#env.sessions.setPriority(session, priority);
    const up = priority !== null;
    if ((this.#env.sessions.entry(session.sid)?.info[PRESENCE_INFO_KEY] === true) !== up) this.#env.sessions.setInfo(session, { [PRESENCE_INFO_KEY]: up });
  }

  /** Some session of `user` has sent presence (and not gone unavailable). */
  anyAvailable(user: Jid): boolean {
    for (const s of this.#env.sessions.sessionsOf(user)) if (this.#env.sessions.entry(s.sid)?.info[PRESENCE_INFO_KEY] === true) return true;
    return false;
  }

  /**
   * RFC 6121 §4.3.2: a probe to a user none of whose resources is available is answered by the
   * server with `unavailable` when the prober is subscribed (`from`/`both`).
   */
  answerProbeForOffline(acc: Acc): void | Promise<void> {
    const user = acc.to;
    const prober = acc.from.toBareString();
    const r = this.#env.hooks.run(rosterGetSubscriptionLists, acc.hostType, emptySubscriptionLists(), { jid: user });
    return then(r, ({ acc: lists }) => {
      if (!lists.from.includes(prober) && !lists.both.includes(prober)) return;
      const el = xml('presence', { type: 'unavailable' });
      // No connection: the user's default privacy list and blocklist (storage) decide.
      const v = this.#env.hooks.run(privacyCheckPacket, acc.hostType, 'allow', { user, from: user, to: acc.from, stanza: el, direction: 'out' });
      return then(v, ({ acc: verdict }) => {
        if (verdict !== 'allow') return;
        this.#env.router.route(Acc.fromElement(el, { from: user, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server', clock: this.#env.clock }));
      });
    });
  }

  /** The user's other sessions (never one bound to this full JID: a replacing session keeps it). */
  otherResources(conn: C2sContext): Jid[] {
    const me = conn.jid!;
    const out: Jid[] = [];
    for (const s of this.#env.sessions.sessionsOf(me)) if (!s.jid.equals(me)) out.push(s.jid);
    return out;
  }

  subscriptionLists(conn: C2sContext): RunResult<SubscriptionLists> | Promise<RunResult<SubscriptionLists>> {
    return this.#env.hooks.run(rosterGetSubscriptionLists, conn.hostType!, emptySubscriptionLists(), { jid: conn.jid!.bare() });
  }

  userAvailable(conn: C2sContext): void {
    const r = this.#env.hooks.run(userAvailable, conn.hostType!, undefined, { jid: conn.jid!, sid: conn.sid });
    if (isPromise(r)) r.catch((err) => this.#env.logger.error({ err: String(err) }, 'userAvailable failed'));
  }

  /** RFC 6121 §4.7.2.3 / reference §5.1: the priority went from negative to ≥ 0 on an update; stored messages may now be delivered. */
  resendOffline(conn: C2sContext): void {
    const r = this.#env.hooks.run(resendOfflineMessages, conn.hostType!, undefined, { jid: conn.jid!, sid: conn.sid });
    if (isPromise(r)) r.catch((err) => this.#env.logger.error({ err: String(err) }, 'resendOfflineMessages failed'));
  }

  outSubscription(conn: C2sContext, acc: Acc, type: SubscriptionType): boolean | Promise<boolean> {
    const r = this.#env.hooks.run(rosterOutSubscription, conn.hostType!, true, { acc, from: conn.jid!.bare(), to: acc.to.bare(), type });
    return then(r, (res) => res.acc);
  }

  route(acc: Acc): void {
    this.#env.router.route(acc);
  }

  now(): number {
    return this.#env.clock.now();
  }
}


/** The presence module. */
export const presence = defineModule<PresenceOptions>({
  name: 'presence',
  defaults: {},
  slots: [presenceSlot],

  hooks: (_hostType, _opts, env) => {
    const svc = new PresenceService(env);

    const badRequest = (effects: Effects, el: XmlElement, err: StanzaError) => {
      if (el.attrs.type !== 'error') effects.socketSend(errorReply(el, err));
      return stop(effects);
    };

    /** RFC 6121 §4.2 (initial) and §4.4 (update). */
    const broadcastAvailable = (effects: Effects, conn: C2sContext, acc: Acc): HookReturn<Effects> | Promise<HookReturn<Effects>> => {
      const el = acc.element;
      const priority = parsePriority(el);
      if (priority instanceof StanzaError) return badRequest(effects, el, priority);
      const prev = conn.getModState(presenceSlot);
      const pres = stripAddresses(el);
      svc.setPriority(conn, priority);
      const me = conn.jid!;
      const bare = me.bare();
      if (prev !== undefined && prev.last !== undefined) {
        // Update: subscribers who have seen us (and the privacy check lets through), and our own resources.
        const raised = prev.priority < 0 && priority >= 0;
        prev.last = pres;
        prev.priority = priority;
        prev.timestamp = svc.now();
        effects.setModState(presenceSlot, prev);
        const targets: string[] = [];
        for (const j of prev.available) if (sees(prev.subscriptions.get(j))) targets.push(j);
        return then(svc.allowed(conn, targets, pres), (ok) => {
          for (const j of ok) svc.route(acc.strip({ to: Jid.parse(j) }));
          svc.route(acc.strip({ to: bare }));
          // Reference §5.1: negative → ≥ 0 on a later presence: stored messages can now come.
          if (raised) svc.resendOffline(conn);
          return stop(effects);
        });
      }
      return then(svc.subscriptionLists(conn), ({ acc: lists }) => {
        const subscriptions = new Map<string, PresenceSubscription>();
        for (const j of lists.to) subscriptions.set(j, 'to');
        for (const j of lists.from) subscriptions.set(j, 'from');
        for (const j of lists.both) subscriptions.set(j, 'both');
        const st: PresenceState = { subscriptions, available: prev?.available ?? new Set(), last: pres, priority, timestamp: svc.now() };
        svc.userAvailable(conn);
        const probe = xml('presence', { type: 'probe' });
        const probeTo: string[] = [];
        const pushTo: string[] = [];
        for (const [j, s] of subscriptions) {
          if (s !== 'from') probeTo.push(j);
          if (s !== 'to') pushTo.push(j);
        }
        // Privacy lists / blocklist: a denied or blocked contact is neither probed nor told.
        return then(svc.allowed(conn, probeTo, probe), (probeOk) =>
          then(svc.allowed(conn, pushTo, pres), (pushOk) => initialDone(effects, conn, acc, st, lists, probe, probeOk, pushOk)),
        );
      });
    };

    /** The rest of the initial presence once the privacy checks are known. */
    const initialDone = (
      effects: Effects,
      conn: C2sContext,
      acc: Acc,
      st: PresenceState,
      lists: SubscriptionLists,
      probe: XmlElement,
      probeOk: readonly string[],
      pushOk: readonly string[],
    ): HookReturn<Effects> => {
      const me = conn.jid!;
      const bare = me.bare();
      for (const j of probeOk) svc.send(conn, j, probe);
      // Our other resources answer a probe too (RFC 6121 §4.2.2: the new resource learns their presence).
      if (svc.otherResources(conn).length > 0) svc.send(conn, bare, probe);
      for (const j of pushOk) {
        st.available.add(j);
        svc.route(acc.strip({ to: Jid.parse(j) }));
      }
      svc.route(acc.strip({ to: bare }));
      // RFC 6121 §3.1.3: unanswered requests are redelivered when a resource becomes available.
      for (const j of lists.pendingIn) {
        effects.route(
          Acc.fromElement(xml('presence', { type: 'subscribe', from: j, to: me.toString() }), {
            hostType: conn.hostType!,
            lserver: conn.lserver!,
            origin: 'server',
            clock: env.clock,
          }),
        );
      }
      return stop(effects.setModState(presenceSlot, st));
    };

    /** RFC 6121 §4.5: unavailable from the client. */
    const broadcastUnavailable = (effects: Effects, conn: C2sContext, acc: Acc): HookReturn<Effects> | Promise<HookReturn<Effects>> => {
      svc.setPriority(conn, null);
      const st = conn.getModState(presenceSlot);
      if (st === undefined) return stop(effects);
      const targets = [...st.available];
      st.available.clear();
      st.last = undefined;
      effects.setModState(presenceSlot, st);
      return then(svc.allowed(conn, targets, acc.element), (ok) => {
        for (const j of ok) svc.route(acc.strip({ to: Jid.parse(j) }));
        svc.route(acc.strip({ to: conn.jid!.bare() }));
        return stop(effects);
      });
    };

    /** XEP-0016 §2.1 / XEP-0191 §3.5: a directed presence the privacy check refuses is not routed; not-acceptable back to the user. */
    const refuseDirected = (effects: Effects, acc: Acc, verdict: PrivacyVerdict): HookReturn<Effects> => {
      if (!isErrorStanza(acc.element)) {
        const err = verdict === 'block' ? new StanzaError('not-acceptable', { appCondition: xml('blocked', { xmlns: NS_BLOCKING_ERRORS }) }) : new StanzaError('not-acceptable');
        effects.route(markPrivacyBypass(errorAcc(acc, err)));
      }
      return stop(effects);
    };

    /** XEP-0191 §3.3 / §3.4: the user's blocklist changed (cast from the blocking module). */
    const onBlocking = (effects: Effects, conn: C2sContext, ev: PresenceBlockingEvent): HookReturn<Effects> | Promise<HookReturn<Effects>> | undefined => {
      const st = conn.getModState(presenceSlot);
      if (st === undefined || conn.jid === undefined) return stop(effects);
      if (ev.kind === 'blocked') {
        const rules = ev.jids.map((j) => Jid.tryParse(j)).filter((j): j is Jid => j !== undefined);
        const notified = new Set(ev.notified);
        const unavailable = xml('presence', { type: 'unavailable' });
        for (const j of [...st.available]) {
          const target = Jid.tryParse(j);
          if (target === undefined || !rules.some((r) => privacyJidMatches(r, target))) continue;
          st.available.delete(j);
          // Subscribers are told by the blocking module itself; directed-presence targets here.
          if (!notified.has(j)) svc.send(conn, target, unavailable);
        }
        return stop(effects.setModState(presenceSlot, st));
      }
      // Unblocked: subscribers who cannot see us yet get our presence if nothing else refuses it
      // now, and contacts we are subscribed to are probed (their presence was dropped meanwhile).
      if (st.last === undefined) return stop(effects);
      const last = st.last;
      const pushTo: string[] = [];
      const probeTo: string[] = [];
      for (const [j, s] of st.subscriptions) {
        if (sees(s) && !st.available.has(j)) pushTo.push(j);
        if (seesThem(s)) probeTo.push(j);
      }
      const probe = xml('presence', { type: 'probe' });
      return then(svc.allowed(conn, pushTo, last), (pushOk) =>
        then(svc.allowed(conn, probeTo, probe), (probeOk) => {
          for (const j of pushOk) {
            st.available.add(j);
            svc.send(conn, j, last);
          }
          for (const j of probeOk) svc.send(conn, j, probe);
          return stop(effects.setModState(presenceSlot, st));
        }),
      );
    };

    return [
      // Probes to a user with no available resource: nobody's receive pipeline would answer.
      hook(filterLocalPacket, (acc) => {
        if (acc.name !== 'presence' || acc.type !== 'probe' || acc.to.local === '' || !acc.to.isBare) return;
        if (svc.anyAvailable(acc.to)) return;
        if (acc.from.bareEquals(acc.to)) return stop(acc);
        return then(svc.answerProbeForOffline(acc), () => stop(acc));
      }),
      hook(userSendPresence, (effects, { conn, acc }) => {
        const el = acc.element;
        const type = el.attrs.type;
        if (type !== undefined && !VALID_TYPES.has(type)) return badRequest(effects, el, new StanzaError('bad-request', `Unknown presence type "${type}"`));
        const me = conn.jid!;
        const toSelf = el.attrs.to === undefined || (acc.to.isBare && acc.to.bareEquals(me));
        if (toSelf) {
          if (type === undefined || type === 'available') return broadcastAvailable(effects, conn, acc);
          if (type === 'unavailable') return broadcastUnavailable(effects, conn, acc);
          // Probes, errors and subscriptions addressed to oneself: nothing to do.
          return stop(effects);
        }
        switch (type) {
          case undefined:
          case 'available':
          case 'unavailable': {
            // RFC 6121 §4.6: directed presence; remembered so unavailable follows at logout.
            // XEP-0016 §2.1 (presence-out) / XEP-0191: the privacy check applies to directed presence too.
            return then(svc.verdict(conn, acc.to, acc.element), (verdict) => {
              if (verdict !== 'allow') return refuseDirected(effects, acc, verdict);
              const st = conn.getModState(presenceSlot) ?? { subscriptions: new Map(), available: new Set<string>(), last: undefined, priority: 0, timestamp: 0 };
              const key = acc.to.toString();
              if (type === 'unavailable') st.available.delete(key);
              else st.available.add(key);
              svc.route(acc);
              return stop(effects.setModState(presenceSlot, st));
            });
          }
          case 'probe':
          case 'error':
            svc.route(acc);
            return stop(effects);
          default: {
            const sub = type as SubscriptionType;
            return then(svc.outSubscription(conn, acc, sub), (route) => {
              // RFC 6121 §3.1.2: stamped with the user's bare JID, addressed to the contact's bare JID.
              if (route) svc.route(acc.strip({ from: me.bare(), to: acc.to.bare() }));
              return stop(effects);
            });
          }
        }
      }),

      hook(userReceivePresence, (effects, { conn, acc }) => {
        const st = conn.getModState(presenceSlot);
        // No presence sent yet: this resource is not available, nothing is shown (reference §5.1).
        if (st === undefined) return stop(effects);
        const from = acc.from;
        const type = acc.type;
        switch (type) {
          case undefined:
          case 'available': {
            const b = from.toBareString();
            if (sees(st.subscriptions.get(b)) && !st.available.has(b) && st.last !== undefined) {
              st.available.add(b);
              effects.setModState(presenceSlot, st);
            }
            return;
          }
          case 'unavailable':
          case 'error':
            if (st.available.delete(from.toString())) effects.setModState(presenceSlot, st);
            return;
          case 'probe': {
            // RFC 6121 §4.3.2: answered by the server, never shown to the client.
            const own = from.bareEquals(conn.jid);
            if (own && from.equals(conn.jid)) return stop(effects);
            if (st.last !== undefined && (own || sees(st.subscriptions.get(from.toBareString())))) {
              const answer = withDelay(st.last, conn.lserver!, st.timestamp);
              if (own) svc.send(conn, from, answer);
              else
                return then(svc.verdict(conn, from, answer), (verdict) => {
                  if (verdict === 'allow') svc.send(conn, from, answer);
                  return stop(effects);
                });
            }
            return stop(effects);
          }
          default:
            return;
        }
      }),

      // Reference §5.1: at 90, after modules that must act first (caps at 10).
      hook(
        userTerminate,
        (_effects, { conn, reason }) => {
          const st = conn.getModState(presenceSlot);
          if (st === undefined || conn.jid === undefined) return;
          if (st.last === undefined && st.available.size === 0) return;
          const el = xml('presence', { type: 'unavailable' }, xml('status', null, STOP_TEXT[reason] ?? 'Disconnected'));
          const own = st.last !== undefined ? svc.otherResources(conn) : [];
          return then(svc.allowed(conn, [...st.available], el), (ok) => {
            for (const j of ok) svc.send(conn, j, el);
            for (const r of own) svc.send(conn, r, el);
          });
        },
        90,
      ),

      hook(foreignEvent, (effects, { conn, tag, content, callRef }) => {
        if (tag === ROSTER_EVENT_TAG) {
          if (!isRosterItemEvent(content)) return;
          const st = conn.getModState(presenceSlot);
          if (st === undefined) return;
          const before = st.subscriptions.get(content.jid);
          const after = content.subscription === 'to' || content.subscription === 'from' || content.subscription === 'both' ? content.subscription : undefined;
          if (after === undefined) st.subscriptions.delete(content.jid);
          else st.subscriptions.set(content.jid, after);
          effects.setModState(presenceSlot, st);
          const last = st.last;
          if (last === undefined) return next(effects);
          const contact = Jid.parse(content.jid);
          // Each presence below goes through the privacy check (a blocked or denied contact gets nothing).
          const sendChecked = (el: XmlElement, done?: () => void) =>
            then(svc.verdict(conn, contact, el), (v) => {
              if (v !== 'allow') return;
              done?.();
              svc.send(conn, contact, el);
            });
          const work: (void | Promise<void>)[] = [];
          // We may now see the contact: ask for their presence (their server's own
          // announcement can overtake the `subscribed` our roster is still storing).
          if (!seesThem(before) && seesThem(after)) work.push(sendChecked(xml('presence', { type: 'probe' })));
          if (!sees(before) && sees(after)) {
            // RFC 6121 §3.1.5: the new subscriber gets our presence at once.
            work.push(sendChecked(last, () => st.available.add(content.jid)));
          } else if (sees(before) && !sees(after) && st.available.delete(content.jid)) {
            // RFC 6121 §3.2.2 / §3.3.3: a former subscriber sees us go.
            work.push(sendChecked(xml('presence', { type: 'unavailable' })));
          }
          // The roster module (60) claims the event after sending its push.
          return work.some(isPromise) ? Promise.all(work).then(() => next(effects)) : next(effects);
        }
        if (tag === PRESENCE_EVENT_TAG && isPresenceBlockingEvent(content)) return onBlocking(effects, conn, content);
        if (tag === PRESENCE_EVENT_TAG && content === GET_PRESENCE && callRef !== undefined) {
          const st = conn.getModState(presenceSlot);
          const last = st?.last;
          const info: PresenceInfo = {
            user: conn.jid?.local ?? '',
            resource: conn.jid?.resource ?? '',
            show: last === undefined ? 'unavailable' : (last.getChildText('show') ?? 'available'),
            status: last?.getChildText('status') ?? '',
          };
          return stop(effects.reply(callRef, info));
        }
        return;
      }),
    ];
  },
});
