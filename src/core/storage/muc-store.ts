/**
 * Multi-User Chat (XEP-0045): the persistent rooms of a MUC service — their configuration,
 * affiliations and subject. Occupants (who is in the room now) are live state and are not
 * stored. A room is identified by its service `domain` (e.g. `conference.example.com`) and
 * its `name` (the room JID's normalised localpart).
 * @module
 */

/** A stored affiliation (XEP-0045 §5.2); `none` is never stored. */
export type MucAffiliation = 'owner' | 'admin' | 'member' | 'outcast';

/** One user's affiliation with a room. */
export interface MucAffiliationEntry {
  /** Bare JID (normalised). */
  readonly jid: string;
  readonly affiliation: MucAffiliation;
  /** Reason given when it was set (bans usually have one). */
  readonly reason?: string | undefined;
}

/** A persistent room. */
export interface MucRoomRecord {
  readonly name: string;
  /** `muc#roomconfig_…` values (and any the module adds); list-multi fields as arrays. */
  readonly config: Readonly<Record<string, string | readonly string[]>>;
  /** Affiliations, sorted by JID. */
  readonly affiliations: readonly MucAffiliationEntry[];
  /** The current subject and who set it (occupant nick), if any. */
  readonly subject?: { readonly text: string; readonly by: string } | undefined;
}

/** Storage of persistent MUC rooms. */
export interface MucStore {
  getRoom(hostType: string, domain: string, name: string): Promise<MucRoomRecord | undefined>;
  /** Names of the service's stored rooms, sorted. */
  listRooms(hostType: string, domain: string): Promise<string[]>;
  /** Create or replace a room (the whole record). */
  saveRoom(hostType: string, domain: string, room: MucRoomRecord): Promise<void>;
  /** Delete a room; `false` when there was none. */
  deleteRoom(hostType: string, domain: string, name: string): Promise<boolean>;
  /** Drop the affiliations of `user@domain` in every room of every service. */
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  /** Delete the rooms of service `domain`, and the affiliations of users of `domain` everywhere. */
  removeDomain(hostType: string, domain: string): Promise<void>;
}
