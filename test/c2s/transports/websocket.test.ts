import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { XmppListener } from '../../../src/c2s/transports/listener.ts';
import { xml } from '../../../src/core/xml/element.ts';
import { NS } from '../../../src/core/namespaces.ts';
import { Accepted, Recorder, testCertificate } from './helpers.ts';

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>";

class WsClient {
  readonly messages: string[] = [];
  #waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.messages.push(d.toString());
      this.#wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }
  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
  async message(i: number): Promise<string> {
    while (this.messages.length <= i) {
      if (this.closed) throw new Error('closed');
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.messages[i]!;
  }
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

function open(url: string, protocols: string | string[] | undefined, opts: object = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, opts);
    const c = new WsClient(ws);
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function listen(opts: object = {}) {
  const accepted = new Accepted();
  const listener = new XmppListener({ port: 0, kind: 'websocket', ...opts });
  await listener.start(accepted.push);
  return { listener, accepted, url: `ws://127.0.0.1:${listener.address().port}/xmpp-websocket` };
}

test('websocket: <open/>/<close/> framing, standalone elements, subprotocol xmpp', async () => {
  const { listener, accepted, url } = await listen();
  const client = await open(url, 'xmpp');
  assert.is(client.ws.protocol, 'xmpp');
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  assert.is(t.kind, 'websocket');
  assert.not.ok(t.isSecure());
  assert.not.ok(t.canStartTls());
  client.ws.send(OPEN);
  const start = await rec.next();
  assert.is(start.type, 'streamStart');
  if (start.type === 'streamStart') {
    assert.is(start.header.name, 'stream');
    assert.is(start.header.ns, NS.STREAMS);
    assert.equal({ ...start.header.attrs }, { to: 'example.com', version: '1.0' });
    assert.is(start.contentNs, NS.CLIENT);
  }
  t.sendHeader({ from: 'example.com', id: 'abc', version: '1.0', 'xml:lang': 'en' });
  assert.is(await client.message(0), '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="example.com" id="abc" version="1.0" xml:lang="en"/>');
  t.sendElement(xml('features', { xmlns: NS.STREAMS }, xml('bind', { xmlns: NS.BIND })));
  t.sendElement(xml('message', { to: 'a@example.com' }, xml('body', {}, 'hi')));
  assert.is(await client.message(1), `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>`);
  assert.is(await client.message(2), '<message xmlns="jabber:client" to="a@example.com"><body>hi</body></message>');
  client.ws.send("<message xmlns='jabber:client' to='b@example.com' id='1'><body>yo</body></message>");
  client.ws.send("<iq to='example.com' type='get' id='2'><ping xmlns='urn:xmpp:ping'/></iq>");
  const m = await rec.next();
  assert.ok(m.type === 'element' && m.element.is('message', NS.CLIENT) && m.element.getChildText('body') === 'yo');
  const q = await rec.next();
  assert.ok(q.type === 'element' && q.element.is('iq', NS.CLIENT), 'an element without xmlns is in jabber:client');
  client.ws.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  assert.is((await rec.next()).type, 'streamEnd');
  t.sendTrailer();
  t.close();
  assert.is(await client.message(3), '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
  await client.waitClosed();
  assert.is((await rec.next()).type, 'close');
  await listener.stop();
});

test('websocket: a handshake without the xmpp subprotocol or on another path is refused', async () => {
  const { listener, url } = await listen();
  let err: Error | undefined;
  await open(url, undefined).catch((e: Error) => (err = e));
  assert.match(err!.message, /400/);
  err = undefined;
  await open(url, 'chat').catch((e: Error) => (err = e));
  assert.match(err!.message, /400/);
  err = undefined;
  await open(url.replace('/xmpp-websocket', '/other'), 'xmpp').catch((e: Error) => (err = e));
  assert.match(err!.message, /404/);
  assert.is(listener.connectionCount, 0);
  await listener.stop();
});

test('websocket: oversized or malformed message → stream error', async () => {
  const { listener, accepted, url } = await listen({ maxStanzaSize: 1000 });
  for (const [bad, condition] of [
    [`<message xmlns='jabber:client'><body>${'x'.repeat(1500)}</body></message>`, 'policy-violation'],
    ["<message xmlns='jabber:client'><body></message>", 'not-well-formed'],
  ] as const) {
    const client = await open(url, 'xmpp');
    const t = await accepted.next();
    const rec = new Recorder();
    t.attach(rec);
    client.ws.send(OPEN);
    assert.is((await rec.next()).type, 'streamStart');
    client.ws.send(bad);
    const e = await rec.next();
    assert.ok(e.type === 'streamError' && e.error.condition === condition, condition);
    t.sendElement(e.type === 'streamError' ? e.error.toElement() : xml('x'));
    t.sendTrailer();
    t.close();
    await client.waitClosed();
    assert.match(client.messages[0]!, new RegExp(`^<stream:error xmlns:stream='http://etherx.jabber.org/streams'><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`));
    await rec.nextOf('close');
  }
  await listener.stop();
});

test('websocket: wss (tls direct) is secure with channel binding', async () => {
  const cert = await testCertificate();
  const accepted = new Accepted();
  const listener = new XmppListener({ port: 0, kind: 'websocket', tls: 'direct', certificate: cert });
  await listener.start(accepted.push);
  const client = await open(`wss://127.0.0.1:${listener.address().port}/xmpp-websocket`, 'xmpp', { rejectUnauthorized: false });
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  assert.ok(t.isSecure());
  assert.ok(t.channelBindingTypes().includes('tls-server-end-point'));
  client.ws.close();
  await rec.nextOf('close');
  await listener.stop();
});

test('websocket: behind a TLS proxy (secure: true) counts as secure', async () => {
  const { listener, accepted, url } = await listen({ secure: true });
  const client = await open(url, ['xmpp']);
  const t = await accepted.next();
  t.attach(new Recorder());
  assert.ok(t.isSecure());
  assert.equal(t.channelBindingTypes(), []);
  t.close();
  await client.waitClosed();
  await listener.stop();
});

test.run();
