// Interop with @xmpp/client 0.14 (the npm client) against a real createServer on a loopback
// TCP port: disco#info of the server (identity and the enabled modules' features), version
// and time, client → server and client → bare-JID pings, and server pings answered by the
// client (with timeoutAction 'kill', the connection survives because it answers).
//
// Runs in-process: plain TCP (no TLS) needs none of the process-wide settings that make
// xmpp-client.test.ts use a child process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import { createServer, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { ping } from '../../src/ext/ping/index.ts';
import { version } from '../../src/ext/version/index.ts';
import { time } from '../../src/ext/time/index.ts';
import { last } from '../../src/ext/last/index.ts';
import { vcard } from '../../src/ext/vcard/index.ts';
import { privateStorage } from '../../src/ext/private/index.ts';
import { offline } from '../../src/ext/offline/index.ts';

/** The part of @xmpp/client's IQ helpers this test uses (not in test/interop/xmpp-client.d.ts). */
interface IqCaller {
  get(el: XmppElement, to?: string, timeout?: number): Promise<XmppElement>;
  request(el: XmppElement, timeout?: number): Promise<XmppElement>;
}

const PING_INTERVAL_MS = 300;

let server: XmppServer | undefined;
let xmpp: XmppClient | undefined;
const incoming: XmppElement[] = [];
const errors: string[] = [];

test.before(async () => {
  server = createServer({
    domains: ['localhost'],
    listeners: [{ kind: 'tcp', port: 0, host: '127.0.0.1', tls: 'none' }],
    storage: memoryStorage(),
    modules: [
      disco,
      { module: ping, options: { sendPings: true, pingInterval: PING_INTERVAL_MS, pingReqTimeout: 2000, timeoutAction: 'kill' } },
      version,
      time,
      last,
      vcard,
      privateStorage,
      offline,
    ],
  });
  await server.start();
  await server.users.add('alice@localhost', 'alice-secret');
  await server.users.add('bob@localhost', 'bob-secret');
  const { port } = server.addresses()[0]!;
  xmpp = client({ service: `xmpp://127.0.0.1:${port}`, domain: 'localhost', resource: 'xmppjs', username: 'alice', password: 'alice-secret', timeout: 5000 });
  xmpp.reconnect.stop();
  xmpp.on('error', (err) => errors.push(err.message));
  xmpp.on('element', (el) => incoming.push(el));
  await withTimeout(xmpp.start(), 10_000, 'login');
});

test.after(async () => {
  try {
    if (xmpp && xmpp.status !== 'offline') await withTimeout(xmpp.stop(), 5000, 'client stop').catch(() => {});
  } finally {
    await server?.stop();
  }
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const iq = (): IqCaller => (xmpp as unknown as { iqCaller: IqCaller }).iqCaller;

test('disco#info of the server: server/im and the features of the enabled modules', async () => {
  const r = await withTimeout(iq().get(xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'localhost'), 5000, 'disco#info');
  const ids: string[] = [];
  const features: string[] = [];
  for (const c of (r as unknown as { children: (XmppElement | string)[] }).children) {
    if (typeof c === 'string') continue;
    if (c.name === 'identity') ids.push(`${c.attrs.category}/${c.attrs.type}`);
    if (c.name === 'feature') features.push(c.attrs.var ?? '');
  }
  assert.equal(ids, ['server/im']);
  for (const v of ['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'urn:xmpp:ping', 'jabber:iq:version', 'urn:xmpp:time', 'jabber:iq:last', 'vcard-temp', 'jabber:iq:private', 'msgoffline']) {
    assert.ok(features.includes(v), `${v} in ${features.join(' ')}`);
  }
});

test('client pings the server and a bare JID; version and time answer', async () => {
  const pong = await withTimeout(iq().request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 5000), 5000, 'ping');
  assert.is(pong.attrs.type, 'result');
  assert.is(pong.attrs.from, 'localhost');
  const pong2 = await withTimeout(iq().request(xml('iq', { type: 'get', to: 'bob@localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 5000), 5000, 'ping bob');
  assert.is(pong2.attrs.type, 'result');
  assert.is(pong2.attrs.from, 'bob@localhost');
  const v = await withTimeout(iq().get(xml('query', { xmlns: 'jabber:iq:version' }), 'localhost'), 5000, 'version');
  assert.is(v.getChildText('name'), 'xmpp-blocks');
  const t = await withTimeout(iq().get(xml('time', { xmlns: 'urn:xmpp:time' }), 'localhost'), 5000, 'time');
  assert.is(t.getChildText('tzo'), '+00:00');
  assert.ok(Math.abs(Date.parse(t.getChildText('utc') ?? '') - Date.now()) < 60_000);
});

test('server pings an idle client; @xmpp/client answers and stays connected (kill on timeout)', async () => {
  const before = incoming.length;
  const isPing = (e: XmppElement) => e.is('iq') && e.attrs.type === 'get' && e.getChild('ping', 'urn:xmpp:ping') !== undefined;
  const deadline = Date.now() + 5000;
  while (incoming.slice(before).filter(isPing).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const pings = incoming.slice(before).filter(isPing);
  assert.ok(pings.length >= 2, `at least two server pings in 5 s (got ${pings.length})`);
  assert.is(pings[0]!.attrs.from, 'localhost');
  assert.is(xmpp!.status, 'online', 'answered, so not killed');
  assert.equal(errors, []);
});

test.run();
