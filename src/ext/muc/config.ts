/**
 * A room's configuration (XEP-0045 §10.2, FORM_TYPE `http://jabber.org/protocol/muc#roomconfig`):
 * the typed value the module works with, the form an owner gets and submits, and the
 * `muc#roomconfig_*` record kept in the MucStore.
 * @module
 */
import { StanzaError } from '../../core/errors.ts';
import { formTemplate, parseFormBoolean, type FormFieldSpec, type SubmittedForm } from '../../core/data-forms.ts';
import type { XmlElement } from '../../core/xml/element.ts';

export const NS_MUC_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';

/** Who may see occupants' real JIDs (`muc#roomconfig_whois`). */
export type Whois = 'moderators' | 'anyone';

/** A room's configuration. */
export interface RoomConfig {
  /** Natural-language room name [`roomname`]. */
  readonly title: string;
  readonly description: string;
  /** Kept when the last occupant leaves, and stored [`persistentroom`]. */
  readonly persistent: boolean;
  /** Listed in the service's disco#items [`publicroom`]. */
  readonly public: boolean;
  readonly membersOnly: boolean;
  /** Only occupants with voice may speak; newcomers without affiliation are visitors [`moderatedroom`]. */
  readonly moderated: boolean;
  readonly whois: Whois;
  readonly passwordProtected: boolean;
  /** [`roomsecret`] */
  readonly password: string;
  readonly maxUsers: number;
  /** Participants (not only moderators) may change the subject [`changesubject`]. */
  readonly changeSubject: boolean;
  /** Occupants may invite others (in a members-only room, this is what makes the invitee a member) [`allowinvites`]. */
  readonly allowInvites: boolean;
}

export const BUILTIN_CONFIG: RoomConfig = {
  title: '',
  description: '',
  persistent: false,
  public: true,
  membersOnly: false,
  moderated: false,
  whois: 'moderators',
  passwordProtected: false,
  password: '',
  maxUsers: 200,
  changeSubject: false,
  allowInvites: false,
};

const F = (name: string) => `muc#roomconfig_${name}`;
const bool = (b: boolean) => (b ? '1' : '0');
const MAXUSERS_CHOICES = [5, 10, 20, 30, 50, 100, 200, 500, 1000];

/** The `muc#roomconfig_*` record of a configuration (what the MucStore keeps). */
export function configRecord(c: RoomConfig): Record<string, string> {
  return {
    [F('roomname')]: c.title,
    [F('roomdesc')]: c.description,
    [F('persistentroom')]: bool(c.persistent),
    [F('publicroom')]: bool(c.public),
    [F('membersonly')]: bool(c.membersOnly),
    [F('moderatedroom')]: bool(c.moderated),
    [F('whois')]: c.whois,
    [F('passwordprotectedroom')]: bool(c.passwordProtected),
    [F('roomsecret')]: c.password,
    [F('maxusers')]: String(c.maxUsers),
    [F('changesubject')]: bool(c.changeSubject),
    [F('allowinvites')]: bool(c.allowInvites),
  };
}

/** A stored record back into a configuration; unknown or unreadable values keep `base`. */
export function configFromRecord(rec: Readonly<Record<string, string | readonly string[]>>, base: RoomConfig): RoomConfig {
  const values = new Map<string, string[]>();
  for (const [k, v] of Object.entries(rec)) values.set(k, typeof v === 'string' ? [v] : [...v]);
  try {
    return applyValues(base, values, Infinity);
  } catch {
    return base;
  }
}

/** The owner's configuration form (§10.2), filled with the current values. */
export function configForm(c: RoomConfig, maxUsersLimit: number): XmlElement {
  const b = (v: string, label: string, value: boolean): FormFieldSpec => ({ var: F(v), type: 'boolean', label, value: bool(value) });
  const choices = [...new Set([...MAXUSERS_CHOICES.filter((n) => n < maxUsersLimit), maxUsersLimit, c.maxUsers])].sort((x, y) => x - y).map(String);
  return formTemplate(NS_MUC_ROOMCONFIG, [
    { var: F('roomname'), type: 'text-single', label: 'Natural-Language Room Name', value: c.title },
    { var: F('roomdesc'), type: 'text-single', label: 'Short Description of Room', value: c.description },
    b('persistentroom', 'Make Room Persistent?', c.persistent),
    b('publicroom', 'Make Room Publicly Searchable?', c.public),
    b('membersonly', 'Make Room Members-Only?', c.membersOnly),
    b('moderatedroom', 'Make Room Moderated?', c.moderated),
    { var: F('whois'), type: 'list-single', label: 'Who May Discover Real JIDs?', value: c.whois, options: ['moderators', 'anyone'] },
    b('passwordprotectedroom', 'Password Required to Enter?', c.passwordProtected),
    { var: F('roomsecret'), type: 'text-private', label: 'Password', value: c.password },
    { var: F('maxusers'), type: 'list-single', label: 'Maximum Number of Occupants', value: String(c.maxUsers), options: choices },
    b('changesubject', 'Allow Occupants to Change Subject?', c.changeSubject),
    b('allowinvites', 'Allow Occupants to Invite Others?', c.allowInvites),
    b('enablelogging', 'Enable Public Logging?', false),
  ]);
}

/**
 * A submitted configuration form applied to `c` (§10.2: fields left out keep their value).
 * `bad-request` for a wrong FORM_TYPE or an unreadable value; `not-acceptable` for logging,
 * which this service does not do.
 */
export function applyConfigForm(c: RoomConfig, form: SubmittedForm, maxUsersLimit: number): RoomConfig {
  if (form.formType !== undefined && form.formType !== NS_MUC_ROOMCONFIG) throw new StanzaError('bad-request', `FORM_TYPE ${form.formType} is not ${NS_MUC_ROOMCONFIG}`);
  return applyValues(c, form.fields, maxUsersLimit);
}

function applyValues(c: RoomConfig, fields: ReadonlyMap<string, readonly string[]>, maxUsersLimit: number): RoomConfig {
  const out: { -readonly [K in keyof RoomConfig]: RoomConfig[K] } = { ...c };
  const one = (name: string): string | undefined => {
    const v = fields.get(F(name));
    if (v === undefined) return undefined;
    if (v.length > 1) throw new StanzaError('bad-request', `field ${F(name)} takes one value`);
    return v[0] ?? '';
  };
  const flag = (name: string): boolean | undefined => {
    const v = one(name);
    return v === undefined || v === '' ? undefined : parseFormBoolean(v, F(name));
  };
  out.title = one('roomname') ?? out.title;
  out.description = one('roomdesc') ?? out.description;
  out.persistent = flag('persistentroom') ?? out.persistent;
  out.public = flag('publicroom') ?? out.public;
  out.membersOnly = flag('membersonly') ?? out.membersOnly;
  out.moderated = flag('moderatedroom') ?? out.moderated;
  const whois = one('whois');
  if (whois !== undefined) {
    if (whois !== 'moderators' && whois !== 'anyone') throw new StanzaError('bad-request', `${F('whois')} must be moderators or anyone`);
    out.whois = whois;
  }
  out.passwordProtected = flag('passwordprotectedroom') ?? out.passwordProtected;
  out.password = one('roomsecret') ?? out.password;
  const max = one('maxusers');
  if (max !== undefined && max !== '') {
    const n = max === 'none' ? maxUsersLimit : Number(max);
    if (!Number.isInteger(n) || n < 1) throw new StanzaError('bad-request', `${F('maxusers')} must be a positive integer`);
    if (n > maxUsersLimit) throw new StanzaError('not-acceptable', `at most ${maxUsersLimit} occupants`);
    out.maxUsers = n;
  }
  out.changeSubject = flag('changesubject') ?? out.changeSubject;
  out.allowInvites = flag('allowinvites') ?? out.allowInvites;
  if (flag('enablelogging') === true) throw new StanzaError('not-acceptable', 'public logging is not available');
  if (out.passwordProtected && out.password === '') throw new StanzaError('not-acceptable', 'a password-protected room needs a password');
  return out;
}
