/**
 * Debian's prosody 0.12 on a private config and data directory, 127.0.0.1 only, foreground,
 * tracked by PID. Rate limits are off (mod_limits is not loaded) and PLAIN is allowed without
 * TLS; credentials are stored as on the other targets (see {@link PeerOptions.passwords}).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createHmac, pbkdf2, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { account } from '../load/scenarios.ts';
import { benchTempDir, removeBenchTempDir, ensureDebianPackages, isAlive, portInUse, runCommand, spawnTracked, stopPid, waitForPort } from './child-processes.ts';
import { BENCH_DOMAIN, type BenchTarget, type StartedServer } from './target.ts';

export interface PeerOptions {
  port: number;
  log: (line: string) => void;
  /**
   * `hashed` (default): SCRAM keys with 4096 PBKDF2 iterations, so a PLAIN login costs one
   * PBKDF2 on every server, as on ours, which can only store SCRAM keys. `plain`: passwords in
   * clear text on the peers (the cheapest PLAIN check they have), for comparison only.
   */
  passwords?: 'hashed' | 'plain';
  /**
   * `minimal` (default): only what a login and a 1:1 message need (roster, presence, offline,
   * disco, ping, register). `parity`: the nearest equivalents of the module set `xmpp-blocks
   * serve` loads (adds MAM archiving every chat message, carbons, stream management, blocking,
   * vCard, private storage, last activity, time, version, CSI).
   */
  modules?: 'parity' | 'minimal';
}

export function prosodyTarget(opts: PeerOptions): BenchTarget {
  let dir = '';
  let pid = 0;
  const dataDir = (): string => {
    if (dir === '') {
      dir = benchTempDir('bench-prosody-');
      mkdirSync(join(dir, 'data'));
    }
    return join(dir, 'data');
  };
  const target: BenchTarget = {
    name: 'prosody',
    logFile: '',
    createUsersWhen: 'before-start',

    async unavailable() {
      try {
        // lua-dbi-sqlite3: the MAM archive goes to SQLite, as on ours. With prosody's default
        // file store for archives, 26 of 20,000 messages arrived in a 4 s run: it measured the store.
        ensureDebianPackages(['prosody', ...((opts.modules ?? 'minimal') === 'parity' ? ['lua-dbi-sqlite3'] : [])], opts.log);
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
      stopSystemProsody();
      if (await portInUse(opts.port)) return `port ${opts.port} is already in use`;
      return null;
    },

    async start(): Promise<StartedServer> {
      dataDir();
      // An empty certificate directory: no TLS here, and without one prosody logs an error.
      mkdirSync(join(dir, 'certs'), { recursive: true });
      target.logFile = join(dir, 'prosody.log');
      const config = join(dir, 'prosody.cfg.lua');
      writeFileSync(config, prosodyConfig(dir, opts.port, opts.passwords ?? 'hashed', opts.modules ?? 'minimal'));
      const child = spawnTracked('/usr/bin/prosody', ['--config', config, '-F'], { logFile: target.logFile, cwd: dir });
      pid = child.pid!;
      await waitForPort(opts.port, pid, 20_000);
      return { pid, port: opts.port };
    },

    async createUsers(count) {
      // Written in prosody's own account files (exactly what its registration writes) before
      // start: registering 5,000 users over XMPP costs prosody about a minute of PBKDF2 on a
      // loaded machine, time the benchmark would spend measuring nothing.
      const started = performance.now();
      const accounts = join(dataDir(), 'localhost', 'accounts');
      mkdirSync(accounts, { recursive: true });
      const passwords = opts.passwords ?? 'hashed';
      const batch = 64;
      for (let from = 0; from < count; from += batch) {
        await Promise.all(
          Array.from({ length: Math.min(batch, count - from) }, async (_, k) => {
            const { username, password } = account(from + k);
            const body = passwords === 'plain' ? `\t["password"] = ${luaString(password)};\n` : await hashedAccount(password);
            writeFileSync(join(accounts, `${username}.dat`), `return {\n${body}};\n`);
          }),
        );
      }
      opts.log(`  prosody: ${count} account files written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
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

/**
 * The package's postinst may have started the system instance (not under policy-rc.d); it
 * listens on 5222, not our port, but it would compete for the same two cores.
 */
function stopSystemProsody(): void {
  if (runCommand('pgrep', ['-f', '/usr/bin/prosody']).status === 0) runCommand('service', ['prosody', 'stop']);
}

function prosodyConfig(dir: string, port: number, passwords: 'hashed' | 'plain', modules: 'parity' | 'minimal'): string {
  const parity = ['mam', 'carbons', 'smacks', 'blocklist', 'vcard_legacy', 'private', 'lastactivity', 'time', 'version', 'csi_simple'];
  const enabled = ['roster', 'saslauth', 'disco', 'register', 'ping', ...(modules === 'parity' ? parity : [])];
  const q = (s: string): string => JSON.stringify(s);
  return `-- Generated by bench/peers/prosody.ts for the comparative benchmark; loopback only.
run_as_root = true
daemonize = false
pidfile = ${q(join(dir, 'prosody.pid'))}
data_path = ${q(join(dir, 'data'))}
log = { warn = ${q(join(dir, 'prosody.log'))} }
certificates = ${q(join(dir, 'certs'))}
network_backend = "epoll"
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_interfaces = { "127.0.0.1" }
-- No s2s, no HTTP, no components: only what a c2s benchmark exercises.
modules_disabled = { "s2s" }
modules_enabled = { ${enabled.map((m) => JSON.stringify(m)).join(', ')} }
-- MAM (parity set): archive every chat message, like ours, in SQLite like ours.
default_archive_policy = true
archive_expires_after = "never"
storage = { archive = "sql" }
sql = { driver = "SQLite3", database = ${q(join(dir, 'data', 'prosody.sqlite'))} }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = ${passwords === 'plain' ? '"internal_plain"' : '"internal_hashed"'}
-- 0.12 defaults to 10000 iterations; 4096 is what ejabberd and ours use (RFC 7677's minimum).
default_iteration_count = 4096
allow_registration = true
-- mod_limits is deliberately not loaded: no c2s rate limit at all.
c2s_stanza_size_limit = 262144
-- Same accept backlog on every target (ejabberd's default is 5, prosody's 128, Node's 511).
network_settings = { tcp_backlog = 1024 }
max_fds = 65536

VirtualHost "${BENCH_DOMAIN}"
`;
}

const pbkdf2Async = promisify(pbkdf2);

/** The fields mod_auth_internal_hashed stores: SCRAM-SHA-1 keys in hex, a UUID salt. */
async function hashedAccount(password: string): Promise<string> {
  const salt = randomUUID();
  const salted = await pbkdf2Async(password, salt, 4096, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  const storedKey = createHash('sha1').update(clientKey).digest('hex');
  const serverKey = createHmac('sha1', salted).update('Server Key').digest('hex');
  return `\t["server_key"] = "${serverKey}";\n\t["stored_key"] = "${storedKey}";\n\t["salt"] = "${salt}";\n\t["iteration_count"] = 4096;\n`;
}

function luaString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
