/**
 * The affiliation rules of a MUC Light room, as a pure function over bare JID strings: which
 * changes are meaningful, the single-owner rule (promoting someone demotes the owner), and who
 * becomes owner when the last one leaves.
 * @module
 */
import { StanzaError } from '../../core/errors.ts';
import type { MucLightAffiliation } from '../../core/storage/muc-light-store.ts';
import type { AffiliationItem } from './stanzas.ts';

/** A room's members by bare JID. */
export type Members = ReadonlyMap<string, MucLightAffiliation>;

/** What a valid change request leads to. */
export interface AffiliationOutcome {
  readonly members: Map<string, MucLightAffiliation>;
  /**
   * Every affiliation that actually changed, the implied ones included (a demoted or promoted
   * owner): what the unchanged occupants are told.
   */
  readonly changes: AffiliationItem[];
}

function bad(text: string): StanzaError {
  return new StanzaError('bad-request', text);
}

const ownersOf = (m: Members): string[] => [...m].filter(([, a]) => a === 'owner').map(([j]) => j);

/**
 * Apply `requested` to `current`. Refused with `bad-request`: a user named twice, a change to
 * the affiliation the user already has (`none` for a non-member included), an owner in a room
 * without owners (equal occupants), two owners at once.
 *
 * In a room with an owner the spec's single-owner rule holds: making someone owner demotes the
 * previous owner to member, and when the owner leaves (or steps down) a new one is chosen —
 * a member the request did not touch, else a newcomer, else the owner stays (their change is
 * dropped).
 */
export function applyAffiliationChanges(current: Members, requested: readonly AffiliationItem[]): AffiliationOutcome | StanzaError {
  const seen = new Set<string>();
  for (const c of requested) {
    if (seen.has(c.jid)) return bad(`${c.jid} appears twice in one request`);
    seen.add(c.jid);
    if ((current.get(c.jid) ?? 'none') === c.aff) return bad(`${c.jid} already has affiliation ${c.aff}`);
  }
  const hadOwner = ownersOf(current).length > 0;
  if (!hadOwner && requested.some((c) => c.aff === 'owner')) return bad('this room has no owner');
  const members = new Map(current);
  for (const c of requested) {
    if (c.aff === 'none') members.delete(c.jid);
    else members.set(c.jid, c.aff);
  }
  let changes = [...requested];
  if (!hadOwner) return { members, changes };

  const owners = ownersOf(members);
  if (owners.length > 1) {
    const previous = owners.filter((j) => !requested.some((c) => c.jid === j && c.aff === 'owner'));
    if (owners.length !== 2 || previous.length !== 1) return bad('a room has at most one owner');
    members.set(previous[0]!, 'member');
    changes.push({ jid: previous[0]!, aff: 'member' });
  } else if (owners.length === 0 && members.size > 0) {
    const changed = new Set(changes.map((c) => c.jid));
    const candidates = [...members.keys()].sort();
    const untouched = candidates.find((j) => !changed.has(j));
    const newcomer = candidates.find((j) => !current.has(j));
    if (untouched !== undefined) {
      changes.push({ jid: untouched, aff: 'owner' });
      members.set(untouched, 'owner');
    } else if (newcomer !== undefined) {
      changes = changes.map((c) => (c.jid === newcomer ? { jid: newcomer, aff: 'owner' } : c));
      members.set(newcomer, 'owner');
    } else {
      // Only the owner who asked to become a member is left: they stay owner.
      const stays = candidates[0]!;
      changes = changes.filter((c) => c.jid !== stays);
      members.set(stays, 'owner');
    }
  }
  return { members, changes };
}
