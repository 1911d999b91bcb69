/**
 * Child processes for interop tests (real clients in other runtimes): stdout read as lines,
 * a hard timeout that kills the child by PID, and a `stop()` for `finally` blocks.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { withTimeout, waitFor } from './wait.ts';

/** Options of {@link startProcess}. */
export interface StartProcessOptions {
  /** Extra environment (merged over `process.env`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** The child is killed (SIGKILL) after this many ms, whatever it is doing. Default 20000. */
  readonly timeoutMs?: number;
}

/** How a child ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** `true` when the hard timeout killed it. */
  readonly timedOut: boolean;
}

/** A running child with line-oriented stdout. */
export class ChildHandle {
  /** Every complete stdout line so far. */
  readonly lines: string[] = [];
  /** All of stderr so far (for failure messages). */
  stderr = '';
  /** Settles when the child has exited. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private partial = '';
  private exit: ProcessExit | undefined;
  private timedOut = false;

  constructor(child: ChildProcess, timeoutMs: number) {
    this.child = child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      // Bounded: a chatty child must not grow the test process without limit.
      if (this.stderr.length < 200_000) this.stderr += d;
    });
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.signal('SIGKILL');
    }, timeoutMs);
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (this.partial) this.lines.push(this.partial);
        this.partial = '';
        this.exit = { code, signal, timedOut: this.timedOut };
        resolve(this.exit);
      });
      child.on('error', (err) => {
        // Spawn failure: no 'close' may follow when the process never started.
        clearTimeout(timer);
        this.stderr += String(err);
        if (child.pid === undefined) {
          this.exit = { code: null, signal: null, timedOut: false };
          resolve(this.exit);
        }
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** stdout lines that are JSON objects, parsed (other lines are ignored). */
  jsonLines<T = Record<string, unknown>>(): T[] {
    const out: T[] = [];
    for (const l of this.lines) {
      const s = l.trim();
      if (!s.startsWith('{')) continue;
      try {
        out.push(JSON.parse(s) as T);
      } catch {
        // a partial or foreign line: not one of ours
      }
    }
    return out;
  }

  /** Wait until a JSON line satisfies `pred`; returns it. Rejects on timeout or exit. */
  async waitForJson<T = Record<string, unknown>>(pred: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    return waitFor(
      () => {
        const hit = this.jsonLines<T>().find(pred);
        if (hit) return hit;
        if (this.exit) throw new Error(`child exited (${JSON.stringify(this.exit)}) before ${what}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
        return undefined;
      },
      { timeoutMs, what: () => `${what}; stdout so far:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}` },
    );
  }

  /** Write one line to the child's stdin. */
  writeLine(line: string): void {
    if (!this.exit && this.child.stdin?.writable) this.child.stdin.write(line + '\n');
  }

  /** End the child's stdin (EOF). */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** Send a signal to this child's PID (never to a group or by name). */
  signal(sig: NodeJS.Signals): void {
    if (this.exit || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      // already gone
    }
  }

  /** For `finally`: end stdin, SIGTERM, then SIGKILL if it lingers; resolves once it exited. */
  async stop(graceMs = 2000): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.child.stdin?.end();
    this.signal('SIGTERM');
    try {
      return await withTimeout(this.exited, graceMs, 'child exit after SIGTERM');
    } catch {
      this.signal('SIGKILL');
      return this.exited;
    }
  }
}

/** Start `command` with piped stdio and a hard timeout. */
export function startProcess(command: string, args: readonly string[], opts: StartProcessOptions = {}): ChildHandle {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A child that exits before reading stdin must not crash the test process with EPIPE.
  child.stdin!.on('error', () => {});
  return new ChildHandle(child, opts.timeoutMs ?? 20_000);
}

/** Run to completion (bounded by `timeoutMs`); returns the handle after exit. */
export async function runProcess(command: string, args: readonly string[], opts: StartProcessOptions = {}): Promise<ChildHandle> {
  const h = startProcess(command, args, opts);
  h.endInput();
  await h.exited;
  return h;
}
