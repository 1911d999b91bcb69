/**
 * Roster items on the wire (RFC 6121 §2.1.2) and the validation of roster sets (§2.3.3,
 * §2.5.3).
 * @module
 */
import { StanzaError } from '../../core/errors.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import type { RosterItem } from '../../core/storage/roster-store.ts';
import { type XmlElement, xml } from '../../core/xml/element.ts';

/** `<item/>` of a roster result or push. `remove` marks a deleted item in a push. */
export function itemElement(item: RosterItem): XmlElement {
  return xml(
    'item',
    {
      jid: item.jid,
      name: item.name,
      subscription: item.subscription,
      // RFC 6121 §2.1.2.2: only "subscribe" is defined for `ask`.
      ask: item.ask === 'subscribe' ? 'subscribe' : undefined,
      approved: item.approved ? 'true' : undefined,
    },
    item.groups.map((g) => xml('group', null, g)),
  );
}

/** `<item jid subscription="remove"/>` of a push for a deleted item (§2.5.2). */
export function removedItemElement(jid: string): XmlElement {
  return xml('item', { jid, subscription: 'remove' });
}

/** `<query xmlns="jabber:iq:roster" ver?>` around `items`. */
export function queryElement(items: readonly XmlElement[], ver: string | undefined): XmlElement {
  return xml('query', { xmlns: NS.ROSTER, ver }, ...items);
}

/** A parsed roster set. */
export type RosterSetRequest =
  | { readonly kind: 'remove'; readonly jid: Jid }
  | { readonly kind: 'update'; readonly jid: Jid; readonly name: string | undefined; readonly groups: readonly string[] };

/** Limits checked on roster sets (`not-acceptable` beyond them, RFC 6121 §2.3.3). */
export interface RosterLimits {
  readonly maxNameLength: number;
  readonly maxGroupLength: number;
}

/**
 * Parse and validate the `<query/>` of a roster set.
 * - `bad-request`: not exactly one `<item/>`, missing or invalid `jid`, duplicate groups (§2.3.3);
 * - `not-acceptable`: an empty group, a name or group over the limits (§2.3.3).
 *
 * Any `subscription` value other than `remove` is ignored (§2.1.2.5: "in a roster set, the
 * server MUST ignore all values of the subscription attribute other than remove"), as is `ask`.
 */
export function parseRosterSet(query: XmlElement, limits: RosterLimits): RosterSetRequest | StanzaError {
  const items = query.elements();
  if (items.length !== 1 || items[0]!.name !== 'item') return new StanzaError('bad-request', 'A roster set must contain exactly one <item/>');
  const item = items[0]!;
  const jidAttr = item.attrs.jid;
  const jid = jidAttr === undefined ? undefined : Jid.tryParse(jidAttr);
  if (jid === undefined) return new StanzaError('bad-request', 'The item needs a valid jid');
  // Roster items are bare JIDs (RFC 6121 §2.1.1).
  const bareJid = jid.bare();
  if (item.attrs.subscription === 'remove') return { kind: 'remove', jid: bareJid };
  const name = item.attrs.name;
  if (name !== undefined && name.length > limits.maxNameLength) return new StanzaError('not-acceptable', 'The name is too long');
  const groups: string[] = [];
  const seen = new Set<string>();
  for (const g of item.getChildren('group')) {
    const text = g.text();
    if (text.length === 0) return new StanzaError('not-acceptable', 'Empty group names are not allowed');
    if (text.length > limits.maxGroupLength) return new StanzaError('not-acceptable', 'A group name is too long');
    if (seen.has(text)) return new StanzaError('bad-request', `Duplicate group "${text}"`);
    seen.add(text);
    groups.push(text);
  }
  return { kind: 'update', jid: bareJid, name: name === '' ? undefined : name, groups };
}
