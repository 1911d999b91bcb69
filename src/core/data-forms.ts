/**
 * Small helpers for the query protocols built on data forms and result sets: XEP-0004 submitted
 * forms (read) and form templates (write), XEP-0059 Result Set Management `<set/>` (read and
 * write), and XEP-0082 date-times. Shared by archive-style modules (MAM, inbox) so that they
 * validate the same way; every parse failure is a {@link StanzaError} `bad-request`.
 * @module
 */
import { StanzaError } from './errors.ts';
import { xml, type XmlElement } from './xml/element.ts';

export const NS_DATA_FORMS = 'jabber:x:data';
export const NS_RSM = 'http://jabber.org/protocol/rsm';

/** A submitted form: `FORM_TYPE` and every other field's values by `var`. */
export interface SubmittedForm {
  readonly formType: string | undefined;
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

/**
 * Read the `<x xmlns='jabber:x:data'>` child of `parent` (XEP-0004 §3.1; type `submit`, or none
 * given; also `form` with `acceptFormType`). `undefined` when there is no form. A field without `var`, a repeated `var`, or a form
 * of another type is `bad-request`.
 */
export function readSubmittedForm(parent: XmlElement, opts: { acceptFormType?: boolean } = {}): SubmittedForm | undefined {
  const x = parent.getChild('x', NS_DATA_FORMS);
  if (x === undefined) return undefined;
  const type = x.attrs.type;
  // `acceptFormType`: some protocols' published examples submit with type='form' (MongooseIM inbox).
  if (type !== undefined && type !== 'submit' && !(opts.acceptFormType && type === 'form')) throw new StanzaError('bad-request', `data form of type ${type} where a submitted form was expected`);
  const fields = new Map<string, string[]>();
  let formType: string | undefined;
  for (const f of x.getChildren('field', NS_DATA_FORMS)) {
    const v = f.attrs.var;
    if (v === undefined || v === '') throw new StanzaError('bad-request', 'data form field without var');
    const values = f.getChildren('value', NS_DATA_FORMS).map((e) => e.text());
    if (v === 'FORM_TYPE') {
      formType = values[0];
      continue;
    }
    if (fields.has(v)) throw new StanzaError('bad-request', `data form field ${v} given twice`);
    fields.set(v, values);
  }
  return { formType, fields };
}

/** The single value of a field; `bad-request` when it has several. `undefined` when absent or empty. */
export function singleValue(form: SubmittedForm, name: string): string | undefined {
  const v = form.fields.get(name);
  if (v === undefined || v.length === 0) return undefined;
  if (v.length > 1) throw new StanzaError('bad-request', `field ${name} takes one value`);
  return v[0] === '' ? undefined : v[0];
}

/** XEP-0004 boolean (`1`/`true`/`0`/`false`); `bad-request` otherwise. */
export function parseFormBoolean(value: string, name: string): boolean {
  switch (value.trim()) {
    case '1':
    case 'true':
      return true;
    case '0':
    case 'false':
      return false;
    default:
      throw new StanzaError('bad-request', `field ${name} is not a boolean`);
  }
}

/** A field of a form template (XEP-0004 §3.2). */
export interface FormFieldSpec {
  readonly var: string;
  readonly type: string;
  readonly label?: string;
  readonly value?: string;
  readonly options?: readonly string[];
}

/** `<x xmlns='jabber:x:data' type='form'>` with a hidden `FORM_TYPE` and `fields`. */
export function formTemplate(formType: string, fields: readonly FormFieldSpec[]): XmlElement {
  return xml(
    'x',
    { xmlns: NS_DATA_FORMS, type: 'form' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, formType)),
    fields.map((f) =>
      xml(
        'field',
        { var: f.var, type: f.type, label: f.label },
        f.value !== undefined && xml('value', {}, f.value),
        (f.options ?? []).map((o) => xml('option', {}, xml('value', {}, o))),
      ),
    ),
  );
}

// ------------------------------------------------------------------ XEP-0082

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * XEP-0082 DateTime (`CCYY-MM-DDThh:mm:ss[.sss]TZD`) → microseconds since the epoch, with
 * the full fraction kept to the microsecond. `bad-request` when malformed or out of range.
 */
export function parseXepDateTime(value: string, name = 'date-time'): number {
  const m = DATETIME.exec(value.trim());
  if (m === null) throw new StanzaError('bad-request', `${name} is not a XEP-0082 date-time`);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!);
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCMonth() !== +mo! - 1 || check.getUTCDate() !== +d! || +h! > 23 || +mi! > 59 || +s! > 60) {
    throw new StanzaError('bad-request', `${name} is not a valid date-time`);
  }
  let offsetMin = 0;
  if (tz !== 'Z') {
    const sign = tz![0] === '-' ? -1 : 1;
    offsetMin = sign * (+tz!.slice(1, 3) * 60 + +tz!.slice(4, 6));
  }
  const micros = frac === undefined ? 0 : Math.floor(Number('0' + frac) * 1e6 + 1e-6);
  return (ms - offsetMin * 60_000) * 1000 + micros;
}

/** Microseconds since the epoch → XEP-0082 DateTime in UTC with microseconds (`…ss.uuuuuuZ`). */
export function formatXepDateTime(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = Math.floor(us) - ms * 1000;
  const iso = new Date(ms).toISOString(); // …ss.mmmZ
  return iso.slice(0, -1) + String(micros).padStart(3, '0') + 'Z';
}

// ------------------------------------------------------------------ XEP-0059

/** A parsed RSM request. `before === ''` is the "last page" request (`<before/>`). */
export interface RsmRequest {
  readonly max?: number;
  readonly after?: string;
  readonly before?: string;
  readonly index?: number;
}

/** Read the `<set xmlns='http://jabber.org/protocol/rsm'>` child of `parent`; `bad-request` when malformed. */
export function readRsm(parent: XmlElement): RsmRequest | undefined {
  const set = parent.getChild('set', NS_RSM);
  if (set === undefined) return undefined;
  const out: { max?: number; after?: string; before?: string; index?: number } = {};
  const int = (name: string): number | undefined => {
    const t = set.getChildText(name, NS_RSM);
    if (t === undefined) return undefined;
    if (!/^\s*\d{1,9}\s*$/.test(t)) throw new StanzaError('bad-request', `RSM <${name}/> must be a non-negative integer`);
    return Number(t);
  };
  const max = int('max');
  if (max !== undefined) out.max = max;
  const index = int('index');
  if (index !== undefined) out.index = index;
  const after = set.getChild('after', NS_RSM);
  if (after !== undefined) {
    const t = after.text();
    if (t === '') throw new StanzaError('bad-request', 'RSM <after/> needs an id');
    out.after = t;
  }
  const before = set.getChild('before', NS_RSM);
  if (before !== undefined) out.before = before.text();
  return out;
}

/** The `<set/>` of a result page (XEP-0059 §2.6: empty pages carry only `<count/>`). */
export function rsmResult(page: { first?: string | undefined; firstIndex?: number | undefined; last?: string | undefined; count?: number | undefined }): XmlElement {
  return xml(
    'set',
    { xmlns: NS_RSM },
    page.first !== undefined && xml('first', { index: page.firstIndex }, page.first),
    page.last !== undefined && xml('last', {}, page.last),
    page.count !== undefined && xml('count', {}, page.count),
  );
}
