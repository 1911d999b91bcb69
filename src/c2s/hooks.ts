/**
 * The c2s hooks (reference §4.2), run per host type. Every one is a fold with stop over an
 * {@link Effects} request accumulator — except {@link c2sStreamFeatures}, which folds the
 * feature list. Handlers return `next(effects)`, `stop(effects)` or nothing (= continue);
 * each spec's doc says what `stop` means.
 *
 * Params always carry `conn`, a read-only {@link C2sContext}; the stanza hooks add `acc`, the
 * mutable per-stanza context.
 * @module
 */
import { defineHook } from '../hooks/index.ts';
import type { Acc } from '../core/acc.ts';
import type { Jid } from '../core/jid.ts';
import type { XmlElement } from '../core/xml/element.ts';
import type { C2sContext } from './context.ts';
import type { CallRef, Effects } from './effects.ts';
import type { SaslFailureCondition } from './sasl/index.ts';

/** Params of every c2s hook. */
export interface C2sParams {
  readonly conn: C2sContext;
}

/** Params of the stanza hooks: `acc` is the per-stanza context (mutable scratch data). */
export interface C2sStanzaParams extends C2sParams {
  readonly acc: Acc;
}

/** Params of {@link xmppSendElement}. */
export interface SendElementParams extends C2sParams {
  /** The stanza's acc for pipeline writes; `undefined` for nonzas written by effects. */
  readonly acc: Acc | undefined;
  readonly element: XmlElement;
  /** `false` when there was no socket to write to (socketless external state, closed). */
  readonly sent: boolean;
}

/** Params of {@link foreignEvent}. */
export interface ForeignEventParams extends C2sParams {
  /** By convention the module name of the event's owner (match on your own tag). */
  readonly tag: string;
  readonly content: unknown;
  /** Set for `call`: answer with `effects.reply(callRef, value)`. `undefined` for `cast`. */
  readonly callRef: CallRef | undefined;
}

/** Params of {@link userOpenSession}. */
export interface OpenSessionParams extends C2sParams {
  /** The full JID about to be registered. */
  readonly jid: Jid;
}

/** Params of the stop/terminate hooks. */
export interface StopParams extends C2sParams {
  readonly reason: string;
}

/** Params of {@link userSocketError}. */
export interface SocketErrorParams extends C2sParams {
  readonly error: Error;
}

/** Params of {@link c2sStreamFeatures}. */
export interface StreamFeaturesParams extends C2sParams {
  /** Features before SASL or after it (bind phase). */
  readonly phase: 'preAuth' | 'postAuth';
}

/** Params of {@link authFailed}. */
export interface AuthFailedParams extends C2sParams {
  /** The localpart the client claimed, when the mechanism parsed one. */
  readonly username: string | undefined;
  readonly server: string;
  readonly condition: SaslFailureCondition;
}

const H = defineHook;

/** Every element from the client in `established`. Stop = do not process further (no by-name hook, no routing). */
export const userSendPacket = H<Effects, C2sStanzaParams>('userSendPacket', 'stop = do not process further');
/** Messages from the client, after {@link userSendPacket}. Stop = do not route. */
export const userSendMessage = H<Effects, C2sStanzaParams>('userSendMessage', 'stop = do not route');
/** IQs from the client, after {@link userSendPacket}. Stop = do not route. */
export const userSendIq = H<Effects, C2sStanzaParams>('userSendIq', 'stop = do not route');
/**
 * Presences from the client, after {@link userSendPacket}. The core never routes presences:
 * a presence module does (without one there is no presence). Stop = handled.
 */
export const userSendPresence = H<Effects, C2sStanzaParams>('userSendPresence', 'the core never routes presence; stop = handled');
/**
 * Non-stanza elements in `established`, and every unknown element before it (acc from/to are
 * then the server JID). Stream management, CSI, registration land here. Stop = handled.
 */
export const userSendXmlel = H<Effects, C2sStanzaParams>('userSendXmlel', 'stop = handled');

/** Every stanza routed to this connection, before the by-name hook. Stop = drop it. */
export const userReceivePacket = H<Effects, C2sStanzaParams>('userReceivePacket', 'stop = drop');
/** Messages routed to this connection. Stop = drop. */
export const userReceiveMessage = H<Effects, C2sStanzaParams>('userReceiveMessage', 'stop = drop');
/** IQs routed to this connection. Stop = drop. */
export const userReceiveIq = H<Effects, C2sStanzaParams>('userReceiveIq', 'stop = drop');
/** Presences routed to this connection. Stop = drop. */
export const userReceivePresence = H<Effects, C2sStanzaParams>('userReceivePresence', 'stop = drop');
/** Other elements routed to this connection. Stop = drop. */
export const userReceiveXmlel = H<Effects, C2sStanzaParams>('userReceiveXmlel', 'stop = drop');

/**
 * The last step before the socket (also for `flush`). Stop = do not send: the handler buffered
 * or dropped the element (CSI at 45, stream management at 50).
 */
export const xmppPresendElement = H<Effects, C2sStanzaParams>('xmppPresendElement', 'stop = do not send (buffered or dropped)');
/** After every socket write (metrics, AMP). Stop = skip later handlers. */
export const xmppSendElement = H<Effects, SendElementParams>('xmppSendElement', 'stop = skip later handlers');

/**
 * `cast`/`call` events and anything else the core does not handle. Stop = handled: the
 * effects are applied. An unhandled `call` is rejected at once; an unhandled cast is logged.
 */
export const foreignEvent = H<Effects, ForeignEventParams>('foreignEvent', 'stop = handled; effects applied');
/** Before a bound session is registered. Stop = deny (`not-allowed`, a bind retry is used). */
export const userOpenSession = H<Effects, OpenSessionParams>('userOpenSession', 'stop = deny (not-allowed)');
/** At the start of teardown (presence broadcasts unavailable here). Stop = skip later handlers; effects are not applied. */
export const userTerminate = H<Effects, StopParams>('userTerminate', 'stop = skip later handlers');
/** After the session was closed: modules re-route what they buffered (CSI, SM). Effects are not applied; modules route through the router. */
export const rerouteUnackedMessages = H<Effects, StopParams>('rerouteUnackedMessages', 'modules re-route their buffers');
/** A soft stop request. Stop = the handler claims the connection (it stays alive; effects applied). */
export const userStopRequest = H<Effects, StopParams>('userStopRequest', 'stop = claimed: the connection stays alive');
/** The client's socket closed. Stop = claimed (stream management goes dormant). */
export const userSocketClosed = H<Effects, StopParams>('userSocketClosed', 'stop = claimed: the connection stays alive');
/** A socket error. Stop = claimed. */
export const userSocketError = H<Effects, SocketErrorParams>('userSocketError', 'stop = claimed: the connection stays alive');
/** Fold over the stream features offered (before auth: after SASL mechanisms; after auth: after bind/session). Stop = skip later handlers. */
export const c2sStreamFeatures = H<XmlElement[], StreamFeaturesParams>('c2sStreamFeatures', 'fold over features; stop = skip later handlers');
/** A SASL attempt failed (before `<failure/>` is sent). Stop = skip later handlers; effects applied. */
export const authFailed = H<Effects, AuthFailedParams>('authFailed', 'stop = skip later handlers');

/** All c2s hook specs by name (for documentation and tooling). */
export const c2sHooks = {
  userSendPacket,
  userSendMessage,
  userSendIq,
  userSendPresence,
  userSendXmlel,
  userReceivePacket,
  userReceiveMessage,
  userReceiveIq,
  userReceivePresence,
  userReceiveXmlel,
  xmppPresendElement,
  xmppSendElement,
  foreignEvent,
  userOpenSession,
  userTerminate,
  rerouteUnackedMessages,
  userStopRequest,
  userSocketClosed,
  userSocketError,
  c2sStreamFeatures,
  authFailed,
} as const;
