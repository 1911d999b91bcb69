/**
 * The seams between connections (src/c2s) and routing (src/core): a connection registers a
 * {@link LocalSession} with the {@link SessionRegistry}; the router delivers through it.
 * Core never imports c2s; c2s implements these interfaces.
 * @module
 */
import type { Acc } from './acc.ts';
import type { Jid } from './jid.ts';
import type { StreamErrorCondition } from './errors.ts';

/** A bound client session as the router and session manager see it. */
export interface LocalSession {
  /** Unique, sortable by creation time ("newest wins" is a string/number comparison). */
  readonly sid: string;
  /** Full JID (after bind). */
  readonly jid: Jid;
  readonly hostType: string;
  /** Deliver a routed stanza into this connection's receive pipeline (asynchronous, ordered). */
  deliver(acc: Acc): void;
  /** Non-interceptable close: stream error `condition` (e.g. `conflict` when replaced, `system-shutdown`), then trailer. */
  exit(reason: string, condition?: StreamErrorCondition, text?: string): void;
  /** Interceptable stop request (runs `userStopRequest`; a module such as stream management may claim it). */
  stop(reason: string): void;
  /** Fire-and-forget event to the connection's `foreignEvent` hook, tagged by module. */
  cast(tag: string, content: unknown): void;
  /** Request/response event to the `foreignEvent` hook; a handler answers with a `reply` effect. Rejects on timeout. */
  call<R = unknown>(tag: string, content: unknown, timeoutMs?: number): Promise<R>;
}

/** Result of opening a session. */
export interface OpenSessionResult {
  /** Older sessions that were replaced (same resource, or over the per-user limit); they were sent `exit('replaced', 'conflict')`. */
  readonly replaced: readonly LocalSession[];
}

/** What a connection needs from the session manager. */
export interface SessionRegistry {
  /**
   * Register a bound session. It counts as available with priority 0 until presence says
   * otherwise (MongooseIM's behaviour; a policy flag of the session manager).
   */
  open(session: LocalSession, info?: Readonly<Record<string, unknown>>): OpenSessionResult;
  /** Remove the session (idempotent). */
  close(session: LocalSession, reason: string): void;
  /** Set presence priority (`null` = unavailable). Used by the presence module. */
  setPriority(session: LocalSession, priority: number | null): void;
  /** Merge keys into the session's info (copied into the session table). */
  setInfo(session: LocalSession, info: Readonly<Record<string, unknown>>): void;
}

/** The global router: everything a connection sends after its own hooks goes here. */
export interface Router {
  route(acc: Acc): void;
}
