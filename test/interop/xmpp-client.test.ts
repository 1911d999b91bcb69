// Interop with @xmpp/client 0.14 (the npm client): SCRAM-SHA-1 and PLAIN over TCP+STARTTLS and
// WebSocket (RFC 7395), SCRAM-SHA-1 over direct TLS; a message each way between two accounts,
// each delivered exactly once. The client runs in one child process for every scenario (see
// xmpp-client-runner.ts for why).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LISTENERS, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { runProcess, type ProcessExit } from '../helpers/spawn.ts';
import type { RunnerConfig, RunnerReport } from './xmpp-client-runner.ts';

const RUNNER = fileURLToPath(new URL('./xmpp-client-runner.ts', import.meta.url));
const STARTTLS = 0;
const DIRECT_TLS = 1;
const WEBSOCKET = 2;
const STARTTLS_BUILTIN = 3;
const WEBSOCKET_BUILTIN = 4;

interface Scenario {
  readonly name: string;
  readonly listener: number;
  readonly mechanism: 'SCRAM-SHA-1' | 'PLAIN';
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'SCRAM-SHA-1 over TCP+STARTTLS', listener: STARTTLS, mechanism: 'SCRAM-SHA-1' },
  { name: 'PLAIN over TCP+STARTTLS', listener: STARTTLS, mechanism: 'PLAIN' },
  { name: 'SCRAM-SHA-1 over WebSocket (RFC 7395)', listener: WEBSOCKET, mechanism: 'SCRAM-SHA-1' },
  { name: 'PLAIN over WebSocket (RFC 7395)', listener: WEBSOCKET, mechanism: 'PLAIN' },
  { name: 'SCRAM-SHA-1 over direct TLS (XEP-0368)', listener: DIRECT_TLS, mechanism: 'SCRAM-SHA-1' },
  // The same flows with the element builder finding start tags itself (TokenizerKind).
  { name: 'SCRAM-SHA-1 over TCP+STARTTLS, builtin tokenizer', listener: STARTTLS_BUILTIN, mechanism: 'SCRAM-SHA-1' },
  { name: 'PLAIN over WebSocket, builtin tokenizer', listener: WEBSOCKET_BUILTIN, mechanism: 'PLAIN' },
];

let ts: TestServer;
let tmp: string | undefined;
/** The runner's reports and how it ended (one child runs every scenario). */
let run: { reports: RunnerReport[]; context: string; exit: ProcessExit };

function serviceOf(listener: number): string {
  const a = ts.address(listener);
  if (listener === WEBSOCKET || listener === WEBSOCKET_BUILTIN) return `ws://${a.host}:${a.port}${a.path ?? '/xmpp-websocket'}`;
  return `${listener === DIRECT_TLS ? 'xmpps' : 'xmpp'}://${a.host}:${a.port}`;
}

test.before(async () => {
  ts = await startTestServer({
    users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' },
    listeners: [...DEFAULT_LISTENERS, { kind: 'tcp', tls: 'optional', tokenizer: 'builtin' }, { kind: 'websocket', tokenizer: 'builtin' }],
  });
  tmp = await mkdtemp(join(tmpdir(), 'xmpp-client-interop-'));
  const caFile = join(tmp, 'ca.pem');
  await writeFile(caFile, ts.certificate.cert);
  const config: RunnerConfig = {
    scenarios: SCENARIOS.map((s) => ({ name: s.name, service: serviceOf(s.listener), mechanism: s.mechanism })),
    domain: 'localhost',
    accounts: [
      { username: 'alice', password: 'alice-secret', resource: 'xmppjs-a' },
      { username: 'bob', password: 'bob-secret', resource: 'xmppjs-b' },
    ],
    settleMs: 300,
  };
  const child = await runProcess(process.execPath, ['--experimental-websocket', '--no-warnings', '--import', 'tsx', RUNNER, JSON.stringify(config)], {
    // The certificate is verified for real: the child trusts exactly our self-signed one.
    env: { NODE_EXTRA_CA_CERTS: caFile },
    timeoutMs: 30_000,
  });
  run = { reports: child.jsonLines<RunnerReport>(), context: `\nstdout:\n${child.lines.join('\n')}\nstderr:\n${child.stderr}`, exit: await child.exited };
});

test.after(async () => {
  await ts?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the @xmpp/client runner finished every scenario', () => {
  assert.not.ok(run.exit.timedOut, `runner timed out${run.context}`);
  assert.is(run.exit.code, 0, `runner exit code${run.context}`);
});

/** The scenario's reports, after checking it ran to the end without errors. */
function reportsOf(name: string): RunnerReport[] {
  const reports = run.reports.filter((r) => r.scenario === name);
  const context = `\nscenario reports:\n${reports.map((r) => JSON.stringify(r)).join('\n')}${run.context}`;
  assert.equal(reports.filter((r) => r.event === 'failed' || r.event === 'error'), [], `no errors${context}`);
  assert.ok(reports.some((r) => r.event === 'done'), `scenario finished${context}`);
  return reports;
}

function assertScenario(reports: RunnerReport[], mechanism: string, secure: boolean): void {
  const online = reports.filter((r): r is Extract<RunnerReport, { event: 'online' }> => r.event === 'online');
  assert.is(online.length, 2, 'both accounts online');
  const [alice, bob] = online;
  for (const o of online) {
    assert.ok(o.offered.includes(mechanism), `${mechanism} offered to ${o.who}: ${o.offered.join(', ')}`);
    assert.equal(o.authMechanisms, [mechanism], `${o.who} authenticated with ${mechanism} only`);
    assert.is(o.secure, secure, `${o.who}: connection secure`);
  }
  assert.is(alice!.jid, 'alice@localhost/xmppjs-a');
  assert.is(bob!.jid, 'bob@localhost/xmppjs-b');

  const received = reports.filter((r): r is Extract<RunnerReport, { event: 'received' }> => r.event === 'received');
  const toBob = received.filter((r) => r.who === 'bob');
  const toAlice = received.filter((r) => r.who === 'alice');
  assert.is(toBob.length, 1, `bob receives alice's message exactly once: ${JSON.stringify(toBob)}`);
  assert.is(toAlice.length, 1, `alice receives bob's message exactly once: ${JSON.stringify(toAlice)}`);
  const scenario = toBob[0]!.scenario;
  assert.equal(toBob[0], { scenario, event: 'received', who: 'bob', from: alice!.jid, type: 'chat', body: 'hello bob from alice', id: 'a2b' });
  assert.equal(toAlice[0], { scenario, event: 'received', who: 'alice', from: bob!.jid, type: 'chat', body: 'hello alice from bob', id: 'b2a' });
  assert.equal(
    reports.filter((r) => r.event === 'stopped').map((r) => (r as { who: string }).who),
    ['alice', 'bob'],
    'both clients stopped cleanly',
  );
}

for (const s of SCENARIOS) {
  test(`${s.name}: log in, a message each way, each delivered once`, () => {
    // @xmpp/websocket counts ws:// to 127.0.0.1 as secure (loopback), like the server does.
    assertScenario(reportsOf(s.name), s.mechanism, true);
  });
}

test.run();
