/**
 * PEP node configuration (XEP-0060 §16.4.4 `pubsub#…` fields): the supported fields and their
 * values, the defaults of XEP-0163 §4.1 / §6.2, validation of submitted forms (configure,
 * create, publish-options) and the configuration form template.
 * @module
 */
import { StanzaError } from '../../core/errors.ts';
import { formTemplate, readSubmittedForm, type FormFieldSpec } from '../../core/data-forms.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { NS_PUBSUB_ERRORS, NS_PUBSUB_NODE_CONFIG, NS_PUBSUB_PUBLISH_OPTIONS } from './namespaces.ts';

/** A node's configuration: `pubsub#…` field → normalised value (what the `PepStore` keeps). */
export type NodeConfig = Readonly<Record<string, string>>;

/** Access models supported (XEP-0060 §4.5; `roster` and `authorize` are not). */
export type AccessModel = 'presence' | 'open' | 'whitelist';

export const ACCESS_MODEL = 'pubsub#access_model';
export const MAX_ITEMS = 'pubsub#max_items';
export const PERSIST_ITEMS = 'pubsub#persist_items';
export const SEND_LAST = 'pubsub#send_last_published_item';
export const NOTIFY_RETRACT = 'pubsub#notify_retract';
export const NOTIFY_DELETE = 'pubsub#notify_delete';

interface FieldDef {
  readonly type: 'list-single' | 'text-single' | 'boolean';
  readonly label: string;
  readonly options?: readonly string[];
  /** The normalised value, or `undefined` when `value` is not acceptable. */
  normalize(value: string, limits: ConfigLimits): string | undefined;
}

/** Bounds that depend on the module's options. */
export interface ConfigLimits {
  /** Largest `pubsub#max_items`; `max` stands for it. */
  readonly maxItems: number;
}

const MAX_TEXT = 1024;

function bool(value: string): string | undefined {
  switch (value.trim()) {
    case '1':
    case 'true':
      return 'true';
    case '0':
    case 'false':
      return 'false';
    default:
      return undefined;
  }
}
const oneOf = (options: readonly string[]) => (value: string) => (options.includes(value.trim()) ? value.trim() : undefined);
const onlyTrue = (value: string) => (bool(value) === 'true' ? 'true' : undefined);
const text = (value: string) => (value.length <= MAX_TEXT ? value : undefined);

const ACCESS_MODELS: readonly AccessModel[] = ['presence', 'open', 'whitelist'];
const SEND_LAST_VALUES = ['never', 'on_sub', 'on_sub_and_presence'];

/** The supported fields, in form order. */
const FIELDS: ReadonlyMap<string, FieldDef> = new Map<string, FieldDef>([
  [ACCESS_MODEL, { type: 'list-single', label: 'Who may subscribe and retrieve items', options: ACCESS_MODELS, normalize: oneOf(ACCESS_MODELS) }],
  [
    MAX_ITEMS,
    {
      type: 'text-single',
      label: 'Max # of items to persist (or max)',
      normalize: (v, limits) => {
        const t = v.trim();
        if (t === 'max') return 'max';
        if (!/^\d{1,9}$/.test(t)) return undefined;
        const n = Number(t);
        return n >= 1 && n <= limits.maxItems ? String(n) : undefined;
      },
    },
  ],
  [PERSIST_ITEMS, { type: 'boolean', label: 'Persist items to storage', normalize: bool }],
  [SEND_LAST, { type: 'list-single', label: 'When to send the last published item', options: SEND_LAST_VALUES, normalize: oneOf(SEND_LAST_VALUES) }],
  [NOTIFY_RETRACT, { type: 'boolean', label: 'Notify subscribers when items are removed', normalize: bool }],
  [NOTIFY_DELETE, { type: 'boolean', label: 'Notify subscribers when the node is deleted', normalize: bool }],
  ['pubsub#deliver_payloads', { type: 'boolean', label: 'Deliver payloads with event notifications', normalize: onlyTrue }],
  ['pubsub#deliver_notifications', { type: 'boolean', label: 'Deliver event notifications', normalize: onlyTrue }],
  ['pubsub#publish_model', { type: 'list-single', label: 'Who may publish', options: ['publishers'], normalize: oneOf(['publishers']) }],
  ['pubsub#notification_type', { type: 'list-single', label: 'Message type of notifications', options: ['headline'], normalize: oneOf(['headline']) }],
  ['pubsub#title', { type: 'text-single', label: 'A friendly name for the node', normalize: text }],
  ['pubsub#type', { type: 'text-single', label: 'Payload type', normalize: text }],
]);

/** The configuration of an auto-created or created node before options (XEP-0163 §4.1, §6.2). */
export const DEFAULT_CONFIG: NodeConfig = Object.freeze({
  [ACCESS_MODEL]: 'presence',
  [MAX_ITEMS]: '1',
  [PERSIST_ITEMS]: 'true',
  [SEND_LAST]: 'on_sub_and_presence',
  [NOTIFY_RETRACT]: 'true',
  [NOTIFY_DELETE]: 'true',
  'pubsub#deliver_payloads': 'true',
  'pubsub#deliver_notifications': 'true',
  'pubsub#publish_model': 'publishers',
  'pubsub#notification_type': 'headline',
});

/** A pubsub error: `condition` with `<app xmlns='…pubsub#errors'/>` (XEP-0060 §7–§8 error tables). */
export function pubsubError(condition: ConstructorParameters<typeof StanzaError>[0], app: string, text?: string, attrs?: Record<string, string>): StanzaError {
  return new StanzaError(condition, { appCondition: xml(app, { xmlns: NS_PUBSUB_ERRORS, ...attrs }), text });
}

/** `feature-not-implemented` + `<unsupported feature/>` (XEP-0060 §6–§8). */
export function unsupported(feature: string): StanzaError {
  return pubsubError('feature-not-implemented', 'unsupported', undefined, { feature });
}

/** The node's access model (an unknown stored value counts as the strictest). */
export function accessModel(config: NodeConfig): AccessModel {
  const m = config[ACCESS_MODEL] ?? 'presence';
  return (ACCESS_MODELS as readonly string[]).includes(m) ? (m as AccessModel) : 'whitelist';
}

/** How many items the node keeps: `max_items` (`max` = the limit); one when items are not persisted. */
export function effectiveMaxItems(config: NodeConfig, limits: ConfigLimits): number {
  if (config[PERSIST_ITEMS] === 'false') return 1;
  const v = config[MAX_ITEMS];
  if (v === undefined) return 1;
  if (v === 'max') return limits.maxItems;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, limits.maxItems) : 1;
}

/** `true`/`1` → true, `false`/`0` → false, absent → `undefined`; anything else `bad-request`. */
export function booleanAttr(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const b = bool(value);
  if (b === undefined) throw new StanzaError('bad-request', `not a boolean: ${value}`);
  return b === 'true';
}

/** Where a submitted form comes from: decides its FORM_TYPE and the error for a bad value. */
type FormUse = 'publish-options' | 'configure';

/**
 * The `pubsub#…` values of the form in `parent` (`<publish-options/>`, `<configure/>`),
 * normalised, or `undefined` when there is no form. An unknown field or a value we do not
 * support → `conflict` + `<precondition-not-met/>` for publish options (XEP-0060 §7.1.5: the
 * node cannot be made to match), `not-acceptable` for configuration (§8.2.5.3). Another
 * FORM_TYPE, or a malformed form → `bad-request`.
 */
export function readConfigForm(parent: XmlElement, use: FormUse, limits: ConfigLimits): Map<string, string> | undefined {
  const form = readSubmittedForm(parent);
  if (form === undefined) return undefined;
  const formType = use === 'publish-options' ? NS_PUBSUB_PUBLISH_OPTIONS : NS_PUBSUB_NODE_CONFIG;
  if (form.formType !== undefined && form.formType !== formType) throw new StanzaError('bad-request', `FORM_TYPE must be ${formType}`);
  const out = new Map<string, string>();
  for (const [name, values] of form.fields) {
    const def = FIELDS.get(name);
    const reject = (why: string) =>
      use === 'publish-options' ? pubsubError('conflict', 'precondition-not-met', why) : new StanzaError('not-acceptable', why);
    if (def === undefined) throw reject(`unsupported option ${name}`);
    if (values.length > 1) throw reject(`${name} takes one value`);
    const raw = values[0] ?? '';
    // An empty text field clears it (title, type).
    if (raw === '' && def.type === 'text-single' && name !== MAX_ITEMS) {
      out.set(name, '');
      continue;
    }
    const v = def.normalize(raw, limits);
    if (v === undefined) throw reject(`unsupported value "${raw}" for ${name}`);
    out.set(name, v);
  }
  return out;
}

/** `config` with `changes` applied (an empty value removes a text field). */
export function applyConfig(config: NodeConfig, changes: ReadonlyMap<string, string>): NodeConfig {
  const out: Record<string, string> = { ...config };
  for (const [k, v] of changes) {
    if (v === '') delete out[k];
    else out[k] = v;
  }
  return out;
}

/** The `pubsub#node_config` form with `config`'s values (XEP-0060 §8.2.1). */
export function configForm(config: NodeConfig): XmlElement {
  const fields: FormFieldSpec[] = [];
  for (const [name, def] of FIELDS) {
    const value = config[name];
    fields.push({ var: name, type: def.type, label: def.label, ...(value !== undefined && { value }), ...(def.options && { options: def.options }) });
  }
  return formTemplate(NS_PUBSUB_NODE_CONFIG, fields);
}
