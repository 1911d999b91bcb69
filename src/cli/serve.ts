/**
 * `xmpp-blocks serve`: the example server. SQLite under `--data`, STARTTLS (and WebSocket)
 * with a self-signed certificate kept in the data directory, and a demo account created on the
 * first run. `--config FILE` takes a JSON file with the same keys as the flags plus `domains`
 * and `listeners` (see docs/configuration.md).
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createServer, type ListenerConfig, type ModuleUse, type ServerOptions } from '../server.ts';
import { sqliteStorage } from '../storage/sqlite/index.ts';
import { selfSignedCertificate, type PemCertificate } from '../c2s/certificate.ts';
import { createLogger } from '../core/logger.ts';
import * as ext from '../ext/index.ts';
import type { XmppModule } from '../c2s/module.ts';
import type { TokenizerKind } from '../core/xml/tokenizer.ts';

interface ServeConfig {
  port?: number;
  wsPort?: number;
  host?: string;
  domain?: string;
  domains?: ServerOptions['domains'];
  listeners?: ListenerConfig[];
  demoAccount?: boolean;
  /** Host types for dynamic domains (see `xmpp-blocks domain`), polled every `pollIntervalMs`. */
  dynamicDomains?: ServerOptions['dynamicDomains'];
  /** The HTTP admin API (`{ "port": 5281, "token": "…" }`). */
  admin?: ServerOptions['admin'];
  /** Module names (`["presence", "roster"]`), or `"default"` / `"none"`. */
  modules?: string[] | 'default' | 'none';
  /** Who finds start tags in the XML parser of the default listeners (see `TokenizerKind`). */
  tokenizer?: TokenizerKind;
  /** HTTP port of the `http-upload` module when it is enabled (`0`: the module is left out). */
  uploadPort?: number;
  /** Base of the upload URLs as clients reach them (default `http://<host>:<uploadPort>`). */
  uploadUrl?: string;
}

/** `default`, `none`, or a comma-separated list of module names (see `src/ext/*`). */
function selectModules(spec: string | readonly string[]): XmppModule<any>[] {
  if (spec === 'default') return ext.defaultModules();
  if (spec === 'none') return [];
  const byName = new Map<string, XmppModule<any>>();
  for (const v of Object.values(ext)) if (typeof v === 'object' && v !== null && (v as XmppModule).kind === 'xmpp-module') byName.set((v as XmppModule).name, v as XmppModule<any>);
  const names = typeof spec === 'string' ? spec.split(',').map((n) => n.trim()).filter(Boolean) : spec;
  return names.map((n) => {
    const m = byName.get(n);
    if (!m) throw new Error(`unknown module "${n}"; known: ${[...byName.keys()].sort().join(', ')}`);
    return m;
  });
}

/**
 * The selected modules with the options `serve` gives them: `http-upload` keeps its files in
 * `<data>/uploads` and listens on `--upload-port` (matched by name: modules never import each
 * other, and the CLI takes whatever `src/ext` exports). Port `0` leaves the module out.
 */
function withServeOptions(modules: readonly XmppModule<any>[], o: { dataDir: string; host: string; uploadPort: number; uploadUrl: string | undefined }): ModuleUse[] {
  return modules.flatMap((m): ModuleUse[] => {
    if (m.name !== 'http-upload') return [m];
    if (o.uploadPort === 0) return [];
    return [{ module: m, options: { storageDir: join(o.dataDir, 'uploads'), port: o.uploadPort, bindAddress: o.host, publicUrl: o.uploadUrl } }];
  });
}

async function loadCertificate(dataDir: string, domains: readonly string[]): Promise<PemCertificate> {
  const keyFile = join(dataDir, 'tls-key.pem');
  const certFile = join(dataDir, 'tls-cert.pem');
  if (existsSync(keyFile) && existsSync(certFile)) return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  const c = await selfSignedCertificate(domains);
  writeFileSync(keyFile, c.key, { mode: 0o600 });
  writeFileSync(certFile, c.cert);
  return c;
}

/** Run the server until SIGINT/SIGTERM; returns the exit code. */
export async function serveCommand(args: string[], opts: { dataDir: string }): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'ws-port': { type: 'string' },
      host: { type: 'string' },
      domain: { type: 'string' },
      config: { type: 'string' },
      'no-demo': { type: 'boolean' },
      modules: { type: 'string' },
      tokenizer: { type: 'string' },
      'upload-port': { type: 'string' },
    },
    strict: true,
  });
  const file: ServeConfig = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as ServeConfig) : {};
  const domain = values.domain ?? file.domain ?? 'localhost';
  const domains = file.domains ?? [domain];
  const host = values.host ?? file.host ?? '127.0.0.1';
  const port = Number(values.port ?? file.port ?? 5222);
  const wsPort = Number(values['ws-port'] ?? file.wsPort ?? 5280);
  const uploadPort = Number(values['upload-port'] ?? file.uploadPort ?? 5290);
  if (!Number.isInteger(uploadPort) || uploadPort < 0 || uploadPort > 65535) throw new Error(`--upload-port must be 0..65535`);
  const tokenizer = (values.tokenizer ?? file.tokenizer ?? 'sax-wasm') as TokenizerKind;
  if (tokenizer !== 'sax-wasm' && tokenizer !== 'builtin') throw new Error(`--tokenizer must be sax-wasm or builtin, not "${tokenizer}"`);
  mkdirSync(opts.dataDir, { recursive: true });

  const domainNames = domains.map((d) => (typeof d === 'string' ? d : d.domain));
  const certificate = await loadCertificate(opts.dataDir, domainNames);
  const listeners: ListenerConfig[] = file.listeners ?? [
    { kind: 'tcp', host, port, tls: 'optional', certificate, tokenizer },
    ...(wsPort > 0 ? [{ kind: 'websocket' as const, host, port: wsPort, tokenizer }] : []),
  ];
  const logger = createLogger((process.env.XMPP_BLOCKS_LOG as 'info') || 'info');
  const storage = sqliteStorage({ path: join(opts.dataDir, 'xmpp-blocks.sqlite') });
  // Dynamic domains are on by default for the static domains' host types, so
  // `xmpp-blocks domain add … --data DIR` reaches a running server within a second.
  const staticHostTypes = [...new Set(domains.map((d) => (typeof d === 'string' ? d : d.hostType)))];
  const dynamicDomains = file.dynamicDomains ?? { hostTypes: staticHostTypes };
  const selected = selectModules(values.modules ?? file.modules ?? 'default');
  const modules = withServeOptions(selected, { dataDir: opts.dataDir, host, uploadPort, uploadUrl: file.uploadUrl });
  const server = createServer({ domains, listeners, storage, logger, dynamicDomains, admin: file.admin, modules });

  const demoFile = join(opts.dataDir, 'demo-account.txt');
  const wantDemo = !values['no-demo'] && file.demoAccount !== false;
  let demoNote = '';
  if (wantDemo && !existsSync(demoFile)) {
    const jid = `demo@${domainNames[0]}`;
    const password = randomBytes(6).toString('base64url');
    if (!(await server.users.exists(jid))) await server.users.add(jid, password);
    writeFileSync(demoFile, `${jid} ${password}\n`, { mode: 0o600 });
    demoNote = `created demo account ${jid} with password ${password} (saved in ${demoFile})`;
  } else if (wantDemo) {
    const [jid, password] = readFileSync(demoFile, 'utf8').trim().split(/\s+/);
    demoNote = `demo account: ${jid} password ${password} (from ${demoFile})`;
  }

  await server.start();
  const lines = server.addresses().map((a) => `  ${a.kind}${a.tls !== 'none' ? ` (${a.tls} TLS)` : ''} on ${a.host}:${a.port}${a.path ?? ''}`);
  process.stdout.write(
    [
      `xmpp-blocks serving ${domainNames.join(', ')} — data in ${opts.dataDir}`,
      ...lines,
      ...(selected.some((m) => m.name === 'http-upload') && uploadPort > 0 ? [`  http-upload (XEP-0363) on ${file.uploadUrl ?? `http://${host}:${uploadPort}`}, files in ${join(opts.dataDir, 'uploads')}`] : []),
      demoNote,
      `Log in with any XMPP client (accept the self-signed certificate), e.g.:`,
      `  profanity: /connect ${wantDemo ? 'demo' : 'USER'}@${domainNames[0]} server 127.0.0.1 port ${port} tls allow`,
      `Add accounts: npx xmpp-blocks user add alice@${domainNames[0]} --password secret --data ${opts.dataDir}`,
      `Stop with Ctrl-C.`,
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  process.stdout.write('shutting down…\n');
  await server.stop();
  await storage.close();
  return 0;
}
