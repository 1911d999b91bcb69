/**
 * Options of the MUC Light module, with MongooseIM's defaults (`mod_muc_light`).
 * @module
 */
import { DEFAULT_CONFIG_SCHEMA, type MucLightConfigField } from './config.ts';

/** Options of the MUC Light module (MongooseIM's names in brackets). */
export interface MucLightOptions {
  /** Service domain pattern; `@HOST@` is replaced by each domain of the host type [`host`]. */
  readonly host: string;
  /** Rooms have no owner: the creator is a member like everyone [`equal_occupants`]. */
  readonly equalOccupants: boolean;
  /** Most rooms a user may be in; a full user is skipped when added, and cannot create [`rooms_per_user`]. */
  readonly roomsPerUser: number;
  /** The `#blocking` feature [`blocking`]. */
  readonly blocking: boolean;
  /** Members may change the whole configuration, not only the subject [`all_can_configure`]. */
  readonly allCanConfigure: boolean;
  /** Members may add members [`all_can_invite`]. */
  readonly allCanInvite: boolean;
  /** Most members a room may have [`max_occupants`]. */
  readonly maxOccupants: number;
  /** Most rooms in one service `disco#items` answer (RSM pages) [`rooms_per_page`]. */
  readonly roomsPerPage: number;
  /** Rooms in the users' rosters [`rooms_in_rosters`]: not implemented, `true` is refused at start. */
  readonly roomsInRosters: boolean;
  /** Configuration fields a room has [`config_schema`]. */
  readonly configSchema: readonly MucLightConfigField[];
  /** Name of the service's disco identity. */
  readonly serviceName: string;
  /**
   * Priority on `filterLocalPacket`, where the module takes every stanza addressed to its
   * service domains. Default 20: after domain isolation (10), before MAM (60) and inbox (90).
   */
  readonly filterPriority: number;
}

export const DEFAULT_OPTIONS: MucLightOptions = {
  host: 'muclight.@HOST@',
  equalOccupants: false,
  roomsPerUser: Infinity,
  blocking: true,
  allCanConfigure: false,
  allCanInvite: false,
  maxOccupants: Infinity,
  roomsPerPage: 10,
  roomsInRosters: false,
  configSchema: DEFAULT_CONFIG_SCHEMA,
  serviceName: 'MUC Light Service',
  filterPriority: 20,
};

/** @throws Error for options the module cannot run with (a clear error at start). */
export function checkOptions(o: MucLightOptions): void {
  const positive = (n: number) => n === Infinity || (Number.isInteger(n) && n > 0);
  if (!o.host.includes('@HOST@')) throw new Error(`muc-light: host "${o.host}" must contain @HOST@`);
  if (!positive(o.roomsPerUser)) throw new Error('muc-light: roomsPerUser must be a positive integer or Infinity');
  if (!positive(o.maxOccupants)) throw new Error('muc-light: maxOccupants must be a positive integer or Infinity');
  if (!positive(o.roomsPerPage)) throw new Error('muc-light: roomsPerPage must be a positive integer or Infinity');
  if (o.roomsInRosters) throw new Error('muc-light: roomsInRosters is not implemented');
}
