/**
 * Extension modules as values (`defineModule`). A module is started **per host type** with
 * its options: its hook registrations (and IQ handlers) are added as one batch and removed
 * together when it stops. Its external states are merged into the machine of every listener
 * it is enabled on ({@link externalStatesOf}).
 * @module
 */
import type { HookHandler, HookRegistry, HookSpec } from '../hooks/index.ts';
import { DEFAULT_PRIORITY } from '../hooks/index.ts';
import type { IqHandler, IqHandlerKey, IqHandlerRegistry } from '../core/iq-handlers.ts';
import type { Storage } from '../core/storage/storage.ts';
import type { Router } from '../core/session.ts';
import type { SessionManager } from '../core/session-manager.ts';
import type { DomainRegistry } from '../core/domains.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { discoLocalFeatures } from '../core/server-hooks.ts';
import type { ModSlot } from './context.ts';
import type { ExternalStateSpec } from './options.ts';

/** One hook registration a module returns (the tag is the host type it is started for). */
export interface ModuleHook {
  readonly spec: HookSpec<any, any>;
  readonly handler: HookHandler<any, any>;
  readonly priority: number;
}

/** Build a typed {@link ModuleHook}: the handler is checked against the spec. */
export function hook<A, P>(spec: HookSpec<A, P>, handler: HookHandler<A, P>, priority: number = DEFAULT_PRIORITY): ModuleHook {
  return { spec, handler, priority };
}

/** One IQ handler a module returns (`hostType` is filled in when it starts). */
export interface ModuleIqHandler {
  readonly key: Omit<IqHandlerKey, 'hostType'>;
  readonly handler: IqHandler;
}

/**
 * Everything a running module may use, injected by the server (Prosody's `module` object):
 * its storage ports, the router (to send stanzas), the session manager (to find a user's
 * sessions and `cast`/`call` them), domains, the hook and IQ registries, clock and logger.
 * Modules never import each other or storage adapters; this is their whole world.
 */
export interface ModuleEnv {
  /** The host type the module was started for. */
  readonly hostType: string;
  readonly hooks: HookRegistry;
  readonly iqHandlers: IqHandlerRegistry;
  readonly storage: Storage;
  readonly router: Router;
  readonly sessions: SessionManager;
  readonly domains: DomainRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** What `defineModule` takes. */
export interface ModuleSpec<O extends object> {
  /** Unique module name; also the conventional `cast`/`call` tag and log key. */
  readonly name: string;
  /** Option defaults; `startModule` merges the host type's options over them. */
  readonly defaults: O;
  /** Hook handlers for one host type. */
  hooks?(hostType: string, opts: O, env: ModuleEnv): readonly ModuleHook[];
  /** IQ handlers for one host type. */
  iqHandlers?(hostType: string, opts: O, env: ModuleEnv): readonly ModuleIqHandler[];
  /**
   * Anything else the module sets up for a host type (timers, subdomain patterns, caches);
   * returns its cleanup, run when the module stops.
   */
  start?(env: ModuleEnv, opts: O): (() => void) | void;
  /** Service-discovery features (`var`s) the module adds to the server's disco#info for its host types (registered on `discoLocalFeatures` when it starts, node-less queries only). */
  readonly features?: readonly string[];
  /** States contributed to the c2s machine of listeners where the module is enabled. */
  readonly externalStates?: readonly ExternalStateSpec[];
  /** The module's typed per-connection slots (documentation and checks). */
  readonly slots?: readonly ModSlot<any>[];
}

/** A module value. */
export interface XmppModule<O extends object = object> extends ModuleSpec<O> {
  readonly kind: 'xmpp-module';
}

/** Declare a module. The result is a plain value; nothing runs until it is started. */
export function defineModule<O extends object>(spec: ModuleSpec<O>): XmppModule<O> {
  if (!/^[a-zA-Z][\w-]*$/.test(spec.name)) throw new Error(`module name "${spec.name}" must be an identifier`);
  return Object.freeze({ ...spec, kind: 'xmpp-module' as const });
}

/** A module enabled on a host type, with (partial) options. */
export interface ModuleInstance<O extends object = any> {
  readonly module: XmppModule<O>;
  readonly options?: Partial<O> | undefined;
}

/** What a running module needs from the server: a {@link ModuleEnv} without the host type. */
export type ModuleHost = Omit<ModuleEnv, 'hostType'>;

/**
 * Start `module` for `hostType`: registers its hooks (as one batch) and IQ handlers. Returns
 * the stopper, which removes everything it registered.
 */
export function startModule<O extends object>(host: ModuleHost, module: XmppModule<O>, hostType: string, options?: Partial<O>): () => void {
  const opts = { ...module.defaults, ...options } as O;
  const env: ModuleEnv = { ...host, hostType, logger: host.logger.child({ module: module.name, hostType }) };
  const cleanups: (() => void)[] = [];
  const stopAll = () => {
    while (cleanups.length) cleanups.pop()!();
  };
  try {
    const hooks = [...(module.hooks?.(hostType, opts, env) ?? [])];
    const features = module.features;
    if (features?.length) {
      hooks.push(hook(discoLocalFeatures, (acc, p) => (p.node === undefined ? { stop: false, acc: [...acc, ...features] } : undefined)));
    }
    const regs = hooks.map((h) => ({ spec: h.spec, tag: hostType, handler: h.handler, priority: h.priority, extra: { module: module.name } }));
    cleanups.push(host.hooks.addAll(regs));
    for (const iq of module.iqHandlers?.(hostType, opts, env) ?? []) cleanups.push(host.iqHandlers.register({ ...iq.key, hostType }, iq.handler));
    const stop = module.start?.(env, opts);
    if (stop) cleanups.push(stop);
  } catch (err) {
    stopAll();
    throw err;
  }
  return stopAll;
}

/** The external states of a set of modules (for a listener's machine); a duplicate name is an error. */
export function externalStatesOf(modules: Iterable<XmppModule<any>>): ExternalStateSpec[] {
  const out: ExternalStateSpec[] = [];
  const owner = new Map<string, string>();
  for (const m of modules) {
    for (const s of m.externalStates ?? []) {
      const prev = owner.get(s.name);
      if (prev !== undefined && prev !== m.name) throw new Error(`external state "${s.name}" contributed by both ${prev} and ${m.name}`);
      if (prev === undefined) out.push(s);
      owner.set(s.name, m.name);
    }
  }
  return out;
}
