/**
 * `roster`: RFC 6121 §2 (roster management) and §3 (presence subscriptions) on the
 * {@link RosterStore} port, with roster versioning (XEP-0237 / RFC 6121 §2.6).
 *
 * - roster get/set/remove (IQ handlers on the user's bare JID), pushes to every **interested**
 *   resource (one that requested the roster, §2.2 — remembered in this module's slot);
 * - the subscription state machine of Appendix A for outbound (`rosterOutSubscription`, run by
 *   the presence module) and inbound (`rosterInSubscription`, run by the session manager)
 *   subscription presences, with pre-approval (§3.4) and the server's auto-replies;
 * - roster changes reach each of the user's sessions as a `cast` tagged `roster`
 *   ({@link RosterItemEvent}): this module sends the push from it, a presence module updates
 *   its visibility bookkeeping from it;
 * - `rosterGetSubscriptionLists` for the presence module; account and domain removal.
 *
 * See README.md for options and priorities.
 * @module
 */
import { KeyedQueue } from '../../core/keyed-queue.ts';
import { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { iqResult } from '../../core/stanza.ts';
import { removeDomain, removeUser, rosterInSubscription, type SubscriptionType } from '../../core/server-hooks.ts';
import type { RosterItem } from '../../core/storage/roster-store.ts';
import { type XmlElement, xml } from '../../core/xml/element.ts';
import {
  ROSTER_EVENT_TAG,
  rosterGetSubscriptionLists,
  rosterOutSubscription,
  type RosterItemEvent,
} from '../../core/hooks/roster.ts';
import { next, stop } from '../../hooks/index.ts';
import { c2sStreamFeatures, foreignEvent, userSendIq } from '../../c2s/hooks.ts';
import { defineModSlot } from '../../c2s/context.ts';
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { inbound, isHidden, outbound } from './subscription.ts';
import { itemElement, parseRosterSet, queryElement, removedItemElement } from './items.ts';

/** Options of the roster module. */
export interface RosterOptions {
  /** Roster versioning (XEP-0237): `ver` in results and pushes, "no change" answers, the `rosterver` stream feature. Default `true`. */
  readonly versioning: boolean;
  /** Longest item name accepted in a roster set (`not-acceptable` beyond). Default 1024. */
  readonly maxNameLength: number;
  /** Longest group name accepted in a roster set (`not-acceptable` beyond). Default 1024. */
  readonly maxGroupLength: number;
}

/** Per-connection state: the resource requested the roster (RFC 6121 §2.2 "interested resource"). */
export interface RosterConnState {
  readonly interested: boolean;
}

/** The roster module's connection slot. */
export const rosterSlot = defineModSlot<RosterConnState>('roster');

/** What the roster module casts to each session of a user on a change (the push rides along). */
interface RosterCast extends RosterItemEvent {
  /** The `<query/>` of the roster push, `undefined` when the change is not visible to clients. */
  readonly push: XmlElement | undefined;
}

const ROSTER_VER_FEATURE = 'urn:xmpp:features:rosterver';
const INTERESTED: RosterConnState = Object.freeze({ interested: true });
/** Version announced for a user who never had a roster (the store says `undefined`). */
const NO_ROSTER_VERSION = '0';

/** Per started instance (one per host type): serialises read-modify-write of one user's roster. */
class RosterService {
  readonly #env: ModuleEnv;
  readonly #opts: RosterOptions;
  readonly #queue = new KeyedQueue();
  #pushId = 0;

  constructor(env: ModuleEnv, opts: RosterOptions) {
    this.#env = env;
    this.#opts = opts;
  }

  get store() {
    return this.#env.storage.roster;
  }
  get hostType() {
    return this.#env.hostType;
  }

  /** Run `fn` after every earlier operation on `user`'s roster (async storage: no lost updates). */
  locked<T>(user: Jid, fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(user.toBareString(), fn);
  }

  getItem(user: Jid, contact: string): Promise<RosterItem | undefined> {
    return this.store.getItem(this.hostType, user.domain, user.local, contact);
  }

  /** Persist `after` (or delete the item when `null`) and tell the user's sessions. */
  async write(user: Jid, jid: string, before: RosterItem | undefined, after: RosterItem | null): Promise<void> {
    const ver =
      after === null
        ? await this.store.removeItem(this.hostType, user.domain, user.local, jid)
        : await this.store.upsertItem(this.hostType, user.domain, user.local, after);
    this.notify(user, jid, before, after ?? undefined, ver);
  }

  /**
   * RFC 6121 §2.1.6: push the change to every interested resource, and tell every session
   * (presence bookkeeping) — one `cast` per session; each decides from its own slot.
   */
  notify(user: Jid, jid: string, before: RosterItem | undefined, after: RosterItem | undefined, ver: string | undefined): void {
    const visibleBefore = before !== undefined && !isHidden(before);
    const visibleAfter = after !== undefined && !isHidden(after);
    if (!visibleBefore && !visibleAfter) return;
    if (visibleBefore && visibleAfter && sameOnWire(before, after)) return;
    const push = queryElement([visibleAfter ? itemElement(after) : removedItemElement(jid)], this.#opts.versioning ? ver : undefined);
    const event: RosterCast = { jid, subscription: visibleAfter ? after.subscription : 'remove', push };
    for (const s of this.#env.sessions.sessionsOf(user)) s.cast(ROSTER_EVENT_TAG, event);
  }

  pushAcc(to: Jid, hostType: string, lserver: string, query: XmlElement): Acc {
    const from = to.bare();
    const id = `roster-push-${++this.#pushId}`;
    return Acc.fromElement(xml('iq', { type: 'set', id, from: from.toString(), to: to.toString() }, query), {
      from,
      to,
      hostType,
      lserver,
      origin: 'server',
      clock: this.#env.clock,
    });
  }

  /** Send a subscription presence from the user's bare JID (RFC 6121 §3.1.2 stamping). */
  sendSubscription(from: Jid, to: string, type: SubscriptionType): void {
    const el = xml('presence', { from: from.toString(), to, type });
    this.#env.router.route(Acc.fromElement(el, { hostType: this.hostType, lserver: from.domain, origin: 'server', clock: this.#env.clock }));
  }

  /** Route `el` (an IQ reply built by a handler) back to the requester. */
  reply(acc: Acc, el: XmlElement): void {
    this.#env.router.route(Acc.fromElement(el, { from: acc.to, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server', clock: this.#env.clock }));
  }
}

function sameOnWire(a: RosterItem, b: RosterItem): boolean {
  return (
    a.subscription === b.subscription &&
    (a.ask === 'subscribe') === (b.ask === 'subscribe') &&
    a.approved === b.approved &&
    a.name === b.name &&
    a.groups.length === b.groups.length &&
    a.groups.every((g) => b.groups.includes(g))
  );
}

const services = new WeakMap<ModuleEnv, RosterService>();
function serviceOf(env: ModuleEnv, opts: RosterOptions): RosterService {
  let s = services.get(env);
  if (s === undefined) services.set(env, (s = new RosterService(env, opts)));
  return s;
}

const blankItem = (jid: string): RosterItem => ({ jid, subscription: 'none', ask: 'none', pendingIn: false, approved: false, groups: [] });

/** The roster module. */
export const roster = defineModule<RosterOptions>({
  name: 'roster',
  defaults: { versioning: true, maxNameLength: 1024, maxGroupLength: 1024 },
  slots: [rosterSlot],

  hooks: (_hostType, opts, env) => {
    const svc = serviceOf(env, opts);
    return [
      // RFC 6121 §2.2: a resource that asks for its own roster becomes "interested".
      hook(
        userSendIq,
        (effects, { conn, acc }) => {
          if (acc.type !== 'get' || !acc.to.isBare || !acc.to.bareEquals(conn.jid) || conn.getModState(rosterSlot)?.interested) return;
          if (acc.element.getChild('query', NS.ROSTER) === undefined) return;
          effects.setModState(rosterSlot, INTERESTED);
        },
        40,
      ),
      // After a presence module (50) updated its bookkeeping from the same cast: push, and claim it.
      hook(
        foreignEvent,
        (effects, { conn, tag, content }) => {
          if (tag !== ROSTER_EVENT_TAG) return;
          const ev = content as RosterCast;
          if (ev.push !== undefined && conn.jid !== undefined && conn.getModState(rosterSlot)?.interested) {
            effects.route(svc.pushAcc(conn.jid, conn.hostType!, conn.lserver!, ev.push));
          }
          return stop(effects);
        },
        60,
      ),
      hook(rosterGetSubscriptionLists, async (lists, { jid }) => {
        const r = await svc.store.getRoster(svc.hostType, jid.domain, jid.local);
        for (const i of r.items) {
          if (i.subscription === 'to') lists.to.push(i.jid);
          else if (i.subscription === 'from') lists.from.push(i.jid);
          else if (i.subscription === 'both') lists.both.push(i.jid);
          if (i.pendingIn) lists.pendingIn.push(i.jid);
        }
        return next(lists);
      }),
      hook(rosterOutSubscription, (route, { from, to, type }) =>
        svc.locked(from, async () => {
          const contact = to.toBareString();
          const before = await svc.getItem(from, contact);
          const r = outbound(type, contact, before);
          if (r.item !== undefined && !(r.item === null && before === undefined)) await svc.write(from, contact, before, r.item);
          return next(route && r.route);
        }),
      ),
      hook(rosterInSubscription, (deliver, { to, from, type }) =>
        svc.locked(to, async () => {
          const contact = from.toBareString();
          const before = await svc.getItem(to, contact);
          const r = inbound(type, contact, before);
          if (r.item !== undefined && !(r.item === null && before === undefined)) await svc.write(to, contact, before, r.item);
          if (r.autoReply) svc.sendSubscription(to, contact, 'subscribed');
          return next(deliver && r.deliver);
        }),
      ),
      hook(c2sStreamFeatures, (features, { phase }) => {
        if (phase !== 'postAuth' || !opts.versioning) return;
        return next([...features, xml('ver', { xmlns: ROSTER_VER_FEATURE })]);
      }),
      hook(removeUser, async (acc, { jid }) => {
        const user = jid.bare();
        try {
          const r = await svc.store.getRoster(svc.hostType, user.domain, user.local);
          // Like a removal of every item (RFC 6121 §2.5.2): contacts stop expecting anything.
          for (const i of r.items) {
            if (i.subscription === 'to' || i.subscription === 'both' || i.ask === 'subscribe') svc.sendSubscription(user, i.jid, 'unsubscribe');
            if (i.subscription === 'from' || i.subscription === 'both' || i.pendingIn) svc.sendSubscription(user, i.jid, 'unsubscribed');
          }
          await svc.store.removeUser(svc.hostType, user.domain, user.local);
        } catch (err) {
          env.logger.error({ err: String(err), jid: user.toString() }, 'roster removal failed');
          acc.failed.push('roster');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, { domain }) => {
        try {
          await svc.store.removeDomain(svc.hostType, domain);
        } catch (err) {
          env.logger.error({ err: String(err), domain }, 'roster domain removal failed');
          acc.failed.push('roster');
        }
        return next(acc);
      }),
    ];
  },

  iqHandlers: (_hostType, opts, env) => {
    const svc = serviceOf(env, opts);
    return [
      {
        key: { target: 'user', type: 'get', ns: NS.ROSTER, name: 'query' },
        handler: async (acc, _iq, query) => {
          // RFC 6121 §2.1.3: only the user's own roster.
          if (!acc.from.bareEquals(acc.to)) return new StanzaError('forbidden');
          const user = acc.to;
          const r = await svc.store.getRoster(svc.hostType, user.domain, user.local);
          if (!opts.versioning) return queryElement(visibleItems(r.items), undefined);
          const ver = r.version ?? NO_ROSTER_VERSION;
          // XEP-0237 §4 / RFC 6121 §2.6.3: up to date → empty result; changes will come as pushes.
          if (query.attrs.ver !== undefined && query.attrs.ver !== '' && query.attrs.ver === ver) return null;
          return queryElement(visibleItems(r.items), ver);
        },
      },
      {
        key: { target: 'user', type: 'set', ns: NS.ROSTER, name: 'query' },
        handler: async (acc, iq, query) => {
          // RFC 6121 §2.1.5 / §2.3.3: nobody else may change the user's roster.
          if (!acc.from.bareEquals(acc.to)) return new StanzaError('forbidden');
          const req = parseRosterSet(query, opts);
          if (req instanceof StanzaError) return req;
          const user = acc.to.bare();
          const contact = req.jid.toString();
          return svc.locked(user, async () => {
            const before = await svc.getItem(user, contact);
            if (req.kind === 'remove') {
              // RFC 6121 §2.5.3: removing an item that is not there.
              if (before === undefined) return new StanzaError('item-not-found');
              const ver = await svc.store.removeItem(svc.hostType, user.domain, user.local, contact);
              svc.reply(acc, iqResult(iq));
              svc.notify(user, contact, before, undefined, ver);
              // RFC 6121 §2.5.2: cancel both directions of the subscription.
              if (before.subscription === 'to' || before.subscription === 'both' || before.ask === 'subscribe') svc.sendSubscription(user, contact, 'unsubscribe');
              if (before.subscription === 'from' || before.subscription === 'both' || before.pendingIn) svc.sendSubscription(user, contact, 'unsubscribed');
              return undefined;
            }
            const { name: _old, ...rest } = before ?? blankItem(contact);
            const after: RosterItem = req.name === undefined ? { ...rest, groups: req.groups } : { ...rest, name: req.name, groups: req.groups };
            const ver = await svc.store.upsertItem(svc.hostType, user.domain, user.local, after);
            // RFC 6121 §2.3.2: the result first, then the pushes.
            svc.reply(acc, iqResult(iq));
            svc.notify(user, contact, before, after, ver);
            return undefined;
          });
        },
      },
    ];
  },
});

function visibleItems(items: readonly RosterItem[]): XmlElement[] {
  const out: XmlElement[] = [];
  for (const i of items) if (!isHidden(i)) out.push(itemElement(i));
  return out;
}

export { inbound, outbound, isHidden } from './subscription.ts';
