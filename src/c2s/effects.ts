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
import type { XmlElement } from '../core/xml/element.ts';
import type { C2sContext, C2sTargetState, ModSlot } from './context.ts';

export { defineModSlot, getModState, type ModSlot } from './context.ts';

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

/** The requests handlers accumulate. Every method returns `this` for chaining. */
export class Effects {
  /** @internal */ hardStopReq: { readonly reason: string; readonly error: StreamError | undefined } | undefined;
  /** @internal */ stateReq: C2sTargetState | undefined;
  /** @internal */ modState: Map<ModSlot<unknown>, unknown> | undefined;
  /** @internal */ info: Map<string, unknown> | undefined;
  /** @internal */ timeouts: TimeoutRequest[] | undefined;
  /** @internal */ replies: { readonly ref: CallRef; readonly value: unknown }[] | undefined;
  /** @internal */ sendFirst: XmlElement[] | undefined;
  /** @internal */ send: XmlElement[] | undefined;
  /** @internal */ events: InternalEvent[] | undefined;

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

  /** Set a session info key (copied into the session registry once bound). */
  setInfo(key: string, value: unknown): this {
    (this.info ??= new Map()).set(key, value);
    return this;
  }

  /** `true` when nothing was requested. */
  get isEmpty(): boolean {
    return (
      this.hardStopReq === undefined &&
      this.stateReq === undefined &&
      this.modState === undefined &&
      this.info === undefined &&
      this.timeouts === undefined &&
      this.replies === undefined &&
      this.sendFirst === undefined &&
      this.send === undefined &&
      this.events === undefined
    );
  }
}

/** What {@link applyEffects} acts on (the connection implements it). */
export interface EffectsTarget {
  hardStop(reason: string, error: StreamError | undefined): void;
  gotoState(state: C2sTargetState): void;
  setModState(slot: ModSlot<unknown>, value: unknown): void;
  setInfo(info: ReadonlyMap<string, unknown>): void;
  /** Write one element to the socket, then run `xmppSendElement`. */
  writeElement(el: XmlElement): void;
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
 * 2. `nextState`;
 * 3. data: module-state slots, then session info;
 * 4. socket writes: every `socketSendFirst` element, then every `socketSend` element, each in
 *    insertion order, each followed by the `xmppSendElement` hook;
 * 5. timers (cancel/set in insertion order) and call replies;
 * 6. internal events — `route`, `flush`, `stop` — queued in insertion order; the connection
 *    runs them before its next transport event or delivery.
 */
export function applyEffects(target: EffectsTarget, effects: Effects): void {
  if (effects.hardStopReq !== undefined) {
    target.hardStop(effects.hardStopReq.reason, effects.hardStopReq.error);
    return;
  }
  if (effects.stateReq !== undefined) target.gotoState(effects.stateReq);
  if (effects.modState !== undefined) for (const [slot, v] of effects.modState) target.setModState(slot, v);
  if (effects.info !== undefined) target.setInfo(effects.info);
  if (effects.sendFirst !== undefined) for (const el of effects.sendFirst) target.writeElement(el);
  if (effects.send !== undefined) for (const el of effects.send) target.writeElement(el);
  if (effects.timeouts !== undefined) {
    for (const t of effects.timeouts) {
      if (t.kind === 'set') target.setTimer(t.name, t.ms, t.handler);
      else target.cancelTimer(t.name);
    }
  }
  if (effects.replies !== undefined) for (const r of effects.replies) target.reply(r.ref, r.value);
  if (effects.events !== undefined) for (const ev of effects.events) target.enqueueInternal(ev);
}
