/**
 * The SASL mechanism contract (RFC 4422, profiled for XMPP by RFC 6120 §6).
 *
 * A mechanism is a small pure state machine: it never touches a socket, a stream or the c2s
 * machine. The c2s feeds it decoded client payloads and turns each {@link SaslStep} it gets
 * back into `<challenge/>`, `<success/>` or `<failure/>` (see {@link saslStepElement}); the
 * retry counting and the `authFailed` hook stay in the c2s (reference §1.5).
 * @module
 */
import type { AuthStore } from '../../core/storage/auth-store.ts';
import type { ChannelBindingType } from '../transport.ts';

export type { ChannelBindingType };

/** SASL failure conditions, RFC 6120 §6.5. */
export type SaslFailureCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

/** One outcome of a SASL exchange step. */
export type SaslStep =
  /** Send `<challenge/>` with `data` and wait for the client's `<response/>`. */
  | { readonly kind: 'challenge'; readonly data: Buffer }
  /**
   * Authenticated. `user` is the normalised localpart (the JID is `user@ctx.domain`);
   * `data` is the "additional data with success" (RFC 6120 §6.3.10), e.g. SCRAM's `v=`.
   */
  | { readonly kind: 'success'; readonly user: string; readonly data?: Buffer | undefined }
  /**
   * Failed; the exchange is over. `user` is the localpart the client claimed, when one was
   * parsed (for the `authFailed` hook). `data` is a mechanism-level error message where the
   * mechanism defines one (SCRAM's server-final `e=…`, RFC 5802 §7); RFC 6120's `<failure/>`
   * cannot carry it, so over SASL1 only `text` reaches the client.
   */
  | {
      readonly kind: 'failure';
      readonly condition: SaslFailureCondition;
      readonly text?: string | undefined;
      readonly user?: string | undefined;
      readonly data?: Buffer | undefined;
    };

/** What a mechanism may know about the connection and the host it authenticates for. */
export interface SaslContext {
  /** Host type of the stream's domain: the key every {@link AuthStore} call takes. */
  readonly hostType: string;
  /** The stream's normalised domain (lserver); users authenticate as `user@domain`. */
  readonly domain: string;
  readonly authStore: AuthStore;
  /** TLS is active on the transport. */
  readonly secure: boolean;
  /**
   * Channel-binding data of the current TLS connection for `type` (RFC 5929 §4
   * tls-server-end-point, RFC 9266 tls-exporter), or `undefined` when unavailable.
   */
  channelBinding(type: ChannelBindingType): Buffer | undefined;
  /** Channel-binding types the transport can provide; empty without TLS. */
  readonly channelBindingTypes: readonly ChannelBindingType[];
  /** ANONYMOUS may be offered for this host type (RFC 4505); default `false`. */
  readonly allowAnonymous?: boolean | undefined;
  /** Localpart for a new ANONYMOUS session; default: a random 16-hex-digit name. */
  newAnonymousUser?(): string;
}

/** Listener facts that decide which mechanisms are offered. */
export interface SaslListenerInfo {
  /** Offer PLAIN on unencrypted connections from any address (RFC 6120 §13.8 says don't). */
  readonly allowPlainWithoutTls: boolean;
  /** The peer is a loopback address (PLAIN is safe there without TLS). */
  readonly remoteIsLoopback: boolean;
}

/** Facts about the negotiation a mechanism needs when it starts. */
export interface SaslStartOptions {
  /**
   * A `-PLUS` mechanism was advertised on this stream. SCRAM uses it for downgrade
   * protection: a client that says `y` ("I support channel binding but think you don't")
   * while we did advertise it is under attack (RFC 5802 §6).
   */
  readonly plusOffered: boolean;
}

/** The result of starting a mechanism: its first step and, unless that ends it, a session. */
export interface SaslStart {
  readonly first: SaslStep;
  /** Feed each later `<response/>` here; present when `first` is a challenge. */
  readonly session?: SaslSession | undefined;
}

/** An exchange in progress. */
export interface SaslSession {
  /**
   * Process the client's next response (already base64-decoded). Async because it may read
   * the {@link AuthStore}. After a `success` or `failure` step the session must not be used.
   */
  step(response: Buffer): Promise<SaslStep>;
}

/** A server-side SASL mechanism. Values are stateless; {@link SaslMechanism.start} makes a session. */
export interface SaslMechanism {
  /** IANA mechanism name, e.g. `SCRAM-SHA-256-PLUS`. */
  readonly name: string;
  /** Whether this mechanism may be offered on a stream with this context and listener. */
  available(ctx: SaslContext, listener: SaslListenerInfo): boolean;
  /**
   * Begin an exchange. `initialResponse` is `undefined` when the `<auth/>` element was empty
   * (no initial response) and an empty buffer for `=` (RFC 6120 §6.4.2).
   */
  start(ctx: SaslContext, initialResponse: Buffer | undefined, opts?: SaslStartOptions): Promise<SaslStart>;
}
