/**
 * Listener options of a c2s listener and the services a connection is given.
 * @module
 */
import type { InspectionEvent } from 'xstate';
import type { HookRegistry } from '../hooks/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { AuthStore } from '../core/storage/auth-store.ts';
import type { Router, SessionRegistry } from '../core/session.ts';
import type { SaslMechanism } from './sasl/index.ts';

/**
 * A state a module contributes to the machine of every listener it is enabled on
 * (MongooseIM's `{external_state, Name}`). The state is `external.<name>`.
 */
export interface ExternalStateSpec {
  readonly name: string;
  /**
   * The state lives without a socket (stream management's dormant `resumable`): stanzas
   * delivered meanwhile still run the receive pipeline (a module buffers them in
   * `xmppPresendElement`); nothing is written.
   */
  readonly socketless?: boolean | undefined;
  /**
   * The state is part of negotiation (SASL2, Bind2): it sits under the pre-session parent,
   * so the pre-session state timeout keeps running.
   */
  readonly preSession?: boolean | undefined;
}

/** Options of one c2s listener (shared by all its connections). */
export interface C2sListenerOptions {
  /**
   * `'required'`: only `<starttls><required/></starttls>` is offered until TLS is on, and SASL
   * before TLS is an `encryption-required` stream error (RFC 6120 §5.3.1). `'optional'`
   * (default): STARTTLS is offered when the transport can do it. `'off'`: never offered.
   */
  readonly tls?: 'required' | 'optional' | 'off' | undefined;
  /** Pre-session state timeout in ms (default 5000). */
  readonly stateTimeoutMs?: number | undefined;
  /** SASL failures allowed before the stream closes on the next one (default 3). */
  readonly authRetries?: number | undefined;
  /** Bind failures allowed before the stream closes on the next one (default 5). */
  readonly bindRetries?: number | undefined;
  /**
   * `true`: the RFC 3921 session IQ is required after bind (state `awaitingSession`).
   * `false` (default): `<session><optional/></session>` is advertised and a session IQ in
   * `established` gets an empty result (RFC 6121 appendix E).
   */
  readonly legacySession?: boolean | undefined;
  /** Offer PLAIN on unencrypted connections from non-loopback peers (default `false`, RFC 6120 §13.8). */
  readonly allowPlainWithoutTls?: boolean | undefined;
  /** Default stream language (default `en`). */
  readonly defaultLang?: string | undefined;
  /** States contributed by the modules enabled on this listener. */
  readonly externalStates?: readonly ExternalStateSpec[] | undefined;
  /** Timeout of {@link LocalSession.call} when the caller gives none (default 5000 ms). */
  readonly callTimeoutMs?: number | undefined;
  /** XState inspection observer, passed to every connection actor (protocol tracing, metrics). */
  readonly inspect?: ((ev: InspectionEvent) => void) | undefined;
}

/** What a connection needs from the server. */
export interface C2sServices {
  readonly hooks: HookRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Host type of a domain users may log in to, else `undefined` (`host-unknown`). Subdomains
   * (MUC, pubsub) must resolve to `undefined`: that is the server's business, not the c2s's.
   */
  resolveHostType(domain: string): string | undefined;
  readonly authStore: AuthStore;
  readonly sessions: SessionRegistry;
  readonly router: Router;
  /** SASL mechanisms in preference order (default `defaultMechanisms()`). */
  readonly mechanisms?: readonly SaslMechanism[] | undefined;
  /** Stream id generator (default 16 random bytes, hex). */
  newStreamId?(): string;
  /** Session id generator (default: zero-padded µs timestamp + counter, sortable). */
  newSid?(): string;
  /** ANONYMOUS may be offered for this host type. */
  allowAnonymous?(hostType: string): boolean;
}
