/**
 * The XEP-0045 wire format: namespaces, status codes, and the `<x xmlns='…muc#user'/>`
 * payloads rooms put on presences and messages.
 * @module
 */
import { xml, type XmlBuildChild, type XmlElement } from '../../core/xml/element.ts';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = `${NS_MUC}#user`;
export const NS_MUC_ADMIN = `${NS_MUC}#admin`;
export const NS_MUC_OWNER = `${NS_MUC}#owner`;
export const NS_MUC_ROOMINFO = `${NS_MUC}#roominfo`;

/** Status codes (XEP-0045 §15.6) this service sends. */
export const STATUS = {
  /** Real JIDs are shown to anyone (non-anonymous room). */
  NON_ANONYMOUS: 100,
  /** A configuration change not about availability. */
  CONFIG_CHANGED: 104,
  /** This presence is about the receiver itself. */
  SELF: 110,
  /** The room was created by this presence. */
  CREATED: 201,
  /** Banned. */
  BANNED: 301,
  /** New nick (in the unavailable presence of a nick change). */
  NICK_CHANGED: 303,
  /** Kicked. */
  KICKED: 307,
  /** Removed by an affiliation change (members-only room). */
  AFFILIATION_CHANGED: 321,
  /** Removed because the room became members-only. */
  MEMBERS_ONLY: 322,
} as const;

export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';

export const ROLES: ReadonlySet<string> = new Set<Role>(['moderator', 'participant', 'visitor', 'none']);
export const AFFILIATIONS: ReadonlySet<string> = new Set<Affiliation>(['owner', 'admin', 'member', 'outcast', 'none']);

/** Rank of an affiliation, for "may X act on Y" checks (§5.2). */
export const AFFILIATION_RANK: Readonly<Record<Affiliation, number>> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 };

/** One `<item/>` of `<x muc#user>` (§7.2.3) or of an admin answer. */
export interface ItemAttrs {
  readonly affiliation: Affiliation;
  readonly role?: Role | undefined;
  readonly jid?: string | undefined;
  readonly nick?: string | undefined;
  readonly actor?: string | undefined;
  readonly reason?: string | undefined;
}

export function itemEl(i: ItemAttrs): XmlElement {
  return xml(
    'item',
    { affiliation: i.affiliation, role: i.role, jid: i.jid, nick: i.nick },
    i.actor !== undefined && xml('actor', { nick: i.actor }),
    i.reason !== undefined && xml('reason', null, i.reason),
  );
}

export function statusEls(codes: Iterable<number>): XmlElement[] {
  return [...new Set(codes)].sort((a, b) => a - b).map((code) => xml('status', { code }));
}

export function mucUserX(...children: XmlBuildChild[]): XmlElement {
  return xml('x', { xmlns: NS_MUC_USER }, ...children);
}

/** The children of a client's presence that other occupants see (its own MUC payloads dropped). */
export function presenceChildren(el: XmlElement): XmlElement[] {
  return el.elements().filter((c) => !(c.name === 'x' && (c.ns === NS_MUC || c.ns === NS_MUC_USER)));
}
