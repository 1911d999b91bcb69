/**
 * Minimal structured logger port. The default writes JSON lines to stderr at `warn` and above;
 * applications inject their own (pino fits this shape).
 * @module
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** A logger writing JSON lines to stderr for messages at or above `level`. */
export function createLogger(level: LogLevel = (process.env.XMPP_BLOCKS_LOG as LogLevel) || 'warn', bindings: object = {}): Logger {
  const min = LEVELS[level] ?? LEVELS.warn;
  const write = (lvl: Exclude<LogLevel, 'silent'>) => (obj: object, msg?: string) => {
    if (LEVELS[lvl] < min) return;
    const o = obj instanceof Error ? { err: { message: obj.message, stack: obj.stack } } : obj;
    process.stderr.write(JSON.stringify({ level: lvl, time: Date.now(), ...bindings, ...o, msg }) + '\n');
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (b) => createLogger(level, { ...bindings, ...b }),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger('silent');
