/**
 * The c2s lifecycle as an XState v5 machine (chart and rules: `docs/c2s-machine.md`).
 *
 * XState owns the **lifecycle only** — a dozen events per connection: stream open, TLS, SASL
 * steps, bind, session, external states, close. It costs 2.4–8 µs per event (reference
 * dependencies §2.3), so stanzas in `established` never become machine events; the connection
 * sends one only when effects ask for a state change or a stop.
 *
 * Retry counters and the stream phase live in context (reference §10, change 1). The
 * pre-session state timeout is one `after` on the `preSession` parent: moving between its
 * children does not re-arm it, and junk input sends no event at all, so a client cannot keep
 * an unauthenticated connection alive by talking.
 *
 * The machine is built once per listener from the core states plus the external states the
 * enabled modules contribute ({@link buildC2sMachine}).
 * @module
 */
import { assign, setup, type ActorRefFrom, type SnapshotFrom, type StateValue } from 'xstate';
import type { C2sStateName } from './context.ts';
import type { ExternalStateSpec } from './options.ts';

/** Callbacks from the machine to its connection. */
export interface C2sMachineHost {
  /** The pre-session state timeout fired (the machine is now `closing`). */
  stateTimeout(): void;
}

/** Input of a c2s actor. */
export interface C2sMachineInput {
  readonly authRetries?: number | undefined;
  readonly bindRetries?: number | undefined;
  readonly legacySession?: boolean | undefined;
  readonly stateTimeoutMs?: number | undefined;
  readonly host?: C2sMachineHost | undefined;
}

/** Machine context. */
export interface C2sMachineContext {
  /** SASL failures still allowed; a failure at 0 closes (reference §1.5: from 3, the 4th closes). */
  authRetries: number;
  /** Bind failures still allowed; a failure at 0 closes. */
  bindRetries: number;
  /** Which stream header `awaitingStream` waits for. */
  phase: 'initial' | 'authenticated';
  legacySession: boolean;
  stateTimeoutMs: number;
  /** Why the machine entered `closing` (set once). */
  closeReason: string | undefined;
  host: C2sMachineHost | undefined;
}

/** Lifecycle events the connection sends. */
export type C2sMachineEvent =
  | { type: 'CONNECT' }
  | { type: 'STREAM_OK' }
  | { type: 'TLS_STARTED' }
  | { type: 'SASL_CHALLENGE' }
  | { type: 'SASL_FAILURE' }
  | { type: 'SASL_SUCCESS' }
  /** A pre-session authentication outside `<auth/>` (SASL2) failed: a retry is used, back to `preAuth`. */
  | { type: 'AUTH_FAILURE' }
  | { type: 'BIND_FAILURE' }
  | { type: 'BOUND' }
  | { type: 'SESSION_OPENED' }
  | { type: 'SESSION_FAILURE' }
  | { type: 'CLOSE'; reason: string }
  | { type: 'CLOSED' }
  | { type: `goto.${string}` };

/** Defaults of the machine's context. */
export const C2S_DEFAULTS = { authRetries: 3, bindRetries: 5, stateTimeoutMs: 5000 } as const;

const c2sSetup = setup({
  types: {
    context: {} as C2sMachineContext,
    events: {} as C2sMachineEvent,
    input: {} as C2sMachineInput,
  },
  guards: {
    authRetriesLeft: ({ context }) => context.authRetries > 0,
    bindRetriesLeft: ({ context }) => context.bindRetries > 0,
    authenticatedPhase: ({ context }) => context.phase === 'authenticated',
    legacySession: ({ context }) => context.legacySession,
    open: ({ context }) => context.closeReason === undefined,
  },
  actions: {
    useAuthRetry: assign({ authRetries: ({ context }) => context.authRetries - 1 }),
    useBindRetry: assign({ bindRetries: ({ context }) => context.bindRetries - 1 }),
    phaseInitial: assign({ phase: 'initial' as const }),
    phaseAuthenticated: assign({ phase: 'authenticated' as const }),
    closeFromEvent: assign({ closeReason: ({ event }) => (event.type === 'CLOSE' ? event.reason : 'closed') }),
    closeRetries: assign({ closeReason: 'retries' }),
    closeSessionFailure: assign({ closeReason: 'session-failure' }),
    closeTimeout: assign({ closeReason: 'connection-timeout' }),
    notifyStateTimeout: ({ context }) => context.host?.stateTimeout(),
  },
  delays: {
    stateTimeout: ({ context }) => context.stateTimeoutMs,
  },
});

/**
 * Build the machine of one listener: the core states plus `external.<name>` for each
 * contribution (socketless ones beside `established`, `preSession` ones inside the
 * pre-session parent so the state timeout keeps running).
 */
export function buildC2sMachine(externalStates: readonly ExternalStateSpec[] = []) {
  const seen = new Set<string>();
  for (const s of externalStates) {
    if (!/^[A-Za-z][\w-]*$/.test(s.name)) throw new Error(`external state name "${s.name}" must be an identifier`);
    if (seen.has(s.name)) throw new Error(`external state "${s.name}" is contributed twice`);
    seen.add(s.name);
  }
  const pre = externalStates.filter((s) => s.preSession);
  const post = externalStates.filter((s) => !s.preSession);
  const gotos: Record<string, { guard: 'open'; target: string }> = {
    'goto.established': { guard: 'open', target: '#c2s.established' },
    'goto.postAuth': { guard: 'open', target: '#c2s.preSession.postAuth' },
  };
  // Declared on the pre-session parent, not the root: a root transition would exit and re-enter
  // `preSession`, re-arming its state timeout at every move into a negotiation state.
  // (`goto.postAuth` is also declared there: inside `preSession` the inner transition wins.)
  const preGotos: Record<string, { guard: 'open'; target: string }> = { 'goto.postAuth': { guard: 'open', target: '#c2s.preSession.postAuth' } };
  for (const s of pre) preGotos[`goto.external.${s.name}`] = { guard: 'open', target: `#c2s.preSession.external.${s.name}` };
  for (const s of post) gotos[`goto.external.${s.name}`] = { guard: 'open', target: `#c2s.external.${s.name}` };
  const leaves = (list: readonly ExternalStateSpec[]) => Object.fromEntries(list.map((s) => [s.name, {}]));

  const authFailure = (target: string | undefined) => [
    { guard: 'authRetriesLeft' as const, target, actions: 'useAuthRetry' as const },
    { target: '#c2s.closing', actions: 'closeRetries' as const },
  ];
  const authSuccess = { target: 'awaitingStream', actions: 'phaseAuthenticated' as const };

  return c2sSetup.createMachine({
    id: 'c2s',
    context: ({ input }) => ({
      authRetries: input.authRetries ?? C2S_DEFAULTS.authRetries,
      bindRetries: input.bindRetries ?? C2S_DEFAULTS.bindRetries,
      phase: 'initial',
      legacySession: input.legacySession ?? false,
      stateTimeoutMs: input.stateTimeoutMs ?? C2S_DEFAULTS.stateTimeoutMs,
      closeReason: undefined,
      host: input.host,
    }),
    initial: 'connecting',
    on: {
      ...gotos,
      CLOSE: { guard: 'open', target: '.closing', actions: 'closeFromEvent' },
    },
    states: {
      connecting: { on: { CONNECT: 'preSession' } },
      preSession: {
        initial: 'awaitingStream',
        after: { stateTimeout: { target: '#c2s.closing', actions: ['closeTimeout', 'notifyStateTimeout'] } },
        on: preGotos,
        states: {
          awaitingStream: {
            on: { STREAM_OK: [{ guard: 'authenticatedPhase', target: 'postAuth' }, { target: 'preAuth' }] },
          },
          preAuth: {
            on: {
              TLS_STARTED: { target: 'awaitingStream', actions: 'phaseInitial' },
              SASL_CHALLENGE: 'saslChallenge',
              SASL_FAILURE: authFailure(undefined),
              SASL_SUCCESS: authSuccess,
              // Module-run authentication (SASL2) shares the SASL retry budget.
              AUTH_FAILURE: authFailure(undefined),
            },
          },
          saslChallenge: {
            on: {
              SASL_CHALLENGE: {},
              SASL_FAILURE: authFailure('preAuth'),
              SASL_SUCCESS: authSuccess,
            },
          },
          postAuth: {
            on: {
              BIND_FAILURE: [
                { guard: 'bindRetriesLeft', actions: 'useBindRetry' },
                { target: '#c2s.closing', actions: 'closeRetries' },
              ],
              BOUND: { guard: 'legacySession', target: 'awaitingSession' },
              SESSION_OPENED: '#c2s.established',
            },
          },
          awaitingSession: {
            on: {
              SESSION_OPENED: '#c2s.established',
              SESSION_FAILURE: { target: '#c2s.closing', actions: 'closeSessionFailure' },
            },
          },
          ...(pre.length > 0 && {
            external: { initial: pre[0]!.name, states: leaves(pre), on: { AUTH_FAILURE: authFailure('#c2s.preSession.preAuth') } },
          }),
        },
      },
      established: {},
      ...(post.length > 0 && { external: { initial: post[0]!.name, states: leaves(post) } }),
      closing: { on: { CLOSED: 'closed' } },
      closed: { type: 'final' },
    },
  });
}

/** The machine type (same for every set of external states). */
export type C2sMachine = ReturnType<typeof buildC2sMachine>;
/** A running c2s actor. */
export type C2sActor = ActorRefFrom<C2sMachine>;
/** A snapshot of a c2s actor. */
export type C2sSnapshot = SnapshotFrom<C2sMachine>;

/** The flat state name of a snapshot value (`{ preSession: 'preAuth' }` → `preAuth`). */
export function stateNameOf(value: StateValue): C2sStateName {
  if (typeof value === 'string') return value as C2sStateName;
  const [key, inner] = Object.entries(value)[0]!;
  if (key === 'preSession') return stateNameOf(inner as StateValue);
  if (key === 'external') return `external.${stateNameOf(inner as StateValue)}`;
  return key as C2sStateName;
}
