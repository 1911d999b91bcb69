/**
 * Privacy list ordering and the blocklist-as-a-list mapping shared by every adapter.
 * @module
 */
import type { PrivacyItem } from '../../core/storage/privacy-store.ts';

/** Sort privacy items by order (XEP-0016 §2.2) and copy them. */
export function sortPrivacyItems(items: readonly PrivacyItem[]): PrivacyItem[] {
  return items.map((i) => ({ ...i, what: [...i.what] })).sort((a, b) => a.order - b.order);
}

/** The blocklist as privacy items: deny everything from/to each JID, in JID order. */
export function blocklistItems(jids: Iterable<string>): PrivacyItem[] {
  return [...new Set(jids)].sort().map((value, order) => ({ type: 'jid', value, action: 'deny', order, what: [] }));
}

/** The JIDs of a blocklist-backing list. */
export function blocklistJids(items: readonly PrivacyItem[] | undefined): string[] {
  return (items ?? []).filter((i) => i.type === 'jid' && i.value !== undefined).map((i) => i.value!).sort();
}
