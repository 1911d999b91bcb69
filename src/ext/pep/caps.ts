/**
 * XEP-0115 entity capabilities, the server's side: the `<c/>` of a presence, the verification
 * string and hash of a disco#info answer (§5.1, with the §5.4 checks), and a bounded cache of
 * verified `ver` → features.
 * @module
 */
import { createHash } from 'node:crypto';
import { NS } from '../../core/namespaces.ts';
import type { XmlElement } from '../../core/xml/element.ts';
import { NS_CAPS } from './namespaces.ts';

/** What a presence announces (`<c xmlns='http://jabber.org/protocol/caps' hash node ver/>`). */
export interface CapsAnnouncement {
  /** IANA hash name (`sha-1`, …); `undefined` for the legacy (pre-1.4) format, which cannot be verified. */
  readonly hash: string | undefined;
  readonly node: string;
  readonly ver: string;
}

/** The caps announced in `presence`, if well-formed enough to query. */
export function readCaps(presence: XmlElement): CapsAnnouncement | undefined {
  const c = presence.getChild('c', NS_CAPS);
  const node = c?.attrs.node;
  const ver = c?.attrs.ver;
  if (c === undefined || !node || !ver) return undefined;
  return { hash: c.attrs.hash || undefined, node, ver };
}

/** IANA hash names (XEP-0115 §5.1 step 8) → node:crypto names. MD5 is left out on purpose. */
const HASHES: Readonly<Record<string, string>> = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

/** Whether `hash` is one we can verify. */
export function isSupportedCapsHash(hash: string | undefined): hash is string {
  return hash !== undefined && Object.hasOwn(HASHES, hash);
}

/** XEP-0115 §5.1 sorts by "i;octet" collation: UTF-8 bytes, not UTF-16 code units. */
function octetSort(values: string[]): string[] {
  return values.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/**
 * The verification string S of a disco#info `<query/>` (XEP-0115 §5.1), or `undefined` when the
 * answer is ill-formed per §5.4 (repeated identity or feature, two forms with one FORM_TYPE, a
 * FORM_TYPE with different values). Forms without a hidden FORM_TYPE are ignored (§5.4 3.6).
 */
export function capsVerificationString(query: XmlElement): string | undefined {
  const identities: string[] = [];
  for (const i of query.getChildren('identity', NS.DISCO_INFO)) {
    const a = i.attrs;
    identities.push(`${a.category ?? ''}/${a.type ?? ''}/${a['xml:lang'] ?? ''}/${a.name ?? ''}`);
  }
  const features = query.getChildren('feature', NS.DISCO_INFO).map((f) => f.attrs.var ?? '');
  if (new Set(identities).size !== identities.length || new Set(features).size !== features.length) return undefined;
  let s = '';
  for (const i of octetSort(identities)) s += i + '<';
  for (const f of octetSort(features)) s += f + '<';

  const forms = new Map<string, string>();
  for (const x of query.getChildren('x', NS.DATA_FORMS)) {
    const fields = x.getChildren('field', NS.DATA_FORMS);
    const formType = fields.find((f) => f.attrs.var === 'FORM_TYPE');
    if (formType === undefined || formType.attrs.type !== 'hidden') continue;
    const typeValues = new Set(formType.getChildren('value', NS.DATA_FORMS).map((v) => v.text()));
    if (typeValues.size !== 1) return undefined;
    const type = [...typeValues][0]!;
    if (forms.has(type)) return undefined;
    const rest = fields.filter((f) => f !== formType);
    const vars = rest.map((f) => f.attrs.var ?? '');
    if (new Set(vars).size !== vars.length) return undefined;
    let part = type + '<';
    const byVar = new Map(rest.map((f) => [f.attrs.var ?? '', f]));
    for (const v of octetSort(vars)) {
      part += v + '<';
      for (const value of octetSort(byVar.get(v)!.getChildren('value', NS.DATA_FORMS).map((e) => e.text()))) part += value + '<';
    }
    forms.set(type, part);
  }
  for (const type of octetSort([...forms.keys()])) s += forms.get(type)!;
  return s;
}

/** The XEP-0115 `ver` of a disco#info `<query/>` with `hash`; `undefined` when unsupported or ill-formed. */
export function capsHash(query: XmlElement, hash: string): string | undefined {
  const algo = HASHES[hash];
  if (algo === undefined) return undefined;
  const s = capsVerificationString(query);
  return s === undefined ? undefined : createHash(algo).update(s, 'utf8').digest('base64');
}

/** A least-recently-used map of verified `hash ver` → features, bounded to `max` entries. */
export class CapsCache {
  readonly #max: number;
  readonly #map = new Map<string, ReadonlySet<string>>();

  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  static key(caps: CapsAnnouncement): string {
    return `${caps.hash ?? ''} ${caps.ver}`;
  }

  get(key: string): ReadonlySet<string> | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, features: ReadonlySet<string>): void {
    this.#map.delete(key);
    this.#map.set(key, features);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }

  get size(): number {
    return this.#map.size;
  }
}
