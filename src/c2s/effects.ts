/**
 * The c2s request accumulator ("effects", MongooseIM's `mongoose_c2s_acc`): what hook handlers
 * and timer handlers return instead of touching the connection, and {@link applyEffects}, the
 * one function that applies them in one fixed order.
 *
 * An `Effects` is created per hook run (lazily allocated lists: an empty one is one object),
 * handlers mutate it in place and return `next(effects)`, `stop(effects)` or nothing.
 * @module
 */
import type { Acc } from '../core/acc.ts';
import type { StreamError } from '../core/errors.ts';
import type { Jid } from '../core/jid.ts';
import type { XmlElement } from '../core/xml/element.ts';
import type { C2sContext, C2sTargetState, ModSlot, SessionSnapshot } from './context.ts';

export { defineModSlot, getModState, type ModSlot, type SessionSnapshot } from './context.ts';

/**
 * A named timeout's payload: called inside the connection when it fires, it returns the
 * requests to apply (MongooseIM's `fun(Name, C2SData) -> c2s_acc`, the mod_ping model).
 */
export type TimeoutHandler = (name: string, conn: C2sContext) => Effects | void | Promise<Effects | void>;

/** Identifies a pending {@link LocalSession.call}; a `foreignEvent` handler answers with {@link Effects.reply}. */
export interface CallRef {
  readonly id: number;
}

/** A timer request, in insertion order. */
export type TimeoutRequest =
  | { readonly kind: 'set'; readonly name: string; readonly ms: number; readonly handler: TimeoutHandler }
  | { readonly kind: 'cancel'; readonly name: string };

/** A queued internal event, processed before the next external input. */
export type InternalEvent =
  | { readonly kind: 'route'; readonly acc: Acc }
  | { readonly kind: 'flush'; readonly acc: Acc }
  | { readonly kind: 'stop'; readonly reason: string };

/** See {@link Effects.authenticated}. */
export interface Authenticated {
  /** The normalised localpart the mechanism authenticated (the JID is `user@lserver`). */
  readonly user: string;
  /** The SASL mechanism name (kept as `info.authMechanism`). */
  readonly mechanism: string;
  /** Write the post-auth stream features after this accumulator's writes (XEP-0388 without Bind2). */
  readonly postAuthFeatures?: boolean | undefined;
}

/** The requests handlers accumulate. Every method returns `this` for chaining. */
export class Effects {
  /** @internal */ hardStopReq: { readonly reason: string; readonly error: StreamError | undefined } | undefined;
  /** @internal */ authn: Authenticated | undefined;
  /** @internal */ authFailure: boolean | undefined;
  /** @internal */ openSessionReq: Jid | undefined;
  /** @internal */ stateReq: C2sTargetState | undefined;
  /** @internal */ adopt: SessionSnapshot | undefined;
  /** @internal */ handOver: { readonly ref: CallRef; readonly extra: object } | undefined;
  /** @internal */ modState: Map<ModSlot<unknown>, unknown> | undefined;
  /** @internal */ info: Map<string, unknown> | undefined;
  /** @internal */ timeouts: TimeoutRequest[] | undefined;
  /** @internal */ replies: { readonly ref: CallRef; readonly value: unknown }[] | undefined;
  /** @internal */ sendFirst: XmlElement[] | undefined;
  /** @internal */ send: XmlElement[] | undefined;
  /** @internal */ detach: boolean | undefined;
  /** @internal */ events: InternalEvent[] | undefined;

  /**
   * Authentication succeeded outside the RFC 6120 `<auth/>` flow (SASL2, XEP-0388 — which has
   * no stream restart): the connection records the bare JID `user@lserver` and the mechanism
   * (`info.authMechanism`), and moves to `postAuth` at once. A provisional stream `from` of
   * another user is an `invalid-from` stream error. With `postAuthFeatures`, the post-auth
   * `<stream:features/>` (bind, session, `c2sStreamFeatures`) are written after this
   * accumulator's socket writes. Applied first, before `nextState`, so `openSession` and
   * `adoptSession` in the same accumulator act on the authenticated connection.
   */
  authenticated(auth: Authenticated): this {
    this.authn = auth;
    return this;
  }

  /**
   * A pre-session authentication attempt outside `<auth/>` failed (SASL2): it uses one of the
   * listener's `authRetries` (shared with RFC 6120 SASL) and returns to `preAuth`; when none
   * is left the connection closes after this accumulator's socket writes (the `<failure/>`
   * still reaches the client).
   */
  countAuthFailure(): this {
    this.authFailure = true;
    return this;
  }

  /**
   * Bind `jid` (a full JID of the authenticated user) and register the session, moving to
   * `established` — for resource binding outside the RFC 6120 bind IQ (Bind2, XEP-0386). The
   * caller has already run `userOpenSession` with this accumulator and honoured a stop
   * (= deny); the core does not run it again. Applied after `authenticated` and `nextState`,
   * before module slots and info (which then reach the registered session).
   */
  openSession(jid: Jid): this {
    this.openSessionReq = jid;
    return this;
  }

  /**
   * Take over another connection's session (stream management resumption): this connection
   * — authenticated, not bound, in `postAuth` — gets the snapshot's full JID, info and module
   * slots, registers the session (replacing the old connection's row) with its priority, and
   * moves to `established`. Applied at the start of the data step, so `setModState` requests
   * in the same accumulator override the copied slots. The user must be the same.
   */
  adoptSession(snapshot: SessionSnapshot): this {
    this.adopt = snapshot;
    return this;
  }

  /**
   * Hand this connection's session to the connection that `call`ed (stream management
   * resumption): answers the call with `{ ...extra, snapshot }` (a {@link SessionSnapshot}:
   * JID, info, every module slot) and **moves** the slots — this connection keeps only the
   * slots set with `setModState` in the same accumulator (applied after), so no module works
   * on handed-over state during this connection's teardown. Applied in the data step, after
   * `adoptSession`. Rejects the call when no session is bound.
   */
  handOverSession(ref: CallRef, extra: object = {}): this {
    this.handOver = { ref, extra };
    return this;
  }

  /** Replace the module's slot (last writer wins per slot). `undefined` clears it. */
  setModState<T>(slot: ModSlot<T>, value: T | undefined): this {
    (this.modState ??= new Map()).set(slot as ModSlot<unknown>, value);
    return this;
  }

  /** Move the connection to another state (e.g. `external.resumable`, back to `established`). */
  nextState(state: C2sTargetState): this {
    this.stateReq = state;
    return this;
  }

  /**
   * Arm the named timeout `name` to call `handler` in `ms`. An armed timeout of the same name
   * is cancelled first (never two timers under one name — the XState pitfall we avoid).
   * Do not re-arm per stanza: record activity in your slot and, when the timer fires,
   * re-arm for the remainder (see `docs/c2s-machine.md`).
   */
  setTimeout(name: string, ms: number, handler: TimeoutHandler): this {
    (this.timeouts ??= []).push({ kind: 'set', name, ms, handler });
    return this;
  }

  /** Cancel the named timeout (no-op when not armed). */
  cancelTimeout(name: string): this {
    (this.timeouts ??= []).push({ kind: 'cancel', name });
    return this;
  }

  /** Answer a pending `call` (see {@link ForeignEventParams.callRef}). */
  reply(ref: CallRef, value: unknown): this {
    (this.replies ??= []).push({ ref, value });
    return this;
  }

  /** Soft stop: runs `userStopRequest` (a module may claim the connection), else terminates. */
  stop(reason: string): this {
    (this.events ??= []).push({ kind: 'stop', reason });
    return this;
  }

  /**
   * Stop now: sends `streamError` (when given) and the trailer, then terminates. Everything
   * else in this accumulator is ignored, queued socket writes included (reference §3.1).
   */
  hardStop(reason: string, streamError?: StreamError): this {
    this.hardStopReq = { reason, error: streamError };
    return this;
  }

  /** Deliver `acc` to this user through the full receive pipeline (not the global router). */
  route(acc: Acc): this {
    (this.events ??= []).push({ kind: 'route', acc });
    return this;
  }

  /** Write `acc`'s element through `xmppPresendElement` and the socket (CSI/SM re-emit). */
  flush(acc: Acc): this {
    (this.events ??= []).push({ kind: 'flush', acc });
    return this;
  }

  /** Write an element to the socket (after the handlers, in insertion order). */
  socketSend(el: XmlElement): this {
    (this.send ??= []).push(el);
    return this;
  }

  /** Write an element before every {@link socketSend} item (SASL2's `<success>` leads). */
  socketSendFirst(el: XmlElement): this {
    (this.sendFirst ??= []).push(el);
    return this;
  }

  /**
   * Drop the socket without a word (no stream error, no trailer: to the client it looks like
   * a network failure) and keep the connection alive without it — for a claimed stop request
   * that moves the connection into a socketless external state (stream management). Applied
   * after the socket writes; later transport events are ignored.
   */
  detachSocket(): this {
    this.detach = true;
    return this;
  }

  /** Set a session info key (copied into the session registry once bound). */
  setInfo(key: string, value: unknown): this {
    (this.info ??= new Map()).set(key, value);
    return this;
  }

  /** `true` when nothing was requested. */
  get isEmpty(): boolean {
    return (
      this.hardStopReq === undefined &&
      this.authn === undefined &&
      this.authFailure === undefined &&
      this.openSessionReq === undefined &&
      this.stateReq === undefined &&
      this.adopt === undefined &&
      this.handOver === undefined &&
      this.modState === undefined &&
      this.info === undefined &&
      this.timeouts === undefined &&
      this.replies === undefined &&
      this.sendFirst === undefined &&
      this.send === undefined &&
      this.detach === undefined &&
      this.events === undefined
    );
  }
}

/** What {@link applyEffects} acts on (the connection implements it). */
export interface EffectsTarget {
  hardStop(reason: string, error: StreamError | undefined): void;
  gotoState(state: C2sTargetState): void;
  /** See {@link Effects.authenticated}. Optional for targets that never authenticate. */
  setAuthenticated?(auth: Authenticated): void;
  /** See {@link Effects.countAuthFailure}. */
  countAuthFailure?(): void;
  /** See {@link Effects.openSession}. */
  openSession?(jid: Jid): void;
  /** See {@link Effects.adoptSession}. Optional for targets that never adopt. */
  adoptSession?(snapshot: SessionSnapshot): void;
  /** See {@link Effects.handOverSession}. Optional for targets that never hand over. */
  handOverSession?(ref: CallRef, extra: object): void;
  setModState(slot: ModSlot<unknown>, value: unknown): void;
  setInfo(info: ReadonlyMap<string, unknown>): void;
  /** Write one element to the socket, then run `xmppSendElement`. */
  writeElement(el: XmlElement): void;
  /** See {@link Effects.detachSocket}. Optional for targets without a socket. */
  detachSocket?(): void;
  setTimer(name: string, ms: number, handler: TimeoutHandler): void;
  cancelTimer(name: string): void;
  reply(ref: CallRef, value: unknown): void;
  /** Queue an internal event ahead of every external input. */
  enqueueInternal(ev: InternalEvent): void;
}

/**
 * Apply `effects` to `target`, always in this order (reference §3.1, §10.2):
 *
 * 1. `hardStop` — alone: nothing else is applied, queued writes are dropped;
 * 2. `authenticated` (SASL2 success: bare JID set, state `postAuth`), then `nextState`, then
 *    `countAuthFailure` (back to `preAuth`, or closing once the writes are done);
 * 3. data: a session opened by a module (`openSession`), an adopted session (`adoptSession`), a handed-over one (`handOverSession`: the
 *    call is answered with the snapshot and the slots move out), module-state slots, then
 *    session info;
 * 4. socket writes: every `socketSendFirst` element, then every `socketSend` element, each in
 *    insertion order, each followed by the `xmppSendElement` hook; then `detachSocket`;
 * 5. timers (cancel/set in insertion order) and call replies;
 * 6. internal events — `route`, `flush`, `stop` — queued in insertion order; the connection
 *    runs them before its next transport event or delivery.
 */
export function applyEffects(target: EffectsTarget, effects: Effects): void {
  if (effects.hardStopReq !== undefined) {
    target.hardStop(effects.hardStopReq.reason, effects.hardStopReq.error);
    return;
  }
  if (effects.authn !== undefined) {
    if (target.setAuthenticated === undefined) throw new Error('this target cannot authenticate');
    target.setAuthenticated(effects.authn);
  }
  if (effects.stateReq !== undefined) target.gotoState(effects.stateReq);
  if (effects.authFailure === true) {
    if (target.countAuthFailure === undefined) throw new Error('this target cannot count authentication failures');
    target.countAuthFailure();
  }
  if (effects.openSessionReq !== undefined) {
    if (target.openSession === undefined) throw new Error('this target cannot open a session');
    target.openSession(effects.openSessionReq);
  }
  if (effects.adopt !== undefined) {
    if (target.adoptSession === undefined) throw new Error('this target cannot adopt a session');
    target.adoptSession(effects.adopt);
  }
  if (effects.handOver !== undefined) {
    if (target.handOverSession === undefined) throw new Error('this target cannot hand over a session');
    target.handOverSession(effects.handOver.ref, effects.handOver.extra);
  }
  if (effects.modState !== undefined) for (const [slot, v] of effects.modState) target.setModState(slot, v);
  if (effects.info !== undefined) target.setInfo(effects.info);
  if (effects.sendFirst !== undefined) for (const el of effects.sendFirst) target.writeElement(el);
  if (effects.send !== undefined) for (const el of effects.send) target.writeElement(el);
  if (effects.detach === true) target.detachSocket?.();
  if (effects.timeouts !== undefined) {
    for (const t of effects.timeouts) {
      if (t.kind === 'set') target.setTimer(t.name, t.ms, t.handler);
      else target.cancelTimer(t.name);
    }
  }
  if (effects.replies !== undefined) for (const r of effects.replies) target.reply(r.ref, r.value);
  if (effects.events !== undefined) for (const ev of effects.events) target.enqueueInternal(ev);
}
