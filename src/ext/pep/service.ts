/**
 * The PEP service of one host type: nodes and items on the `PepStore` port, the access
 * models, and the delivery of notifications. A notification is never routed to a bare JID:
 * it is `cast` to each session of the owner and of the contacts allowed to see the node, and
 * each connection decides from its own caps slot whether it wants it (XEP-0163 §4.3.1).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { KeyedQueue } from '../../core/keyed-queue.ts';
import { StanzaError } from '../../core/errors.ts';
import { Jid } from '../../core/jid.ts';
import { emptySubscriptionLists, rosterGetSubscriptionLists } from '../../core/hooks/roster.ts';
import type { PepItem, PepNode } from '../../core/storage/pep-store.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import type { ModuleEnv } from '../../c2s/module.ts';
import { accessModel, effectiveMaxItems, pubsubError, SEND_LAST, type ConfigLimits, type NodeConfig } from './config.ts';
import { NS_PUBSUB_EVENT } from './namespaces.ts';

/** The `cast` tag of the module's foreign events. */
export const PEP_CAST_TAG = 'pep';

/** A notification for the sessions of one user: each delivers it if it has `<node>+notify`. */
export interface PepNotifyCast {
  readonly kind: 'notify';
  /** The node owner's bare JID. */
  readonly owner: string;
  readonly node: string;
  /** The `<event xmlns='…pubsub#event'/>` to send. */
  readonly event: XmlElement;
}

/** Sent by a connection to itself: compute and send the last published items it may see (§6.2). */
export interface PepLastItemsCast {
  readonly kind: 'last';
}

export type PepCast = PepNotifyCast | PepLastItemsCast;

/** Type guard for the module's cast contents. */
export function isPepCast(content: unknown): content is PepCast {
  const k = (content as PepCast | null)?.kind;
  return typeof content === 'object' && content !== null && (k === 'notify' || k === 'last');
}

const NS_DELAY = 'urn:xmpp:delay';
const MAX_NAME = 1024;
let messageSeq = 0;

/** Options the service needs. */
export interface PepLimits extends ConfigLimits {
  /** Nodes per account. */
  readonly maxNodes: number;
}

/** Nodes and items of every account of one host type. */
export class PepService {
  readonly #env: ModuleEnv;
  readonly limits: PepLimits;
  readonly #queue = new KeyedQueue();

  constructor(env: ModuleEnv, limits: PepLimits) {
    this.#env = env;
    this.limits = limits;
  }

  get env(): ModuleEnv {
    return this.#env;
  }

  /** Run `fn` after every earlier change of `owner`'s nodes (the store is async: auto-create races). */
  locked<T>(owner: Jid, fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(owner.toBareString(), fn);
  }

  /** The host type whose storage holds `jid`'s nodes; `undefined` for a domain not served here. */
  hostTypeOf(jid: Jid): string | undefined {
    return jid.domain === '' ? undefined : this.#env.domains.hostTypeOf(jid.domain);
  }

  getNode(owner: Jid, node: string): Promise<PepNode | undefined> {
    return this.#env.storage.pep.getNode(this.#env.hostType, owner.domain, owner.local, node);
  }

  listNodes(owner: Jid): Promise<PepNode[]> {
    return this.#env.storage.pep.listNodes(this.#env.hostType, owner.domain, owner.local);
  }

  /** A new item id (XEP-0060 §7.1.2: the service generates one when the publisher gives none). */
  newItemId(): string {
    return randomUUID();
  }

  /** `not-acceptable` when a node name or item id is unreasonably long. */
  static checkName(name: string, what: string): void {
    if (name.length > MAX_NAME) throw pubsubError('not-acceptable', 'invalid-payload', `${what} longer than ${MAX_NAME} characters`);
  }

  /** Create `node` unless the account is at its limit; `exists` when there is one. */
  async create(owner: Jid, node: string, config: NodeConfig): Promise<'ok' | 'exists'> {
    const nodes = await this.listNodes(owner);
    if (nodes.some((n) => n.node === node)) return 'exists';
    if (nodes.length >= this.limits.maxNodes) throw new StanzaError('resource-constraint', `at most ${this.limits.maxNodes} nodes per account`);
    return this.#env.storage.pep.createNode(this.#env.hostType, owner.domain, owner.local, node, config);
  }

  async publish(owner: Jid, node: string, config: NodeConfig, id: string, payload: XmlElement): Promise<void> {
    const item: PepItem = { id, payload: serialize(payload), publisher: owner.toBareString(), timestamp: Math.round(this.#env.clock.now() * 1000) };
    await this.#env.storage.pep.publish(this.#env.hostType, owner.domain, owner.local, node, item, effectiveMaxItems(config, this.limits));
  }

  /** Drop the items beyond the node's `max_items` (after a configuration lowered it). */
  async trim(owner: Jid, node: string, config: NodeConfig): Promise<void> {
    const store = this.#env.storage.pep;
    const max = effectiveMaxItems(config, this.limits);
    const items = await store.getItems(this.#env.hostType, owner.domain, owner.local, node);
    for (const extra of (items ?? []).slice(max)) await store.retract(this.#env.hostType, owner.domain, owner.local, node, extra.id);
  }

  /**
   * Whether `requester` may retrieve the items of a node with `config` (XEP-0060 §6.5.9):
   * `undefined` when allowed, else the error to answer.
   */
  async retrieveDenied(owner: Jid, requester: Jid, config: NodeConfig): Promise<StanzaError | undefined> {
    if (requester.bareEquals(owner)) return undefined;
    switch (accessModel(config)) {
      case 'open':
        return undefined;
      case 'whitelist':
        // The whitelist is the owner alone (no affiliation management yet).
        return pubsubError('not-allowed', 'closed-node');
      case 'presence':
        return (await this.subscribedFrom(owner, requester)) ? undefined : pubsubError('not-authorized', 'presence-subscription-required');
    }
  }

  /** `contact` has a presence subscription to `owner` (`from`/`both` on the owner's roster). */
  async subscribedFrom(owner: Jid, contact: Jid): Promise<boolean> {
    const ht = this.hostTypeOf(owner);
    if (ht === undefined) return false;
    const item = await this.#env.storage.roster.getItem(ht, owner.domain, owner.local, contact.toBareString());
    return item !== undefined && (item.subscription === 'from' || item.subscription === 'both');
  }

  /**
   * Cast `event` to every session that may see the node: the owner's, and (unless the model is
   * `whitelist`) those of the owner's presence subscribers (`from`/`both`, asked through
   * `rosterGetSubscriptionLists`). `open` nodes notify the same people: PEP's subscriptions are
   * the implicit, presence-based ones (XEP-0163 §4.3).
   */
  async broadcast(owner: Jid, node: string, config: NodeConfig, event: XmlElement): Promise<void> {
    const recipients = [owner.toBareString()];
    if (accessModel(config) !== 'whitelist') {
      try {
        const r = await this.#env.hooks.runAsync(rosterGetSubscriptionLists, this.#env.hostType, emptySubscriptionLists(), { jid: owner.bare() });
        recipients.push(...r.acc.from, ...r.acc.both);
      } catch (err) {
        // The IQ was already answered: the owner's own resources still get the event.
        this.#env.logger.error({ err: String(err), owner: owner.toString() }, 'pep: subscription lists failed');
      }
    }
    const cast: PepNotifyCast = { kind: 'notify', owner: owner.toBareString(), node, event };
    for (const r of recipients) for (const s of this.#env.sessions.sessionsOf(r)) s.cast(PEP_CAST_TAG, cast);
  }

  /**
   * The last published item of each node of `contact` that `user` may see and wants
   * (`notify`: the node names with `+notify`), as `<event/>` messages to `to` (XEP-0163 §6.2;
   * nodes with `send_last_published_item` `never` are skipped). Stamped with the item's time
   * (XEP-0203), so a client can tell it from a fresh publish.
   */
  async lastItems(contact: Jid, user: Jid, to: Jid, notify: ReadonlySet<string>): Promise<XmlElement[]> {
    const ht = this.hostTypeOf(contact);
    if (ht === undefined || notify.size === 0) return [];
    const store = this.#env.storage.pep;
    const nodes = (await store.listNodes(ht, contact.domain, contact.local)).filter((n) => notify.has(n.node) && n.config[SEND_LAST] !== 'never');
    const own = contact.bareEquals(user);
    let allowed: boolean | undefined;
    const out: XmlElement[] = [];
    for (const n of nodes) {
      if (!own) {
        if (accessModel(n.config) === 'whitelist') continue;
        allowed ??= await this.subscribedFrom(contact, user);
        if (!allowed) continue;
      }
      const [item] = (await store.getItems(ht, contact.domain, contact.local, n.node, { max: 1 })) ?? [];
      if (item === undefined) continue;
      const event = xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('items', { node: n.node }, itemElement(item)));
      out.push(eventMessage(contact.bare(), to, event, xml('delay', { xmlns: NS_DELAY, from: contact.toBareString(), stamp: new Date(Math.floor(item.timestamp / 1000)).toISOString() })));
    }
    return out;
  }

  async removeUser(jid: Jid): Promise<void> {
    await this.#env.storage.pep.removeUser(this.#env.hostType, jid.domain, jid.local);
  }

  async removeDomain(domain: string): Promise<void> {
    await this.#env.storage.pep.removeDomain(this.#env.hostType, domain);
  }
}

/** `<item id>payload</item>` of a stored item. */
export function itemElement(item: PepItem): XmlElement {
  return xml('item', { id: item.id }, item.payload === '' ? null : parseElement(item.payload));
}

/** `<message from=owner to type='headline'>` carrying a pubsub `<event/>` (XEP-0060 §7.1.2.1). */
export function eventMessage(owner: Jid, to: Jid, event: XmlElement, ...extra: XmlElement[]): XmlElement {
  return xml('message', { from: owner.toBareString(), to: to.toString(), type: 'headline', id: `pep-${(++messageSeq).toString(36)}` }, event, ...extra);
}
