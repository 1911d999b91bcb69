/**
 * Options of the MUC module (XEP-0045), with MongooseIM's names (`mod_muc`) where they exist.
 * @module
 */
import type { RoomConfig } from './config.ts';

/** Options of the MUC module (MongooseIM's names in brackets). */
export interface MucOptions {
  /** Service domain pattern; `@HOST@` is replaced by each domain of the host type [`host`]. */
  readonly host: string;
  /** Name of the service's disco identity. */
  readonly serviceName: string;
  /** Groupchat messages a room keeps for new occupants [`history_size`]. */
  readonly historySize: number;
  /** Highest `muc#roomconfig_maxusers` a room may have [`max_users`]. */
  readonly maxUsers: number;
  /** Longest nickname, in characters. */
  readonly maxNickLength: number;
  /** Most rooms (live and stored) one service may hold; creating one more is `resource-constraint`. */
  readonly maxRooms: number;
  /**
   * XEP-0045 §10.1.1: a new room stays locked (nobody else may enter) until its owner submits the
   * configuration form or accepts the instant room. Default `false`: new rooms are instant and
   * open at once, because simple clients and bots never configure them.
   */
  readonly lockNewRooms: boolean;
  /** The configuration new rooms start with (merged over the built-in defaults) [`default_room`]. */
  readonly defaultRoomConfig: Partial<RoomConfig>;
  /** Most rooms listed in one service `disco#items` answer without RSM. */
  readonly roomsPerPage: number;
  /**
   * Priority on `filterLocalPacket`, where the module takes every stanza addressed to its
   * service domains. Default 20: after domain isolation (10), before MAM (60) and inbox (90).
   */
  readonly filterPriority: number;
}

export const DEFAULT_OPTIONS: MucOptions = {
  host: 'conference.@HOST@',
  serviceName: 'Chatrooms',
  historySize: 20,
  maxUsers: 200,
  maxNickLength: 64,
  maxRooms: Infinity,
  lockNewRooms: false,
  defaultRoomConfig: {},
  roomsPerPage: 100,
  filterPriority: 20,
};

/** @throws Error for options the module cannot run with (a clear error at start). */
export function checkOptions(o: MucOptions): void {
  const count = (n: number) => n === Infinity || (Number.isInteger(n) && n >= 0);
  if (!o.host.includes('@HOST@')) throw new Error(`muc: host "${o.host}" must contain @HOST@`);
  if (!count(o.historySize)) throw new Error('muc: historySize must be a non-negative integer');
  if (!Number.isInteger(o.maxUsers) || o.maxUsers < 1) throw new Error('muc: maxUsers must be a positive integer');
  if (!Number.isInteger(o.maxNickLength) || o.maxNickLength < 1) throw new Error('muc: maxNickLength must be a positive integer');
  if (!count(o.maxRooms)) throw new Error('muc: maxRooms must be a non-negative integer or Infinity');
  if (!count(o.roomsPerPage) || o.roomsPerPage === 0) throw new Error('muc: roomsPerPage must be a positive integer');
}
