/**
 * Our own server, started through the project's CLI exactly as a user would:
 * `xmpp-blocks user import FILE` before start, then `xmpp-blocks serve` in the foreground.
 * Skipped with a clear reason while the CLI subcommands do not exist yet, or when
 * `BENCH_SKIP_OURS=1` is set.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { account } from '../load/scenarios.ts';
import { benchTempDir, removeBenchTempDir, isAlive, portInUse, runCommand, spawnTracked, stopPid, waitForPort } from './child-processes.ts';
import type { PeerOptions } from './prosody.ts';
import { BENCH_DOMAIN, type BenchTarget, type StartedServer } from './target.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'xmpp-blocks.js');

export function xmppBlocksTarget(opts: PeerOptions): BenchTarget {
  let dir = '';
  let pid = 0;
  const dataDir = (): string => {
    if (dir === '') {
      dir = benchTempDir('bench-xmpp-blocks-');
      mkdirSync(join(dir, 'data'));
    }
    return join(dir, 'data');
  };
  const target: BenchTarget = {
    name: 'xmpp-blocks',
    logFile: '',
    createUsersWhen: 'before-start',

    async unavailable() {
      if (process.env['BENCH_SKIP_OURS'] === '1') return 'skipped: BENCH_SKIP_OURS=1';
      const commands = ['serve', 'user'].filter(
        (name) => !existsSync(join(ROOT, 'src', 'cli', `${name}.ts`)) && !existsSync(join(ROOT, 'dist', 'cli', `${name}.js`)),
      );
      if (commands.length > 0) {
        return `the CLI has no ${commands.join('/')} command yet (src/cli/${commands[0]}.ts missing); set BENCH_SKIP_OURS=1 to silence`;
      }
      if (await portInUse(opts.port)) return `port ${opts.port} is already in use`;
      return null;
    },

    async createUsers(count) {
      const data = dataDir();
      const file = join(dir, 'users.txt');
      const lines: string[] = [];
      for (let i = 0; i < count; i++) {
        const { username, password } = account(i);
        lines.push(`${username}@${BENCH_DOMAIN} ${password}`);
      }
      writeFileSync(file, `${lines.join('\n')}\n`);
      const started = performance.now();
      const result = runCommand(process.execPath, [CLI, 'user', 'import', file, '--data', data]);
      if (result.status !== 0) throw new Error(`xmpp-blocks user import failed (${result.status}):\n${result.output.slice(-2000)}`);
      opts.log(`  xmpp-blocks: ${count} users imported in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },

    async start(): Promise<StartedServer> {
      const data = dataDir();
      target.logFile = join(dir, 'server.log');
      // Extra flags (e.g. a WebSocket port that does not clash) without editing this file.
      const extra = (process.env['BENCH_OURS_ARGS'] ?? '').split(' ').filter((a) => a !== '');
      // The same module set as the peers run (PeerOptions.modules): minimal = what a login and
      // a 1:1 message need, like prosody's roster/disco/ping set; parity = our default set.
      const modules = (opts.modules ?? 'minimal') === 'parity' ? 'default' : 'presence,roster,offline,disco,ping';
      const child = spawnTracked(
        process.execPath,
        // --ws-port 0: no WebSocket listener (the clients here are TCP only, and 5280 may be taken);
        // --no-demo: no extra account, the user set is identical on every server.
        [CLI, 'serve', '--host', '127.0.0.1', '--port', String(opts.port), '--ws-port', '0', '--no-demo', '--domain', BENCH_DOMAIN, '--data', data, '--modules', modules, ...extra],
        { logFile: target.logFile, cwd: dir, env: { ...process.env, NODE_ENV: 'production' } },
      );
      pid = child.pid!;
      await waitForPort(opts.port, pid, 60_000);
      return { pid, port: opts.port };
    },

    async stop() {
      if (pid !== 0 && isAlive(pid)) await stopPid(pid);
      pid = 0;
      if (dir !== '') removeBenchTempDir(dir);
      dir = '';
    },
  };
  return target;
}
