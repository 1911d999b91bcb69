/**
 * XEP-0030 Service Discovery for the server (domain JID) and, on the users' behalf, for their
 * bare JIDs. Everything but the module's own identities/features comes from hook folds, so
 * every enabled module contributes (a module's `features` are registered on
 * `discoLocalFeatures` automatically).
 *
 * - server `disco#info`: identity `server/im` + `discoLocalIdentity`; features disco#info,
 *   disco#items + `discoLocalFeatures`. With a `node`: only what the folds return for it,
 *   `item-not-found` when they return nothing.
 * - server `disco#items`: `discoLocalItems` (+ `extraItems` option).
 * - user bare JID `disco#info`/`disco#items`: `discoSm*` folds. The account identity
 *   `account/registered` is added when the asker is the user himself or has a presence
 *   subscription to him (`from`/`both` in the user's roster, read from the roster storage
 *   port). Without any identity to show (a stranger and no module adding one) →
 *   `service-unavailable` (XEP-0030 §3.1 requires at least one identity; RFC 6121 §8.5.1
 *   privacy). Items are only listed to the user himself and subscribers.
 * @module
 */
import { defineModule, type ModuleEnv, type ModuleIqHandler } from '../../c2s/module.ts';
import type { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { NS } from '../../core/namespaces.ts';
import {
  discoLocalFeatures,
  discoLocalIdentity,
  discoLocalItems,
  discoSmFeatures,
  discoSmIdentity,
  discoSmItems,
  type DiscoIdentity,
  type DiscoItem,
  type DiscoParams,
} from '../../core/server-hooks.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { isPromise, type HookSpec } from '../../hooks/index.ts';

/** Options of {@link disco}. */
export interface DiscoOptions {
  /** `name` of the server identity (default `xmpp-blocks`). */
  readonly serverName: string;
  /** Static items added to the server's `disco#items` (node-less queries). */
  readonly extraItems: readonly DiscoItem[];
}

type Maybe<T> = T | Promise<T>;

function fold<T>(env: ModuleEnv, spec: HookSpec<T[], DiscoParams>, params: DiscoParams): Maybe<T[]> {
  const r = env.hooks.run(spec, env.hostType, [], params);
  return isPromise(r) ? r.then((x) => x.acc) : r.acc;
}

function all<A, B, C>(a: Maybe<A>, b: Maybe<B>, f: (a: A, b: B) => C): Maybe<C> {
  if (!isPromise(a) && !isPromise(b)) return f(a as A, b as B);
  return Promise.all([a, b]).then(([x, y]) => f(x, y));
}

function paramsOf(acc: Acc, payload: XmlElement): DiscoParams {
  return { from: acc.from, to: acc.to, node: payload.attrs.node, lang: acc.element.attrs['xml:lang'] };
}

function identityEl(i: DiscoIdentity): XmlElement {
  return xml('identity', { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang });
}

function uniqueIdentities(list: readonly DiscoIdentity[]): DiscoIdentity[] {
  const seen = new Set<string>();
  const out: DiscoIdentity[] = [];
  for (const i of list) {
    const k = `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(i);
    }
  }
  return out;
}

/** The `<query xmlns=disco#info/>` result, or `undefined` when there is nothing to say. */
function infoQuery(node: string | undefined, identities: readonly DiscoIdentity[], features: readonly string[]): XmlElement | undefined {
  const ids = uniqueIdentities(identities);
  const feats = [...new Set(features)].sort();
  if (ids.length === 0 && feats.length === 0) return undefined;
  return xml('query', { xmlns: NS.DISCO_INFO, node }, ...ids.map(identityEl), ...feats.map((f) => xml('feature', { var: f })));
}

function itemsQuery(node: string | undefined, items: readonly DiscoItem[]): XmlElement {
  const seen = new Set<string>();
  const els: XmlElement[] = [];
  for (const i of items) {
    const k = `${i.jid}\u0000${i.node ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    els.push(xml('item', { jid: i.jid, node: i.node, name: i.name }));
  }
  return xml('query', { xmlns: NS.DISCO_ITEMS, node }, ...els);
}

/** The asker is the user himself, or the user's roster says the asker sees his presence. */
async function isTrusted(env: ModuleEnv, acc: Acc): Promise<boolean> {
  const from = acc.from;
  const to = acc.to;
  if (from.bareEquals(to)) return true;
  const item = await env.storage.roster.getItem(env.hostType, to.domain, to.local, from.toBareString());
  return item !== undefined && (item.subscription === 'from' || item.subscription === 'both');
}

const SERVER_IDENTITY = (name: string): DiscoIdentity => ({ category: 'server', type: 'im', name });
const ACCOUNT_IDENTITY: DiscoIdentity = { category: 'account', type: 'registered' };

/** The XEP-0030 module. See the module comment and README.md. */
export const disco = defineModule<DiscoOptions>({
  name: 'disco',
  defaults: { serverName: 'xmpp-blocks', extraItems: [] },
  iqHandlers(_hostType, opts, env): ModuleIqHandler[] {
    const serverInfo = (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      const p = paramsOf(acc, payload);
      return all(fold(env, discoLocalIdentity, p), fold(env, discoLocalFeatures, p), (ids, feats) => {
        const own = p.node === undefined;
        const q = infoQuery(p.node, own ? [SERVER_IDENTITY(opts.serverName), ...ids] : ids, own ? [NS.DISCO_INFO, NS.DISCO_ITEMS, ...feats] : feats);
        return q ?? new StanzaError('item-not-found');
      });
    };
    const serverItems = (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      const p = paramsOf(acc, payload);
      const r = fold(env, discoLocalItems, p);
      const answer = (items: DiscoItem[]) => {
        if (p.node === undefined) return itemsQuery(undefined, [...items, ...opts.extraItems]);
        return items.length === 0 ? new StanzaError('item-not-found') : itemsQuery(p.node, items);
      };
      return isPromise(r) ? r.then(answer) : answer(r);
    };
    const userInfo = async (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      const p = paramsOf(acc, payload);
      const [trusted, ids, feats] = await Promise.all([isTrusted(env, acc), fold(env, discoSmIdentity, p), fold(env, discoSmFeatures, p)]);
      const own = p.node === undefined;
      const identities = own && trusted ? [ACCOUNT_IDENTITY, ...ids] : ids;
      if (identities.length === 0) return new StanzaError(own ? 'service-unavailable' : 'item-not-found');
      return infoQuery(p.node, identities, own ? [NS.DISCO_INFO, NS.DISCO_ITEMS, ...feats] : feats) ?? new StanzaError('item-not-found');
    };
    const userItems = async (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      const p = paramsOf(acc, payload);
      const [trusted, items] = await Promise.all([isTrusted(env, acc), fold(env, discoSmItems, p)]);
      if (!trusted) return new StanzaError('service-unavailable');
      if (p.node !== undefined && items.length === 0) return new StanzaError('item-not-found');
      return itemsQuery(p.node, items);
    };
    return [
      { key: { target: 'server', type: 'get', ns: NS.DISCO_INFO, name: 'query' }, handler: serverInfo },
      { key: { target: 'server', type: 'get', ns: NS.DISCO_ITEMS, name: 'query' }, handler: serverItems },
      { key: { target: 'user', type: 'get', ns: NS.DISCO_INFO, name: 'query' }, handler: userInfo },
      { key: { target: 'user', type: 'get', ns: NS.DISCO_ITEMS, name: 'query' }, handler: userItems },
    ];
  },
});

export default disco;
