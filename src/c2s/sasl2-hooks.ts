/**
 * Hooks shared between SASL2 (XEP-0388), Bind2 (XEP-0386) and the modules whose features
 * can be negotiated inline (stream management, carbons, CSI, …) — reference §4.3
 * `sasl2_stream_features`, `bind2_stream_features`, `sasl2_success`, `bind2_enable_features`.
 *
 * How a module takes part:
 * - advertise: add an element to {@link sasl2StreamFeatures} (a child of SASL2's `<inline/>`,
 *   e.g. stream management's `<sm xmlns='urn:xmpp:sm:3'/>`) or a `var` to
 *   {@link bind2StreamFeatures} (a `<feature var/>` in Bind2's `<inline/>`, e.g.
 *   `urn:xmpp:carbons:2`);
 * - act: on {@link sasl2Success} for a request that is a child of `<authenticate/>` (stream
 *   management `<resume/>`), on {@link bind2EnableFeatures} for one that is a child of Bind2's
 *   `<bind/>` (`<enable xmlns='urn:xmpp:sm:3'/>`, `<enable xmlns='urn:xmpp:carbons:2'/>`,
 *   `<inactive xmlns='urn:xmpp:csi:0'/>`). Put the requests for the connection in
 *   `acc.effects` and the answer elements in `acc.success` / `acc.bound`; never `socketSend`
 *   an inline answer — it belongs inside `<success/>`, which is written first.
 *
 * These are c2s hooks (their accumulators carry the c2s {@link Effects}); the c2s types are
 * imported as types only.
 * @module
 */
import { defineHook } from '../hooks/index.ts';
import type { C2sContext } from './context.ts';
import type { Effects } from './effects.ts';
import type { Jid } from '../core/jid.ts';
import type { XmlElement } from '../core/xml/element.ts';
import type { SaslMechanism } from './sasl/types.ts';

/** XEP-0388 namespace. */
export const NS_SASL2 = 'urn:xmpp:sasl:2';
/** XEP-0386 namespace. */
export const NS_BIND2 = 'urn:xmpp:bind:0';

/** The client's `<user-agent/>` from `<authenticate/>` (XEP-0388 §initiation). */
export interface Sasl2UserAgent {
  /** Stable id of the client installation (a UUID, normalised to lower case); absent when not sent. */
  readonly id: string | undefined;
  readonly software: string | undefined;
  readonly device: string | undefined;
}

/** Params of the feature folds. */
export interface Sasl2FeaturesParams {
  readonly conn: C2sContext;
}

/**
 * Fold over the children of SASL2's `<inline/>` stream feature (pre-auth, TLS only). Bind2
 * adds `<bind xmlns='urn:xmpp:bind:0'/>`, stream management `<sm xmlns='urn:xmpp:sm:3'/>`.
 * Tag = host type; stop skips later handlers.
 */
export const sasl2StreamFeatures = defineHook<XmlElement[], Sasl2FeaturesParams>(
  'sasl2StreamFeatures',
  'fold over the children of the SASL2 <inline/> feature; stop = skip later handlers',
);

/**
 * Fold over the `var`s listed as `<feature var/>` in Bind2's `<inline/>`: the features a
 * client may request inside `<bind/>` (carbons `urn:xmpp:carbons:2`, CSI `urn:xmpp:csi:0`,
 * stream management `urn:xmpp:sm:3`). Tag = host type; stop skips later handlers.
 */
export const bind2StreamFeatures = defineHook<string[], Sasl2FeaturesParams>(
  'bind2StreamFeatures',
  'fold over the Bind2 inline feature vars; stop = skip later handlers',
);

/** Params of {@link sasl2Mechanisms}. */
export interface Sasl2MechanismsParams {
  readonly conn: C2sContext;
  /** The client's `<authenticate/>` (its `mechanism` attribute names the one asked for). */
  readonly request: XmlElement;
  readonly userAgent: Sasl2UserAgent | undefined;
}

/**
 * Fold over extra SASL mechanisms a client may use in SASL2's `<authenticate/>` without their
 * being listed in `<mechanism/>`: FAST's HT-* token mechanisms (XEP-0484), which are announced
 * inside `<inline/>` instead and need the request (its `<fast/>` child, the user-agent id).
 * Run only when the requested mechanism is not among the offered ones. Tag = host type; stop
 * skips later handlers.
 */
export const sasl2Mechanisms = defineHook<SaslMechanism[], Sasl2MechanismsParams>(
  'sasl2Mechanisms',
  'fold over SASL2-only mechanisms usable for this <authenticate/>; stop = skip later handlers',
);

/** The accumulator of {@link sasl2Success}. */
export interface Sasl2SuccessAcc {
  /** Requests applied together with the `<success/>` (which is written before any other write). */
  readonly effects: Effects;
  /** Elements appended to `<success/>` after `<authorization-identifier/>` (`<resumed/>`, `<bound/>`, `<failed/>`). */
  readonly success: XmlElement[];
  /**
   * What the inline requests made of the stream so far: `none` (authenticated only: the
   * post-auth stream features follow), `resumed` (stream management adopted a session: skip
   * binding), `bound` (Bind2 bound a resource).
   */
  session: 'none' | 'resumed' | 'bound';
  /** The full JID once `resumed` or `bound` (becomes the `<authorization-identifier/>`). */
  jid: Jid | undefined;
  /**
   * Set to fail the whole authentication instead (XEP-0388 §failure: nothing requested inline
   * is applied, `effects` is dropped, a SASL retry is used). E.g. Bind2 when `userOpenSession`
   * denies the session.
   */
  failure: { readonly condition: 'not-authorized' | 'temporary-auth-failure' | 'account-disabled'; readonly text?: string | undefined } | undefined;
}

/** Params of {@link sasl2Success}. */
export interface Sasl2SuccessParams {
  readonly conn: C2sContext;
  /** The authenticated bare JID. */
  readonly jid: Jid;
  /** The client's `<authenticate/>` element: inline requests are its children. */
  readonly request: XmlElement;
  readonly userAgent: Sasl2UserAgent | undefined;
}

/**
 * The SASL2 exchange succeeded; inline requests are processed before `<success/>` is sent
 * (XEP-0388 §success, XEP-0386 §bind-request). Stream management resumes at priority 10
 * (XEP-0386: resumption is processed first; a resumed session skips binding), Bind2 binds at
 * 50. A handler that sets `failure` should return stop. Tag = host type.
 */
export const sasl2Success = defineHook<Sasl2SuccessAcc, Sasl2SuccessParams>(
  'sasl2Success',
  'process inline requests after SASL2 authentication; stop = skip later handlers',
);

/** The accumulator of {@link bind2EnableFeatures}. */
export interface Bind2EnableAcc {
  /** Requests applied with the bind (module slots, info, timers). */
  readonly effects: Effects;
  /** Elements placed inside `<bound xmlns='urn:xmpp:bind:0'/>` (stream management's `<enabled/>` or `<failed/>`). */
  readonly bound: XmlElement[];
}

/** Params of {@link bind2EnableFeatures}. */
export interface Bind2EnableParams {
  readonly conn: C2sContext;
  /** The full JID being bound (not yet registered; the session opens when the effects apply). */
  readonly jid: Jid;
  /** The client's `<bind xmlns='urn:xmpp:bind:0'/>`: inline feature requests are its children. */
  readonly request: XmlElement;
  readonly userAgent: Sasl2UserAgent | undefined;
}

/**
 * Bind2 is binding a resource: modules enable what the client requested inside `<bind/>`
 * (XEP-0386 §bind-request: stream management enable → `<enabled/>` in `<bound/>`, carbons
 * enabled with no answer, CSI starts active or inactive). Tag = host type; stop skips later
 * handlers.
 */
export const bind2EnableFeatures = defineHook<Bind2EnableAcc, Bind2EnableParams>(
  'bind2EnableFeatures',
  'enable the features requested inside a Bind2 <bind/>; stop = skip later handlers',
);
