// STARTTLS (RFC 6120 §5): offered, required, refused, and the fake upgrade of the test kit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { NS } from '../../src/core/namespaces.ts';

const USERS = { 'alice@localhost': 'secret' };

test('offered when possible; <proceed/>, upgrade, new stream with a new id', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  const features = await c.openStream();
  const starttls = features.getChild('starttls', NS.TLS);
  assert.ok(starttls);
  assert.not.ok(starttls!.getChild('required'));
  const id1 = c.header?.id;
  const after = await c.startTls();
  assert.ok(c.transport.isSecure());
  assert.ok(c.connection.isSecure);
  assert.not.ok(after.getChild('starttls', NS.TLS), 'not offered twice');
  assert.is.not(c.header?.id, id1);
  assert.is(c.connection.state, 'preAuth');
  await c.authenticate('alice', 'secret');
  assert.is(await c.bind('x'), 'alice@localhost/x');
});

test("tls: 'required' — only <starttls><required/></starttls> until TLS is on", async () => {
  const server = await createTestServer({ users: USERS, listener: { tls: 'required' } });
  const c = server.connect();
  const features = await c.openStream();
  assert.equal(features.elements().map((e) => e.name), ['starttls']);
  assert.ok(features.getChild('starttls', NS.TLS)!.getChild('required'));
  const after = await c.startTls();
  assert.ok(after.getChild('mechanisms', NS.SASL));
  await c.authenticate('alice', 'secret', 'SCRAM-SHA-512');
});

test("tls: 'required' — SASL before TLS: <failure><encryption-required/></failure>, then the stream closes", async () => {
  const server = await createTestServer({ users: USERS, listener: { tls: 'required' } });
  const c = server.connect();
  await c.openStream();
  c.send(`<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`);
  await c.settle();
  assert.ok(c.expect((e) => e.name === 'failure' && e.ns === NS.SASL).getChild('encryption-required'));
  // RFC 6120 §4.9.3 defines no `encryption-required` stream condition: policy-violation it is.
  assert.is(c.streamError, 'policy-violation');
  assert.ok(c.closed);
});

test('not offered when the transport cannot; <starttls/> anyway → <failure/> and close (RFC 6120 §5.4.2.2)', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect({ canStartTls: false });
  const features = await c.openStream();
  assert.not.ok(features.getChild('starttls', NS.TLS));
  c.send(`<starttls xmlns='${NS.TLS}'/>`);
  await c.settle();
  c.expect((e) => e.name === 'failure' && e.ns === NS.TLS, 'tls failure');
  assert.ok(c.trailer);
  assert.ok(c.closed);
});

test("tls: 'off' never offers STARTTLS", async () => {
  const server = await createTestServer({ users: USERS, listener: { tls: 'off' } });
  const c = server.connect();
  assert.not.ok((await c.openStream()).getChild('starttls', NS.TLS));
});

test('a failed handshake closes the connection', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect({ failTls: true });
  await c.openStream();
  c.send(`<starttls xmlns='${NS.TLS}'/>`);
  await c.settle();
  c.expect((e) => e.name === 'proceed');
  assert.ok(c.connection.closed);
  assert.ok(c.closed);
});

test('direct TLS: already secure, no STARTTLS, -PLUS mechanisms offered', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect({ secure: true, remoteAddress: '198.51.100.7' });
  const features = await c.openStream();
  assert.not.ok(features.getChild('starttls', NS.TLS));
  const mechs = features.getChild('mechanisms', NS.SASL)!.getChildren('mechanism').map((m) => m.text());
  assert.ok(mechs.includes('SCRAM-SHA-1-PLUS') && mechs.includes('PLAIN'));
});

test.run();
