/**
 * Room configuration schema (MongooseIM's `config_schema`): which fields a room has, their
 * types and defaults. Values are stored as strings; the type only decides what is accepted.
 * @module
 */
import { StanzaError } from '../../core/errors.ts';

/** Type of a configuration field. */
export type ConfigFieldType = 'string' | 'integer' | 'float' | 'boolean';

/** One configuration field of the schema. */
export interface MucLightConfigField {
  /** Element name on the wire (`<roomname/>`). */
  readonly field: string;
  readonly type: ConfigFieldType;
  /** Value of a new room that does not set the field. */
  readonly default: string | number | boolean;
}

/** MongooseIM's default schema. */
export const DEFAULT_CONFIG_SCHEMA: readonly MucLightConfigField[] = [
  { field: 'roomname', type: 'string', default: 'Untitled' },
  { field: 'subject', type: 'string', default: '' },
];

/**
 * Fields with a meaning to the service: `roomname` names the room in disco; boolean
 * `all_can_configure` / `all_can_invite` override the module options per room.
 */
const RESERVED: Readonly<Record<string, ConfigFieldType>> = { roomname: 'string', all_can_configure: 'boolean', all_can_invite: 'boolean' };

const VALID: Record<ConfigFieldType, (v: string) => boolean> = {
  string: () => true,
  integer: (v) => /^[+-]?\d+$/.test(v.trim()),
  float: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  boolean: (v) => v === 'true' || v === 'false',
};

const XML_NAME = /^[A-Za-z_][\w.-]*$/;

/** A checked schema. */
export class ConfigSchema {
  readonly #fields: ReadonlyMap<string, MucLightConfigField>;

  /** @throws Error for a schema that cannot work (checked at module start). */
  constructor(fields: readonly MucLightConfigField[]) {
    const map = new Map<string, MucLightConfigField>();
    for (const f of fields) {
      if (!XML_NAME.test(f.field) || f.field === 'version' || f.field === 'prev-version') throw new Error(`muc-light: invalid config field name "${f.field}"`);
      if (map.has(f.field)) throw new Error(`muc-light: config field "${f.field}" declared twice`);
      if (!(f.type in VALID) || !VALID[f.type](String(f.default))) throw new Error(`muc-light: default of config field "${f.field}" is not a ${f.type}`);
      const reserved = RESERVED[f.field];
      if (reserved !== undefined && reserved !== f.type) throw new Error(`muc-light: config field "${f.field}" must be a ${reserved}`);
      map.set(f.field, f);
    }
    this.#fields = map;
  }

  /** The configuration of a new room: defaults, overridden by `given` (already validated). */
  initial(given: ReadonlyMap<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.#fields.values()) out[f.field] = given.get(f.field) ?? String(f.default);
    return out;
  }

  /** `bad-request` for an unknown field or a value of the wrong type. */
  check(fields: ReadonlyMap<string, string>): StanzaError | undefined {
    for (const [k, v] of fields) {
      const f = this.#fields.get(k);
      if (f === undefined) return new StanzaError('bad-request', `unknown configuration field ${k}`);
      if (!VALID[f.type](v)) return new StanzaError('bad-request', `${k} must be a ${f.type}`);
    }
    return undefined;
  }

  /** A room's per-room override of a boolean module option, if the schema has that field. */
  override(config: Readonly<Record<string, string>>, field: 'all_can_configure' | 'all_can_invite'): boolean | undefined {
    if (!this.#fields.has(field)) return undefined;
    const v = config[field];
    return v === 'true' ? true : v === 'false' ? false : undefined;
  }
}
