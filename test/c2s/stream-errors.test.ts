// Stream header checks and start-time stream errors (RFC 6120 §4.7–§4.9, reference §1.3),
// each as a conversation: client sends X, server answers header + <stream:error> + trailer and closes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { xml } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'secret' };

function assertStreamError(c: TestClient, condition: string): void {
  assert.is(c.streamError, condition, `stream error ${c.streamError} (wanted ${condition})`);
  assert.ok(c.headers >= 1, 'a header is sent before the error');
  assert.ok(c.trailer, 'trailer sent');
  assert.ok(c.closed, 'connection closed');
  assert.ok(c.connection.closed, 'connection torn down');
}

test('host-unknown: the stream is addressed to a domain we do not serve', async () => {
  const server = await createTestServer();
  const c = server.connect();
  c.sendStreamHeader({ to: 'elsewhere.example' });
  await c.settle();
  assertStreamError(c, 'host-unknown');
});

test('host-unknown: no `to` at all', async () => {
  const server = await createTestServer();
  const c = server.connect();
  c.sendStreamHeader({ to: null });
  await c.settle();
  assertStreamError(c, 'host-unknown');
});

test('invalid-namespace: wrong stream namespace', async () => {
  const server = await createTestServer();
  const c = server.connect();
  c.sendStreamHeader({ streamNs: 'urn:wrong' });
  await c.settle();
  assertStreamError(c, 'invalid-namespace');
});

test('invalid-namespace: content namespace is not jabber:client', async () => {
  const server = await createTestServer();
  const c = server.connect();
  c.sendStreamHeader({ contentNs: 'jabber:server' });
  await c.settle();
  assertStreamError(c, 'invalid-namespace');
});

test('unsupported-version: version missing (means 0.9, RFC 6120 §4.7.5) or below 1.0', async () => {
  const server = await createTestServer();
  for (const version of [null, '0.9']) {
    const c = server.connect();
    c.sendStreamHeader({ version });
    await c.settle();
    assertStreamError(c, 'unsupported-version');
  }
  const ok = server.connect();
  await ok.openStream({ version: '1.5' });
  assert.is(ok.header?.version, '1.0');
});

test('invalid-from: the header `from` is not the user who authenticates', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream({ from: 'mallory@localhost' });
  assert.is(c.header?.to, 'mallory@localhost', 'reply header carries to = client from');
  c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`);
  await c.settle();
  assertStreamError(c, 'invalid-from');
});

test('invalid-from: the restarted stream after SASL names another user', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream();
  assert.is(await c.trySasl('alice', 'secret'), true);
  c.sendStreamHeader({ from: 'bob@localhost' });
  await c.settle();
  assertStreamError(c, 'invalid-from');
});

test('matching `from` is accepted before and after SASL', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream({ from: 'alice@localhost' });
  assert.is(await c.trySasl('alice', 'secret'), true);
  await c.openStream({ from: 'alice@localhost' });
  assert.is(await c.bind('r'), 'alice@localhost/r');
});

test('not-well-formed: an element where a stream header was due', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream();
  assert.is(await c.trySasl('alice', 'secret'), true);
  c.send(`<message to='bob@localhost'/>`);
  await c.settle();
  assertStreamError(c, 'not-well-formed');
});

test('not-well-formed: broken XML after the header', async () => {
  const server = await createTestServer();
  const c = server.connect();
  await c.openStream();
  c.send(`<message><body>hi</body></foo>`);
  await c.settle();
  assertStreamError(c, 'not-well-formed');
});

test('restricted-xml: a processing instruction or comment at stanza level (RFC 6120 §11.1)', async () => {
  const server = await createTestServer();
  for (const junk of ['<!-- hello -->', '<?foo bar?>']) {
    const c = server.connect();
    await c.openStream();
    c.send(junk);
    await c.settle();
    assertStreamError(c, 'restricted-xml');
  }
});

test('policy-violation: an oversized stanza', async () => {
  const server = await createTestServer();
  const c = server.connect({ maxStanzaSize: 1000 });
  await c.openStream();
  c.send(`<message><body>${'x'.repeat(2000)}</body></message>`);
  await c.settle();
  assertStreamError(c, 'policy-violation');
});

test('policy-violation: a second stream header outside awaitingStream', async () => {
  const server = await createTestServer();
  const c = server.connect();
  await c.openStream();
  // Only the start tag: the parser reports it at once, without waiting for a close tag.
  c.sendStreamHeader();
  await c.settle();
  assertStreamError(c, 'policy-violation');
  assert.is(c.headers, 1, 'no second header from the server');
});

test('policy-violation: a second stream header as an injected event (the connection alone)', async () => {
  const server = await createTestServer();
  const c = server.connect();
  await c.openStream();
  const header = xml('stream', { xmlns: 'http://etherx.jabber.org/streams', to: 'localhost', version: '1.0' });
  c.transport.clientInject({ type: 'streamStart', header, contentNs: 'jabber:client' });
  await c.settle();
  assertStreamError(c, 'policy-violation');
  assert.is(c.headers, 1, 'no second header from the server');
});

test('not-well-formed: header and broken stanza in one packet → our header first, then the error', async () => {
  const server = await createTestServer();
  const c = server.connect();
  c.send(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message><body>hi</body></foo>`);
  await c.settle();
  assertStreamError(c, 'not-well-formed');
  assert.is(c.headers, 1, 'the server answered the header');
  const wire = c.transport.wire;
  assert.ok(wire[0]!.startsWith('<stream:stream'), `header first: ${wire.join('')}`);
  const errAt = wire.findIndex((s) => s.includes('not-well-formed'));
  assert.ok(errAt > 0, `then the stream error: ${wire.join('')}`);
  assert.is(wire[wire.length - 1], '</stream:stream>');
  // The header was processed as the client's (features offered), not skipped by the error.
  assert.equal(c.received().map((e) => e.name), ['features', 'error']);
});

test('connection-timeout: nothing arrives within the pre-session state timeout', async () => {
  const server = await createTestServer();
  const c = server.connect();
  server.clock.advance(4999);
  assert.not.ok(c.closed);
  server.clock.advance(1);
  await c.settle();
  assertStreamError(c, 'connection-timeout');
  assert.is(server.clock.pending, 0, 'no timer left behind');
});

test('xml:lang is kept when 1..35 bytes, else the default; every header gets a new stream id', async () => {
  const server = await createTestServer({ users: USERS, listener: { defaultLang: 'en' } });
  const c = server.connect();
  await c.openStream({ lang: 'de-CH' });
  assert.is(c.header?.['xml:lang'], 'de-CH');
  assert.is(c.connection.lang, 'de-CH');
  const id1 = c.header?.id;
  assert.is(await c.trySasl('alice', 'secret'), true);
  await c.openStream({ lang: 'x'.repeat(36) });
  assert.is(c.header?.['xml:lang'], 'en');
  assert.ok(c.header?.id && c.header.id !== id1, 'new stream id after SASL');
});

test('the client trailer is answered with ours and the connection closes (not dormant)', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.login('alice@localhost', 'secret');
  c.send('</stream:stream>');
  await c.settle();
  assert.ok(c.trailer);
  assert.ok(c.closed);
  assert.is(c.streamError, undefined);
  assert.is(server.sessions.count(), 0);
});

test.run();
