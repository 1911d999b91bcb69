/**
 * Typed hook specifications and handler shapes.
 *
 * Every hook is a **fold with stop** — tapable's bail + waterfall in one: handlers run in
 * ascending priority, each receives the accumulator the previous one produced, and any handler
 * may end the fold early by returning {@link stop}. A handler that returns nothing continues
 * with the accumulator it was given (convenient when the accumulator is a mutable object).
 *
 * This file knows nothing about XMPP: it is the generic engine's vocabulary.
 * @module
 */

/**
 * The tag of handlers that run for every tag (every host type). A plain string so that code
 * written as `'global'` works too; consequently no host type may be named `global`.
 */
export const GLOBAL = 'global';
/** Type of {@link GLOBAL}. */
export type GLOBAL = typeof GLOBAL;

/** What handlers are registered under: a host type, or {@link GLOBAL}. */
export type HookTag = string;

/**
 * A hook's identity and its types. Create one with {@link defineHook}; the value itself is the
 * identity (two specs with the same name are two different hooks — the name is for logs and
 * the `hookName` handlers see).
 *
 * `Acc` is the accumulator threaded through the fold, `Params` the read-only parameters that are
 * the same for every handler of one run.
 */
export interface HookSpec<Acc, Params> {
  readonly name: string;
  readonly doc: string | undefined;
  /**
   * Phantom member: never set at runtime. Its function types make `Acc` and `Params` invariant,
   * so passing a handler or params of the wrong type to a spec is a compile error.
   * @internal
   */
  readonly __types?: { readonly acc: (a: Acc) => Acc; readonly params: (p: Params) => Params };
}

/** Any hook spec (for collections of registrations). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHookSpec = HookSpec<any, any>;

/** The accumulator type of a spec. */
export type HookAcc<S> = S extends HookSpec<infer A, unknown> ? A : never;
/** The params type of a spec. */
export type HookParams<S> = S extends HookSpec<unknown, infer P> ? P : never;

/**
 * Declare a hook: `export const userSendMessage = defineHook<Acc, C2SParams>('userSendMessage',
 * 'Every message the client sends; stop = do not route.')`. State the hook's stop semantics in
 * `doc`.
 */
export function defineHook<Acc, Params = undefined>(name: string, doc?: string): HookSpec<Acc, Params> {
  return Object.freeze({ name, doc });
}

/**
 * A handler's answer: continue (`stop: false`) or end the fold (`stop: true`), with the new
 * accumulator either way. Build it with {@link next} / {@link stop}.
 */
export interface HookReturn<A> {
  readonly stop: boolean;
  readonly acc: A;
}

/** Continue the fold with `acc`. */
export function next<A>(acc: A): HookReturn<A> {
  return { stop: false, acc };
}

/** End the fold: later (higher priority number) handlers do not run; the run reports `stopped`. */
export function stop<A>(acc: A): HookReturn<A> {
  return { stop: true, acc };
}

/**
 * The third handler argument: where the handler runs, plus whatever the registration passed as
 * `extra`. It is built once per registration, so it costs nothing per run.
 */
export interface HandlerExtra {
  /** The spec's name. */
  readonly hookName: string;
  /** The tag the handler was registered under (a host type or {@link GLOBAL}). */
  readonly tag: HookTag;
  /** The host type when `tag` is one, `undefined` for global handlers. */
  readonly hostType: string | undefined;
  readonly [key: string]: unknown;
}

/** What a handler may return: a {@link HookReturn}, nothing (continue, same acc), or a Promise of either. */
export type HandlerResult<A> = HookReturn<A> | void | Promise<HookReturn<A> | void>;

/** A handler of hook `HookSpec<Acc, Params>`. */
export type HookHandler<Acc, Params> = (acc: Acc, params: Params, extra: HandlerExtra) => HandlerResult<Acc>;

/** The outcome of a run: whether a handler stopped the fold, and the final accumulator. */
export interface RunResult<A> {
  readonly stopped: boolean;
  readonly acc: A;
}

/** `true` when `v` is a thenable (how the runner decides to leave the synchronous path). */
export function isPromise<T = unknown>(v: unknown): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
