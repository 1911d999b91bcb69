/**
 * MUC Light rooms (XEP-0479-style "MUC light" as in MongooseIM): config, affiliations, version.
 * @module
 */

/** Stored affiliations; `none` only appears in changes, meaning "remove". */
export type MucLightAffiliation = 'owner' | 'member';

/** A room member, identified like every user by normalised `(domain, user)`. */
export interface MucLightMember {
  readonly user: string;
  readonly domain: string;
  readonly affiliation: MucLightAffiliation;
}

/** An affiliation change; `none` removes the member. */
export interface MucLightAffiliationChange {
  readonly user: string;
  readonly domain: string;
  readonly affiliation: MucLightAffiliation | 'none';
}

/** A room, identified by its (MUC light service) `domain` and `name` (the room JID's localpart). */
export interface MucLightRoom {
  readonly domain: string;
  readonly name: string;
  /** Room configuration (roomname, subject, custom fields): string values. */
  readonly config: Readonly<Record<string, string>>;
  /** Members sorted by `(domain, user)`. */
  readonly members: readonly MucLightMember[];
  /** Opaque version, chosen by the module on every change. */
  readonly version: string;
}

/** A room a user belongs to. */
export interface MucLightRoomRef {
  readonly domain: string;
  readonly name: string;
  readonly version: string;
}

/**
 * Persistent MUC Light rooms. `hostType` is the host type of the MUC light service domain.
 * Updates take the new version and, optionally, the version the caller based its change on
 * (optimistic concurrency: a mismatch changes nothing).
 */
export interface MucLightStore {
  /** Create a room; `exists` when the name is taken. */
  create(hostType: string, room: MucLightRoom): Promise<'ok' | 'exists'>;
  /** Delete a room and its members; `false` when none. */
  destroy(hostType: string, domain: string, name: string): Promise<boolean>;
  get(hostType: string, domain: string, name: string): Promise<MucLightRoom | undefined>;
  /** Merge config keys; resolves the updated room. */
  setConfig(
    hostType: string, domain: string, name: string, changes: Readonly<Record<string, string>>, newVersion: string, expectedVersion?: string,
  ): Promise<MucLightUpdateResult>;
  /** Apply affiliation changes; resolves the updated room. */
  setAffiliations(
    hostType: string, domain: string, name: string, changes: readonly MucLightAffiliationChange[], newVersion: string, expectedVersion?: string,
  ): Promise<MucLightUpdateResult>;
  /** Rooms the user is a member of, sorted by `(domain, name)`. */
  roomsOfUser(hostType: string, domain: string, user: string): Promise<MucLightRoomRef[]>;
  /**
   * Remove the user from every room (of any service); resolves the rooms that lost a member,
   * so the module can notify them or destroy rooms left without members.
   */
  removeUser(hostType: string, domain: string, user: string): Promise<MucLightRoomRef[]>;
  /** Delete every room of service `domain` and every membership of users of `domain`. */
  removeDomain(hostType: string, domain: string): Promise<void>;
}

/** Outcome of a room update. */
export type MucLightUpdateResult =
  | { readonly ok: true; readonly room: MucLightRoom }
  | { readonly ok: false; readonly error: 'not-found' | 'version-mismatch' };
