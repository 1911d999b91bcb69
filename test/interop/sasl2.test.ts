// Interop with @xmpp/client 0.14, which prefers SASL2 (XEP-0388) with Bind2 (XEP-0386)
// whenever a server offers them: two accounts log in over direct TLS and over TCP+STARTTLS
// against a real createServer with the sasl2 and bind2 modules, with PLAIN and SCRAM-SHA-1,
// and exchange a message each way. Checked: the client used <authenticate/> (no SASL1 <auth/>,
// no bind IQ), the <success/> carried the bound full JID (tag/generated id) and <bound/>, the
// server recorded the user agent, each message arrived exactly once. A third scenario runs
// against a server with sasl2 only: <success/> with the bare JID, then the post-auth features
// without a stream restart, and the client binds with the RFC 6120 IQ.
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
import { sasl2, USER_AGENT_INFO } from '../../src/ext/sasl2/index.ts';
import { bind2 } from '../../src/ext/bind2/index.ts';
import { testCertificate } from '../helpers/test-server.ts';
import { runProcess } from '../helpers/spawn.ts';
import type { Sasl2RunnerConfig, Sasl2RunnerReport } from './sasl2-runner.ts';

const RUNNER = fileURLToPath(new URL('./sasl2-runner.ts', import.meta.url));

let server: XmppServer;
/** The same with the sasl2 module only (no Bind2): post-auth features follow <success/>. */
let saslOnly: XmppServer;
let tmp: string;
let caFile: string;
/** Server-side contexts of bound connections, by full JID. */
const conns = new Map<string, C2sContext>();

test.before(async () => {
  const cert = await testCertificate();
  server = createServer({
    domains: ['localhost'],
    listeners: [
      { kind: 'tcp', tls: 'direct', port: 0, host: '127.0.0.1', certificate: cert },
      { kind: 'tcp', tls: 'optional', port: 0, host: '127.0.0.1', certificate: cert },
    ],
    modules: [sasl2, bind2],
    storage: memoryStorage(),
    logger: createLogger((process.env.XMPP_BLOCKS_LOG as 'debug' | undefined) ?? 'silent'),
  });
  await server.start();
  await server.users.add('alice@localhost', 'alice-secret');
  await server.users.add('bob@localhost', 'bob-secret');
  server.hooks.add(h.xmppSendElement, 'localhost', (_ef, p) => {
    if (p.conn.jid?.resource) conns.set(p.conn.jid.toString(), p.conn);
  });
  saslOnly = createServer({
    domains: ['localhost'],
    listeners: [{ kind: 'tcp', tls: 'direct', port: 0, host: '127.0.0.1', certificate: cert }],
    modules: [sasl2],
    storage: memoryStorage(),
    logger: createLogger((process.env.XMPP_BLOCKS_LOG as 'debug' | undefined) ?? 'silent'),
  });
  await saslOnly.start();
  await saslOnly.users.add('alice@localhost', 'alice-secret');
  await saslOnly.users.add('bob@localhost', 'bob-secret');
  saslOnly.hooks.add(h.xmppSendElement, 'localhost', (_ef, p) => {
    if (p.conn.jid?.resource) conns.set(p.conn.jid.toString(), p.conn);
  });
  tmp = await mkdtemp(join(tmpdir(), 'sasl2-interop-'));
  caFile = join(tmp, 'ca.pem');
  await writeFile(caFile, cert.cert);
});

test.after(async () => {
  await server?.stop();
  await saslOnly?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function runClients(service: string, mechanism: string): Promise<{ reports: Sasl2RunnerReport[]; context: string }> {
  const config: Sasl2RunnerConfig = {
    service,
    domain: 'localhost',
    mechanism,
    accounts: [
      { username: 'alice', password: 'alice-secret', tag: 'xmppjs' },
      { username: 'bob', password: 'bob-secret', tag: 'xmppjs' },
    ],
    settleMs: 200,
  };
  const child = await runProcess(process.execPath, ['--no-warnings', '--import', 'tsx', RUNNER, JSON.stringify(config)], {
    env: { NODE_EXTRA_CA_CERTS: caFile },
    timeoutMs: 25_000,
  });
  const exit = await child.exited;
  const context = `\nstdout:\n${child.lines.join('\n')}\nstderr:\n${child.stderr}`;
  assert.not.ok(exit.timedOut, `runner timed out${context}`);
  assert.is(exit.code, 0, `runner exit code${context}`);
  return { reports: child.jsonLines<Sasl2RunnerReport>(), context };
}

/**
 * `quirk`: @xmpp/client 0.14 emits a stray `TimeoutError` about 2 s after a login that went
 * through STARTTLS, whatever the SASL profile — reproduced with SASL1 against a server without
 * these modules (its STARTTLS upgrade leaves a listener on the plain socket). It comes after
 * the exchange and says nothing about the server, so it is tolerated there and only there.
 */
function check(reports: Sasl2RunnerReport[], context: string, mechanism: string, quirk = false, bound = true): void {
  const errors = reports.filter((r) => r.event === 'failed' || (r.event === 'error' && !(quirk && r.message.startsWith('TimeoutError'))));
  assert.equal(errors, [], `no errors${context}`);
  assert.ok(reports.some((r) => r.event === 'done'), `finished${context}`);
  const negotiated = reports.filter((r): r is Extract<Sasl2RunnerReport, { event: 'negotiated' }> => r.event === 'negotiated');
  const online = reports.filter((r): r is Extract<Sasl2RunnerReport, { event: 'online' }> => r.event === 'online');
  assert.is(online.length, 2);
  for (const n of negotiated) {
    assert.not.ok(n.sasl1, `${n.who}: no SASL1 <auth/>`);
    assert.match(n.authenticate ?? '', new RegExp(`mechanism=["']${mechanism}["']`), `${n.who} sent <authenticate mechanism=${mechanism}>`);
    if (bound) {
      assert.not.ok(n.bindIq, `${n.who}: no RFC 6120 bind IQ`);
      assert.match(n.authenticate ?? '', /<bind xmlns=["']urn:xmpp:bind:0["']><tag>xmppjs<\/tag><\/bind>/, 'Bind2 request with the tag');
      assert.match(n.success ?? '', /<bound xmlns=["']urn:xmpp:bind:0["']/, `${n.who}: <bound/> in <success/>`);
    } else {
      assert.ok(n.bindIq, `${n.who}: bound with the RFC 6120 IQ after the post-auth features`);
      assert.not.ok((n.success ?? '').includes('bound'), 'no <bound/>');
    }
  }
  for (const o of online) {
    if (bound) assert.match(o.jid, new RegExp(`^${o.who}@localhost/xmppjs/[A-Za-z0-9_-]{12}$`), 'tag/generated-id resource');
    else assert.is(o.jid, `${o.who}@localhost/xmppjs`, 'the resource it asked for');
    assert.ok(o.secure);
    const conn = conns.get(o.jid);
    assert.ok(conn, `server has a session for ${o.jid}`);
    assert.is(conn!.info.authMechanism, mechanism);
    const ua = conn!.info[USER_AGENT_INFO] as { id?: string } | undefined;
    assert.match(ua?.id ?? '', /^[0-9a-f-]{36}$/, '@xmpp/client sent a UUID user-agent id');
    // The negotiated <success/> names the same full JID.
    const n = negotiated.find((x) => x.who === o.who)!;
    const aid = bound ? o.jid : `${o.who}@localhost`;
    assert.ok(n.success!.includes(`<authorization-identifier>${aid}</authorization-identifier>`), 'authorization-identifier: full JID when bound, else bare');
  }
  const received = reports.filter((r): r is Extract<Sasl2RunnerReport, { event: 'received' }> => r.event === 'received');
  const alice = online.find((o) => o.who === 'alice')!;
  const bob = online.find((o) => o.who === 'bob')!;
  assert.equal(
    received.filter((r) => r.who === 'bob').map((r) => [r.from, r.body, r.id]),
    [[alice.jid, 'hello bob over sasl2', 'a2b']],
    'bob receives exactly once',
  );
  assert.equal(
    received.filter((r) => r.who === 'alice').map((r) => [r.from, r.body, r.id]),
    [[bob.jid, 'hello alice over bind2', 'b2a']],
    'alice receives exactly once',
  );
}

test('@xmpp/client: SCRAM-SHA-1 over direct TLS with SASL2 + Bind2, a message each way', async () => {
  const a = server.addresses()[0]!;
  const { reports, context } = await runClients(`xmpps://${a.host}:${a.port}`, 'SCRAM-SHA-1');
  check(reports, context, 'SCRAM-SHA-1');
});

test('@xmpp/client: PLAIN over TCP+STARTTLS with SASL2 + Bind2, a message each way', async () => {
  const a = server.addresses()[1]!;
  const { reports, context } = await runClients(`xmpp://${a.host}:${a.port}`, 'PLAIN');
  check(reports, context, 'PLAIN', true);
});

test('@xmpp/client: SASL2 without Bind2 — <success/>, post-auth features with no stream restart, bind IQ, a message each way', async () => {
  const a = saslOnly.addresses()[0]!;
  const { reports, context } = await runClients(`xmpps://${a.host}:${a.port}`, 'SCRAM-SHA-1');
  check(reports, context, 'SCRAM-SHA-1', false, false);
});

test.run();
