/**
 * Personal eventing (XEP-0163, PEP): the publish-subscribe nodes of an account and their
 * items. A node belongs to the account `(domain, user)`; its configuration is kept as the
 * XEP-0060 `pubsub#…` field values (strings), items as serialized XML payloads.
 * @module
 */

/** A node of an account. */
export interface PepNode {
  /** The node name (e.g. `urn:xmpp:avatar:metadata`). */
  readonly node: string;
  /** `pubsub#…` configuration values, e.g. `{ 'pubsub#access_model': 'presence', 'pubsub#max_items': '1' }`. */
  readonly config: Readonly<Record<string, string>>;
}

/** A published item. */
export interface PepItem {
  /** Item id (unique within its node). */
  readonly id: string;
  /** The item's payload: the serialized child element of `<item/>` (`''` for none). */
  readonly payload: string;
  /** Bare JID of the publisher. */
  readonly publisher: string;
  /** When it was (last) published, microseconds since the epoch. */
  readonly timestamp: number;
}

/** Storage of PEP nodes and items. */
export interface PepStore {
  getNode(hostType: string, domain: string, user: string, node: string): Promise<PepNode | undefined>;
  /** Every node of the account, sorted by name. */
  listNodes(hostType: string, domain: string, user: string): Promise<PepNode[]>;
  /** Create a node; `exists` when the account already has one by that name. */
  createNode(hostType: string, domain: string, user: string, node: string, config: Readonly<Record<string, string>>): Promise<'ok' | 'exists'>;
  /** Replace a node's configuration; `false` when there is no such node. */
  configureNode(hostType: string, domain: string, user: string, node: string, config: Readonly<Record<string, string>>): Promise<boolean>;
  /** Delete a node with its items; `false` when there was none. */
  deleteNode(hostType: string, domain: string, user: string, node: string): Promise<boolean>;
  /**
   * Store an item (an item with the same id is replaced and becomes the newest), then keep
   * only the `maxItems` newest; `false` (nothing stored) when there is no such node.
   */
  publish(hostType: string, domain: string, user: string, node: string, item: PepItem, maxItems: number): Promise<boolean>;
  /** Delete one item; `false` when there was none. */
  retract(hostType: string, domain: string, user: string, node: string, itemId: string): Promise<boolean>;
  /** Delete every item of a node (the node stays); `false` when there is no such node. */
  purge(hostType: string, domain: string, user: string, node: string): Promise<boolean>;
  /**
   * Items of a node, newest first: the ones named in `ids` (in that order, missing ones
   * skipped) or else the `max` newest (all without `max`). `undefined` when there is no such node.
   */
  getItems(
    hostType: string, domain: string, user: string, node: string, opts?: { readonly max?: number; readonly ids?: readonly string[] },
  ): Promise<PepItem[] | undefined>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
