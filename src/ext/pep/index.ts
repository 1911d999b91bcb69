/**
 * `pep`: XEP-0163 Personal Eventing Protocol — a XEP-0060 pubsub service on every account's
 * bare JID, on the {@link PepStore} port — with XEP-0115 entity capabilities tracking.
 *
 * - IQs on the bare JID (`iq.ts`): publish with auto-create and publish-options, retract,
 *   create, items (access models presence / open / whitelist); owner configure, default,
 *   delete, purge.
 * - Caps (slot {@link pepSlot}): an available presence with `<c/>` gives the resource's
 *   features, from the cache of verified `ver`s or from a disco#info query the server sends
 *   it (answer caught in `userSendIq`, hash checked before caching).
 * - Notifications are cast to the sessions of the owner and of the contacts allowed to see
 *   the node; a session delivers one only when its features include `<node>+notify`
 *   (XEP-0163 §4.3.1). A resource whose `+notify` features become known gets the last item of
 *   every node it may see (§6.2), and so does one whose user just got a subscription (roster
 *   cast).
 * - Disco: identity `pubsub/pep` and the pubsub features on the account, nodes as items.
 *
 * See README.md for options and priorities.
 * @module
 */
import { Acc } from '../../core/acc.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { emptySubscriptionLists, isRosterItemEvent, ROSTER_EVENT_TAG, rosterGetSubscriptionLists } from '../../core/hooks/roster.ts';
import { discoSmFeatures, discoSmIdentity, discoSmItems, removeDomain, removeUser, type DiscoIdentity, type DiscoParams } from '../../core/server-hooks.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { next, stop } from '../../hooks/index.ts';
import { foreignEvent, userSendIq, userSendPresence } from '../../c2s/hooks.ts';
import { defineModSlot, type C2sContext } from '../../c2s/context.ts';
import type { Effects } from '../../c2s/effects.ts';
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { CapsCache, capsHash, isSupportedCapsHash, readCaps, type CapsAnnouncement } from './caps.ts';
import { accessModel } from './config.ts';
import { pepIqHandlers } from './iq.ts';
import { NS_PUBSUB } from './namespaces.ts';
import { eventMessage, isPepCast, PEP_CAST_TAG, PepService } from './service.ts';

export * from './namespaces.ts';
export { capsHash, capsVerificationString, CapsCache, readCaps, type CapsAnnouncement } from './caps.ts';
export { DEFAULT_CONFIG, type AccessModel, type NodeConfig } from './config.ts';
export { PEP_CAST_TAG, type PepCast, type PepNotifyCast, type PepLastItemsCast } from './service.ts';

/** Options of {@link pep}. */
export interface PepOptions {
  /** Largest `pubsub#max_items` a node may have; `max` stands for it (default 1000). */
  readonly maxItems: number;
  /** Nodes per account; creating one more is `resource-constraint` (default 256). */
  readonly maxNodes: number;
  /** Verified caps `ver`s remembered (least recently used dropped first; default 4096). */
  readonly capsCacheSize: number;
}

/** What the module knows about one connection. */
export interface PepConnState {
  /** The resource sent available presence (and no unavailable since). */
  readonly available: boolean;
  /** The caps its last available presence announced. */
  readonly caps: CapsAnnouncement | undefined;
  /** Its disco#info features, once known (cache or its own answer). */
  readonly features: ReadonlySet<string> | undefined;
  /** Id of the server's disco#info query waiting for an answer. */
  readonly pendingId: string | undefined;
  /**
   * Contacts (bare JIDs) this resource sees, as of the last time its last items were sent;
   * roster casts keep it current so a new subscription brings that contact's last items.
   */
  readonly sees: ReadonlySet<string> | undefined;
}

/** The module's connection slot. */
export const pepSlot = defineModSlot<PepConnState>('pep');

/** XEP-0163 §4.1 / XEP-0060 §10: what the account's disco#info advertises. */
export const PEP_FEATURES: readonly string[] = [
  'access-open',
  'access-presence',
  'access-whitelist',
  'auto-create',
  'config-node',
  'config-node-max',
  'create-nodes',
  'delete-nodes',
  'filtered-notifications',
  'item-ids',
  'last-published',
  'multi-items',
  'persistent-items',
  'presence-notifications',
  'publish',
  'publish-options',
  'purge-nodes',
  'retract-items',
  'retrieve-default',
  'retrieve-items',
].map((f) => `${NS_PUBSUB}#${f}`);

const PEP_IDENTITY: DiscoIdentity = { category: 'pubsub', type: 'pep' };
const LEAF_IDENTITY: DiscoIdentity = { category: 'pubsub', type: 'leaf' };
const NOTIFY_SUFFIX = '+notify';

/** Node names a resource asked for with `<node>+notify` features. */
function notifyNodes(features: ReadonlySet<string> | undefined): Set<string> {
  const out = new Set<string>();
  for (const f of features ?? []) if (f.endsWith(NOTIFY_SUFFIX) && f.length > NOTIFY_SUFFIX.length) out.add(f.slice(0, -NOTIFY_SUFFIX.length));
  return out;
}

const sameCaps = (a: CapsAnnouncement | undefined, b: CapsAnnouncement): boolean => a !== undefined && a.hash === b.hash && a.node === b.node && a.ver === b.ver;
const seesContact = (s: string) => s === 'to' || s === 'both';

let querySeq = 0;

/** One started instance (per host type): the service and the caps cache. */
class PepModule {
  readonly svc: PepService;
  readonly caps: CapsCache;
  readonly env: ModuleEnv;

  constructor(env: ModuleEnv, opts: PepOptions) {
    this.env = env;
    this.svc = new PepService(env, { maxItems: Math.max(1, opts.maxItems), maxNodes: Math.max(1, opts.maxNodes) });
    this.caps = new CapsCache(opts.capsCacheSize);
  }

  /** Deliver `el` (from a node owner, addressed to this resource) through this connection's receive pipeline. */
  deliver(effects: Effects, conn: C2sContext, el: XmlElement): void {
    effects.route(Acc.fromElement(el, { hostType: conn.hostType!, lserver: conn.lserver!, origin: 'server', clock: this.env.clock }));
  }

  /** Ask this cast handler (on the same connection) to send the last items, after the current stanza. */
  castLastItems(conn: C2sContext): void {
    const s = this.env.sessions.get(conn.jid!);
    if (s !== undefined && s.sid === conn.sid) s.cast(PEP_CAST_TAG, { kind: 'last' });
  }

  /** XEP-0115 §6.3 (as ejabberd and MongooseIM do): disco#info from the server to the resource, node `node#ver`. */
  capsQuery(conn: C2sContext, caps: CapsAnnouncement): { id: string; acc: Acc } {
    const id = `caps-${(++querySeq).toString(36)}`;
    const server = Jid.parse(conn.lserver!);
    const iq = xml('iq', { type: 'get', id, from: conn.lserver, to: conn.jid!.toString() }, xml('query', { xmlns: NS.DISCO_INFO, node: `${caps.node}#${caps.ver}` }));
    return { id, acc: Acc.fromElement(iq, { from: server, to: conn.jid!, hostType: conn.hostType!, lserver: conn.lserver!, origin: 'server', clock: this.env.clock }) };
  }

  /** §6.2: the last item of every node the resource wants, of its own account and of every contact it sees. */
  async sendLastItems(effects: Effects, conn: C2sContext, st: PepConnState): Promise<void> {
    const notify = notifyNodes(st.features);
    if (notify.size === 0) return;
    const me = conn.jid!;
    const user = me.bare();
    const lists = (await this.env.hooks.runAsync(rosterGetSubscriptionLists, conn.hostType!, emptySubscriptionLists(), { jid: user })).acc;
    const sees = new Set([...lists.to, ...lists.both]);
    const messages = await this.svc.lastItems(user, user, me, notify);
    for (const c of sees) messages.push(...(await this.svc.lastItems(Jid.parse(c), user, me, notify)));
    for (const m of messages) this.deliver(effects, conn, m);
    effects.setModState(pepSlot, { ...st, sees });
  }

  /** Features of the resource now known: remember them; last items when it is available and wants some. */
  async featuresKnown(effects: Effects, conn: C2sContext, st: PepConnState, features: ReadonlySet<string>): Promise<void> {
    const now: PepConnState = { ...st, features, pendingId: undefined };
    effects.setModState(pepSlot, now);
    if (now.available) await this.sendLastItems(effects, conn, now);
  }

  /** The asker is the account itself or one of its presence subscribers (as the disco module decides). */
  async trusted(p: DiscoParams): Promise<boolean> {
    return p.from.bareEquals(p.to) || (await this.svc.subscribedFrom(p.to.bare(), p.from));
  }
}

const instances = new WeakMap<ModuleEnv, PepModule>();
function instanceOf(env: ModuleEnv, opts: PepOptions): PepModule {
  let m = instances.get(env);
  if (m === undefined) instances.set(env, (m = new PepModule(env, opts)));
  return m;
}

/** The XEP-0163 module. See the module comment and README.md. */
export const pep = defineModule<PepOptions>({
  name: 'pep',
  defaults: { maxItems: 1000, maxNodes: 256, capsCacheSize: 4096 },
  slots: [pepSlot],

  hooks(_hostType, opts, env) {
    const m = instanceOf(env, opts);
    const svc = m.svc;
    return [
      // Before the presence module (50), which stops the chain. Only presence to oneself counts.
      hook(
        userSendPresence,
        (effects, { conn, acc }) => {
          const el = acc.element;
          const me = conn.jid;
          if (me === undefined || !(el.attrs.to === undefined || (acc.to.isBare && acc.to.bareEquals(me)))) return;
          const type = el.attrs.type;
          const prev = conn.getModState(pepSlot);
          if (type === 'unavailable') {
            if (prev?.available) effects.setModState(pepSlot, { ...prev, available: false });
            return;
          }
          if (type !== undefined && type !== 'available') return;
          const caps = readCaps(el);
          if (caps === undefined) {
            // No caps, no interest (XEP-0163 §4.3.1).
            effects.setModState(pepSlot, { available: true, caps: undefined, features: undefined, pendingId: undefined, sees: undefined });
            return;
          }
          if (prev !== undefined && sameCaps(prev.caps, caps) && (prev.features !== undefined || prev.pendingId !== undefined)) {
            effects.setModState(pepSlot, { ...prev, available: true });
            if (!prev.available && prev.features !== undefined) m.castLastItems(conn);
            return;
          }
          const cached = isSupportedCapsHash(caps.hash) ? m.caps.get(CapsCache.key(caps)) : undefined;
          if (cached !== undefined) {
            effects.setModState(pepSlot, { available: true, caps, features: cached, pendingId: undefined, sees: undefined });
            m.castLastItems(conn);
            return;
          }
          const q = m.capsQuery(conn, caps);
          effects.setModState(pepSlot, { available: true, caps, features: undefined, pendingId: q.id, sees: undefined }).route(q.acc);
        },
        40,
      ),

      // The answer to our disco#info query: never routed further.
      hook(
        userSendIq,
        (effects, { conn, acc }) => {
          const st = conn.getModState(pepSlot);
          const el = acc.element;
          if (st?.pendingId === undefined || el.attrs.id !== st.pendingId || (acc.type !== 'result' && acc.type !== 'error')) return;
          const to = acc.to;
          if (!((to.local === '' && to.resource === '' && to.domain === conn.lserver) || (to.isBare && to.bareEquals(conn.jid)))) return;
          const caps = st.caps!;
          const query = acc.type === 'result' ? el.getChild('query', NS.DISCO_INFO) : undefined;
          const features = new Set(query?.getChildren('feature', NS.DISCO_INFO).flatMap((f) => (f.attrs.var ? [f.attrs.var] : [])) ?? []);
          // XEP-0115 §5.4: only a verified answer is cached for everyone announcing this ver. An
          // unverified one (wrong hash, legacy caps, unknown algorithm) still describes this
          // resource: it only affects what this client itself is sent.
          if (query !== undefined && isSupportedCapsHash(caps.hash) && capsHash(query, caps.hash) === caps.ver) m.caps.set(CapsCache.key(caps), features);
          else if (query !== undefined) m.env.logger.debug({ ver: caps.ver, hash: caps.hash, jid: conn.jid?.toString() }, 'caps answer did not verify; not cached');
          return m.featuresKnown(effects, conn, st, features).then(() => stop(effects));
        },
        40,
      ),

      hook(foreignEvent, (effects, { conn, tag, content }) => {
        if (tag !== PEP_CAST_TAG || !isPepCast(content)) return;
        const st = conn.getModState(pepSlot);
        if (content.kind === 'notify') {
          if (st?.available && st.features?.has(content.node + NOTIFY_SUFFIX) && conn.jid !== undefined) {
            m.deliver(effects, conn, eventMessage(Jid.parse(content.owner), conn.jid, content.event));
          }
          return stop(effects);
        }
        if (st?.available !== true || st.features === undefined) return stop(effects);
        return m.sendLastItems(effects, conn, st).then(() => stop(effects));
      }),

      // XEP-0060 §6.1.7 on_sub: after the presence module (50), before the roster module claims the cast (60).
      hook(
        foreignEvent,
        (effects, { conn, tag, content }) => {
          if (tag !== ROSTER_EVENT_TAG || !isRosterItemEvent(content)) return;
          const st = conn.getModState(pepSlot);
          if (st?.sees === undefined || !st.available) return;
          const now = seesContact(content.subscription);
          if (now === st.sees.has(content.jid)) return;
          const sees = new Set(st.sees);
          if (!now) {
            sees.delete(content.jid);
            effects.setModState(pepSlot, { ...st, sees });
            return next(effects);
          }
          sees.add(content.jid);
          effects.setModState(pepSlot, { ...st, sees });
          const me = conn.jid!;
          return svc.lastItems(Jid.parse(content.jid), me.bare(), me, notifyNodes(st.features)).then((messages) => {
            for (const msg of messages) m.deliver(effects, conn, msg);
            return next(effects);
          });
        },
        55,
      ),

      hook(discoSmIdentity, async (acc, p) => {
        if (p.node === undefined) return (await m.trusted(p)) ? next([...acc, PEP_IDENTITY]) : undefined;
        const n = await svc.getNode(p.to.bare(), p.node);
        if (n === undefined || (await svc.retrieveDenied(p.to.bare(), p.from, n.config)) !== undefined) return;
        return next([...acc, LEAF_IDENTITY]);
      }),
      hook(discoSmFeatures, async (acc, p) => {
        if (p.node === undefined) return (await m.trusted(p)) ? next([...acc, ...PEP_FEATURES]) : undefined;
        const n = await svc.getNode(p.to.bare(), p.node);
        if (n === undefined || (await svc.retrieveDenied(p.to.bare(), p.from, n.config)) !== undefined) return;
        return next([...acc, NS_PUBSUB]);
      }),
      hook(discoSmItems, async (acc, p) => {
        if (p.node !== undefined) return;
        const owner = p.to.bare();
        const nodes = await svc.listNodes(owner);
        if (nodes.length === 0) return;
        const own = p.from.bareEquals(owner);
        let subscribed: boolean | undefined;
        const items = [...acc];
        for (const n of nodes) {
          const model = accessModel(n.config);
          if (!own && model === 'whitelist') continue;
          if (!own && model === 'presence' && !(subscribed ??= await svc.subscribedFrom(owner, p.from))) continue;
          items.push({ jid: owner.toString(), node: n.node });
        }
        return next(items);
      }),

      hook(removeUser, async (acc, { jid }) => {
        try {
          await svc.removeUser(jid.bare());
        } catch (err) {
          env.logger.error({ err: String(err), jid: jid.toString() }, 'pep removal failed');
          acc.failed.push('pep');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, { domain }) => {
        try {
          await svc.removeDomain(domain);
        } catch (err) {
          env.logger.error({ err: String(err), domain }, 'pep domain removal failed');
          acc.failed.push('pep');
        }
        return next(acc);
      }),
    ];
  },

  iqHandlers(_hostType, opts, env) {
    return pepIqHandlers(instanceOf(env, opts).svc);
  },
});

export default pep;
