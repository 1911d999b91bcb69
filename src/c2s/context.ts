/**
 * What a hook handler or a timer handler may know about a connection: a read-only view
 * ({@link C2sContext}), the listener options, and the typed module-state slots.
 * @module
 */
import type { Jid } from '../core/jid.ts';
import type { C2sListenerOptions } from './options.ts';
import type { SaslContext, SaslMechanism } from './sasl/types.ts';

/**
 * Names of the connection states (see `docs/c2s-machine.md`). Module-contributed states are
 * `external.<name>`.
 */
export type C2sStateName =
  | 'connecting'
  | 'awaitingStream'
  | 'preAuth'
  | 'saslChallenge'
  | 'postAuth'
  | 'awaitingSession'
  | 'established'
  | 'closing'
  | 'closed'
  | `external.${string}`;

/** States a handler may ask for with {@link Effects.nextState}. */
export type C2sTargetState = 'established' | 'postAuth' | `external.${string}`;

/**
 * A typed per-connection slot owned by one module (MongooseIM's `state_mod` map, typed).
 * Create one per module with {@link defineModSlot}; the value is the slot's identity.
 */
export interface ModSlot<T> {
  readonly name: string;
  /** Phantom member carrying `T`; never set at runtime. @internal */
  readonly __type?: (t: T) => T;
}

/** Declare a module-state slot: `const pingSlot = defineModSlot<PingState>('ping')`. */
export function defineModSlot<T>(name: string): ModSlot<T> {
  return Object.freeze({ name });
}

/**
 * A read-only view of one connection, given to every c2s hook handler (`params.conn`) and
 * to named-timeout handlers. Handlers never change the connection through it: they return
 * requests in an {@link Effects} accumulator.
 */
export interface C2sContext {
  /** Session id: unique, sortable by creation time; exists before authentication. */
  readonly sid: string;
  /** The id of the current stream (new for every stream header, RFC 6120 §4.7.3). */
  readonly streamId: string;
  /** `undefined` → provisional stream `from` → bare JID after SASL → full JID after bind. */
  readonly jid: Jid | undefined;
  /** Host type of the stream's domain; `undefined` before the first stream header. */
  readonly hostType: string | undefined;
  /** The stream's domain (normalised `to`); `undefined` before the first stream header. */
  readonly lserver: string | undefined;
  /** `xml:lang` of the stream (kept when 1..35 bytes), else the listener default. */
  readonly lang: string;
  readonly state: C2sStateName;
  readonly listener: C2sListenerOptions;
  /** TLS is active on the transport. */
  readonly isSecure: boolean;
  readonly remoteAddress: string;
  /**
   * Stanzas (message, presence, iq) this connection has taken from its client after resource
   * binding, each one counted whether a module, the core (a `jid-malformed` reply, an optional
   * session IQ) or nobody handled it. XEP-0198's `h` is counted from it.
   */
  readonly stanzasIn: number;
  /** Session info (auth mechanism, connection kind, module keys set with `setInfo`). */
  readonly info: Readonly<Record<string, unknown>>;
  /** The connection's clock time (ms); named-timeout handlers compare activity timestamps with it. */
  now(): number;
  /** The value of a module's slot, `undefined` when unset. */
  getModState<T>(slot: ModSlot<T>): T | undefined;
  /** When the named timeout fires (clock ms), or `undefined` when it is not armed. */
  timeoutDeadline(name: string): number | undefined;
  /**
   * The SASL mechanisms offered on this stream and the context to run them in, for modules
   * that authenticate outside `<auth/>` (SASL2): `undefined` before the stream header and once
   * authenticated. Optional so that other implementations of this view need not provide it.
   */
  saslOffer?(): SaslOffer | undefined;
}

/** See {@link C2sContext.saslOffer}. */
export interface SaslOffer {
  /** Offered on this stream, in preference order (as advertised in `<mechanisms/>`). */
  readonly mechanisms: readonly SaslMechanism[];
  /** Pass to `startSasl`. */
  readonly context: SaslContext;
}

/**
 * What a connection hands over when another connection adopts its session (stream
 * management resumption, reference §5.2 / §10 change 6): identity, session info, every
 * module slot (presence, CSI, … move over as they are) and the presence priority. Built by
 * `Effects.handOverSession` on the old connection, applied by `Effects.adoptSession` on the
 * new one.
 */
export interface SessionSnapshot {
  /** The handing-over connection's session id. */
  readonly sid: string;
  /** The full JID of the session. */
  readonly jid: Jid;
  readonly hostType: string;
  readonly lserver: string;
  readonly info: Readonly<Record<string, unknown>>;
  readonly modState: ReadonlyMap<ModSlot<unknown>, unknown>;
  /** Priority in the session table (`null` = unavailable); `undefined` leaves the default. */
  readonly priority?: number | null | undefined;
}

/** `getModState(conn, slot)`: the typed value of a module's slot on `conn`. */
export function getModState<T>(conn: C2sContext, slot: ModSlot<T>): T | undefined {
  return conn.getModState(slot);
}
