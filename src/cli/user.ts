/**
 * `xmpp-blocks user …`: account administration against the SQLite file while the server is
 * stopped (better-sqlite3 with WAL tolerates a running server too, but the server would not
 * see removed accounts' live sessions end).
 *
 * - `add JID --password PW`, `passwd JID --password PW`, `remove JID`, `list DOMAIN`,
 *   `import FILE` (`-` = stdin).
 * - Passwords become SCRAM-SHA-1/256/512 keys (4096 iterations) before they reach storage.
 * - Host type: the domain itself, unless the DomainStore maps the domain to a host type.
 *   (Static configuration of host types is not read here yet: with a config that maps a static
 *   domain to another host type, accounts would be filed under the wrong one. The SQLite tables
 *   are keyed by domain, so today this only matters to adapters that partition by host type.)
 * - `remove` deletes the account's data from every store (roster, archive, …), not just the login.
 *
 * Import format: one `jid password` per line; the password is the rest of the line after the
 * first run of whitespace (so it may contain spaces), trailing whitespace and CR stripped.
 * Blank lines and lines starting with `#` are skipped. **A bad line (invalid JID, missing or
 * unusable password, existing account) is reported on stderr with its line number and the
 * rest is still imported**; the exit code is then 1 so scripts notice. We chose this over
 * refusing the whole file because re-running the fixed file is safe (existing accounts are
 * reported, not overwritten) and a 10,000-line provisioning run should not be lost to one typo.
 *
 * Bulk speed: PBKDF2 dominates (~4.7 ms of CPU per account for the three hashes on an idle
 * core, SHA-512 about 45% of it), so keys are derived with the asynchronous `crypto.pbkdf2` on
 * libuv's thread pool, several accounts at a time, and the account rows are group-committed
 * (hundreds per transaction; the database part of 10,000 accounts is well under a second).
 * Iterations stay at 4096 (RFC 7677's floor); `--hashes sha1,sha256` skips the costliest hash
 * for operators whose clients never use SCRAM-SHA-512.
 * @module
 */
import { createReadStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { SCRAM_HASHES, deriveCredentialsAsync, preparePassword, type ScramHash } from '../core/auth/scram.ts';
import { Jid } from '../core/jid.ts';
import { removeUserEverywhere, type Storage } from '../core/storage/storage.ts';
import { sqliteStorage } from '../storage/sqlite/index.ts';


/** Where the CLI reads and writes; tests inject their own streams. */
export interface UserCommandOptions {
  /** Data directory; the database is `DIR/xmpp-blocks.sqlite`. */
  readonly dataDir: string;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  /** PBKDF2 iterations (default 4096; tests may lower it). */
  readonly iterations?: number;
}

const USAGE = `Usage:
  xmpp-blocks user add JID --password PW [--hashes LIST] [--data DIR]
  xmpp-blocks user passwd JID --password PW [--hashes LIST] [--data DIR]
  xmpp-blocks user remove JID [--data DIR]
  xmpp-blocks user list DOMAIN [--data DIR]
  xmpp-blocks user import FILE|- [--hashes LIST] [--data DIR]   lines "jid password"; # comments

  --hashes LIST   SCRAM hashes to store, default sha1,sha256,sha512 (each costs 4096 PBKDF2
                  iterations per account; clients can only use SCRAM mechanisms stored here)
`;

/** The database file the server and the CLI share under a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, 'xmpp-blocks.sqlite');
}

/** An account JID: a localpart and a domain, no resource. Throws a message for the operator. */
function parseAccountJid(s: string): Jid {
  let jid: Jid;
  try {
    jid = Jid.parse(s);
  } catch (e) {
    throw new Error(`invalid JID "${s}": ${(e as Error).message}`);
  }
  if (jid.local === '') throw new Error(`"${s}" has no localpart (expected user@domain)`);
  if (jid.resource !== '') throw new Error(`"${s}" has a resource (expected user@domain)`);
  return jid;
}

function checkPassword(pw: string | undefined): string {
  if (pw === undefined || pw === '') throw new Error('a non-empty password is required');
  try {
    preparePassword(pw);
  } catch (e) {
    throw new Error(`unusable password: ${(e as Error).message}`);
  }
  return pw;
}

async function hostTypeOf(st: Storage, domain: string): Promise<string> {
  return (await st.domains.get(domain))?.hostType ?? domain;
}

interface ParsedArgs {
  positional: string[];
  password?: string;
  hashes?: string;
}

/** `--password PW` / `--password=PW`, `--hashes LIST` / `--hashes=LIST`; the rest is positional. */
function parseArgs(args: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (flag === '--password' || flag === '--hashes') parsed[flag === '--password' ? 'password' : 'hashes'] = inline ?? args[++i];
    else parsed.positional.push(a);
  }
  return parsed;
}

/** `sha1,sha256` → hashes; default every supported one. */
function parseHashes(list: string | undefined): readonly ScramHash[] {
  if (list === undefined) return SCRAM_HASHES;
  const hashes = list.split(',').map((h) => h.trim().toLowerCase().replace('-', ''));
  for (const h of hashes) if (!(SCRAM_HASHES as readonly string[]).includes(h)) throw new Error(`unknown hash "${h}" (expected ${SCRAM_HASHES.join(', ')})`);
  if (hashes.length === 0) throw new Error('--hashes needs at least one hash');
  return hashes as ScramHash[];
}

/**
 * Run `xmpp-blocks user <args>`; resolves the exit code (0 ok, 1 failed, 2 usage).
 * `args` starts after `user` (e.g. `['add', 'alice@example.com', '--password', 'pw']`).
 */
export async function userCommand(args: string[], opts: UserCommandOptions): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const { positional, password, hashes: hashList } = parseArgs(args);
  const [sub, target, ...extra] = positional;
  const usage = (msg: string): number => {
    err.write(`${msg}\n${USAGE}`);
    return 2;
  };
  if (sub === undefined || target === undefined || extra.length > 0) return usage(sub === undefined ? 'missing subcommand' : 'wrong arguments');
  if (!['add', 'passwd', 'remove', 'list', 'import'].includes(sub)) return usage(`unknown subcommand: ${sub}`);

  let hashes: readonly ScramHash[];
  try {
    hashes = parseHashes(hashList);
  } catch (e) {
    return usage((e as Error).message);
  }
  let st: Storage;
  try {
    mkdirSync(opts.dataDir, { recursive: true });
    st = sqliteStorage({ path: databasePath(opts.dataDir) });
  } catch (e) {
    // e.g. SchemaTooNewError: the file belongs to a newer xmpp-blocks.
    err.write(`cannot open ${databasePath(opts.dataDir)}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    switch (sub) {
      case 'add':
      case 'passwd': {
        const jid = parseAccountJid(target);
        const creds = await deriveCredentialsAsync(checkPassword(password), { iterations: opts.iterations, hashes });
        const ht = await hostTypeOf(st, jid.domain);
        const ok = sub === 'add' ? await st.auth.register(ht, jid.domain, jid.local, creds) : await st.auth.setCredentials(ht, jid.domain, jid.local, creds);
        if (!ok) {
          err.write(sub === 'add' ? `${jid} already exists\n` : `${jid} does not exist\n`);
          return 1;
        }
        out.write(sub === 'add' ? `created ${jid}\n` : `password changed for ${jid}\n`);
        return 0;
      }
      case 'remove': {
        const jid = parseAccountJid(target);
        const ht = await hostTypeOf(st, jid.domain);
        if (!(await st.auth.exists(ht, jid.domain, jid.local))) {
          err.write(`${jid} does not exist\n`);
          return 1;
        }
        await removeUserEverywhere(st, ht, jid.domain, jid.local);
        out.write(`removed ${jid}\n`);
        return 0;
      }
      case 'list': {
        const domain = Jid.parse(target).domain;
        for (const u of await st.auth.listUsers(await hostTypeOf(st, domain), domain)) out.write(`${u}@${domain}\n`);
        return 0;
      }
      case 'import':
        return await importAccounts(st, target === '-' ? (opts.stdin ?? process.stdin) : createReadStream(target), { ...opts, hashes }, out, err);
    }
    return 2;
  } catch (e) {
    err.write(`${(e as Error).message}\n`);
    return 1;
  } finally {
    await st.close();
  }
}

/** How many accounts derive keys at once: enough to keep the thread pool busy, bounded memory. */
const IMPORT_CONCURRENCY = 16;

async function importAccounts(
  st: Storage, input: Readable, opts: UserCommandOptions & { hashes: readonly ScramHash[] }, out: Writable, err: Writable,
): Promise<number> {
  const started = Date.now();
  let created = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const hostTypes = new Map<string, Promise<string>>();
  const fail = (lineNo: number, msg: string) => {
    failed++;
    err.write(`line ${lineNo}: ${msg}\n`);
  };

  const one = async (lineNo: number, jidText: string, pw: string | undefined): Promise<void> => {
    try {
      const jid = parseAccountJid(jidText);
      const creds = await deriveCredentialsAsync(checkPassword(pw), { iterations: opts.iterations, hashes: opts.hashes });
      let ht = hostTypes.get(jid.domain);
      if (!ht) hostTypes.set(jid.domain, (ht = hostTypeOf(st, jid.domain)));
      if (await st.auth.register(await ht, jid.domain, jid.local, creds)) created++;
      else fail(lineNo, `${jid} already exists (not changed)`);
    } catch (e) {
      fail(lineNo, (e as Error).message);
    }
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
    const p = one(lineNo, m[1], m[2]);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IMPORT_CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  out.write(`imported ${created} account(s), ${failed} line(s) failed, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return failed === 0 ? 0 : 1;
}
