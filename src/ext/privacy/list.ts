/**
 * Privacy list items (XEP-0016 §2.1–§2.2): parsing a client's `<list/>`, writing it back,
 * and evaluating a compiled list against one stanza.
 * @module
 */
import { Jid } from '../../core/jid.ts';
import { StanzaError } from '../../core/errors.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import type { PrivacyItem, PrivacyStanzaKind } from '../../core/storage/privacy-store.ts';
import type { RosterItem } from '../../core/storage/roster-store.ts';
import { privacyJidMatches } from '../../core/hooks/privacy.ts';

/** Stanza-kind bits; `0` = "other" (outgoing messages and IQs, subscription presences), matched only by items without children. */
export const KIND_BIT: Readonly<Record<PrivacyStanzaKind, number>> = { message: 1, iq: 2, 'presence-in': 4, 'presence-out': 8 };

const SUBSCRIPTIONS: ReadonlySet<string> = new Set(['none', 'to', 'from', 'both']);

/** One item ready for matching. */
export interface CompiledItem {
  readonly action: 'allow' | 'deny';
  /** OR of {@link KIND_BIT}s; `0` = every kind, incoming and outgoing. */
  readonly kinds: number;
  readonly type: PrivacyItem['type'];
  readonly value: string | undefined;
  readonly jid: Jid | undefined;
}

/** A list as a connection holds it in its slot. */
export interface CompiledList {
  readonly name: string;
  readonly items: readonly CompiledItem[];
  /** Some item matches on roster group or subscription: evaluating needs the contact's roster item. */
  readonly needsRoster: boolean;
}

/** Compile stored items (already sorted by order). */
export function compileList(name: string, items: readonly PrivacyItem[]): CompiledList {
  let needsRoster = false;
  const out: CompiledItem[] = items.map((i) => {
    let kinds = 0;
    for (const w of i.what) kinds |= KIND_BIT[w];
    if (i.type === 'group' || i.type === 'subscription') needsRoster = true;
    return { action: i.action, kinds, type: i.type, value: i.value, jid: i.type === 'jid' ? Jid.tryParse(i.value) : undefined };
  });
  return { name, items: out, needsRoster };
}

/**
 * The kind bit of `el` seen from the list owner: incoming message/iq, presence notifications
 * (no type or `unavailable`, XEP-0016 §2.1 note) in or out; anything else is 0.
 */
export function kindBitOf(el: XmlElement, direction: 'in' | 'out'): number {
  switch (el.name) {
    case 'message':
      return direction === 'in' ? KIND_BIT.message : 0;
    case 'iq':
      return direction === 'in' ? KIND_BIT.iq : 0;
    case 'presence': {
      const t = el.attrs.type;
      if (t !== undefined && t !== 'unavailable') return 0;
      return direction === 'in' ? KIND_BIT['presence-in'] : KIND_BIT['presence-out'];
    }
    default:
      return 0;
  }
}

/**
 * XEP-0016 §2.2: the first item (by order) that applies to the kind and matches the contact
 * decides; no match allows. `roster` is the contact's roster item (`undefined` = not in the
 * roster, subscription `none`); it is only read when the list {@link CompiledList.needsRoster}.
 */
export function evaluate(list: CompiledList, kindBit: number, peer: Jid, roster: RosterItem | undefined): 'allow' | 'deny' {
  for (const item of list.items) {
    if (item.kinds !== 0 && (item.kinds & kindBit) === 0) continue;
    let hit: boolean;
    switch (item.type) {
      case undefined:
        hit = true;
        break;
      case 'jid':
        hit = item.jid !== undefined && privacyJidMatches(item.jid, peer);
        break;
      case 'group':
        hit = roster !== undefined && roster.groups.includes(item.value!);
        break;
      case 'subscription':
        hit = (roster?.subscription ?? 'none') === item.value;
        break;
    }
    if (hit) return item.action;
  }
  return 'allow';
}

/** Parse the items of a client's `<list/>` (XEP-0016 §2.1); every malformed item is `bad-request`. */
export function parseItems(list: XmlElement): PrivacyItem[] | StanzaError {
  const out: PrivacyItem[] = [];
  const orders = new Set<number>();
  for (const el of list.elements()) {
    if (el.name !== 'item') return new StanzaError('bad-request', `unexpected <${el.name}/> in a privacy list`);
    const action = el.attrs.action;
    if (action !== 'allow' && action !== 'deny') return new StanzaError('bad-request', "item 'action' must be allow or deny");
    const orderStr = el.attrs.order;
    if (orderStr === undefined || !/^\d{1,10}$/.test(orderStr) || Number(orderStr) > 0xffffffff) return new StanzaError('bad-request', "item 'order' must be an unsigned integer");
    const order = Number(orderStr);
    // XEP-0016 §2.2: order values are unique within a list.
    if (orders.has(order)) return new StanzaError('bad-request', `duplicate order ${order}`);
    orders.add(order);
    const type = el.attrs.type;
    let value = el.attrs.value;
    if (type !== undefined) {
      if (type !== 'jid' && type !== 'group' && type !== 'subscription') return new StanzaError('bad-request', "item 'type' must be jid, group or subscription");
      if (value === undefined) return new StanzaError('bad-request', "a typed item needs a 'value'");
      if (type === 'jid') {
        const j = Jid.tryParse(value);
        if (j === undefined) return new StanzaError('bad-request', `invalid JID ${value}`);
        value = j.toString();
      } else if (type === 'subscription' && !SUBSCRIPTIONS.has(value)) return new StanzaError('bad-request', 'subscription must be none, to, from or both');
    } else if (value !== undefined) return new StanzaError('bad-request', "'value' without 'type'");
    const what: PrivacyStanzaKind[] = [];
    for (const c of el.elements()) {
      if (!Object.hasOwn(KIND_BIT, c.name)) return new StanzaError('bad-request', `unknown stanza kind <${c.name}/>`);
      if (!what.includes(c.name as PrivacyStanzaKind)) what.push(c.name as PrivacyStanzaKind);
    }
    out.push(type === undefined ? { action, order, what } : { type, value: value!, action, order, what });
  }
  return out.sort((a, b) => a.order - b.order);
}

/** `<item/>` elements of a stored list (XEP-0016 §2.3 result). */
export function itemsToXml(items: readonly PrivacyItem[]): XmlElement[] {
  return items.map((i) => xml('item', { type: i.type, value: i.value, action: i.action, order: i.order }, ...i.what.map((w) => xml(w))));
}
