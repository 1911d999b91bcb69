/**
 * The hook registry and fold runner.
 *
 * Handlers are stored per (hook, tag) — a tag is a host type or {@link GLOBAL}. Running a hook
 * for a tag folds over that tag's handlers merged with the hook's global handlers, in ascending
 * priority, equal priorities in registration order (MongooseIM `gen_hook` semantics).
 *
 * Reads are the hot path (several runs per stanza), writes happen when modules start or stop.
 * So every change rebuilds small immutable arrays, and a run reads one cached snapshot array
 * and walks it with a plain loop — no allocation besides the result object. A handler added or
 * removed during a run does not affect that run.
 * @module
 */
import {
  GLOBAL,
  isPromise,
  type AnyHookSpec,
  type HandlerExtra,
  type HookHandler,
  type HookReturn,
  type HookSpec,
  type HookTag,
  type RunResult,
} from './hook-spec.ts';

/** Default priority: the middle of the conventional 1–100 range. */
export const DEFAULT_PRIORITY = 50;

/** Removes what was registered; calling it again does nothing. */
export type Remover = () => void;

/** Context given to {@link HookRegistryOptions.onError} with a handler's exception. */
export interface HookErrorInfo {
  readonly hookName: string;
  /** The tag the hook was run for. */
  readonly tag: HookTag;
  /** The tag the failing handler was registered under (the run tag or {@link GLOBAL}). */
  readonly handlerTag: HookTag;
  readonly priority: number;
  readonly handler: Function;
}

export interface HookRegistryOptions {
  /**
   * Called when a handler throws or its Promise rejects. The fold then continues with the
   * accumulator from before that handler (as `gen_hook` does), so one broken module cannot
   * stop stanza processing. Default: one JSON line on stderr.
   */
  readonly onError?: (err: unknown, info: HookErrorInfo) => void;
}

/**
 * One registration as a value, for modules that return their handler list
 * (see {@link registration}, {@link HookRegistry.addAll}).
 */
export interface HookRegistration<A = any, P = any> {
  readonly spec: HookSpec<A, P>;
  readonly tag: HookTag;
  readonly handler: HookHandler<A, P>;
  readonly priority?: number | undefined;
  readonly extra?: Readonly<Record<string, unknown>> | undefined;
}

/** Build a typed {@link HookRegistration} (the handler is checked against the spec). */
export function registration<A, P>(
  spec: HookSpec<A, P>,
  tag: HookTag,
  handler: HookHandler<A, P>,
  priority: number = DEFAULT_PRIORITY,
  extra?: Readonly<Record<string, unknown>>,
): HookRegistration<A, P> {
  return { spec, tag, handler, priority, extra };
}

interface Entry {
  readonly fn: HookHandler<any, any>;
  readonly priority: number;
  readonly seq: number;
  readonly extra: HandlerExtra;
}

const EMPTY: readonly Entry[] = Object.freeze([]);

/** Handlers of one hook: per tag, plus a cache of merged (tag + global) snapshots. */
class HookTable {
  readonly byTag = new Map<HookTag, readonly Entry[]>();
  readonly merged = new Map<HookTag, readonly Entry[]>();

  snapshot(tag: HookTag): readonly Entry[] {
    let list = this.merged.get(tag);
    if (list === undefined) {
      const own = this.byTag.get(tag) ?? EMPTY;
      const global = tag === GLOBAL ? EMPTY : (this.byTag.get(GLOBAL) ?? EMPTY);
      list = global.length === 0 ? own : own.length === 0 ? global : Object.freeze([...own, ...global].sort(byOrder));
      this.merged.set(tag, list);
    }
    return list;
  }

  changed(tag: HookTag): void {
    if (tag === GLOBAL) this.merged.clear();
    else this.merged.delete(tag);
  }
}

function byOrder(a: Entry, b: Entry): number {
  return a.priority - b.priority || a.seq - b.seq;
}

function defaultOnError(err: unknown, info: HookErrorInfo): void {
  const e = err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
  process.stderr.write(
    JSON.stringify({ level: 'error', msg: 'hook handler failed', hook: info.hookName, tag: info.tag, priority: info.priority, err: e }) + '\n',
  );
}

/**
 * Registry of hook handlers and the fold runner.
 *
 * ```ts
 * const hooks = new HookRegistry();
 * const off = hooks.add(userSendMessage, 'default', (acc) => { … return stop(acc); }, 10);
 * const r = hooks.run(userSendMessage, 'default', acc, params);
 * const { stopped, acc: out } = isPromise(r) ? await r : r;
 * ```
 */
export class HookRegistry {
  private readonly tables = new Map<AnyHookSpec, HookTable>();
  private seq = 0;
  private readonly onError: (err: unknown, info: HookErrorInfo) => void;

  constructor(options: HookRegistryOptions = {}) {
    this.onError = options.onError ?? defaultOnError;
  }

  /**
   * Register `handler` for `spec` under `tag` (a host type or {@link GLOBAL}). Lower
   * `priority` runs first; equal priorities run in registration order. `extra` is merged into
   * the handler's third argument. Registering the same function twice makes two
   * registrations. Returns a function removing exactly this registration.
   */
  add<A, P>(
    spec: HookSpec<A, P>,
    tag: HookTag,
    handler: HookHandler<A, P>,
    priority: number = DEFAULT_PRIORITY,
    extra?: Readonly<Record<string, unknown>>,
  ): Remover {
    if (typeof handler !== 'function') throw new TypeError(`hook ${spec.name}: handler is not a function`);
    if (!Number.isFinite(priority)) throw new TypeError(`hook ${spec.name}: priority must be a finite number`);
    const entry: Entry = {
      fn: handler,
      priority,
      seq: this.seq++,
      extra: Object.freeze({ ...extra, hookName: spec.name, tag, hostType: tag === GLOBAL ? undefined : tag }),
    };
    let table = this.tables.get(spec);
    if (table === undefined) {
      table = new HookTable();
      this.tables.set(spec, table);
    }
    const list = table.byTag.get(tag) ?? EMPTY;
    // Insert after every entry with priority <= ours: keeps the list sorted and ties in order.
    let i = list.length;
    while (i > 0 && list[i - 1]!.priority > priority) i--;
    table.byTag.set(tag, Object.freeze([...list.slice(0, i), entry, ...list.slice(i)]));
    table.changed(tag);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.removeEntry(spec, tag, entry);
    };
  }

  /**
   * Remove the first registration of `handler` for `spec` under `tag` (with `priority`, when
   * given). Returns whether one was removed. Prefer the remover returned by {@link add}.
   */
  remove<A, P>(spec: HookSpec<A, P>, tag: HookTag, handler: HookHandler<A, P>, priority?: number): boolean {
    const list = this.tables.get(spec)?.byTag.get(tag);
    const entry = list?.find((e) => e.fn === handler && (priority === undefined || e.priority === priority));
    return entry !== undefined && this.removeEntry(spec, tag, entry);
  }

  /** Register a batch; the returned remover removes all of it (module stop per host type). */
  addAll(registrations: Iterable<HookRegistration>): Remover {
    const removers: Remover[] = [];
    try {
      for (const r of registrations) removers.push(this.add(r.spec, r.tag, r.handler, r.priority ?? DEFAULT_PRIORITY, r.extra));
    } catch (err) {
      // All or nothing: a bad entry must not leave half a module registered.
      for (const off of removers) off();
      throw err;
    }
    return () => {
      for (const off of removers) off();
    };
  }

  /**
   * A group: registrations made through it are removed together by
   * {@link HookGroup.removeAll}. Give one to each module instance (module × host type).
   */
  group(): HookGroup {
    return new HookGroup(this);
  }

  /** Number of handlers that a run of `spec` for `tag` would call (tag + global). */
  count(spec: AnyHookSpec, tag: HookTag): number {
    return this.tables.get(spec)?.snapshot(tag).length ?? 0;
  }

  /**
   * Fold `acc` through the handlers of `spec` for `tag` merged with its global handlers.
   *
   * Returns synchronously unless a handler returns a Promise: from then on the rest of the fold
   * runs asynchronously and `run` returns a Promise. So callers on the hot path do
   * `const r = hooks.run(…); if (isPromise(r)) … else …` and pay no microtask when every handler
   * is synchronous. A handler returning `undefined` continues with the acc it was given; one
   * that throws or rejects is reported to `onError` and skipped (the fold continues with the
   * acc from before it). With no handlers the acc comes back untouched, `stopped: false`.
   */
  run<A, P>(spec: HookSpec<A, P>, tag: HookTag, acc: A, params: P): RunResult<A> | Promise<RunResult<A>> {
    const table = this.tables.get(spec);
    if (table === undefined) return { stopped: false, acc };
    const list = table.snapshot(tag);
    if (list.length === 0) return { stopped: false, acc };
    return this.fold(spec, tag, list, 0, acc, params);
  }

  /**
   * {@link run}, always as a Promise (for code that is asynchronous anyway and wants one shape).
   */
  async runAsync<A, P>(spec: HookSpec<A, P>, tag: HookTag, acc: A, params: P): Promise<RunResult<A>> {
    return this.run(spec, tag, acc, params);
  }

  private fold<A, P>(spec: HookSpec<A, P>, tag: HookTag, list: readonly Entry[], start: number, acc: A, params: P): RunResult<A> | Promise<RunResult<A>> {
    for (let i = start; i < list.length; i++) {
      const e = list[i]!;
      let r: HookReturn<A> | void | Promise<HookReturn<A> | void>;
      try {
        r = e.fn(acc, params, e.extra);
      } catch (err) {
        this.report(err, spec, tag, e);
        continue;
      }
      if (r === undefined || r === null) continue;
      if (isPromise(r)) return this.resume(spec, tag, list, i, acc, params, r);
      if ((r as HookReturn<A>).stop) return { stopped: true, acc: (r as HookReturn<A>).acc };
      acc = (r as HookReturn<A>).acc;
    }
    return { stopped: false, acc };
  }

  private resume<A, P>(
    spec: HookSpec<A, P>,
    tag: HookTag,
    list: readonly Entry[],
    i: number,
    acc: A,
    params: P,
    pending: Promise<HookReturn<A> | void>,
  ): Promise<RunResult<A>> {
    return pending.then(
      (r) => {
        if (r === undefined || r === null) return this.fold(spec, tag, list, i + 1, acc, params);
        if (r.stop) return { stopped: true, acc: r.acc };
        return this.fold(spec, tag, list, i + 1, r.acc, params);
      },
      (err: unknown) => {
        this.report(err, spec, tag, list[i]!);
        return this.fold(spec, tag, list, i + 1, acc, params);
      },
    );
  }

  private report(err: unknown, spec: AnyHookSpec, tag: HookTag, e: Entry): void {
    try {
      this.onError(err, { hookName: spec.name, tag, handlerTag: e.extra.tag, priority: e.priority, handler: e.fn });
    } catch {
      // A failing error reporter must not break the fold either.
    }
  }

  private removeEntry(spec: AnyHookSpec, tag: HookTag, entry: Entry): boolean {
    const table = this.tables.get(spec);
    const list = table?.byTag.get(tag);
    if (table === undefined || list === undefined) return false;
    const i = list.indexOf(entry);
    if (i < 0) return false;
    if (list.length === 1) table.byTag.delete(tag);
    else table.byTag.set(tag, Object.freeze([...list.slice(0, i), ...list.slice(i + 1)]));
    table.changed(tag);
    return true;
  }
}

/**
 * Registrations made through one group, removed with one call. Adding after
 * {@link removeAll} is allowed (the group can be reused).
 */
export class HookGroup {
  private removers: Remover[] = [];

  constructor(private readonly registry: HookRegistry) {}

  /** Same as {@link HookRegistry.add}; the registration belongs to this group. */
  add<A, P>(
    spec: HookSpec<A, P>,
    tag: HookTag,
    handler: HookHandler<A, P>,
    priority: number = DEFAULT_PRIORITY,
    extra?: Readonly<Record<string, unknown>>,
  ): Remover {
    const off = this.registry.add(spec, tag, handler, priority, extra);
    this.removers.push(off);
    return off;
  }

  /** Same as {@link HookRegistry.addAll}; the registrations belong to this group. */
  addAll(registrations: Iterable<HookRegistration>): Remover {
    const off = this.registry.addAll(registrations);
    this.removers.push(off);
    return off;
  }

  /** Number of add/addAll calls still held. */
  get size(): number {
    return this.removers.length;
  }

  /** Remove everything registered through this group. */
  removeAll(): void {
    const rs = this.removers;
    this.removers = [];
    for (const off of rs) off();
  }
}
