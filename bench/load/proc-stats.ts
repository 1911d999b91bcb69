/** Reads a server's resident memory and CPU time from /proc (Linux only, like the whole bench). */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in KiB. */
export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ is 100 on every Linux ABI Node supports

/** User + system CPU seconds consumed so far by `pid` (all its threads). */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces or parentheses; fields restart after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** The process's soft and hard open-file limits. */
export function readNoFileLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  const parse = (v: string | undefined): number => (v === undefined || v === 'unlimited' ? Infinity : Number(v));
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

/** Measures CPU seconds a process and this client spent between `start()` and `stop()`. */
export class CpuMeter {
  #serverStart = 0;
  #clientStart = process.cpuUsage();
  #wallStart = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.#serverStart = readCpuSeconds(this.pid);
    this.#clientStart = process.cpuUsage();
    this.#wallStart = performance.now();
  }

  /** CPU use as a fraction of one core, for the server and for this load generator. */
  stop(): { serverCores: number; clientCores: number; serverCpuSeconds: number } {
    const wall = (performance.now() - this.#wallStart) / 1000;
    const serverCpuSeconds = readCpuSeconds(this.pid) - this.#serverStart;
    const client = process.cpuUsage(this.#clientStart);
    return {
      serverCores: serverCpuSeconds / wall,
      clientCores: (client.user + client.system) / 1e6 / wall,
      serverCpuSeconds,
    };
  }
}

/**
 * Share of the last 10 s in which runnable tasks waited for a CPU (Linux PSI "some avg10"), in
 * percent, or NaN without PSI. High values mean the figures measured the machine's other load.
 */
export function readCpuPressure(): number {
  try {
    const match = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match === null ? Number.NaN : Number(match[1]);
  } catch {
    return Number.NaN;
  }
}
