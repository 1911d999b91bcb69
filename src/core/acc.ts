/**
 * The per-stanza context ("acc", MongooseIM's `mongoose_acc`): created once when a stanza
 * enters the server and passed — never the bare stanza — through routing and hooks.
 *
 * It carries built-ins (ref, timestamp, origin, host type, lserver, the stanza with its from/to
 * JIDs) and namespaced scratch data that handlers use to talk to later handlers (e.g. `('iq',
 * 'info')`, `('router', 'result')`). Scratch keys are **strippable** unless set with
 * {@link Acc.setPermanent}: {@link Acc.strip} keeps only built-ins and permanent keys, and is
 * what code does when the acc crosses into another context (delivery to another user, buffering).
 *
 * Built-ins are read-only; scratch data is mutable in place (so a handler may just `set` and
 * return nothing). A changed stanza is a new Acc from {@link Acc.updateStanza}, because code
 * that derives a stanza (carbons, forwards) routes the copy and keeps the original.
 *
 * Allocation-light: one object per stanza; the scratch map is created on first `set`.
 * @module
 */
import type { XmlElement } from './xml/element.ts';
import { type Clock, systemClock } from './clock.ts';
import { Jid } from './jid.ts';
import { StanzaError } from './errors.ts';

/** Where a stanza entered the server. */
export type AccOrigin = 'c2s' | 's2s' | 'component' | 'server' | 'admin';

/** Options of {@link Acc.fromElement}. */
export interface AccOptions {
  /** Sender; parsed from the element's `from` when omitted (throws `jid-malformed` if absent/invalid). */
  readonly from?: Jid | undefined;
  /** Recipient; parsed from the element's `to` when omitted (throws `jid-malformed` if absent/invalid). */
  readonly to?: Jid | undefined;
  readonly hostType: string;
  /** The local server (domain) the stanza is processed for. */
  readonly lserver: string;
  readonly origin: AccOrigin;
  /** Source of `timestamp`; default the system clock. */
  readonly clock?: Clock | undefined;
  /** Explicit timestamp in µs (overrides `clock`). */
  readonly timestamp?: number | undefined;
}

/** What {@link Acc.strip} may replace. */
export interface StripOptions {
  readonly lserver?: string | undefined;
  readonly hostType?: string | undefined;
  readonly element?: XmlElement | undefined;
  readonly from?: Jid | undefined;
  readonly to?: Jid | undefined;
}

/** What {@link Acc.updateStanza} may replace. */
export interface StanzaUpdate {
  readonly element?: XmlElement | undefined;
  readonly from?: Jid | undefined;
  readonly to?: Jid | undefined;
}

type Scratch = Map<string, Map<string, unknown>>;

// Plain incrementing numbers: unique per process for 2^53 stanzas, and free to create.
let lastRef = 0;
let lastStanzaRef = 0;

const permanentKey = (ns: string, key: string) => ns + '\u0000' + key;

/** The per-stanza context. See the module comment. */
export class Acc {
  /** Unique per acc; kept by {@link updateStanza} and {@link strip} (tracing follows it). */
  readonly ref: number;
  /** When the stanza entered the server, µs since the epoch. */
  readonly timestamp: number;
  readonly origin: AccOrigin;
  readonly hostType: string;
  readonly lserver: string;
  readonly from: Jid;
  readonly to: Jid;
  readonly element: XmlElement;
  /** Unique per stanza version: changes with every {@link updateStanza}. */
  readonly stanzaRef: number;
  private data: Scratch | undefined;
  private permanent: Set<string> | undefined;

  private constructor(
    ref: number,
    timestamp: number,
    origin: AccOrigin,
    hostType: string,
    lserver: string,
    from: Jid,
    to: Jid,
    element: XmlElement,
    stanzaRef: number,
    data: Scratch | undefined,
    permanent: Set<string> | undefined,
  ) {
    this.ref = ref;
    this.timestamp = timestamp;
    this.origin = origin;
    this.hostType = hostType;
    this.lserver = lserver;
    this.from = from;
    this.to = to;
    this.element = element;
    this.stanzaRef = stanzaRef;
    this.data = data;
    this.permanent = permanent;
  }

  /**
   * A new acc for `element`. Missing `from`/`to` are parsed from the element's attributes.
   * @throws StanzaError `jid-malformed` when a JID is missing or invalid
   */
  static fromElement(element: XmlElement, opts: AccOptions): Acc {
    const from = opts.from ?? attrJid(element, 'from');
    const to = opts.to ?? attrJid(element, 'to');
    const timestamp = opts.timestamp ?? Math.round((opts.clock ?? systemClock).now() * 1000);
    return new Acc(++lastRef, timestamp, opts.origin, opts.hostType, opts.lserver, from, to, element, ++lastStanzaRef, undefined, undefined);
  }

  /** The element's local name (`message`, `presence`, `iq`, …). */
  get name(): string {
    return this.element.name;
  }

  /** The element's `type` attribute, `undefined` when absent. */
  get type(): string | undefined {
    return this.element.attrs.type;
  }

  /** The value under (`ns`, `key`), or `def` / `undefined`. */
  get<T = unknown>(ns: string, key: string): T | undefined;
  get<T>(ns: string, key: string, def: T): T;
  get<T>(ns: string, key: string, def?: T): T | undefined {
    const m = this.data?.get(ns);
    if (m === undefined || !m.has(key)) return def;
    return m.get(key) as T;
  }

  /** `true` when (`ns`, `key`) is set (even to `undefined`). */
  has(ns: string, key: string): boolean {
    return this.data?.get(ns)?.has(key) ?? false;
  }

  /** Set a strippable value (dropped by {@link strip}); returns this acc for chaining. */
  set(ns: string, key: string, value: unknown): this {
    const data = (this.data ??= new Map());
    let m = data.get(ns);
    if (m === undefined) data.set(ns, (m = new Map()));
    m.set(key, value);
    this.permanent?.delete(permanentKey(ns, key));
    return this;
  }

  /** Set a value that survives {@link strip}; returns this acc for chaining. */
  setPermanent(ns: string, key: string, value: unknown): this {
    this.set(ns, key, value);
    (this.permanent ??= new Set()).add(permanentKey(ns, key));
    return this;
  }

  /** `true` when (`ns`, `key`) is set and survives {@link strip}. */
  isPermanent(ns: string, key: string): boolean {
    return this.permanent?.has(permanentKey(ns, key)) ?? false;
  }

  /** Remove (`ns`, `key`); returns whether it was set. */
  delete(ns: string, key: string): boolean {
    const m = this.data?.get(ns);
    if (m === undefined || !m.delete(key)) return false;
    if (m.size === 0) this.data!.delete(ns);
    this.permanent?.delete(permanentKey(ns, key));
    return true;
  }

  /**
   * A new version of the stanza in a **new** Acc object that keeps this acc's `ref`,
   * timestamp, origin, host type, lserver and a copy of all scratch data, with a new
   * `stanzaRef` (MongooseIM `update_stanza`). Omitted fields are kept. This acc is unchanged,
   * so a handler can route a derived copy and keep processing the original.
   */
  updateStanza(update: StanzaUpdate): Acc {
    return new Acc(
      this.ref,
      this.timestamp,
      this.origin,
      this.hostType,
      this.lserver,
      update.from ?? this.from,
      update.to ?? this.to,
      update.element ?? this.element,
      ++lastStanzaRef,
      copyScratch(this.data, undefined),
      this.permanent && new Set(this.permanent),
    );
  }

  /**
   * A new Acc for another context: built-ins and permanent keys only (all strippable scratch
   * data — including per-connection requests — is dropped), optionally with a new lserver,
   * host type and stanza. `ref` and timestamp are kept; a new element gets a new `stanzaRef`.
   */
  strip(opts: StripOptions = {}): Acc {
    const newStanza = opts.element !== undefined || opts.from !== undefined || opts.to !== undefined;
    return new Acc(
      this.ref,
      this.timestamp,
      this.origin,
      opts.hostType ?? this.hostType,
      opts.lserver ?? this.lserver,
      opts.from ?? this.from,
      opts.to ?? this.to,
      opts.element ?? this.element,
      newStanza ? ++lastStanzaRef : this.stanzaRef,
      this.permanent === undefined ? undefined : copyScratch(this.data, this.permanent),
      this.permanent && new Set(this.permanent),
    );
  }
}

function attrJid(el: XmlElement, attr: 'from' | 'to'): Jid {
  const s = el.attrs[attr];
  if (s === undefined) throw new StanzaError('jid-malformed', `missing ${attr} address`);
  return Jid.parse(s);
}

function copyScratch(data: Scratch | undefined, only: Set<string> | undefined): Scratch | undefined {
  if (data === undefined) return undefined;
  const out: Scratch = new Map();
  for (const [ns, m] of data) {
    let copy: Map<string, unknown>;
    if (only === undefined) copy = new Map(m);
    else {
      copy = new Map();
      for (const [k, v] of m) if (only.has(permanentKey(ns, k))) copy.set(k, v);
      if (copy.size === 0) continue;
    }
    out.set(ns, copy);
  }
  return out.size === 0 ? undefined : out;
}
