/**
 * The generic typed hook engine (no XMPP knowledge): typed hook specs, a registry with
 * per-tag and global handlers and priorities, and a fold-with-stop runner that stays
 * synchronous until a handler returns a Promise.
 * @module
 */
export {
  GLOBAL,
  defineHook,
  next,
  stop,
  isPromise,
  type AnyHookSpec,
  type HandlerExtra,
  type HandlerResult,
  type HookAcc,
  type HookHandler,
  type HookParams,
  type HookReturn,
  type HookSpec,
  type HookTag,
  type RunResult,
} from './hook-spec.ts';
export {
  DEFAULT_PRIORITY,
  HookGroup,
  HookRegistry,
  registration,
  type HookErrorInfo,
  type HookRegistration,
  type HookRegistryOptions,
  type Remover,
} from './registry.ts';
