/**
 * The live state of one room: configuration and affiliations (what the MucStore keeps for a
 * persistent room), plus occupants, discussion history, subject and lock, which live only in
 * memory. Plain data with small queries; the service applies the protocol.
 * @module
 */
import type { Jid } from '../../core/jid.ts';
import type { MucAffiliation, MucRoomRecord } from '../../core/storage/muc-store.ts';
import type { XmlElement } from '../../core/xml/element.ts';
import { configFromRecord, configRecord, type RoomConfig } from './config.ts';
import { AFFILIATION_RANK, type Affiliation, type Role } from './stanzas.ts';

/** One occupant: a nick held by one bare JID, from one or more of its sessions (full JIDs). */
export interface Occupant {
  nick: string;
  /** Bare JID string. */
  readonly bare: string;
  role: Role;
  /** The sessions in the room under this nick, by full JID string. */
  readonly sessions: Map<string, Jid>;
  /** The children of the last presence (show, status, caps…) others see. */
  presence: XmlElement[];
}

/** A groupchat message kept for newcomers. */
export interface HistoryEntry {
  /** The message as broadcast, without `to`. */
  readonly el: XmlElement;
  /** When it was sent, ms since the epoch. */
  readonly at: number;
  /** Its serialised size, for `<history maxchars/>`. */
  readonly size: number;
}

interface StoredAffiliation {
  readonly affiliation: MucAffiliation;
  readonly reason?: string | undefined;
}

/** One room's state. */
export class Room {
  /** The room's bare JID. */
  readonly jid: Jid;
  config: RoomConfig;
  /** Bare JID → affiliation (never `none`). */
  readonly affiliations: Map<string, StoredAffiliation>;
  /** Nick → occupant. */
  readonly occupants = new Map<string, Occupant>();
  /** Full JID → nick of the occupant that session is in. */
  readonly sessions = new Map<string, string>();
  history: HistoryEntry[] = [];
  subject: { text: string; by: string } | undefined;
  /** XEP-0045 §10.1.1: nobody but owners may enter until the owner configures the room. */
  locked = false;
  /** The room is in the MucStore. */
  stored = false;

  constructor(jid: Jid, config: RoomConfig, affiliations: Map<string, StoredAffiliation> = new Map()) {
    this.jid = jid;
    this.config = config;
    this.affiliations = affiliations;
  }

  /** A stored room; configuration values that cannot be read keep `base`'s. */
  static fromRecord(jid: Jid, rec: MucRoomRecord, base: RoomConfig): Room {
    const affs = new Map<string, StoredAffiliation>(rec.affiliations.map((a) => [a.jid, { affiliation: a.affiliation, reason: a.reason }]));
    const room = new Room(jid, configFromRecord(rec.config, base), affs);
    room.subject = rec.subject;
    room.stored = true;
    return room;
  }

  /** What the MucStore keeps. */
  record(): MucRoomRecord {
    return {
      name: this.jid.local,
      config: configRecord(this.config),
      affiliations: [...this.affiliations].map(([jid, a]) => ({ jid, affiliation: a.affiliation, reason: a.reason })),
      subject: this.subject,
    };
  }

  affiliationOf(bare: string): Affiliation {
    return this.affiliations.get(bare)?.affiliation ?? 'none';
  }

  setAffiliation(bare: string, affiliation: Affiliation, reason?: string): void {
    if (affiliation === 'none') this.affiliations.delete(bare);
    else this.affiliations.set(bare, { affiliation, reason });
  }

  /** The occupant a session (full JID string) is in. */
  occupantOf(full: string): Occupant | undefined {
    const nick = this.sessions.get(full);
    return nick === undefined ? undefined : this.occupants.get(nick);
  }

  /** The occupants of a bare JID (one per nick it holds). */
  occupantsOf(bare: string): Occupant[] {
    return [...this.occupants.values()].filter((o) => o.bare === bare);
  }

  /** §5.1.2 default roles: moderators for owners and admins, visitors without affiliation in moderated rooms. */
  defaultRole(affiliation: Affiliation): Role {
    if (AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK.admin) return 'moderator';
    if (affiliation === 'none' && this.config.moderated) return 'visitor';
    return 'participant';
  }

  /** §5 / §7.2.3: whether `viewer` is shown the real JIDs of the others. */
  showsJidsTo(viewer: Occupant): boolean {
    return this.config.whois === 'anyone' || viewer.role === 'moderator';
  }

  get isEmpty(): boolean {
    return this.occupants.size === 0;
  }
}
