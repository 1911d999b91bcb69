// Dynamic domains end to end on real sockets and one SQLite file: a domain added over HTTP, a
// user registered in it with the CLI (`user add`), @xmpp/client logging in and chatting across
// two dynamic domains of one host type; disable and delete with raw TCP sessions open (stream
// error host-gone, data gone); `domain add`/`disable` from the CLI reaching the running server
// through the change feed; a second server instance on the same file following the first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type XmppServer } from '../../src/server.ts';
import { sqliteStorage, type SqliteStorage } from '../../src/storage/sqlite/index.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { userCommand, databasePath } from '../../src/cli/user.ts';
import { domainCommand } from '../../src/cli/domain.ts';
import { RawXmppClient, streamErrorCondition, describeEvent } from '../helpers/raw-client.ts';
import { defineModule } from '../../src/c2s/module.ts';
import { runProcess } from '../helpers/spawn.ts';
import { waitFor } from '../helpers/wait.ts';
import type { ChatConfig, ChatReport } from './xmpp-client-chat.ts';
import { fillEveryPort, leftovers } from './storage-check.ts';
import { textSink } from '../helpers/text-sink.ts';

const RUNNER = fileURLToPath(new URL('./xmpp-client-chat.ts', import.meta.url));
const POLL_MS = 100;

let dataDir: string;
let storageA: SqliteStorage;
let storageB: SqliteStorage;
let a: XmppServer;
let b: XmppServer;
let adminBase: string;
const clients: RawXmppClient[] = [];

/** Stands in for a MUC light module: rooms live under `muclight.<domain>`. */
const mucLightPattern = defineModule({ name: 'muclight-pattern', defaults: {}, start: (env) => env.domains.addSubdomainPattern(env.hostType, 'muclight.@HOST@') });
/** Stands in for a MUC module: rooms live under `conference.<domain>`. */
const mucPattern = defineModule({ name: 'muc-pattern', defaults: {}, start: (env) => env.domains.addSubdomainPattern(env.hostType, 'conference.@HOST@') });

function instance(storage: SqliteStorage, admin: boolean): XmppServer {
  return createServer({
    domains: ['static.example'],
    hostTypes: { tenants: { modules: [mucLightPattern, mucPattern] } },
    dynamicDomains: { hostTypes: ['tenants'], pollIntervalMs: POLL_MS },
    ...(admin && { admin: { port: 0 } }),
    listeners: [{ kind: 'tcp', port: 0, host: '127.0.0.1', tls: 'none' }],
    storage,
    logger: silentLogger,
  });
}

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xb-domains-'));
  storageA = sqliteStorage({ path: databasePath(dataDir) });
  storageB = sqliteStorage({ path: databasePath(dataDir) });
  a = instance(storageA, true);
  b = instance(storageB, false);
  await a.start();
  await b.start();
  const ad = a.adminAddress()!;
  adminBase = `http://${ad.host}:${ad.port}`;
});

test.after.each(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(500)));
});

test.after(async () => {
  await a?.stop();
  await b?.stop();
  await storageA?.close();
  await storageB?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const put = async (domain: string, hostType: string) => {
  const res = await fetch(`${adminBase}/api/domains/${domain}`, { method: 'PUT', body: JSON.stringify({ hostType }), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(3000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

async function cliUser(...args: string[]): Promise<number> {
  const err = textSink();
  const code = await userCommand(args, { dataDir, stdout: textSink(), stderr: err, iterations: 4096 });
  assert.is(code, 0, `user ${args.join(' ')}: ${err.text()}`);
  return code;
}

async function rawLogin(server: XmppServer, user: string, domain: string, password: string): Promise<RawXmppClient> {
  const addr = server.addresses()[0]!;
  const c = await RawXmppClient.connect({ host: addr.host, port: addr.port });
  clients.push(c);
  await c.login({ user, domain, password, resource: 'raw' });
  return c;
}

async function expectHostGone(c: RawXmppClient): Promise<void> {
  const events = await c.readUntilClose(3000);
  const errors = events.flatMap((e) => (e.type === 'element' ? [streamErrorCondition(e.element)] : [])).filter(Boolean);
  assert.equal(errors, ['host-gone'], `events: ${events.map(describeEvent).join(' | ')}`);
  assert.ok(c.hasClosed);
}

test('domain added over HTTP, users added with the CLI, @xmpp/client chats across two dynamic domains', async () => {
  assert.is((await put('a.example', 'tenants')).status, 201);
  assert.is((await put('b.example', 'tenants')).status, 201);
  await cliUser('add', 'alice@a.example', '--password', 'alice-pw');
  await cliUser('add', 'bob@b.example', '--password', 'bob-pw');
  // The user CLI filed the accounts under the domains' host type.
  assert.ok(await storageA.auth.exists('tenants', 'a.example', 'alice'));

  const addr = a.addresses()[0]!;
  const config: ChatConfig = {
    service: `xmpp://${addr.host}:${addr.port}`,
    accounts: [
      { username: 'alice', domain: 'a.example', password: 'alice-pw', resource: 'xmppjs' },
      { username: 'bob', domain: 'b.example', password: 'bob-pw', resource: 'xmppjs' },
    ],
  };
  const child = await runProcess(process.execPath, ['--no-warnings', '--import', 'tsx', RUNNER, JSON.stringify(config)], { timeoutMs: 30_000 });
  const exit = await child.exited;
  const context = `\nstdout:\n${child.lines.join('\n')}\nstderr:\n${child.stderr}`;
  assert.is(exit.code, 0, `runner exit${context}`);
  const reports = child.jsonLines<ChatReport>();
  assert.equal(
    reports.filter((r) => r.event === 'online').map((r) => (r as { jid: string }).jid),
    ['alice@a.example/xmppjs', 'bob@b.example/xmppjs'],
    context,
  );
  assert.equal(
    reports.filter((r) => r.event === 'received').map((r) => r as { who: string; from: string; body: string }).map((r) => `${r.from}>${r.who}:${r.body}`),
    ['alice@a.example/xmppjs>bob@b.example:hello across domains', 'bob@b.example/xmppjs>alice@a.example:hello back'],
    context,
  );
  assert.ok(reports.some((r) => r.event === 'done'), context);
});

test('a second instance on the same SQLite file serves the domain added on the first within the poll interval', async () => {
  assert.is((await put('c.example', 'tenants')).status, 201);
  assert.is(a.domains.hostTypeOf('c.example'), 'tenants', 'at once on its own instance');
  await waitFor(() => b.domains.hostTypeOf('c.example') === 'tenants', { timeoutMs: 20 * POLL_MS, what: 'instance B to serve c.example' });
  await cliUser('add', 'carol@c.example', '--password', 'carol-pw');
  const carol = await rawLogin(b, 'carol', 'c.example', 'carol-pw');
  assert.ok(carol);
});

test('disable over HTTP with sessions open on both instances: host-gone on each, new logins refused', async () => {
  const onA = await rawLogin(a, 'carol', 'c.example', 'carol-pw');
  const onB = await rawLogin(b, 'carol', 'c.example', 'carol-pw');
  const res = await fetch(`${adminBase}/api/domains/c.example`, { method: 'PATCH', body: JSON.stringify({ enabled: false }), signal: AbortSignal.timeout(3000) });
  assert.is(res.status, 200);
  await res.text();
  await expectHostGone(onA);
  await expectHostGone(onB);
  const late = await RawXmppClient.connect(a.addresses()[0]!);
  clients.push(late);
  late.send(`<stream:stream to='c.example' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
  const events = await late.readUntilClose(3000);
  assert.ok(events.some((e) => e.type === 'element' && streamErrorCondition(e.element) === 'host-unknown'), events.map(describeEvent).join(' | '));
});

test('delete over HTTP with a session open: host-gone, and nothing of the domain is left in any port', async () => {
  await cliUser('add', 'dave@a.example', '--password', 'dave-pw');
  await fillEveryPort(storageA, 'tenants', 'a.example', 'dave');
  const dave = await rawLogin(a, 'dave', 'a.example', 'dave-pw');
  const res = await fetch(`${adminBase}/api/domains/a.example`, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
  assert.is(res.status, 200);
  await res.text();
  await expectHostGone(dave);
  for (const user of ['alice', 'dave']) assert.equal(await leftovers(storageA, 'tenants', 'a.example', user), [], user);
  await waitFor(() => b.domains.hostTypeOf('a.example') === undefined, { timeoutMs: 20 * POLL_MS, what: 'instance B to drop a.example' });
});

test('the domain CLI against the data directory of the running servers takes effect within the poll interval', async () => {
  const out = textSink();
  const err = textSink();
  assert.is(await domainCommand(['add', 'd.example', '--host-type', 'tenants', '--host-types', 'tenants'], { dataDir, stdout: out, stderr: err }), 0, err.text());
  await waitFor(() => a.domains.hostTypeOf('d.example') === 'tenants' && b.domains.hostTypeOf('d.example') === 'tenants', { timeoutMs: 5000, what: 'both instances to serve d.example' });
  await cliUser('add', 'erin@d.example', '--password', 'erin-pw');
  const erin = await rawLogin(a, 'erin', 'd.example', 'erin-pw');
  assert.is(await domainCommand(['disable', 'd.example'], { dataDir, stdout: out, stderr: err }), 0, err.text());
  await expectHostGone(erin);
  assert.is(a.domains.hostTypeOf('d.example'), undefined);
});

test.run();
