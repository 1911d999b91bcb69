/**
 * The reading side of MAM (XEP-0313 §4–§6): the query form, the query with RSM paging and its
 * results, and the preferences IQs.
 * @module
 */
import type { ModuleEnv } from '../../c2s/module.ts';
import { Acc } from '../../core/acc.ts';
import {
  formTemplate,
  formatXepDateTime,
  parseXepDateTime,
  readRsm,
  readSubmittedForm,
  rsmResult,
  singleValue,
  type SubmittedForm,
} from '../../core/data-forms.ts';
import { StanzaError } from '../../core/errors.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import type { MamDefault, MamMessage, MamPage, MamPrefs } from '../../core/storage/mam-store.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import type { Archiver } from './archiver.ts';

/** XEP-0313 §9 extended features (before-id, after-id, ids form fields). */
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';

/** Options the query side needs. */
export interface QueryOptions {
  /** Page size when the client gives no RSM `<max/>`. */
  readonly defaultPageSize: number;
  /** Larger `<max/>` values are capped to this (XEP-0059 §2.1 allows fewer items than asked). */
  readonly maxPageSize: number;
}

/** Only the owner may read or configure their archive (XEP-0313 §4: the archive is the user's bare JID). */
function ownerOf(acc: Acc): Jid {
  if (!acc.from.bareEquals(acc.to)) throw new StanzaError('forbidden', 'Only the owner may access this archive');
  return acc.to.bare();
}

/** `<query xmlns='urn:xmpp:mam:2'><x type='form'>…</x></query>` (XEP-0313 §5.1). */
export function queryFields(): XmlElement {
  return xml(
    'query',
    { xmlns: NS.MAM },
    formTemplate(NS.MAM, [
      { var: 'with', type: 'jid-single' },
      { var: 'start', type: 'text-single' },
      { var: 'end', type: 'text-single' },
      { var: 'before-id', type: 'text-single' },
      { var: 'after-id', type: 'text-single' },
      { var: 'ids', type: 'text-multi' },
    ]),
  );
}

const KNOWN_FIELDS = new Set(['with', 'start', 'end', 'before-id', 'after-id', 'ids']);

interface Filters {
  peer?: string;
  start?: number;
  end?: number;
  afterId?: string;
  beforeId?: string;
  ids?: readonly string[];
}

function readFilters(form: SubmittedForm | undefined): Filters {
  const f: Filters = {};
  if (form === undefined) return f;
  if (form.formType !== undefined && form.formType !== NS.MAM) throw new StanzaError('bad-request', `FORM_TYPE must be ${NS.MAM}`);
  for (const name of form.fields.keys()) {
    // XEP-0313 §4.1.1: a field the server does not support is refused, not ignored.
    if (!KNOWN_FIELDS.has(name)) throw new StanzaError('feature-not-implemented', `unsupported field ${name}`);
  }
  const w = singleValue(form, 'with');
  if (w !== undefined) {
    const j = Jid.tryParse(w);
    if (j === undefined) throw new StanzaError('bad-request', 'with is not a valid JID');
    f.peer = j.toBareString();
  }
  const s = singleValue(form, 'start');
  if (s !== undefined) f.start = parseXepDateTime(s, 'start');
  const e = singleValue(form, 'end');
  if (e !== undefined) f.end = parseXepDateTime(e, 'end');
  const a = singleValue(form, 'after-id');
  if (a !== undefined) f.afterId = a;
  const b = singleValue(form, 'before-id');
  if (b !== undefined) f.beforeId = b;
  const ids = form.fields.get('ids')?.filter((v) => v !== '');
  if (ids !== undefined && ids.length > 0) f.ids = ids;
  return f;
}

/** The result message routed to the querying resource for one archived row. */
function resultMessage(row: MamMessage, queryId: string | undefined, owner: string, to: string): XmlElement | undefined {
  let archived: XmlElement;
  try {
    archived = parseElement(row.xml, { defaultNs: NS.CLIENT });
  } catch {
    return undefined;
  }
  return xml(
    'message',
    { from: owner, to, id: row.id },
    xml(
      'result',
      { xmlns: NS.MAM, queryid: queryId, id: row.id },
      xml('forwarded', { xmlns: NS.FORWARD }, xml('delay', { xmlns: NS.DELAY, stamp: formatXepDateTime(row.timestamp) }), archived.ns === undefined ? archived.withNs(NS.CLIENT) : archived),
    ),
  );
}

/** The `iq set` query handler (XEP-0313 §4). */
export function queryHandler(env: ModuleEnv, opts: QueryOptions) {
  return async (acc: Acc, _iq: XmlElement, q: XmlElement): Promise<XmlElement> => {
    const owner = ownerOf(acc);
    const filters = readFilters(readSubmittedForm(q));
    const rsm = readRsm(q);
    if (rsm?.index !== undefined) throw new StanzaError('feature-not-implemented', 'RSM <index/> is not supported');
    const queryId = q.attrs.queryid;
    const store = env.storage.mam;
    const ht = env.hostType;
    const mustExist = async (id: string | undefined) => {
      if (id !== undefined && (await store.getMessage(ht, owner.domain, owner.local, id)) === undefined) {
        throw new StanzaError('item-not-found', `no archived message with id ${id}`);
      }
    };

    let page: MamPage;
    let rows: readonly MamMessage[];
    let firstIndex: number | undefined;
    if (filters.ids !== undefined) {
      // XEP-0313 §4.1.4: exactly these messages, every one must exist.
      const found: MamMessage[] = [];
      for (const id of filters.ids) {
        const m = await store.getMessage(ht, owner.domain, owner.local, id);
        if (m === undefined) throw new StanzaError('item-not-found', `no archived message with id ${id}`);
        found.push(m);
      }
      found.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      rows = found;
      firstIndex = found.length ? 0 : undefined;
      page = { rows: found, complete: true, count: found.length, ...(found.length && { first: found[0]!.id, last: found[found.length - 1]!.id }) };
    } else {
      const backwards = rsm?.before !== undefined;
      const afterIds = [filters.afterId, rsm?.after].filter((x): x is string => x !== undefined);
      const beforeIds = [filters.beforeId, rsm?.before].filter((x): x is string => x !== undefined && x !== '');
      for (const id of [...afterIds, ...beforeIds]) await mustExist(id);
      const afterId = afterIds.reduce<string | undefined>((m, x) => (m === undefined || x > m ? x : m), undefined);
      const beforeId = beforeIds.reduce<string | undefined>((m, x) => (m === undefined || x < m ? x : m), undefined);
      const limit = Math.min(rsm?.max ?? opts.defaultPageSize, opts.maxPageSize);
      page = await store.query(ht, owner.domain, owner.local, {
        ...(filters.peer !== undefined && { peer: filters.peer }),
        ...(filters.start !== undefined && { start: filters.start }),
        ...(filters.end !== undefined && { end: filters.end }),
        ...(afterId !== undefined && { afterId }),
        ...(beforeId !== undefined && { beforeId }),
        limit,
        order: backwards ? 'desc' : 'asc',
      });
      // A backwards page is fetched newest first; results always go out oldest first.
      rows = backwards ? [...page.rows].reverse() : page.rows;
      if (!backwards && afterId === undefined) firstIndex = 0;
      else if (backwards && beforeId === undefined) firstIndex = page.count - rows.length;
    }

    const ownerStr = owner.toString();
    const to = acc.from.toString();
    for (const row of rows) {
      const msg = resultMessage(row, queryId, ownerStr, to);
      if (msg === undefined) {
        env.logger.error({ id: row.id, owner: ownerStr }, 'archived message is not parseable (skipped)');
        continue;
      }
      env.router.route(Acc.fromElement(msg, { from: owner, to: acc.from, hostType: env.hostType, lserver: owner.domain, origin: 'server', clock: env.clock }));
    }
    const first = rows[0]?.id;
    const last = rows[rows.length - 1]?.id;
    return xml(
      'fin',
      { xmlns: NS.MAM, complete: page.complete ? 'true' : 'false', queryid: queryId },
      rsmResult({ first, firstIndex: first === undefined ? undefined : firstIndex, last, count: page.count }),
    );
  };
}

/** The `iq get` query handler: the form (XEP-0313 §5.1). */
export function fieldsHandler() {
  return (acc: Acc): XmlElement => {
    ownerOf(acc);
    return queryFields();
  };
}

// ------------------------------------------------------------------ preferences (XEP-0313 §6)

function prefsElement(p: MamPrefs): XmlElement {
  return xml(
    'prefs',
    { xmlns: NS.MAM, default: p.default },
    xml('always', {}, p.always.map((j) => xml('jid', {}, j))),
    xml('never', {}, p.never.map((j) => xml('jid', {}, j))),
  );
}

function readJidList(prefs: XmlElement, name: string): string[] {
  const list = prefs.getChild(name, NS.MAM);
  if (list === undefined) return [];
  const out: string[] = [];
  for (const j of list.getChildren('jid', NS.MAM)) {
    const jid = Jid.tryParse(j.text().trim());
    if (jid === undefined) throw new StanzaError('bad-request', `invalid JID in <${name}/>`);
    out.push(jid.toBareString());
  }
  return out;
}

export function prefsGetHandler(archiver: Archiver) {
  return async (acc: Acc): Promise<XmlElement> => prefsElement(await archiver.prefsOf(ownerOf(acc)));
}

export function prefsSetHandler(archiver: Archiver) {
  return async (acc: Acc, _iq: XmlElement, prefs: XmlElement): Promise<XmlElement> => {
    const owner = ownerOf(acc);
    const d = prefs.attrs.default;
    if (d !== 'always' && d !== 'never' && d !== 'roster') throw new StanzaError('bad-request', "default must be 'always', 'never' or 'roster'");
    const always = readJidList(prefs, 'always');
    const never = readJidList(prefs, 'never');
    // A JID in both lists is ambiguous; `never` wins when archiving, so keep it there only.
    const stored = await archiver.setPrefs(owner, { default: d as MamDefault, always: always.filter((j) => !never.includes(j)), never });
    return prefsElement(stored);
  };
}
