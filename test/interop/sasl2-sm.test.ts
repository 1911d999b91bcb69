// Interop: @xmpp/client 0.14 with SASL2 (XEP-0388) + Bind2 (XEP-0386) + stream management
// (XEP-0198) negotiated inline, against a real createServer over direct TLS. The client
// enables SM inside <bind/> (<enabled/> comes back inside <bound/>), its TLS socket is
// destroyed, a message is sent to it while it is away, and its reconnect module resumes
// inside the SASL2 <authenticate/> (<resumed/> inside <success/>, no <bound/>). Checked from
// both sides: each message arrives exactly once, the same SM id, the old connection handed
// over and closed, one session per user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { createLogger } from '../../src/core/logger.ts';
import * as h from '../../src/c2s/hooks.ts';
import type { C2sContext } from '../../src/c2s/context.ts';
import { sasl2 } from '../../src/ext/sasl2/index.ts';
import { bind2 } from '../../src/ext/bind2/index.ts';
import { streamManagement, smSlot } from '../../src/ext/stream-management/index.ts';
import { testCertificate } from '../helpers/test-server.ts';
import { runProcess } from '../helpers/spawn.ts';
import type { Sasl2SmRunnerConfig, Sasl2SmRunnerReport } from './sasl2-sm-runner.ts';

const RUNNER = fileURLToPath(new URL('./sasl2-sm-runner.ts', import.meta.url));

let server: XmppServer;
let tmp: string;
let caFile: string;
/** Server-side contexts of bound connections, by full JID (all of them, in order). */
const conns = new Map<string, C2sContext[]>();

test.before(async () => {
  const cert = await testCertificate();
  server = createServer({
    domains: ['localhost'],
    listeners: [{ kind: 'tcp', tls: 'direct', port: 0, host: '127.0.0.1', certificate: cert }],
    modules: [sasl2, bind2, { module: streamManagement, options: { ackFreq: 1, resumeTimeout: 30_000 } }],
    storage: memoryStorage(),
    logger: createLogger((process.env.XMPP_BLOCKS_LOG as 'debug' | undefined) ?? 'silent'),
  });
  await server.start();
  await server.users.add('alice@localhost', 'alice-secret');
  await server.users.add('bob@localhost', 'bob-secret');
  server.hooks.add(h.xmppSendElement, 'localhost', (_ef, p) => {
    const jid = p.conn.jid;
    if (!jid?.resource) return;
    const list = conns.get(jid.toString()) ?? [];
    if (!list.includes(p.conn)) list.push(p.conn);
    conns.set(jid.toString(), list);
  });
  tmp = await mkdtemp(join(tmpdir(), 'sasl2-sm-interop-'));
  caFile = join(tmp, 'ca.pem');
  await writeFile(caFile, cert.cert);
});

test.after(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('@xmpp/client: SM enabled inside Bind2, socket destroyed, resumed inside SASL2; each message exactly once', async () => {
  const a = server.addresses()[0]!;
  const config: Sasl2SmRunnerConfig = { service: `xmpps://${a.host}:${a.port}`, domain: 'localhost', settleMs: 300 };
  const child = await runProcess(process.execPath, ['--no-warnings', '--import', 'tsx', RUNNER, JSON.stringify(config)], {
    env: { NODE_EXTRA_CA_CERTS: caFile },
    timeoutMs: 30_000,
  });
  const exit = await child.exited;
  const context = `\nstdout:\n${child.lines.join('\n')}\nstderr:\n${child.stderr}`;
  assert.not.ok(exit.timedOut, `runner timed out${context}`);
  assert.is(exit.code, 0, `runner exit code${context}`);
  const reports = child.jsonLines<Sasl2SmRunnerReport>();
  const errors = reports.filter((r) => r.event === 'failed' || r.event === 'error');
  assert.equal(errors, [], `no errors${context}`);
  assert.ok(reports.some((r) => r.event === 'done'), `finished${context}`);

  const online = reports.filter((r): r is Extract<Sasl2SmRunnerReport, { event: 'online' }> => r.event === 'online');
  const alice = online.find((o) => o.who === 'alice')!;
  assert.ok(alice?.smEnabled && alice.smId.length > 20, `alice: SM enabled with a resumption id${context}`);
  const neg = reports.filter((r): r is Extract<Sasl2SmRunnerReport, { event: 'negotiated' }> => r.event === 'negotiated' && r.who === 'alice');
  assert.is(neg.length, 2, `alice authenticated twice${context}`);
  const [login, again] = neg as [(typeof neg)[0], (typeof neg)[0]];
  // First login: <enable/> inside <bind/>, <enabled/> inside <bound/>.
  assert.match(login.authenticate, /<bind xmlns=["']urn:xmpp:bind:0["']>.*<enable xmlns=["']urn:xmpp:sm:3["']/, 'inline enable requested');
  assert.match(login.success, /<bound xmlns=["']urn:xmpp:bind:0["']><enabled xmlns=["']urn:xmpp:sm:3["'][^>]*resume=["']true["']/, '<enabled/> inside <bound/>');
  // Second: <resume/> inside <authenticate/>, <resumed/> inside <success/>, not bound again.
  assert.match(again.authenticate, new RegExp(`<resume xmlns=["']urn:xmpp:sm:3["'][^>]*previd=["']${alice.smId.replace(/[+/=]/g, (c) => `\\${c}`)}["']`), 'inline resume with the id');
  assert.match(again.success, /<resumed xmlns=["']urn:xmpp:sm:3["']/, '<resumed/> inside <success/>');
  assert.not.match(again.success, /<bound/, 'Bind2 skipped');
  assert.ok(again.success.includes(`<authorization-identifier>${alice.jid}</authorization-identifier>`), 'the resumed full JID');
  const resumed = reports.filter((r) => r.event === 'resumed');
  assert.equal(resumed, [{ event: 'resumed', who: 'alice', smId: alice.smId }], `resumed once, same id${context}`);

  const got = reports.filter((r): r is Extract<Sasl2SmRunnerReport, { event: 'received' }> => r.event === 'received' && r.who === 'alice');
  assert.equal(
    got.map((r) => [r.id, r.body]),
    [
      ['m1', 'one'],
      ['m2', 'while away'],
    ],
    `each message exactly once${context}`,
  );

  // Server side: the first connection handed over and closed; the second one took the session.
  const ctxs = conns.get(alice.jid) ?? [];
  assert.is(ctxs.length, 2, 'two connections for alice');
  assert.is(ctxs[0]!.state, 'closed', 'the old connection terminated after handing over');
  assert.is(ctxs[1]!.getModState(smSlot)?.smid, alice.smId, 'the new connection holds the SM session');
  assert.is(server.sessions.count(), 0, 'both clients stopped: no session left');
});

test.run();
