// Interop of the roster and presence modules with real clients over TCP + STARTTLS (the
// self-signed certificate is verified by the clients):
// - Debian's python3-slixmpp 1.8 (run with /usr/bin/python3): two clients do the whole
//   subscription handshake by hand (auto-authorize off) until both rosters say `both`, and each
//   sees the other's presence;
// - @xmpp/client 0.14 (in a child process: trusting our certificate is process-wide): roster
//   get, set (with the push), versioned get, remove.
// On a machine without slixmpp the slixmpp part is skipped with a message saying so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { createServer, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { testCertificate } from '../helpers/test-server.ts';
import { runProcess, type ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, writeCaFile, type CaFile } from '../helpers/slixmpp.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface SlixReport {
  event: string;
  jid?: string;
  from?: string;
  items?: Record<string, { subscription: string; pending_out: boolean }>;
}

let server: XmppServer;
let ca: CaFile | undefined;
let port: number;
const hookErrors: unknown[] = [];

test.before(async () => {
  const certificate = await testCertificate();
  server = createServer({
    domains: ['localhost'],
    modules: [roster, presence],
    listeners: [{ kind: 'tcp', tls: 'optional', port: 0, host: '127.0.0.1', certificate }],
    storage: memoryStorage(),
    logger: silentLogger,
    onHookError: (err) => hookErrors.push(err),
  });
  await server.start();
  for (const [jid, pw] of Object.entries({ 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret', 'xjs@localhost': 'xjs-secret' })) await server.users.add(jid, pw);
  port = server.addresses()[0]!.port;
  ca = await writeCaFile(certificate.cert, 'roster-interop-');
});

test.after(async () => {
  await server?.stop();
  assert.equal(hookErrors, [], 'no hook handler threw');
  await ca?.remove();
});

if (await haveSlixmpp('roster-presence.test.ts: slixmpp part', 'slixmpp subscription handshake')) {
  const slixmpp = (jid: string, password: string): ChildHandle =>
    startSlixmpp('slixmpp_roster.py', ['--jid', jid, '--password', password, '--port', String(port), '--cafile', ca!.path, '--timeout', '25'], 28_000);

  const cmd = (c: ChildHandle, o: object) => c.writeLine(JSON.stringify(o));
  const subOf = (r: SlixReport, jid: string) => r.items?.[jid]?.subscription;

  test('slixmpp: the full subscription handshake reaches both on both sides, and each sees the other online', async () => {
    const alice = slixmpp('alice@localhost/slix', 'alice-secret');
    const bob = slixmpp('bob@localhost/slix', 'bob-secret');
    try {
      await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'alice session_start');
      await bob.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'bob session_start');

      // alice asks; bob is asked (from alice's bare JID, RFC 6121 §3.1.2) and approves, then asks back.
      cmd(alice, { cmd: 'presence', to: 'bob@localhost', type: 'subscribe' });
      await alice.waitForJson<SlixReport>((r) => r.event === 'roster' && r.items?.['bob@localhost']?.pending_out === true, 5000, 'alice: pending out in a push');
      await bob.waitForJson<SlixReport>((r) => r.event === 'subscribe' && r.from === 'alice@localhost', 5000, 'bob asked by alice');
      cmd(bob, { cmd: 'presence', to: 'alice@localhost', type: 'subscribed' });
      await alice.waitForJson<SlixReport>((r) => r.event === 'subscribed' && r.from === 'bob@localhost', 5000, 'alice told bob approved');
      await alice.waitForJson<SlixReport>((r) => r.event === 'roster' && subOf(r, 'bob@localhost') === 'to', 5000, 'alice: to');
      await alice.waitForJson<SlixReport>((r) => r.event === 'available' && r.from === 'bob@localhost/slix', 5000, "alice sees bob's presence");

      cmd(bob, { cmd: 'presence', to: 'alice@localhost', type: 'subscribe' });
      await alice.waitForJson<SlixReport>((r) => r.event === 'subscribe' && r.from === 'bob@localhost', 5000, 'alice asked by bob');
      cmd(alice, { cmd: 'presence', to: 'bob@localhost', type: 'subscribed' });
      await bob.waitForJson<SlixReport>((r) => r.event === 'roster' && subOf(r, 'alice@localhost') === 'both', 5000, 'bob: both');
      await alice.waitForJson<SlixReport>((r) => r.event === 'roster' && subOf(r, 'bob@localhost') === 'both', 5000, 'alice: both');
      await bob.waitForJson<SlixReport>((r) => r.event === 'available' && r.from === 'alice@localhost/slix', 5000, "bob sees alice's presence");

      // The server agrees.
      const ar = await server.storage.roster.getItem('localhost', 'localhost', 'alice', 'bob@localhost');
      const br = await server.storage.roster.getItem('localhost', 'localhost', 'bob', 'alice@localhost');
      assert.equal([ar?.subscription, ar?.ask, br?.subscription, br?.ask], ['both', 'none', 'both', 'none']);

      // bob leaves: alice sees him go.
      cmd(bob, { cmd: 'quit' });
      await alice.waitForJson<SlixReport>((r) => r.event === 'unavailable' && r.from === 'bob@localhost/slix', 5000, 'bob unavailable at alice');
      cmd(alice, { cmd: 'quit' });
      assert.is((await bob.exited).code, 0, `bob exit; stderr:\n${bob.stderr}`);
      assert.is((await alice.exited).code, 0, `alice exit; stderr:\n${alice.stderr}`);
      for (const c of [alice, bob]) {
        const bad = c.jsonLines<SlixReport>().filter((r) => r.event === 'stream_error' || r.event === 'failed_auth' || r.event === 'timeout');
        assert.equal(bad, []);
      }
    } finally {
      await Promise.all([alice.stop(), bob.stop()]);
    }
  });
}

// The @xmpp/client side, as plain ESM run by `node -e` in a child with our CA trusted.
const XMPP_JS = `
import { client, xml } from '@xmpp/client';
const cfg = JSON.parse(process.env.XB_CONFIG);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const hard = setTimeout(() => { out({ event: 'failed', message: 'hard timeout' }); process.exit(3); }, 20000);
const NS = 'jabber:iq:roster';
const xmpp = client({ service: cfg.service, domain: 'localhost', resource: 'xmppjs', username: cfg.username, password: cfg.password });
xmpp.reconnect.stop();
xmpp.on('error', (e) => out({ event: 'error', message: e.message }));
const pushes = [];
xmpp.iqCallee.set(NS, 'query', (ctx) => {
  const q = ctx.element;
  const item = q.getChild('item');
  pushes.push({ ver: q.attrs.ver, jid: item.attrs.jid, name: item.attrs.name, subscription: item.attrs.subscription, from: ctx.stanza.attrs.from });
  return true;
});
const items = (iq) => (iq.getChild('query', NS)?.getChildren('item') ?? []).map((i) => ({ jid: i.attrs.jid, name: i.attrs.name, subscription: i.attrs.subscription, groups: i.getChildren('group').map((g) => g.text()) }));
const until = async (cond, what) => { const end = Date.now() + 5000; while (!cond()) { if (Date.now() > end) throw new Error('timed out: ' + what); await new Promise((r) => setTimeout(r, 10)); } };
try {
  const jid = await xmpp.start();
  out({ event: 'online', jid: jid.toString(), secure: xmpp.isSecure() });
  const first = await xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS, ver: '' })));
  out({ event: 'get', ver: first.getChild('query', NS)?.attrs.ver, items: items(first) });
  await xmpp.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS }, xml('item', { jid: 'carol@localhost', name: 'Carol' }, xml('group', {}, 'Friends')))));
  await until(() => pushes.length >= 1, 'the push of the set');
  out({ event: 'pushed', push: pushes[0] });
  const second = await xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS, ver: first.getChild('query', NS)?.attrs.ver })));
  const ver = second.getChild('query', NS)?.attrs.ver;
  out({ event: 'get', ver, items: items(second) });
  const third = await xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS, ver })));
  out({ event: 'uptodate', children: third.children.filter((c) => typeof c !== 'string').length });
  await xmpp.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS }, xml('item', { jid: 'carol@localhost', subscription: 'remove' }))));
  await until(() => pushes.length >= 2, 'the push of the removal');
  out({ event: 'pushed', push: pushes[1] });
  let error;
  try {
    await xmpp.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS }, xml('item', { jid: 'a@localhost' }), xml('item', { jid: 'b@localhost' }))));
  } catch (e) { error = e.condition; }
  out({ event: 'bad-set', condition: error });
  await xmpp.stop();
  out({ event: 'done' });
} catch (e) {
  out({ event: 'failed', message: e.message });
  await xmpp.stop().catch(() => {});
}
clearTimeout(hard);
`;

test('@xmpp/client: roster get, set with its push, versioned get, remove, bad-request', async () => {
  const child = await runProcess(process.execPath, ['--input-type=module', '-e', XMPP_JS], {
    env: { NODE_EXTRA_CA_CERTS: ca!.path, XB_CONFIG: JSON.stringify({ service: `xmpp://127.0.0.1:${port}`, username: 'xjs', password: 'xjs-secret' }) },
    cwd: REPO,
    timeoutMs: 25_000,
  });
  const exit = await child.exited;
  const lines = child.jsonLines<Record<string, any>>();
  const ctx = `\nstdout:\n${child.lines.join('\n')}\nstderr:\n${child.stderr}`;
  assert.is(exit.code, 0, `exit${ctx}`);
  assert.ok(lines.some((l) => l.event === 'done'), `did not finish${ctx}`);
  const online = lines.find((l) => l.event === 'online')!;
  assert.is(online.secure, true);
  const gets = lines.filter((l) => l.event === 'get');
  assert.equal(gets[0]!.items, []);
  assert.ok(gets[0]!.ver);
  const pushed = lines.filter((l) => l.event === 'pushed').map((l) => l.push);
  assert.equal(
    pushed.map((p) => [p.jid, p.name, p.subscription, p.from]),
    [
      ['carol@localhost', 'Carol', 'none', 'xjs@localhost'],
      ['carol@localhost', undefined, 'remove', 'xjs@localhost'],
    ],
  );
  assert.equal(gets[1]!.items, [{ jid: 'carol@localhost', name: 'Carol', subscription: 'none', groups: ['Friends'] }]);
  assert.is(gets[1]!.ver, pushed[0].ver, 'the result carries the version of the last push');
  assert.is(lines.find((l) => l.event === 'uptodate')!.children, 0, 'up to date: empty result');
  assert.is(lines.find((l) => l.event === 'bad-set')!.condition, 'bad-request');
});

test.run();
