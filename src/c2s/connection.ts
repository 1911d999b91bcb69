/**
 * One client connection: the glue between a transport, the lifecycle machine, the c2s hooks
 * and the session manager (reference §1; chart and effects order in `docs/c2s-machine.md`).
 *
 * Inputs — transport events, delivered stanzas, casts/calls, timer fires — go through one
 * per-connection FIFO. Requests from handlers that queue internal events (route, flush, stop)
 * go to a second queue that is always drained first, so they run before the next transport
 * event. Every step runs synchronously; when one returns a Promise (a SASL step, an async hook
 * handler) the transport is paused and nothing else is processed until it settles, so order
 * is preserved.
 *
 * Per stanza in `established` the path is plain code: checks, an {@link Acc}, the hook folds,
 * the router, {@link applyEffects} — no machine event, no Promise, no timer.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createActor } from 'xstate';
import { isPromise, type HookSpec, type RunResult } from '../hooks/index.ts';
import { Acc } from '../core/acc.ts';
import { StanzaError, StreamError, type StreamErrorCondition } from '../core/errors.ts';
import { Jid, prepareResource } from '../core/jid.ts';
import { NS } from '../core/namespaces.ts';
import type { LocalSession } from '../core/session.ts';
import { errorReply, iqResult, isErrorStanza, stanzaKind } from '../core/stanza.ts';
import { XmlElement, xml } from '../core/xml/element.ts';
import type { StreamEvent } from '../core/xml/stream-parser.ts';
import type { C2sContext, C2sStateName, C2sTargetState, ModSlot, SaslOffer, SessionSnapshot } from './context.ts';
import { applyEffects, Effects, type Authenticated, type CallRef, type EffectsTarget, type InternalEvent, type TimeoutHandler } from './effects.ts';
import * as hooks from './hooks.ts';
import { buildC2sMachine, stateNameOf, type C2sActor, type C2sMachine, type C2sMachineEvent } from './machine.ts';
import type { C2sListenerOptions, C2sServices } from './options.ts';
import {
  decodeInitialResponse,
  decodeSaslPayload,
  defaultMechanisms,
  offeredMechanisms,
  saslFeatures,
  saslStepElement,
  startSasl,
  type SaslContext,
  type SaslMechanism,
  type SaslSession,
  type SaslStep,
} from './sasl/index.ts';
import type { XmppTransport } from './transport.ts';

/** What {@link C2sConnection} is created with. */
export interface C2sConnectionOptions {
  readonly transport: XmppTransport;
  readonly listener: C2sListenerOptions;
  readonly services: C2sServices;
  /** The listener's machine; built (and cached per listener options object) when omitted. */
  readonly machine?: C2sMachine | undefined;
}

type Step = void | Promise<void>;

type Input =
  | { readonly k: 'stream'; readonly ev: StreamEvent }
  | { readonly k: 'parseError'; readonly err: StreamError }
  | { readonly k: 'closed' }
  | { readonly k: 'socketError'; readonly err: Error }
  | { readonly k: 'deliver'; readonly acc: Acc }
  | { readonly k: 'flush'; readonly acc: Acc }
  | { readonly k: 'stop'; readonly reason: string }
  | { readonly k: 'exit'; readonly reason: string; readonly condition: StreamErrorCondition | undefined; readonly text: string | undefined }
  | { readonly k: 'foreign'; readonly tag: string; readonly content: unknown; readonly call: PendingCall | undefined }
  | { readonly k: 'timer'; readonly name: string; readonly gen: number }
  | { readonly k: 'stateTimeout' }
  | { readonly k: 'postAuthFeatures' }
  | { readonly k: 'effects'; readonly effects: Effects };

interface PendingCall extends CallRef {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: unknown;
}

interface NamedTimer {
  readonly gen: number;
  readonly handle: unknown;
  readonly deadline: number;
  readonly handler: TimeoutHandler;
}

/** Mutable stanza params: a handler may replace `acc` (e.g. `acc.updateStanza(…)`); later handlers and routing see it. */
interface StanzaParams {
  readonly conn: C2sContext;
  acc: Acc;
}

const machines = new WeakMap<C2sListenerOptions, C2sMachine>();

/** The machine of a listener, built once from its external states and cached. */
export function machineFor(listener: C2sListenerOptions): C2sMachine {
  let m = machines.get(listener);
  if (m === undefined) machines.set(listener, (m = buildC2sMachine(listener.externalStates)));
  return m;
}

let sidCounter = 0;
function defaultSid(nowMs: number): string {
  // Sortable by creation time: zero-padded µs, then a per-process counter.
  return String(Math.floor(nowMs * 1000)).padStart(17, '0') + '-' + (++sidCounter).toString(36).padStart(6, '0');
}

const LOOPBACK = /^(?:127\.|::1$|::ffff:127\.)/;
const STREAM_VERSION = /^(\d+)\.(\d+)$/;

/**
 * A client-to-server connection. Created by a listener per accepted transport; it implements
 * {@link C2sContext} (the read-only view handlers get) and, once bound, registers a
 * {@link LocalSession} (`session`) with the session registry.
 */
export class C2sConnection implements C2sContext, EffectsTarget {
  readonly sid: string;
  readonly listener: C2sListenerOptions;
  readonly transport: XmppTransport;
  streamId = '';
  jid: Jid | undefined;
  hostType: string | undefined;
  lserver: string | undefined;
  lang: string;
  state: C2sStateName = 'connecting';
  /** See {@link C2sContext.stanzasIn}. */
  stanzasIn = 0;
  /** The registered session once bound (and until closed). */
  session: LocalSession | undefined;
  /** Resolves when the connection has fully terminated. */
  readonly done: Promise<void>;

  readonly #services: C2sServices;
  readonly #actor: C2sActor;
  readonly #external: Input[] = [];
  readonly #internal: Input[] = [];
  #draining = false;
  #busy = false;
  #terminating = false;
  #terminated = false;
  #teardown: Promise<void> | undefined;
  #socketGone = false;
  #socketErrorSeen = false;
  /** The socket was dropped on purpose (`detachSocket`): its later events are ignored. */
  #socketDetached = false;
  #headerSent = false;
  #info: Record<string, unknown> = {};
  readonly #modState = new Map<ModSlot<unknown>, unknown>();
  readonly #timers = new Map<string, NamedTimer>();
  #timerGen = 0;
  readonly #calls = new Map<number, PendingCall>();
  #callSeq = 0;
  #offered: SaslMechanism[] = [];
  #saslSession: SaslSession | undefined;
  #saslMechanism: string | undefined;
  #bareJid: Jid | undefined;
  #jidStr = '';
  #serverJid: Jid | undefined;
  #resolveDone!: () => void;
  readonly #closedListeners: (() => void)[] = [];

  constructor(opts: C2sConnectionOptions) {
    this.transport = opts.transport;
    this.listener = opts.listener;
    this.#services = opts.services;
    this.lang = opts.listener.defaultLang ?? 'en';
    this.sid = opts.services.newSid?.() ?? defaultSid(opts.services.clock.now());
    this.done = new Promise((r) => (this.#resolveDone = r));
    const l = opts.listener;
    this.#actor = createActor(opts.machine ?? machineFor(l), {
      input: {
        authRetries: l.authRetries,
        bindRetries: l.bindRetries,
        legacySession: l.legacySession,
        stateTimeoutMs: l.stateTimeoutMs,
        host: {
          // Called from inside an XState transition: never re-enter the actor from here, hand
          // the work to our own queue on the next clock tick instead.
          stateTimeout: () => {
            this.#services.clock.setTimeout(() => this.#push({ k: 'stateTimeout' }), 0);
          },
        },
      },
      clock: opts.services.clock,
      ...(l.inspect && { inspect: l.inspect }),
    });
    this.#actor.subscribe((snap) => {
      this.state = stateNameOf(snap.value);
    });
    this.#actor.start();
    this.#send({ type: 'CONNECT' });
    this.transport.attach({
      onStreamEvent: (ev) => this.#push({ k: 'stream', ev }),
      onStreamError: (err) => this.#push({ k: 'parseError', err }),
      onClose: () => this.#push({ k: 'closed' }),
      onSocketError: (err) => this.#push({ k: 'socketError', err }),
    });
  }

  // ------------------------------------------------------------------ C2sContext

  get isSecure(): boolean {
    return this.transport.isSecure();
  }
  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }
  get info(): Readonly<Record<string, unknown>> {
    return this.#info;
  }
  now(): number {
    return this.#services.clock.now();
  }
  getModState<T>(slot: ModSlot<T>): T | undefined {
    return this.#modState.get(slot as ModSlot<unknown>) as T | undefined;
  }
  timeoutDeadline(name: string): number | undefined {
    return this.#timers.get(name)?.deadline;
  }
  saslOffer(): SaslOffer | undefined {
    if (this.hostType === undefined || this.#bareJid !== undefined) return undefined;
    return { mechanisms: this.#offered, context: this.#saslContext() };
  }
  /** `true` once teardown finished. */
  get closed(): boolean {
    return this.#terminated;
  }
  /** `true` while an asynchronous step is pending (tests settle until idle). */
  get busy(): boolean {
    return this.#busy;
  }
  /** The XState actor (for inspection; send it nothing). */
  get actor(): C2sActor {
    return this.#actor;
  }

  /** Call `listener` once the connection has fully terminated (at once if it already has). */
  onClosed(listener: () => void): void {
    if (this.#terminated) listener();
    else this.#closedListeners.push(listener);
  }

  /**
   * Tear down now without waiting for hooks (shutdown deadline passed): timers cleared, the
   * session closed, queued stanzas re-routed, calls rejected, transport closed. Idempotent.
   */
  destroy(): void {
    if (this.#terminated) return;
    this.#terminating = true;
    for (const t of this.#timers.values()) this.#services.clock.clearTimeout(t.handle);
    this.#timers.clear();
    if (this.session !== undefined) this.#services.sessions.close(this.session, 'destroyed');
    this.#send({ type: 'CLOSE', reason: 'destroyed' });
    this.#finish('destroyed');
    this.#busy = false;
  }

  // ------------------------------------------------------------------ external API (LocalSession)

  /** Deliver a routed stanza into the receive pipeline (queued, in order). */
  deliver(acc: Acc): void {
    if (this.#terminated) {
      this.#reroute(acc);
      return;
    }
    this.#push({ k: 'deliver', acc });
  }

  /** Non-interceptable close with stream error `condition` (when given), then the trailer. */
  exit(reason: string, condition?: StreamErrorCondition, text?: string): void {
    this.#push({ k: 'exit', reason, condition, text });
  }

  /** Interceptable stop (runs `userStopRequest`). */
  stop(reason: string): void {
    this.#push({ k: 'stop', reason });
  }

  /** Fire-and-forget event to `foreignEvent`. */
  cast(tag: string, content: unknown): void {
    this.#push({ k: 'foreign', tag, content, call: undefined });
  }

  /** Request/response to `foreignEvent`; rejects on timeout, when unhandled, or when the connection closes. */
  call<R = unknown>(tag: string, content: unknown, timeoutMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#terminated) {
        reject(new Error('connection closed'));
        return;
      }
      const clock = this.#services.clock;
      const call: PendingCall = {
        id: ++this.#callSeq,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: undefined,
      };
      call.timer = clock.setTimeout(() => {
        if (this.#calls.delete(call.id)) reject(new Error(`call ${tag} timed out`));
      }, timeoutMs ?? this.listener.callTimeoutMs ?? 5000);
      this.#calls.set(call.id, call);
      this.#push({ k: 'foreign', tag, content, call });
    });
  }

  // ------------------------------------------------------------------ queue

  #push(input: Input): void {
    this.#external.push(input);
    this.#drain();
  }

  #drain(): void {
    if (this.#draining || this.#busy) return;
    this.#draining = true;
    try {
      for (;;) {
        // An asynchronous teardown (started by a hardStop effect, an internal error…) blocks
        // the queue: what is left is re-routed once the session is closed, not before.
        if (this.#teardown !== undefined) {
          this.#wait(this.#teardown);
          break;
        }
        const input = this.#internal.length > 0 ? this.#internal.shift() : this.#external.shift();
        if (input === undefined) break;
        let r: Step;
        try {
          r = this.#process(input);
        } catch (err) {
          this.#internalError(err);
          r = undefined;
        }
        if (r !== undefined) {
          this.#wait(r);
          break;
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #wait(p: Promise<void>): void {
    this.#busy = true;
    if (!this.#socketGone) this.transport.pause();
    p.catch((err: unknown) => this.#internalError(err)).then(() => {
      this.#busy = false;
      if (!this.#socketGone && !this.#terminated) this.transport.resume();
      this.#drain();
    });
  }

  #internalError(err: unknown): void {
    this.#services.logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), sid: this.sid }, 'c2s internal error');
    if (!this.#terminating) void this.#terminate('internal-error', new StreamError('internal-server-error'));
  }

  #process(input: Input): Step {
    if (this.#terminating) return this.#afterTermination(input);
    if (this.#socketDetached && (input.k === 'stream' || input.k === 'parseError' || input.k === 'closed' || input.k === 'socketError')) return;
    switch (input.k) {
      case 'stream':
        return this.#onStreamEvent(input.ev);
      case 'deliver':
        return this.#receive(input.acc);
      case 'flush': {
        const params: StanzaParams = { conn: this, acc: input.acc };
        return then(this.#flush(params, new Effects()), (final) => applyEffects(this, final));
      }
      case 'effects':
        applyEffects(this, input.effects);
        return;
      case 'parseError':
        return this.#streamError(input.err);
      case 'closed':
        // After a socket error the close that follows is the same event: one hook run only.
        if (this.#socketErrorSeen) return;
        this.#socketGone = true;
        return this.#interceptable(hooks.userSocketClosed, { conn: this, reason: 'socket-closed' }, 'socket-closed');
      case 'socketError':
        // `onClose` follows; the error is what the hook sees.
        this.#socketGone = true;
        this.#socketErrorSeen = true;
        return this.#interceptable(hooks.userSocketError, { conn: this, error: input.err }, 'socket-error');
      case 'stop':
        return this.#interceptable(hooks.userStopRequest, { conn: this, reason: input.reason }, input.reason);
      case 'exit':
        return this.#terminate(input.reason, input.condition === undefined ? undefined : new StreamError(input.condition, input.text));
      case 'foreign':
        return this.#foreign(input.tag, input.content, input.call);
      case 'timer':
        return this.#fireTimer(input.name, input.gen);
      case 'stateTimeout':
        return this.#terminate('connection-timeout', new StreamError('connection-timeout'));
      case 'postAuthFeatures':
        // XEP-0388 §success: after a SASL2 `<success/>` (no stream restart) the post-auth features follow at once.
        return then(this.#postAuthFeatures(), (features) => {
          this.#write(xml('features', { xmlns: NS.STREAMS }, features));
        });
    }
  }

  /** After teardown began: nothing queued is processed, but nothing is silently lost either. */
  #afterTermination(input: Input): Step {
    if (input.k === 'deliver' || input.k === 'flush') this.#reroute(input.acc);
    else if (input.k === 'foreign' && input.call) this.#rejectCall(input.call, 'connection closed');
  }

  #send(ev: C2sMachineEvent): void {
    this.#actor.send(ev);
  }

  // ------------------------------------------------------------------ stream events

  #onStreamEvent(ev: StreamEvent): Step {
    switch (ev.type) {
      case 'streamStart':
        // RFC 6120 §4.7: a header is only expected at (re)start; a second one is a protocol violation.
        if (this.state !== 'awaitingStream') return this.#streamError(new StreamError('policy-violation', 'unexpected stream header'));
        return this.#streamStart(ev.header, ev.contentNs);
      case 'streamEnd':
        // RFC 6120 §4.4: answer the client's trailer with ours and close; never dormant.
        return this.#terminate('stream-end');
      case 'element':
        return this.#onElement(ev.element);
    }
  }

  #onElement(el: XmlElement): Step {
    switch (this.state) {
      case 'established':
        return this.#clientPacket(el);
      case 'awaitingStream':
        // An element where a header was due: the stream is not well-formed (reference §1.2).
        return this.#streamError(new StreamError('not-well-formed'));
      case 'preAuth':
      case 'saslChallenge':
        return this.#preAuthElement(el);
      case 'postAuth':
        return this.#postAuthElement(el);
      case 'awaitingSession':
        return this.#awaitingSessionElement(el);
      default:
        if (this.state.startsWith('external.')) return this.#sendXmlelPreSession(el);
    }
  }

  #streamStart(header: XmlElement, contentNs: string | undefined): Step {
    this.#headerSent = false;
    // After a reset the framer reads any first element as the root: something other than a
    // stream header where one was due is not-well-formed (reference §1.2).
    if (header.name !== 'stream') return this.#streamError(new StreamError('not-well-formed'));
    // RFC 6120 §4.8.1 (stream namespace) and §4.8.2 (content namespace of a c2s stream).
    if (header.ns !== NS.STREAMS || contentNs !== NS.CLIENT) {
      return this.#streamError(new StreamError('invalid-namespace'));
    }
    const to = header.attrs.to;
    const domainJid = to === undefined ? undefined : Jid.tryParse(to);
    const hostType = domainJid && domainJid.local === '' && domainJid.resource === '' ? this.#services.resolveHostType(domainJid.domain) : undefined;
    // After SASL the restarted stream must address the same domain the user authenticated for.
    if (hostType === undefined || (this.lserver !== undefined && domainJid!.domain !== this.lserver)) {
      return this.#streamError(new StreamError('host-unknown'));
    }
    this.hostType = hostType;
    this.lserver = domainJid!.domain;
    this.#serverJid ??= Jid.of('', this.lserver);
    // RFC 6120 §4.7.5: a missing version means 0.9; we speak 1.x only.
    const m = header.attrs.version === undefined ? null : STREAM_VERSION.exec(header.attrs.version);
    if (m === null || Number(m[1]) < 1) return this.#streamError(new StreamError('unsupported-version'));
    // BCP 47 allows long tags, but 35 bytes covers real ones; longer is a DoS vector (reference §1.3).
    const lang = header.attrs['xml:lang'];
    this.lang = lang !== undefined && lang.length > 0 && Buffer.byteLength(lang) <= 35 ? lang : (this.listener.defaultLang ?? 'en');
    const from = header.attrs.from;
    if (from !== undefined) {
      const fromJid = Jid.tryParse(from);
      if (fromJid === undefined) return this.#streamError(new StreamError('invalid-from'));
      // RFC 6120 §4.7.1: after SASL the `from` must match the authenticated identity.
      if (this.#bareJid !== undefined && !fromJid.bareEquals(this.#bareJid)) return this.#streamError(new StreamError('invalid-from'));
      if (this.#bareJid === undefined) this.jid = fromJid;
    }
    this.streamId = this.#newStreamId();
    this.transport.sendHeader({
      from: this.lserver,
      id: this.streamId,
      version: '1.0',
      'xml:lang': this.lang,
      ...(from !== undefined && { to: from }),
    });
    this.#headerSent = true;
    const authenticated = this.#bareJid !== undefined;
    return then(authenticated ? this.#postAuthFeatures() : this.#preAuthFeatures(), (features) => {
      this.#write(xml('features', { xmlns: NS.STREAMS }, features));
      this.#send({ type: 'STREAM_OK' });
    });
  }

  #newStreamId(): string {
    return this.#services.newStreamId?.() ?? randomBytes(12).toString('hex');
  }

  #saslContext(): SaslContext {
    const t = this.transport;
    const allowAnon = this.#services.allowAnonymous?.(this.hostType!) ?? false;
    return {
      hostType: this.hostType!,
      domain: this.lserver!,
      authStore: this.#services.authStore,
      secure: t.isSecure(),
      channelBinding: (type) => t.channelBinding(type),
      channelBindingTypes: t.channelBindingTypes(),
      allowAnonymous: allowAnon,
    };
  }

  #tlsRequiredButOff(): boolean {
    return this.listener.tls === 'required' && !this.transport.isSecure();
  }

  #preAuthFeatures(): XmlElement[] | Promise<XmlElement[]> {
    // RFC 6120 §5.3.1: with TLS mandatory, STARTTLS is the only feature until it is done.
    if (this.#tlsRequiredButOff()) return [xml('starttls', { xmlns: NS.TLS }, xml('required'))];
    const list: XmlElement[] = [];
    if (this.listener.tls !== 'off' && !this.transport.isSecure() && this.transport.canStartTls()) list.push(xml('starttls', { xmlns: NS.TLS }));
    const ctx = this.#saslContext();
    this.#offered = offeredMechanisms(this.#services.mechanisms ?? defaultMechs(), ctx, {
      allowPlainWithoutTls: this.listener.allowPlainWithoutTls ?? false,
      remoteIsLoopback: LOOPBACK.test(this.transport.remoteAddress),
    });
    list.push(...saslFeatures(this.#offered, ctx));
    return this.#featureHook(list, 'preAuth');
  }

  #postAuthFeatures(): XmlElement[] | Promise<XmlElement[]> {
    const list = [
      xml('bind', { xmlns: NS.BIND }),
      // RFC 6121 appendix E: the session IQ is optional unless the listener insists on it.
      xml('session', { xmlns: NS.SESSION }, !this.listener.legacySession && xml('optional')),
    ];
    return this.#featureHook(list, 'postAuth');
  }

  #featureHook(list: XmlElement[], phase: 'preAuth' | 'postAuth'): XmlElement[] | Promise<XmlElement[]> {
    const r = this.#services.hooks.run(hooks.c2sStreamFeatures, this.hostType!, list, { conn: this, phase });
    return isPromise(r) ? r.then((x) => x.acc) : r.acc;
  }

  // ------------------------------------------------------------------ pre-auth: STARTTLS, SASL

  #preAuthElement(el: XmlElement): Step {
    const ns = el.ns;
    if (ns === NS.TLS && el.name === 'starttls' && this.state === 'preAuth') return this.#startTls();
    if (ns === NS.SASL) {
      // RFC 6120 §5.3.1 / §4.9.3.4: no SASL before TLS on a listener that requires it.
      // RFC 6120 §4.9.3 has no `encryption-required` stream condition: the SASL failure
      // condition says why (§6.5.3), the stream closes with `policy-violation`.
      if (this.#tlsRequiredButOff()) {
        this.#write(saslStepElement({ kind: 'failure', condition: 'encryption-required' }));
        return this.#streamError(new StreamError('policy-violation', 'TLS is required'));
      }
      switch (el.name) {
        case 'auth':
          return this.#saslAuth(el);
        case 'response':
          if (this.state === 'saslChallenge' && this.#saslSession) return this.#saslResponse(el);
          return this.#saslStep({ kind: 'failure', condition: 'malformed-request' });
        case 'abort':
          // RFC 6120 §6.4.4: an abort is a failure with `aborted` (and uses a retry).
          this.#saslSession = undefined;
          return this.#saslStep({ kind: 'failure', condition: 'aborted' });
      }
    }
    // RFC 6120 §4.9.3.12 / §6.4.7: stanzas before authentication are not allowed.
    if (stanzaKind(el) !== undefined) return this.#streamError(new StreamError('not-authorized'));
    return this.#sendXmlelPreSession(el);
  }

  #startTls(): Step {
    const t = this.transport;
    if (this.listener.tls === 'off' || t.isSecure() || !t.canStartTls()) {
      // RFC 6120 §5.4.2.2: `<failure/>`, then close the stream.
      this.#write(xml('failure', { xmlns: NS.TLS }));
      return this.#terminate('tls-failure');
    }
    this.#write(xml('proceed', { xmlns: NS.TLS }));
    return t.startTls().then(
      () => {
        // RFC 6120 §5.4.3.3: a new stream follows on the secured connection.
        this.#headerSent = false;
        this.#send({ type: 'TLS_STARTED' });
      },
      () => {
        this.#socketGone = true;
        return this.#terminate('tls-failure');
      },
    );
  }

  #saslAuth(el: XmlElement): Step {
    const mechanism = el.attrs.mechanism ?? '';
    this.#saslMechanism = mechanism;
    const ir = decodeInitialResponse(el.text());
    if (ir === 'incorrect-encoding') return this.#saslStep({ kind: 'failure', condition: 'incorrect-encoding' });
    return startSasl(this.#offered, mechanism, this.#saslContext(), ir).then(({ first, session }) => {
      this.#saslSession = session;
      return this.#saslStep(first);
    });
  }

  #saslResponse(el: XmlElement): Step {
    const data = decodeSaslPayload(el.text());
    if (data === 'incorrect-encoding') return this.#saslStep({ kind: 'failure', condition: 'incorrect-encoding' });
    return this.#saslSession!.step(data).then((step) => this.#saslStep(step));
  }

  #saslStep(step: SaslStep): Step {
    switch (step.kind) {
      case 'challenge':
        this.#write(saslStepElement(step));
        this.#send({ type: 'SASL_CHALLENGE' });
        return;
      case 'success': {
        this.#saslSession = undefined;
        const jid = Jid.of(step.user, this.lserver!);
        // RFC 6120 §4.7.1 / §6.4.6: a provisional stream `from` must be the authenticated user.
        if (this.jid !== undefined && !this.jid.bareEquals(jid)) return this.#streamError(new StreamError('invalid-from'));
        this.jid = jid;
        this.#bareJid = jid;
        this.#info.authMechanism = this.#saslMechanism;
        this.#write(saslStepElement(step));
        // RFC 6120 §6.4.6: the client restarts the stream; a new header (and stream id) follows.
        this.transport.resetStream();
        this.#headerSent = false;
        this.#send({ type: 'SASL_SUCCESS' });
        return;
      }
      case 'failure': {
        this.#saslSession = undefined;
        const ef = new Effects();
        const r = this.#services.hooks.run(hooks.authFailed, this.hostType!, ef, {
          conn: this,
          username: step.user,
          server: this.lserver!,
          condition: step.condition,
        });
        return then(r, (res) => {
          applyEffects(this, res.acc);
          if (this.#terminating) return;
          this.#write(saslStepElement(step));
          this.#send({ type: 'SASL_FAILURE' });
          // Retries exhausted (reference §1.5): the machine is closing.
          if (this.state === 'closing') return this.#terminate('auth-retries');
        });
      }
    }
  }

  // ------------------------------------------------------------------ post-auth: bind, session

  #postAuthElement(el: XmlElement): Step {
    if (stanzaKind(el) !== 'iq') return this.#sendXmlelPreSession(el);
    const bind = el.attrs.type === 'set' ? el.getChild('bind', NS.BIND) : undefined;
    if (bind === undefined) return this.#bindFailure(el, new StanzaError('bad-request'));
    const requested = bind.getChildText('resource') ?? '';
    let resource: string;
    if (requested === '') {
      // RFC 6120 §7.6.2.1: the server generates a resource when the client does not supply one.
      resource = `${this.#services.clock.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    } else {
      try {
        resource = prepareResource(requested);
      } catch {
        // RFC 6120 §7.7.2.1: a resource that cannot be prepared is `bad-request`.
        return this.#bindFailure(el, new StanzaError('bad-request', 'invalid resource'));
      }
    }
    const full = this.#bareJid!.withResource(resource);
    if (this.listener.legacySession) {
      this.#setJid(full);
      this.#write(bindResult(el, full));
      this.#send({ type: 'BOUND' });
      return;
    }
    return this.#openSession(el, full, 'bind');
  }

  #bindFailure(iq: XmlElement, err: StanzaError): Step {
    if (!isErrorStanza(iq)) this.#write(errorReply(iq, err));
    this.#send({ type: 'BIND_FAILURE' });
    if (this.state === 'closing') return this.#terminate('bind-retries');
  }

  #awaitingSessionElement(el: XmlElement): Step {
    const kind = stanzaKind(el);
    if (kind !== undefined) this.stanzasIn++;
    if (kind === 'iq' && el.attrs.type === 'set' && el.getChild('session', NS.SESSION)) {
      return this.#openSession(el, this.jid!, 'session');
    }
    return this.#sendXmlelPreSession(el);
  }

  #setJid(jid: Jid): void {
    this.jid = jid;
    this.#jidStr = jid.toString();
  }

  #openSession(iq: XmlElement, full: Jid, via: 'bind' | 'session'): Step {
    const ef = new Effects();
    const r = this.#services.hooks.run(hooks.userOpenSession, this.hostType!, ef, { conn: this, jid: full });
    return then(r, (res) => {
      if (res.stopped) {
        const err = new StanzaError('not-allowed');
        if (via === 'bind') return this.#bindFailure(iq, err);
        this.#write(errorReply(iq, err));
        this.#send({ type: 'SESSION_FAILURE' });
        return this.#terminate('session-denied');
      }
      this.#setJid(full);
      const session = new BoundSession(this, full, this.hostType!);
      this.session = session;
      this.#services.sessions.open(session, { ip: this.remoteAddress, conn: this.transport.kind, ...this.#info });
      this.#write(via === 'bind' ? bindResult(iq, full) : iqResult(iq));
      this.#send({ type: 'SESSION_OPENED' });
      applyEffects(this, res.acc);
    });
  }

  /** Unknown elements outside `established` reach `userSendXmlel` only (from/to = the server). */
  #sendXmlelPreSession(el: XmlElement): Step {
    if (this.hostType === undefined) return;
    const acc = Acc.fromElement(el, {
      from: this.#serverJid,
      to: this.#serverJid,
      hostType: this.hostType,
      lserver: this.lserver!,
      origin: 'c2s',
      clock: this.#services.clock,
    });
    const ef = new Effects();
    return then(this.#services.hooks.run(hooks.userSendXmlel, this.hostType, ef, { conn: this, acc }), (res) => applyEffects(this, res.acc));
  }

  // ------------------------------------------------------------------ established: send pipeline

  #clientPacket(el: XmlElement): Step {
    const kind = stanzaKind(el);
    if (kind !== undefined) this.stanzasIn++;
    const jid = this.jid!;
    const fromAttr = el.attrs.from;
    if (fromAttr !== undefined && fromAttr !== this.#jidStr) {
      // RFC 6120 §8.1.2.1: `from` must be the full JID, or the bare JID (reference §1.7).
      const f = Jid.tryParse(fromAttr);
      if (f === undefined || !(f.equals(jid) || (f.resource === '' && f.bareEquals(jid)))) {
        return this.#streamError(new StreamError('invalid-from'));
      }
    }
    const toAttr = el.attrs.to;
    let to: Jid | undefined;
    if (toAttr === undefined) to = this.#bareJid!;
    else {
      to = Jid.tryParse(toAttr);
      if (to === undefined) {
        // RFC 6120 §8.3.3.8: a stanza error; the stream stays open.
        if (!isErrorStanza(el)) this.#write(errorReply(el, new StanzaError('jid-malformed')));
        return;
      }
    }
    // RFC 6121 appendix E: with an optional session, a session IQ is answered and ignored.
    if (kind === 'iq' && el.attrs.type === 'set' && !this.listener.legacySession && el.getChild('session', NS.SESSION) !== undefined) {
      this.#write(iqResult(el));
      return;
    }
    const acc = Acc.fromElement(el, { from: jid, to, hostType: this.hostType!, lserver: this.lserver!, origin: 'c2s', clock: this.#services.clock });
    // No permanent ('c2s', 'originSid') here: it made every strip/updateStanza downstream copy
    // scratch maps (15% of a routed stanza in bench/c2s.ts). Handlers have `params.conn.sid`.
    const params: StanzaParams = { conn: this, acc };
    const ef = new Effects();
    const r = this.#services.hooks.run(hooks.userSendPacket, this.hostType!, ef, params);
    if (isPromise(r)) return r.then((res) => this.#afterSendPacket(res, kind, params));
    return this.#afterSendPacket(r, kind, params);
  }

  #afterSendPacket(res: RunResult<Effects>, kind: string | undefined, params: StanzaParams): Step {
    if (res.stopped) {
      applyEffects(this, res.acc);
      return;
    }
    const spec = kind === 'message' ? hooks.userSendMessage : kind === 'iq' ? hooks.userSendIq : kind === 'presence' ? hooks.userSendPresence : hooks.userSendXmlel;
    const r = this.#services.hooks.run(spec, this.hostType!, res.acc, params);
    if (isPromise(r)) return r.then((res2) => this.#afterSendByName(res2, kind, params));
    return this.#afterSendByName(r, kind, params);
  }

  #afterSendByName(res: RunResult<Effects>, kind: string | undefined, params: StanzaParams): void {
    // Presences are never routed by the core: a presence module does it (reference §1.7).
    if (!res.stopped && (kind === 'message' || kind === 'iq')) this.#services.router.route(params.acc);
    applyEffects(this, res.acc);
  }

  // ------------------------------------------------------------------ receive pipeline

  #receive(acc: Acc): Step {
    // Rewrite the addresses from the acc (reference §1.7 server→client step 1).
    const el = acc.element;
    const from = acc.from.toString();
    const to = acc.to.toString();
    if (el.attrs.from !== from || el.attrs.to !== to) acc = acc.updateStanza({ element: withAddresses(el, from, to) });
    const params: StanzaParams = { conn: this, acc };
    const ef = new Effects();
    const r = this.#services.hooks.run(hooks.userReceivePacket, this.hostType!, ef, params);
    if (isPromise(r)) return r.then((res) => this.#afterReceivePacket(res, params));
    return this.#afterReceivePacket(r, params);
  }

  #afterReceivePacket(res: RunResult<Effects>, params: StanzaParams): Step {
    if (res.stopped) {
      applyEffects(this, res.acc);
      return;
    }
    const kind = stanzaKind(params.acc.element);
    const spec = kind === 'message' ? hooks.userReceiveMessage : kind === 'iq' ? hooks.userReceiveIq : kind === 'presence' ? hooks.userReceivePresence : hooks.userReceiveXmlel;
    const r = this.#services.hooks.run(spec, this.hostType!, res.acc, params);
    if (isPromise(r)) return r.then((res2) => this.#afterReceiveByName(res2, params));
    return this.#afterReceiveByName(r, params);
  }

  #afterReceiveByName(res: RunResult<Effects>, params: StanzaParams): Step {
    if (res.stopped) {
      applyEffects(this, res.acc);
      return;
    }
    const r = this.#flush(params, res.acc);
    if (isPromise(r)) return r.then((final) => applyEffects(this, final));
    applyEffects(this, r);
  }

  /** xmppPresendElement → socket → xmppSendElement (reference §1.7 step 4); effects land in `ef`. */
  #flush(params: StanzaParams, ef: Effects): Effects | Promise<Effects> {
    const r = this.#services.hooks.run(hooks.xmppPresendElement, this.hostType!, ef, params);
    if (isPromise(r)) return r.then((res) => this.#afterPresend(res, params));
    return this.#afterPresend(r, params);
  }

  #afterPresend(res: RunResult<Effects>, params: StanzaParams): Effects | Promise<Effects> {
    if (res.stopped) return res.acc;
    const el = params.acc.element;
    const sent = this.#write(el);
    const r = this.#services.hooks.run(hooks.xmppSendElement, this.hostType!, res.acc, { conn: this, acc: params.acc, element: el, sent });
    if (isPromise(r)) return r.then((x) => x.acc);
    return r.acc;
  }

  // ------------------------------------------------------------------ foreign events, timers, stops

  #foreign(tag: string, content: unknown, call: PendingCall | undefined): Step {
    if (this.hostType === undefined) {
      if (call) this.#rejectCall(call, 'unhandled');
      return;
    }
    const ef = new Effects();
    const r = this.#services.hooks.run(hooks.foreignEvent, this.hostType, ef, { conn: this, tag, content, callRef: call });
    return then(r, (res) => {
      if (res.stopped) {
        applyEffects(this, res.acc);
        return;
      }
      if (call) this.#rejectCall(call, `unhandled call ${tag}`);
      else this.#services.logger.warn({ sid: this.sid, tag }, 'unhandled foreign event');
    });
  }

  #rejectCall(call: PendingCall, why: string): void {
    if (!this.#calls.delete(call.id)) return;
    this.#services.clock.clearTimeout(call.timer);
    call.reject(new Error(why));
  }

  #fireTimer(name: string, gen: number): Step {
    const t = this.#timers.get(name);
    // A timer cancelled or re-armed after it was queued is stale.
    if (t === undefined || t.gen !== gen) return;
    this.#timers.delete(name);
    const r = t.handler(name, this);
    return then(r, (ef) => {
      if (ef instanceof Effects) applyEffects(this, ef);
    });
  }

  /**
   * Socket closed, socket error, stop request: run the hook; a handler that returns `stop`
   * claims the connection (its effects are applied, typically a move to its external state).
   * Before a session exists nothing can claim it.
   */
  #interceptable<P>(spec: HookSpec<Effects, P>, params: P, reason: string): Step {
    if (this.session === undefined || this.hostType === undefined) return this.#terminate(reason);
    const ef = new Effects();
    return then(this.#services.hooks.run(spec, this.hostType, ef, params), (res) => {
      if (res.stopped) applyEffects(this, res.acc);
      else return this.#terminate(reason);
    });
  }

  // ------------------------------------------------------------------ errors and teardown

  #ensureHeader(): void {
    if (this.#headerSent || this.#socketGone) return;
    // RFC 6120 §4.9.1.2: errors before our header still need one.
    if (this.streamId === '') this.streamId = this.#newStreamId();
    this.transport.sendHeader({ ...(this.lserver !== undefined && { from: this.lserver }), id: this.streamId, version: '1.0' });
    this.#headerSent = true;
  }

  #streamError(err: StreamError): Step {
    return this.#terminate(err.condition, err);
  }

  /**
   * Teardown (reference §1.8): stream error and trailer, then `userTerminate`, session close,
   * `rerouteUnackedMessages`, re-routing of everything still queued, transport close.
   */
  #terminate(reason: string, error?: StreamError): Step {
    if (this.#terminating) return;
    const r = this.#teardownSteps(reason, error);
    if (r !== undefined) {
      const p = r.catch((err: unknown) => {
        this.#services.logger.error({ err: String(err), sid: this.sid }, 'c2s teardown failed');
        if (!this.#terminated) this.#finish(reason);
      });
      this.#teardown = p.then(() => {
        this.#teardown = undefined;
      });
      return this.#teardown;
    }
  }

  #teardownSteps(reason: string, error: StreamError | undefined): Step {
    this.#terminating = true;
    for (const t of this.#timers.values()) this.#services.clock.clearTimeout(t.handle);
    this.#timers.clear();
    if (!this.#socketGone) {
      if (error !== undefined) {
        this.#ensureHeader();
        this.transport.sendElement(error.toElement());
      }
      this.#ensureHeader();
      this.transport.sendTrailer();
    }
    this.#send({ type: 'CLOSE', reason });
    const ht = this.hostType;
    if (ht === undefined) return this.#finish(reason);
    const params = { conn: this as C2sContext, reason };
    const h = this.#services.hooks;
    return then(h.run(hooks.userTerminate, ht, new Effects(), params), () => {
      if (this.session !== undefined) this.#services.sessions.close(this.session, reason);
      return then(h.run(hooks.rerouteUnackedMessages, ht, new Effects(), params), () => this.#finish(reason));
    });
  }

  #finish(_reason: string): void {
    if (this.#terminated) return;
    // Nothing queued for this user is silently dropped (reference §1.8 step 4).
    const pending = [...this.#internal, ...this.#external];
    this.#internal.length = 0;
    this.#external.length = 0;
    for (const input of pending) this.#afterTermination(input);
    for (const call of [...this.#calls.values()]) this.#rejectCall(call, 'connection closed');
    this.#terminated = true;
    this.transport.close();
    this.#send({ type: 'CLOSED' });
    this.#actor.stop();
    this.#resolveDone();
    const listeners = this.#closedListeners.splice(0);
    for (const l of listeners) {
      try {
        l();
      } catch (err) {
        this.#services.logger.error({ err: String(err), sid: this.sid }, 'onClosed listener failed');
      }
    }
  }

  /** Re-route a stanza this connection can no longer deliver; iq/presence stay pinned to this sid (reference §1.8). */
  #reroute(acc: Acc): void {
    const kind = stanzaKind(acc.element);
    if (kind === 'iq' || kind === 'presence') acc.setPermanent('c2s', 'receiverSid', this.sid);
    try {
      this.#services.router.route(acc);
    } catch (err) {
      this.#services.logger.error({ err: String(err), sid: this.sid }, 'reroute failed');
    }
  }

  // ------------------------------------------------------------------ EffectsTarget

  /** @internal */
  hardStop(reason: string, error: StreamError | undefined): void {
    // applyEffects is synchronous: an asynchronous teardown is picked up by the drain loop.
    void this.#terminate(reason, error);
  }

  /** @internal */
  gotoState(state: C2sTargetState): void {
    if (this.#terminating) return;
    this.#send({ type: `goto.${state}` });
  }

  #unauthenticatedPreSession(): boolean {
    const st = this.state;
    return this.#bareJid === undefined && this.hostType !== undefined && (st === 'preAuth' || st === 'saslChallenge' || (st.startsWith('external.') && this.listener.externalStates?.some((e) => e.preSession && st === `external.${e.name}`) === true));
  }

  /** @internal Authentication by a module (SASL2, see `Effects.authenticated`): no stream restart. */
  setAuthenticated(auth: Authenticated): void {
    if (this.#terminating) return;
    if (!this.#unauthenticatedPreSession()) throw new Error(`authenticated: the connection is not awaiting authentication (state ${this.state})`);
    const jid = Jid.of(auth.user, this.lserver!);
    // RFC 6120 §4.7.1: a provisional stream `from` must be the authenticated user.
    if (this.jid !== undefined && !this.jid.bareEquals(jid)) {
      void this.#terminate('invalid-from', new StreamError('invalid-from'));
      return;
    }
    this.#saslSession = undefined;
    this.jid = jid;
    this.#bareJid = jid;
    this.#info.authMechanism = auth.mechanism;
    this.#send({ type: 'goto.postAuth' });
    if (auth.postAuthFeatures === true) this.#internal.push({ k: 'postAuthFeatures' });
  }

  /** @internal A failed module-run authentication uses a SASL retry (see `Effects.countAuthFailure`). */
  countAuthFailure(): void {
    if (this.#terminating || !this.#unauthenticatedPreSession()) return;
    this.#saslSession = undefined;
    this.#send({ type: 'AUTH_FAILURE' });
    // Retries exhausted (reference §1.5): close once this accumulator's writes are out.
    if (this.state === 'closing') this.#internal.push({ k: 'exit', reason: 'auth-retries', condition: undefined, text: undefined });
  }

  /** @internal Bind by a module (Bind2, see `Effects.openSession`); `userOpenSession` already ran. */
  openSession(full: Jid): void {
    if (this.#terminating) return;
    if (this.session !== undefined || this.#bareJid === undefined || this.state !== 'postAuth' || !full.bareEquals(this.#bareJid) || full.resource === '') {
      throw new Error(`openSession: needs an authenticated, unbound connection and a full JID of its user (state ${this.state})`);
    }
    this.#setJid(full);
    const session = new BoundSession(this, full, this.hostType!);
    this.session = session;
    this.#services.sessions.open(session, { ip: this.remoteAddress, conn: this.transport.kind, ...this.#info });
    this.#send({ type: 'SESSION_OPENED' });
  }

  /**
   * @internal Take over another connection's session (see `Effects.adoptSession`): same user,
   * this connection authenticated and unbound. The old row is replaced in the session
   * registry (the old connection, if still registered, gets the usual `exit('replaced')`).
   */
  adoptSession(s: SessionSnapshot): void {
    if (this.#terminating) return;
    if (this.session !== undefined || this.#bareJid === undefined || this.state !== 'postAuth') {
      throw new Error(`adoptSession: needs an authenticated, unbound connection (state ${this.state})`);
    }
    if (!s.jid.bareEquals(this.#bareJid) || s.jid.resource === '' || s.hostType !== this.hostType) throw new Error("adoptSession: another user's session");
    for (const [slot, v] of s.modState) this.#modState.set(slot, v);
    this.#info = { ...s.info, ...this.#info };
    this.#setJid(s.jid);
    const session = new BoundSession(this, s.jid, this.hostType);
    this.session = session;
    this.#services.sessions.open(session, { ...this.#info, ip: this.remoteAddress, conn: this.transport.kind });
    if (s.priority !== undefined) this.#services.sessions.setPriority(session, s.priority);
    this.#send({ type: 'SESSION_OPENED' });
  }

  /**
   * @internal Answer a pending call with this session's snapshot and give up the module
   * slots (see `Effects.handOverSession`).
   */
  handOverSession(ref: CallRef, extra: object): void {
    const call = this.#calls.get(ref.id);
    if (call === undefined) return;
    if (this.session === undefined || this.#terminating) {
      this.#rejectCall(call, 'no session to hand over');
      return;
    }
    const snapshot: SessionSnapshot = {
      sid: this.sid,
      jid: this.session.jid,
      hostType: this.hostType!,
      lserver: this.lserver!,
      info: { ...this.#info },
      modState: new Map(this.#modState),
    };
    this.#modState.clear();
    this.reply(ref, { ...extra, snapshot });
  }

  /** @internal */
  setModState(slot: ModSlot<unknown>, value: unknown): void {
    if (value === undefined) this.#modState.delete(slot);
    else this.#modState.set(slot, value);
  }

  /** @internal */
  setInfo(info: ReadonlyMap<string, unknown>): void {
    const next = { ...this.#info };
    for (const [k, v] of info) next[k] = v;
    this.#info = next;
    if (this.session !== undefined) this.#services.sessions.setInfo(this.session, Object.fromEntries(info));
  }

  /** @internal */
  writeElement(el: XmlElement): void {
    const sent = this.#write(el);
    if (this.hostType === undefined) return;
    const ef = new Effects();
    const r = this.#services.hooks.run(hooks.xmppSendElement, this.hostType, ef, { conn: this, acc: undefined, element: el, sent });
    if (isPromise(r)) r.then((res) => !res.acc.isEmpty && this.#push({ k: 'effects', effects: res.acc }));
    else if (!r.acc.isEmpty) this.#internal.push({ k: 'effects', effects: r.acc });
  }

  /** @internal */
  detachSocket(): void {
    if (this.#socketGone || this.#terminating) return;
    this.#socketGone = true;
    this.#socketDetached = true;
    this.transport.close();
  }

  #write(el: XmlElement): boolean {
    if (this.#socketGone || this.#terminating) return false;
    this.transport.sendElement(el);
    return true;
  }

  /** @internal */
  setTimer(name: string, ms: number, handler: TimeoutHandler): void {
    if (this.#terminating) return;
    this.cancelTimer(name);
    const gen = ++this.#timerGen;
    const clock = this.#services.clock;
    const handle = clock.setTimeout(() => this.#push({ k: 'timer', name, gen }), ms);
    this.#timers.set(name, { gen, handle, deadline: clock.now() + ms, handler });
  }

  /** @internal */
  cancelTimer(name: string): void {
    const t = this.#timers.get(name);
    if (t === undefined) return;
    this.#services.clock.clearTimeout(t.handle);
    this.#timers.delete(name);
  }

  /** @internal */
  reply(ref: CallRef, value: unknown): void {
    const call = this.#calls.get(ref.id);
    if (call === undefined) return;
    this.#calls.delete(ref.id);
    this.#services.clock.clearTimeout(call.timer);
    call.resolve(value);
  }

  /** @internal */
  enqueueInternal(ev: InternalEvent): void {
    switch (ev.kind) {
      case 'route':
        this.#internal.push({ k: 'deliver', acc: ev.acc });
        return;
      case 'flush':
        this.#internal.push({ k: 'flush', acc: ev.acc });
        return;
      case 'stop':
        this.#internal.push({ k: 'stop', reason: ev.reason });
        return;
    }
  }
}

/** The {@link LocalSession} a bound connection registers. */
class BoundSession implements LocalSession {
  readonly #conn: C2sConnection;
  readonly sid: string;
  constructor(
    conn: C2sConnection,
    readonly jid: Jid,
    readonly hostType: string,
  ) {
    this.#conn = conn;
    this.sid = conn.sid;
  }
  deliver(acc: Acc): void {
    this.#conn.deliver(acc);
  }
  exit(reason: string, condition?: StreamErrorCondition, text?: string): void {
    this.#conn.exit(reason, condition, text);
  }
  stop(reason: string): void {
    this.#conn.stop(reason);
  }
  cast(tag: string, content: unknown): void {
    this.#conn.cast(tag, content);
  }
  call<R = unknown>(tag: string, content: unknown, timeoutMs?: number): Promise<R> {
    return this.#conn.call<R>(tag, content, timeoutMs);
  }
}

// `withAttrs` copies with a spread and then patches keys, which showed as 28% of a routed
// stanza's cost in bench/c2s.ts; building the object with from/to first keeps one shape.
function withAddresses(el: XmlElement, from: string, to: string): XmlElement {
  const attrs: Record<string, string> = { from, to };
  const src = el.attrs;
  for (const k in src) if (k !== 'from' && k !== 'to') attrs[k] = src[k]!;
  return new XmlElement(el.name, el.ns, attrs, el.children);
}

function bindResult(iq: XmlElement, full: Jid): XmlElement {
  return iqResult(iq, xml('bind', { xmlns: NS.BIND }, xml('jid', null, full.toString())));
}

let defaultMechList: readonly SaslMechanism[] | undefined;
function defaultMechs(): readonly SaslMechanism[] {
  return (defaultMechList ??= defaultMechanisms());
}

/** Continue with `fn` now, or after `v` settles when it is a Promise. */
function then<T>(v: T | Promise<T>, fn: (t: T) => Step): Step {
  if (isPromise<T>(v)) return v.then(fn);
  return fn(v);
}
