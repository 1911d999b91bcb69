/**
 * `xmpp-blocks domain …`: dynamic domains in the SQLite file of a data directory. A server
 * running on the same directory with `dynamicDomains` picks the change up at its next poll of
 * the change feed (≤ 1 s by default) — it closes the sessions of a disabled or removed domain.
 *
 * - `add DOMAIN --host-type HT`, `remove DOMAIN`, `enable DOMAIN`, `disable DOMAIN`,
 *   `list [--host-type HT]`.
 * - The CLI does not run inside the server, so it learns the configuration from
 *   `--host-types a,b` (the host types allowed for dynamic domains) and/or `--config FILE`, a
 *   JSON file with `dynamicDomains.hostTypes` (or `hostTypes`, an array or an object keyed by
 *   host type) and `domains` (the static domains, refused here like the server refuses them).
 *   `add` without any allowed host type is refused: a domain of a host type no server serves
 *   would be useless.
 * - Bad input (malformed domain, unknown host type, static domain, duplicate) is reported on
 *   stderr with exit code 1 and changes nothing; usage errors exit with 2.
 * - `remove` deletes the domain's data from every storage port, then its row. Module-level
 *   cleanup (`removeDomain` hook handlers) only runs when the removal is done by a server
 *   (admin API); the storage ports hold everything the bundled modules keep.
 * @module
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { HookRegistry } from '../hooks/index.ts';
import { systemClock } from '../core/clock.ts';
import { DomainRegistry } from '../core/domains.ts';
import { DynamicDomains, type DomainDetails } from '../core/dynamic-domains.ts';
import type { Storage } from '../core/storage/storage.ts';
import { sqliteStorage } from '../storage/sqlite/index.ts';
import { databasePath } from './user.ts';

/** Where the command reads and writes; tests inject their own streams. */
export interface DomainCommandOptions {
  /** Data directory; the database is `DIR/xmpp-blocks.sqlite`. */
  readonly dataDir: string;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
}

const USAGE = `Usage:
  xmpp-blocks domain add DOMAIN --host-type HT [--host-types A,B | --config FILE] [--data DIR]
  xmpp-blocks domain remove DOMAIN [--config FILE] [--data DIR]
  xmpp-blocks domain enable DOMAIN [--config FILE] [--data DIR]
  xmpp-blocks domain disable DOMAIN [--config FILE] [--data DIR]
  xmpp-blocks domain list [--host-type HT] [--config FILE] [--data DIR]

  --host-types A,B  host types the server allows for dynamic domains
  --config FILE     JSON with dynamicDomains.hostTypes and domains (static, refused here)
`;

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string>;
}

function parseArgs(args: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: new Map() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      out.flags.set(name, value);
    } else out.positional.push(a);
  }
  return out;
}

interface CliConfig {
  hostTypes: string[];
  staticDomains: { domain: string; hostType: string }[];
}

function loadConfig(file: string | undefined, hostTypesFlag: string | undefined): CliConfig {
  const cfg: CliConfig = { hostTypes: [], staticDomains: [] };
  if (file !== undefined) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`cannot read config ${file}: ${(e as Error).message}`);
    }
    const dyn = json.dynamicDomains as { hostTypes?: unknown } | undefined;
    const hts = dyn?.hostTypes ?? json.hostTypes;
    if (Array.isArray(hts)) cfg.hostTypes.push(...hts.filter((h): h is string => typeof h === 'string'));
    else if (hts && typeof hts === 'object') cfg.hostTypes.push(...Object.keys(hts));
    const domains = json.domains ?? (typeof json.domain === 'string' ? [json.domain] : []);
    if (Array.isArray(domains)) {
      for (const d of domains) {
        if (typeof d === 'string') cfg.staticDomains.push({ domain: d, hostType: d });
        else if (d && typeof d === 'object' && typeof d.domain === 'string') cfg.staticDomains.push({ domain: d.domain, hostType: String(d.hostType ?? d.domain) });
      }
    }
  }
  if (hostTypesFlag !== undefined) cfg.hostTypes.push(...hostTypesFlag.split(',').map((h) => h.trim()).filter((h) => h !== ''));
  return cfg;
}

function describe(d: DomainDetails): string {
  return `${d.domain}\t${d.hostType}\t${d.status}${d.static ? '\tstatic' : ''}`;
}

/**
 * Run `xmpp-blocks domain <args>`; resolves the exit code (0 ok, 1 refused/failed, 2 usage).
 * `args` starts after `domain` (e.g. `['add', 'a.example', '--host-type', 'tenants', '--host-types', 'tenants']`).
 */
export async function domainCommand(args: string[], opts: DomainCommandOptions): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const usage = (msg: string): number => {
    err.write(`${msg}\n${USAGE}`);
    return 2;
  };
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    return usage((e as Error).message);
  }
  const [sub, target, ...extra] = parsed.positional;
  if (sub === undefined) return usage('missing subcommand');
  if (!['add', 'remove', 'enable', 'disable', 'list'].includes(sub)) return usage(`unknown subcommand: ${sub}`);
  if (extra.length > 0 || (sub === 'list' ? target !== undefined : target === undefined)) return usage('wrong arguments');
  for (const f of parsed.flags.keys()) if (!['host-type', 'host-types', 'config'].includes(f)) return usage(`unknown option --${f}`);
  const hostType = parsed.flags.get('host-type');
  if (sub === 'add' && hostType === undefined) return usage('add needs --host-type HT');

  let cfg: CliConfig;
  try {
    cfg = loadConfig(parsed.flags.get('config'), parsed.flags.get('host-types'));
  } catch (e) {
    err.write(`${(e as Error).message}\n`);
    return 1;
  }
  let st: Storage;
  try {
    mkdirSync(opts.dataDir, { recursive: true });
    st = sqliteStorage({ path: databasePath(opts.dataDir) });
  } catch (e) {
    err.write(`cannot open ${databasePath(opts.dataDir)}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const registry = new DomainRegistry();
    for (const d of cfg.staticDomains) registry.addStatic(d.domain, d.hostType);
    const domains = new DynamicDomains({ registry, store: st.domains, storage: st, hooks: new HookRegistry(), hostTypes: cfg.hostTypes, clock: systemClock });
    const report = (r: { ok: true } | { ok: false; error: string; message: string }, done: string): number => {
      if (r.ok) {
        out.write(`${done}\n`);
        return 0;
      }
      err.write(`${r.error}: ${r.message}${r.error === 'unknown-host-type' && cfg.hostTypes.length === 0 ? ' — pass --host-types or --config' : ''}\n`);
      return 1;
    };
    switch (sub) {
      case 'add': {
        const r = await domains.insert(target!, hostType!);
        return report(r, r.ok ? (r.value.created ? `added ${r.value.domain} (host type ${r.value.hostType})` : `${r.value.domain} already exists (host type ${r.value.hostType}, ${r.value.status})`) : '');
      }
      case 'remove': {
        const r = await domains.delete(target!, hostType);
        return report(r, r.ok ? `removed ${r.value.domain} and all its data` : '');
      }
      case 'enable':
      case 'disable': {
        const r = sub === 'enable' ? await domains.enable(target!) : await domains.disable(target!);
        return report(r, r.ok ? `${sub}d ${r.value.domain}` : '');
      }
      case 'list': {
        for (const d of await domains.list({ hostType })) out.write(`${describe(d)}\n`);
        return 0;
      }
    }
    return 2;
  } catch (e) {
    err.write(`${(e as Error).message}\n`);
    return 1;
  } finally {
    await st.close();
  }
}
