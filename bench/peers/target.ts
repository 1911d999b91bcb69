/** What the orchestrator needs from each server under test. */
export interface StartedServer {
  /** The process whose RSS and CPU are measured. */
  pid: number;
  port: number;
}

export interface BenchTarget {
  name: string;
  /** Why this target cannot run here (missing CLI, package not installable), or null. */
  unavailable(): Promise<string | null>;
  /**
   * Creates `userN@localhost` with password `pw-N` for N in [0, count). `before-start` targets
   * write their user store before `start()`; the others register over XMPP once running.
   */
  readonly createUsersWhen: 'before-start' | 'after-start';
  createUsers(count: number): Promise<void>;
  start(): Promise<StartedServer>;
  stop(): Promise<void>;
  /** Where the server's own log is, for error reports. */
  logFile: string;
}

export const BENCH_DOMAIN = 'localhost';
