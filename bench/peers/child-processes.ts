/**
 * Every server the benchmark starts is tracked here by PID and stopped by PID: on normal
 * completion, on error, and on SIGINT/SIGTERM, so nothing lingers on the loopback ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../load/stats.ts';

const tracked = new Set<number>();
/** Directories to delete if we exit before their target's stop() ran (they live in RAM on tmpfs). */
const tempDirs = new Set<string>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const pid of tracked) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  tracked.clear();
  if (process.env['BENCH_KEEP_TMP'] === undefined) {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  }
  tempDirs.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAllNow();
      process.exit(130);
    });
  }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here (servers are chatty; the terminal is the report's). */
  logFile: string;
  /** Open-file soft/hard limit for the child: 5k connections need more than many defaults. */
  noFile?: number;
}

/**
 * Starts `command` through `sh -c 'ulimit -n N; exec …'`: the exec keeps the PID, so the PID
 * we track is the server itself (lua for prosody, beam.smp for ejabberd, node for ours).
 */
export function spawnTracked(command: string, args: string[], opts: SpawnOptions): ChildProcess {
  installHandlers();
  const out = openSync(opts.logFile, 'a');
  const noFile = opts.noFile ?? 65_536;
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${noFile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$0" "$@"`, command, ...args], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', out, out],
    // A session of its own puts the server in its own scheduler autogroup (Linux
    // sched_autogroup): the kernel shares CPU between groups, then between a group's threads.
    // In our group, the 2-scheduler ejabberd VM out-competed the single-threaded load generator
    // and the one-thread servers were split with it; alone, every server gets the same share.
    detached: true,
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  tracked.add(child.pid);
  setAutogroupNice(child.pid, benchNice());
  child.once('exit', () => tracked.delete(child.pid!));
  return child;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    tracked.delete(pid);
    return;
  }
  const deadline = performance.now() + graceMs;
  while (isAlive(pid) && performance.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited between the check and the kill
    }
    while (isAlive(pid) && performance.now() < deadline + 5_000) await sleep(50);
  }
  tracked.delete(pid);
}

/** Runs a short command to completion; returns its exit status and output. */
export function runCommand(command: string, args: string[], env?: NodeJS.ProcessEnv): { status: number; output: string } {
  const result = spawnSync(command, args, { env: env ?? process.env, encoding: 'utf8', timeout: 600_000 });
  return { status: result.status ?? -1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Installs Debian packages only when missing, so repeated runs need no network. */
export function ensureDebianPackages(packages: string[], log: (line: string) => void): void {
  const missing = packages.filter((name) => {
    const status = runCommand('dpkg-query', ['-W', '-f=${Status}', name]);
    return !(status.status === 0 && status.output.includes('install ok installed'));
  });
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} with apt-get`);
  const install = runCommand('apt-get', ['install', '-y', ...missing], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
  if (install.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed:\n${install.output.slice(-2000)}`);
}

/** Waits until something accepts TCP connections on 127.0.0.1:`port`, or the process dies. */
export async function waitForPort(port: number, pid: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`process ${pid} exited before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** True if some process already listens on the port (a leftover from an earlier run). */
export async function portInUse(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A private directory for one server's config and data. On tmpfs (/dev/shm) when available:
 * prosody fsyncs every account/roster write and the disk here makes that cost milliseconds,
 * which would benchmark the disk instead of the servers. `BENCH_TMPDIR` overrides the base.
 */
export function benchTempDir(prefix: string): string {
  installHandlers();
  const base = process.env['BENCH_TMPDIR'] ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const dir = mkdtempSync(join(base, prefix));
  tempDirs.add(dir);
  return dir;
}

/** Deletes a directory from {@link benchTempDir} (kept when `BENCH_KEEP_TMP` is set). */
export function removeBenchTempDir(dir: string): void {
  tempDirs.delete(dir);
  if (process.env['BENCH_KEEP_TMP'] === undefined) rmSync(dir, { recursive: true, force: true });
}

/**
 * The nice value from `BENCH_NICE` (0 when unset or invalid), applied to the autogroup of each
 * server and of the load generator (a plain nice value has no effect across autogroups), so
 * that on a shared machine the measured processes compete less with unrelated work.
 */
export function benchNice(): number {
  const value = Number(process.env['BENCH_NICE'] ?? '0');
  return Number.isInteger(value) && value >= -20 && value <= 19 ? value : 0;
}

/** Sets the nice value of `pid`'s scheduler autogroup; a no-op where autogroups do not exist. */
export function setAutogroupNice(pid: number | 'self', nice: number): void {
  if (nice === 0) return;
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // no autogroup support, or not permitted: the run goes on at normal priority
  }
}
