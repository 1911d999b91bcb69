import { test, suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { XmppListener } from '../../../src/c2s/transports/listener.ts';
import { TcpTransport } from '../../../src/c2s/transports/tcp.ts';
import { xml } from '../../../src/core/xml/element.ts';
import { StreamError } from '../../../src/core/errors.ts';
import { NS } from '../../../src/core/namespaces.ts';
import { Accepted, Collector, FakeClock, HEADER, Recorder, testCertificate } from './helpers.ts';

const pause = () => new Promise<void>((r) => setImmediate(r));

async function listen(opts: Partial<ConstructorParameters<typeof XmppListener>[0]> = {}) {
  const accepted = new Accepted();
  const listener = new XmppListener({ port: 0, ...opts });
  await listener.start(accepted.push);
  const { port } = listener.address();
  return { listener, accepted, port };
}

function connectPlain(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const tcp = suite('tcp transport');

tcp('bytes in → stream events, split across packets', async () => {
  const { listener, accepted, port } = await listen();
  const client = await connectPlain(port);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  assert.is(t.kind, 'tcp');
  assert.is(t.remoteAddress, '127.0.0.1');
  assert.not.ok(t.isSecure());
  assert.not.ok(t.canStartTls());
  const input = HEADER + "<message to='bob@example.com' type='chat'><body>h\u00e9llo &amp; bye</body></message><presence/></stream:stream>";
  const bytes = Buffer.from(input);
  for (const cut of [10, 60, 150, 170, 171, bytes.length]) {
    client.write(bytes.subarray(cut === 10 ? 0 : [10, 60, 150, 170, 171, bytes.length][[10, 60, 150, 170, 171, bytes.length].indexOf(cut) - 1], cut));
    await pause();
  }
  const start = await rec.next();
  assert.is(start.type, 'streamStart');
  if (start.type === 'streamStart') {
    assert.is(start.header.name, 'stream');
    assert.is(start.header.ns, NS.STREAMS);
    assert.is(start.header.attrs.to, 'example.com');
    assert.is(start.contentNs, NS.CLIENT);
  }
  const m = await rec.next();
  assert.is(m.type, 'element');
  if (m.type === 'element') {
    assert.is(m.element.name, 'message');
    assert.is(m.element.ns, NS.CLIENT);
    assert.is(m.element.getChildText('body'), 'h\u00e9llo & bye');
  }
  assert.is((await rec.next()).type, 'element');
  assert.is((await rec.next()).type, 'streamEnd');
  client.end();
  assert.is((await rec.next()).type, 'close');
  await listener.stop();
});

tcp('server output: header, prefixed stream elements, stanzas, trailer, close', async () => {
  const { listener, accepted, port } = await listen();
  const client = await connectPlain(port);
  const out = new Collector(client);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  t.sendHeader({ from: 'example.com', id: 'abc', version: '1.0', 'xml:lang': 'en' });
  t.sendElement(xml('features', { xmlns: NS.STREAMS }, xml('mechanisms', { xmlns: NS.SASL }, xml('mechanism', {}, 'PLAIN'))));
  t.sendElement(xml('message', { to: 'a@example.com', from: "b@example.com/'r" }, xml('body', {}, '<hi>')));
  t.sendTrailer();
  t.close();
  await out.closed();
  assert.is(
    out.text,
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='abc' version='1.0' xml:lang='en'>" +
      '<stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>' +
      '<message to="a@example.com" from="b@example.com/&apos;r"><body>&lt;hi&gt;</body></message>' +
      '</stream:stream>',
  );
  assert.is((await rec.next()).type, 'close');
  await listener.stop();
});

tcp('writes issued in one tick are coalesced into one socket write', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = await connectPlain(port);
  const out = new Collector(client);
  const sock = await accepted;
  let writes = 0;
  const orig = sock.write.bind(sock);
  sock.write = ((...args: Parameters<Socket['write']>) => {
    writes++;
    return orig(...args);
  }) as Socket['write'];
  const t = new TcpTransport(sock);
  t.attach(new Recorder());
  for (let i = 0; i < 100; i++) t.sendElement(xml('message', { to: 'a@b', id: String(i) }));
  assert.is(writes, 0, 'nothing written synchronously');
  await out.until('id="99"');
  assert.is(writes, 1);
  t.close();
  client.end();
  await out.closed();
  await new Promise<void>((r) => server.close(() => r()));
});

tcp('parse errors → onStreamError (not-well-formed, policy-violation), nothing after', async () => {
  const { listener, accepted, port } = await listen({ maxStanzaSize: 1000 });
  for (const [bad, condition] of [
    ['<message><body>x</bodyy></message>', 'not-well-formed'],
    [`<message><body>${'x'.repeat(2000)}</body></message>`, 'policy-violation'],
  ] as const) {
    const client = await connectPlain(port);
    const t = await accepted.next();
    const rec = new Recorder();
    t.attach(rec);
    // Header, a good stanza and a bad one in one read: what came before the fault is
    // delivered first, then the error, then nothing (the `<presence/>` after it is lost).
    client.write(HEADER + "<message id='ok'/>" + bad + '<presence/>');
    assert.is((await rec.next()).type, 'streamStart');
    const ok = await rec.next();
    assert.ok(ok.type === 'element' && ok.element.attrs.id === 'ok', JSON.stringify(ok));
    const e = await rec.next();
    assert.is(e.type, 'streamError');
    if (e.type === 'streamError') {
      assert.instance(e.error, StreamError);
      assert.is(e.error.condition, condition);
    }
    t.close();
    assert.is((await rec.next()).type, 'close');
    client.destroy();
  }
  await listener.stop();
});

tcp('pause holds events until resume; a closed socket still delivers what was read, then onClose', async () => {
  const { listener, accepted, port } = await listen();
  const client = await connectPlain(port);
  const t = await accepted.next();
  const got: string[] = [];
  let resumeAt = -1;
  let closeWaiter: () => void = () => {};
  const closed = new Promise<void>((r) => (closeWaiter = r));
  t.attach({
    onStreamEvent(ev) {
      got.push(ev.type === 'element' ? ev.element.attrs.id! : ev.type);
      if (ev.type === 'element' && ev.element.attrs.id === '1') {
        t.pause();
        resumeAt = got.length;
        setImmediate(() => setImmediate(() => t.resume()));
      }
    },
    onStreamError() {},
    onSocketError() {},
    onClose() {
      got.push('close');
      closeWaiter();
    },
  });
  client.end(HEADER + "<message id='1'/><message id='2'/><message id='3'/>");
  await closed;
  assert.equal(got, ['streamStart', '1', '2', '3', 'close']);
  assert.is(resumeAt, 2);
  await listener.stop();
});

tcp('a paused connection that closes still gets onClose', async () => {
  const { listener, accepted, port } = await listen();
  const client = await connectPlain(port);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  client.write(HEADER);
  assert.is((await rec.next()).type, 'streamStart');
  t.pause();
  client.write("<message id='never'/>");
  t.close();
  const e = await rec.next();
  assert.is(e.type, 'close', 'queued stream events are dropped after close(), onClose is not');
  client.destroy();
  await listener.stop();
});

tcp('maxConnections: an extra connection gets resource-constraint and is closed', async () => {
  const { listener, accepted, port } = await listen({ maxConnections: 1 });
  const c1 = await connectPlain(port);
  const t1 = await accepted.next();
  t1.attach(new Recorder());
  const c2 = await connectPlain(port);
  const out = new Collector(c2);
  await out.closed();
  assert.match(out.text, /<stream:stream [^>]*><stream:error><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
  assert.match(out.text, /<\/stream:stream>$/);
  assert.is(listener.connectionCount, 1);
  t1.close();
  c1.end();
  await listener.stop();
});

tcp('plainAllowed: loopback only unless configured', async () => {
  const l1 = new XmppListener({ port: 0 });
  const l2 = new XmppListener({ port: 0, allowPlainWithoutTls: true });
  const fake = (remoteAddress: string, secure = false) => ({ remoteAddress, isSecure: () => secure }) as never;
  assert.ok(l1.plainAllowed(fake('127.0.0.1')));
  assert.ok(l1.plainAllowed(fake('::1')));
  assert.not.ok(l1.plainAllowed(fake('192.0.2.1')));
  assert.ok(l1.plainAllowed(fake('192.0.2.1', true)));
  assert.ok(l2.plainAllowed(fake('192.0.2.1')));
  assert.throws(() => new XmppListener({ port: 0, tls: 'required' }), /certificate/);
});

tcp.run();

// ------------------------------------------------------------------ TLS
const tls = suite('tcp transport: STARTTLS and direct TLS');

/** Client side of STARTTLS: header, wait for features, <starttls/>, wait for <proceed/>, handshake. */
async function clientStartTls(port: number, inject = ''): Promise<{ secure: TLSSocket; out: Collector }> {
  const raw = await connectPlain(port);
  const plain = new Collector(raw);
  raw.write(HEADER);
  await plain.until('</stream:features>');
  raw.write(`<starttls xmlns='${NS.TLS}'/>` + inject);
  await plain.until('<proceed');
  raw.removeAllListeners('data');
  const secure = await new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
  return { secure, out: new Collector(secure) };
}

/** Server side: answer the header with features, <proceed/> on <starttls/>, upgrade. */
async function serverStartTls(t: import('../../../src/c2s/transport.ts').XmppTransport, rec: Recorder): Promise<void> {
  assert.is((await rec.next()).type, 'streamStart');
  t.sendHeader({ from: 'example.com', id: '1', version: '1.0' });
  t.sendElement(xml('features', { xmlns: NS.STREAMS }, xml('starttls', { xmlns: NS.TLS }, xml('required'))));
  const st = await rec.next();
  assert.ok(st.type === 'element' && st.element.is('starttls', NS.TLS));
  t.sendElement(xml('proceed', { xmlns: NS.TLS }));
  await t.startTls();
}

tls('STARTTLS upgrade, new stream, channel binding equals the client view', async () => {
  const cert = await testCertificate();
  const { listener, accepted, port } = await listen({ tls: 'required', certificate: cert });
  const client = clientStartTls(port);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  assert.ok(t.canStartTls());
  assert.equal(t.channelBindingTypes(), []);
  await serverStartTls(t, rec);
  const { secure, out } = await client;
  assert.ok(t.isSecure());
  assert.not.ok(t.canStartTls());
  assert.equal([...t.channelBindingTypes()].sort(), ['tls-exporter', 'tls-server-end-point']);
  const exporter = t.channelBinding('tls-exporter')!;
  assert.is(exporter.length, 32);
  assert.ok(exporter.equals(secure.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))));
  const endPoint = createHash('sha256').update(secure.getPeerCertificate().raw).digest();
  assert.ok(t.channelBinding('tls-server-end-point')!.equals(endPoint));
  secure.write(HEADER + "<message id='over-tls'/>");
  const s2 = await rec.next();
  assert.is(s2.type, 'streamStart');
  const m = await rec.next();
  assert.ok(m.type === 'element' && m.element.attrs.id === 'over-tls');
  t.sendHeader({ from: 'example.com', id: '2', version: '1.0' });
  t.sendElement(xml('message', { id: 'back' }));
  await out.until(`<message id="back"/>`);
  assert.match(out.text, /^<\?xml version='1.0'\?><stream:stream [^>]*id='2'/);
  t.close();
  secure.end();
  assert.is((await rec.nextOf('close')).type, 'close');
  await listener.stop();
});

tls('STARTTLS: plaintext sent after <starttls/> is discarded (no injection)', async () => {
  const cert = await testCertificate();
  const { listener, accepted, port } = await listen({ tls: 'optional', certificate: cert });
  const client = clientStartTls(port, "<message id='injected'/>");
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  await serverStartTls(t, rec);
  const { secure } = await client;
  secure.write(HEADER + "<message id='real'/>");
  assert.is((await rec.next()).type, 'streamStart');
  const m = await rec.next();
  assert.ok(m.type === 'element' && m.element.attrs.id === 'real', 'the injected stanza never arrives');
  t.close();
  secure.destroy();
  await rec.nextOf('close');
  await listener.stop();
});

tls('STARTTLS handshake failure rejects and closes', async () => {
  const cert = await testCertificate();
  const { listener, accepted, port } = await listen({ tls: 'optional', certificate: cert });
  const raw = await connectPlain(port);
  const plain = new Collector(raw);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  raw.write(HEADER);
  assert.is((await rec.next()).type, 'streamStart');
  t.sendElement(xml('proceed', { xmlns: NS.TLS }));
  const upgrade = t.startTls();
  await plain.until('<proceed');
  raw.write('this is not a TLS ClientHello\r\n\r\n');
  let failed = false;
  await upgrade.catch(() => (failed = true));
  assert.ok(failed);
  await rec.nextOf('close');
  raw.destroy();
  await listener.stop();
});

tls('STARTTLS handshake timeout uses the injected clock', async () => {
  const cert = await testCertificate();
  const clock = new FakeClock();
  const { listener, accepted, port } = await listen({ tls: 'optional', certificate: cert, clock });
  const raw = await connectPlain(port);
  const plain = new Collector(raw);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  t.sendElement(xml('proceed', { xmlns: NS.TLS }));
  const upgrade = t.startTls();
  await plain.until('<proceed');
  // The client never starts the handshake.
  while (clock.pending === 0) await pause();
  clock.advance(5000);
  let err: Error | undefined;
  await upgrade.catch((e: Error) => (err = e));
  assert.match(err!.message, /timeout/);
  await rec.nextOf('close');
  raw.destroy();
  await listener.stop();
});

tls('direct TLS (XEP-0368)', async () => {
  const cert = await testCertificate();
  const { listener, accepted, port } = await listen({ tls: 'direct', certificate: cert });
  const secure = await new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
  const out = new Collector(secure);
  const t = await accepted.next();
  const rec = new Recorder();
  t.attach(rec);
  assert.is(t.kind, 'tls');
  assert.ok(t.isSecure());
  assert.not.ok(t.canStartTls());
  assert.ok(t.channelBinding('tls-exporter')!.equals(secure.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))));
  secure.write(HEADER);
  assert.is((await rec.next()).type, 'streamStart');
  t.sendHeader({ from: 'example.com', id: 'd', version: '1.0' });
  await out.until("id='d'");
  t.sendTrailer();
  t.close();
  await out.closed();
  await rec.nextOf('close');
  await listener.stop();
});

tls.run();
