// Interop with @xmpp/client 0.14's XEP-0484 FAST (HT-SHA-256-NONE) against a real createServer
// with sasl2, bind2 and fast over direct TLS on 127.0.0.1: a password login where the client
// asks for a token by itself (it sees <fast/> and has none), then a new connection with a wrong
// password that can only succeed with the saved token. Checked: <request-token/> with the
// client's user-agent id, the token the client saved is the one stored for that id, the second
// login is a single <authenticate mechanism='HT-SHA-256-NONE'> with <fast/> (the client
// verified our Responder proof, or it would not go online), and the server authenticated that
// connection with HT-SHA-256-NONE and bound it with Bind2.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { createLogger } from '../../src/core/logger.ts';
import type { C2sContext } from '../../src/c2s/context.ts';
import { sasl2Success } from '../../src/c2s/sasl2-hooks.ts';
import { sasl2 } from '../../src/ext/sasl2/index.ts';
import { bind2 } from '../../src/ext/bind2/index.ts';
import { fast } from '../../src/ext/fast/index.ts';
import { testCertificate } from '../helpers/test-server.ts';
import { runProcess } from '../helpers/spawn.ts';
import type { FastRunnerConfig, FastRunnerReport } from './fast-runner.ts';

const RUNNER = fileURLToPath(new URL('./fast-runner.ts', import.meta.url));
const UA = '6f1c2a7e-3b7d-4c1e-9a55-0d2b8e4f7c10';

let server: XmppServer;
let tmp: string;
let caFile: string;
/** Every connection that reached SASL2 success, in order (the context stays readable after it closes). */
const authenticated: C2sContext[] = [];

test.before(async () => {
  const cert = await testCertificate();
  server = createServer({
    domains: ['localhost'],
    listeners: [{ kind: 'tcp', tls: 'direct', port: 0, host: '127.0.0.1', certificate: cert }],
    modules: [sasl2, bind2, fast],
    storage: memoryStorage(),
    logger: createLogger((process.env.XMPP_BLOCKS_LOG as 'debug' | undefined) ?? 'silent'),
  });
  await server.start();
  await server.users.add('alice@localhost', 'alice-secret');
  server.hooks.add(sasl2Success, 'localhost', (_acc, p) => {
    authenticated.push(p.conn);
  });
  tmp = await mkdtemp(join(tmpdir(), 'fast-interop-'));
  caFile = join(tmp, 'ca.pem');
  await writeFile(caFile, cert.cert);
});

test.after(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('@xmpp/client: password login gets a FAST token; a new connection with a wrong password logs in with HT-SHA-256-NONE', async () => {
  const a = server.addresses()[0]!;
  const config: FastRunnerConfig = {
    service: `xmpps://${a.host}:${a.port}`,
    domain: 'localhost',
    username: 'alice',
    password: 'alice-secret',
    wrongPassword: 'not-the-password',
    userAgentId: UA,
    tag: 'xmppjs',
  };
  const child = await runProcess(process.execPath, ['--no-warnings', '--import', 'tsx', RUNNER, JSON.stringify(config)], {
    env: { NODE_EXTRA_CA_CERTS: caFile },
    timeoutMs: 25_000,
  });
  const exit = await child.exited;
  const context = `\nstdout:\n${child.lines.join('\n')}\nstderr:\n${child.stderr}`;
  assert.not.ok(exit.timedOut, `runner timed out${context}`);
  assert.is(exit.code, 0, `runner exit code${context}`);
  const reports = child.jsonLines<FastRunnerReport>();
  assert.equal(
    reports.filter((r) => r.event === 'failed' || r.event === 'error'),
    [],
    `no errors${context}`,
  );
  assert.ok(reports.some((r) => r.event === 'done'), `finished${context}`);
  const negotiated = (phase: 1 | 2) => reports.find((r): r is Extract<FastRunnerReport, { event: 'negotiated' }> => r.event === 'negotiated' && r.phase === phase)!;
  const online = (phase: 1 | 2) => reports.find((r): r is Extract<FastRunnerReport, { event: 'online' }> => r.event === 'online' && r.phase === phase);

  // Phase 1: the password login asked for a token, for its user-agent id.
  const n1 = negotiated(1);
  assert.ok(n1, `phase 1 negotiated${context}`);
  assert.not.ok(n1.sasl1);
  assert.is(n1.authenticate.length, 1);
  assert.match(n1.authenticate[0]!, /^<authenticate [^>]*mechanism=["'](?!HT-)[^"']+["']/, 'a password mechanism first');
  assert.match(n1.authenticate[0]!, /<request-token xmlns=["']urn:xmpp:fast:0["'] mechanism=["']HT-SHA-256-NONE["']\/>/);
  assert.ok(n1.authenticate[0]!.includes(UA), 'our user-agent id');
  assert.match(n1.success ?? '', /<token xmlns=["']urn:xmpp:fast:0["']/, '<token/> in <success/>');
  assert.ok(online(1), 'phase 1 online');
  const saved = reports.find((r): r is Extract<FastRunnerReport, { event: 'token' }> => r.event === 'token')?.token;
  assert.ok(saved, 'the client saved a token');
  assert.is(saved!.mechanism, 'HT-SHA-256-NONE');
  const stored = await server.storage.fastTokens.get('localhost', 'localhost', 'alice', UA);
  assert.is(stored?.current?.token, saved!.token, 'the token stored for that installation');

  // Phase 2: one <authenticate/>, with the token, and online despite the wrong password.
  const n2 = negotiated(2);
  assert.ok(n2, `phase 2 negotiated${context}`);
  assert.is(n2.authenticate.length, 1, 'no fallback to the (wrong) password');
  assert.match(n2.authenticate[0]!, /^<authenticate [^>]*mechanism=["']HT-SHA-256-NONE["']/);
  assert.match(n2.authenticate[0]!, /<fast xmlns=["']urn:xmpp:fast:0["']\/>/);
  assert.match(n2.success ?? '', /<additional-data>/, 'the Responder proof (the client verified it)');
  assert.match(online(2)?.jid ?? '', /^alice@localhost\/xmppjs\/[A-Za-z0-9_-]{12}$/, 'bound with Bind2');

  // Server side: the second connection was authenticated with the token mechanism.
  assert.is(authenticated.length, 2);
  assert.is(authenticated[0]!.info.authMechanism !== 'HT-SHA-256-NONE', true);
  assert.is(authenticated[1]!.info.authMechanism, 'HT-SHA-256-NONE');
  assert.is(authenticated[1]!.jid?.toString(), online(2)!.jid);
});

test.run();
