/**
 * MUC Light affiliation changes shared by every adapter.
 * @module
 */
import type { MucLightAffiliationChange, MucLightMember } from '../../core/storage/muc-light-store.ts';
import { cmp } from './order.ts';

/** Members after applying affiliation changes (`none` removes), sorted by `(domain, user)`. */
export function applyMucLightChanges(
  members: readonly MucLightMember[],
  changes: readonly MucLightAffiliationChange[],
): MucLightMember[] {
  const byKey = new Map(members.map((m) => [`${m.domain}\u0000${m.user}`, m]));
  for (const c of changes) {
    const key = `${c.domain}\u0000${c.user}`;
    if (c.affiliation === 'none') byKey.delete(key);
    else byKey.set(key, { user: c.user, domain: c.domain, affiliation: c.affiliation });
  }
  return sortMucLightMembers([...byKey.values()]);
}

export function sortMucLightMembers(members: MucLightMember[]): MucLightMember[] {
  return members.sort((a, b) => cmp(a.domain, b.domain) || cmp(a.user, b.user));
}
