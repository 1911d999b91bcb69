/**
 * XMPP addresses (RFC 7622). A {@link Jid} is an immutable value in canonical form: parts are
 * prepared once on construction, so comparing two JIDs is comparing strings.
 *
 * - localpart: PRECIS UsernameCaseMapped (+ `"&'/:<>@` disallowed) — {@link prepareLocalpart}
 * - domainpart: IDNA via Node's UTS #46 (`node:url`), kept in lowercase **U-label** form;
 *   one trailing dot stripped; IPv4 and `[IPv6]` literals — {@link prepareDomain}
 * - resourcepart: PRECIS OpaqueString — {@link prepareResource}
 *
 * Every part is 1–1023 bytes of UTF-8 after preparation. Invalid input throws
 * `new StanzaError('jid-malformed', …)`.
 * @module
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { isIPv4, isIPv6 } from 'node:net';
import { MAX_PART_BYTES, PrecisError, prepareLocalpart, prepareResource, utf8Length } from './precis.ts';

export { prepareLocalpart, prepareResource } from './precis.ts';

const LDH_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const ASCII_DOMAIN = /^[a-z0-9._-]+$/;
// WHATWG URL (what domainToASCII implements) treats a host whose last label is numeric as an
// IPv4 address and rewrites it ("1" → "0.0.0.1"); a JID domain must never change that way.
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

// UTS #46 is the costly step: remember prepared domains. Sized for massive multi-tenancy
// (issue 8: 10,000 dynamic domains): at 1024 entries a server with 10k domains missed on every
// JID parse-cache miss, 1.34 µs vs 0.29 µs per Jid.parse (measured); ~100 bytes per entry.
const DOMAIN_CACHE_SIZE = 16_384;
const domainCache = new Map<string, string>();

/**
 * Prepare a domainpart (RFC 7622 §3.2): strip one trailing dot, map and validate with UTS #46
 * (Node's ICU-backed `domainToASCII`), and return the lowercase U-label form. IPv4 dotted
 * quads and bracketed IPv6 literals (canonicalised, e.g. `[0:0::1]` → `[::1]`) are accepted.
 * Labels must be LDH after conversion; `_` is tolerated for real-world hostnames. Throws
 * `StanzaError('jid-malformed')`.
 */
export function prepareDomain(s: string): string {
  let out = domainCache.get(s);
  if (out === undefined) {
    out = prepareDomainUncached(s);
    if (domainCache.size >= DOMAIN_CACHE_SIZE) domainCache.clear();
    domainCache.set(s, out);
  }
  return out;
}

function prepareDomainUncached(s: string): string {
  let d = s.endsWith('.') ? s.slice(0, -1) : s;
  if (d.length === 0) throw new PrecisError('domainpart is empty');
  if (d.startsWith('[')) {
    if (!d.endsWith(']') || !isIPv6(d.slice(1, -1))) throw new PrecisError('domainpart is not a valid IPv6 literal');
    return domainToASCII(d); // canonical compressed lowercase form
  }
  if (isIPv4(d)) return d;
  let ascii: string;
  if (ASCII_DOMAIN.test(d) && !d.includes('xn--')) {
    ascii = d;
  } else {
    if (/^[\x00-\x7f]*$/.test(d)) d = d.toLowerCase();
    ascii = ASCII_DOMAIN.test(d) && !d.includes('xn--') ? d : domainToASCII(d);
    // UTS #46 maps ideographic full stops to '.', so a trailing one survives until here.
    if (ascii.endsWith('.') && !s.endsWith('.')) ascii = ascii.slice(0, -1);
  }
  if (ascii === '') throw new PrecisError('domainpart is not a valid domain name');
  if (NUMERIC_LABEL.test(ascii.slice(ascii.lastIndexOf('.') + 1))) throw new PrecisError('domainpart ends in a numeric label but is not an IPv4 address');
  for (const label of ascii.split('.')) {
    if (label.length === 0) throw new PrecisError('domainpart has an empty label');
    if (label.length > 63) throw new PrecisError('domainpart has a label longer than 63 octets');
    if (!LDH_LABEL.test(label)) throw new PrecisError(`domainpart label "${label}" is not letters, digits and hyphens`);
  }
  const out = ascii.includes('xn--') ? domainToUnicode(ascii) : ascii;
  if (out === '') throw new PrecisError('domainpart is not a valid IDN');
  if (utf8Length(out) > MAX_PART_BYTES) throw new PrecisError(`domainpart is longer than ${MAX_PART_BYTES} bytes`);
  return out;
}

/**
 * Parse cache: two generations approximate LRU without reordering a Map on every hit. New
 * entries go to `young`; when it is full it becomes `old` and the previous `old` is dropped; a
 * hit in `old` is promoted. So between 2048 and 4096 recently used strings are remembered.
 */
const GENERATION_SIZE = 2048;
let young = new Map<string, Jid>();
let old = new Map<string, Jid>();

function remember(s: string, jid: Jid): void {
  if (young.size >= GENERATION_SIZE) {
    old = young;
    young = new Map();
  }
  young.set(s, jid);
}

/**
 * An XMPP address in canonical form. `local` and `resource` are `''` when absent.
 *
 * Build one with {@link Jid.parse} (wire strings, cached) or {@link Jid.of} (parts).
 */
export class Jid {
  /** Prepared localpart, `''` when absent. */
  readonly local: string;
  /** Prepared domainpart (lowercase U-label form). */
  readonly domain: string;
  /** Prepared resourcepart, `''` when absent. */
  readonly resource: string;
  private str: string | undefined;
  private bareJid: Jid | undefined;
  /**
   * @internal Memo of `DomainRegistry.resolveJid`: the registry generation the answer was
   * computed in (an object, unique per registry and change) and the answer. Not part of the value.
   */
  domainMemoKey: object | undefined = undefined;
  /** @internal See {@link Jid.domainMemoKey}. */
  domainMemo: unknown = undefined;

  private constructor(local: string, domain: string, resource: string) {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
  }

  /**
   * Parse and normalise `s` (RFC 7622 §3.1: the resource is everything after the first `/`,
   * the localpart everything before the first `@` of what remains). Recently seen strings
   * come from a small per-process cache, which makes the per-stanza `to` check cheap.
   * @throws StanzaError `jid-malformed`
   */
  static parse(s: string): Jid {
    let hit = young.get(s);
    if (hit !== undefined) return hit;
    hit = old.get(s);
    if (hit !== undefined) {
      remember(s, hit);
      return hit;
    }
    const slash = s.indexOf('/');
    const bareEnd = slash < 0 ? s.length : slash;
    const at = s.indexOf('@');
    const hasLocal = at >= 0 && at < bareEnd;
    if (hasLocal && at === 0) throw new PrecisError('localpart is empty');
    if (slash >= 0 && slash === s.length - 1) throw new PrecisError('resourcepart is empty');
    const jid = new Jid(
      hasLocal ? prepareLocalpart(s.slice(0, at)) : '',
      prepareDomain(s.slice(hasLocal ? at + 1 : 0, bareEnd)),
      slash >= 0 ? prepareResource(s.slice(slash + 1)) : '',
    );
    remember(s, jid);
    return jid;
  }

  /** {@link Jid.parse}, but `undefined` instead of throwing. */
  static tryParse(s: string | undefined): Jid | undefined {
    if (s === undefined) return undefined;
    try {
      return Jid.parse(s);
    } catch {
      return undefined;
    }
  }

  /**
   * A JID from parts, each prepared (`''` or omitted = absent localpart/resource).
   * @throws StanzaError `jid-malformed`
   */
  static of(local: string, domain: string, resource = ''): Jid {
    return new Jid(local === '' ? '' : prepareLocalpart(local), prepareDomain(domain), resource === '' ? '' : prepareResource(resource));
  }

  /** Forget cached parses (tests). */
  static clearCache(): void {
    young = new Map();
    old = new Map();
    domainCache.clear();
  }

  /** `true` when there is no resourcepart. */
  get isBare(): boolean {
    return this.resource === '';
  }

  /** The JID without its resource (itself when already bare). */
  bare(): Jid {
    if (this.resource === '') return this;
    return (this.bareJid ??= new Jid(this.local, this.domain, ''));
  }

  /** This JID's bare part with resource `r` (prepared; `''` gives the bare JID). */
  withResource(r: string): Jid {
    if (r === '') return this.bare();
    const res = prepareResource(r);
    return res === this.resource ? this : new Jid(this.local, this.domain, res);
  }

  /** Same full JID. */
  equals(other: Jid | null | undefined): boolean {
    return other != null && (other === this || (this.domain === other.domain && this.local === other.local && this.resource === other.resource));
  }

  /** Same bare JID (resources ignored). */
  bareEquals(other: Jid | null | undefined): boolean {
    return other != null && this.domain === other.domain && this.local === other.local;
  }

  /** `local@domain/resource`, omitting absent parts (computed once). */
  toString(): string {
    return (this.str ??= (this.local === '' ? '' : this.local + '@') + this.domain + (this.resource === '' ? '' : '/' + this.resource));
  }

  /** `local@domain`. */
  toBareString(): string {
    return this.resource === '' ? this.toString() : this.bare().toString();
  }

  toJSON(): string {
    return this.toString();
  }
}
