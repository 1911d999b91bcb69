// SASL through the machine (RFC 6120 §6): every mechanism end to end, failures with their
// RFC 6120 §6.5 condition, retries, abort, and PLAIN only over TLS or from loopback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { authFailed } from '../../src/c2s/hooks.ts';
import { defaultMechanisms } from '../../src/c2s/sasl/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'secret' };
const mechanisms = (features: XmlElement) => features.getChild('mechanisms', NS.SASL)?.getChildren('mechanism').map((m) => m.text()) ?? [];
const plainAuth = (user: string, pw: string) =>
  `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${pw}`).toString('base64')}</auth>`;

for (const mech of ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
  test(`${mech}: authenticate, restart, bind`, async () => {
    const server = await createTestServer({ users: USERS });
    const c = server.connect();
    const features = await c.openStream();
    assert.ok(mechanisms(features).includes(mech));
    const post = await c.authenticate('alice', 'secret', mech);
    assert.ok(post.getChild('bind', NS.BIND), 'bind offered after auth');
    assert.is(c.connection.info.authMechanism, mech);
    assert.is(await c.bind('home'), 'alice@localhost/home');
    assert.is(c.connection.state, 'established');
  });
}

test('SCRAM-SHA-256-PLUS after STARTTLS (channel binding, XEP-0440 advertised)', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  const before = await c.openStream();
  assert.not.ok(mechanisms(before).some((m) => m.endsWith('-PLUS')), 'no -PLUS without TLS');
  const after = await c.startTls();
  assert.ok(mechanisms(after).includes('SCRAM-SHA-256-PLUS'));
  assert.ok(after.getChild('sasl-channel-binding', NS.SASL_CB));
  await c.authenticate('alice', 'secret', 'SCRAM-SHA-256-PLUS');
  assert.is(await c.bind('tls'), 'alice@localhost/tls');
});

test('wrong password: <failure><not-authorized/></failure>, authFailed runs, the stream stays open', async () => {
  const server = await createTestServer({ users: USERS });
  const failures: (string | undefined)[] = [];
  server.hooks.add(authFailed, 'localhost', (ef, p) => {
    failures.push(`${p.username}@${p.server}:${p.condition}`);
    return undefined;
  });
  const c = server.connect();
  await c.openStream();
  assert.is(await c.trySasl('alice', 'wrong'), 'not-authorized');
  assert.is(await c.trySasl('alice', 'wrong', 'SCRAM-SHA-1'), 'not-authorized');
  assert.equal(failures, ['alice@localhost:not-authorized', 'alice@localhost:not-authorized']);
  assert.not.ok(c.closed);
  assert.is(await c.trySasl('alice', 'secret'), true, 'a later attempt may succeed');
});

test('retries exhausted: from 3, the 4th failure closes the stream (reference §1.5)', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream();
  for (let i = 1; i <= 3; i++) {
    assert.is(await c.trySasl('alice', 'wrong'), 'not-authorized');
    assert.not.ok(c.closed, `open after failure ${i}`);
  }
  assert.is(await c.trySasl('alice', 'wrong'), 'not-authorized');
  assert.ok(c.trailer);
  assert.ok(c.closed, 'closed after the 4th failure');
});

test('authRetries is a listener option', async () => {
  const server = await createTestServer({ users: USERS, listener: { authRetries: 0 } });
  const c = server.connect();
  await c.openStream();
  assert.is(await c.trySasl('alice', 'wrong'), 'not-authorized');
  assert.ok(c.closed);
});

test('<abort/> fails the exchange with `aborted` and uses a retry', async () => {
  const server = await createTestServer({ users: USERS, listener: { authRetries: 1 } });
  const c = server.connect();
  await c.openStream();
  c.send(`<auth xmlns='${NS.SASL}' mechanism='SCRAM-SHA-256'>${Buffer.from('n,,n=alice,r=abcdefgh').toString('base64')}</auth>`);
  await c.settle();
  c.expect((e) => e.name === 'challenge', 'challenge');
  assert.is(c.connection.state, 'saslChallenge');
  c.send(`<abort xmlns='${NS.SASL}'/>`);
  await c.settle();
  const f = c.expect((e) => e.name === 'failure', 'failure');
  assert.ok(f.getChild('aborted'));
  assert.is(c.connection.state, 'preAuth');
  c.send(`<abort xmlns='${NS.SASL}'/>`);
  await c.settle();
  assert.ok(c.closed, 'second failure with 1 retry closes');
});

test('unknown mechanism → invalid-mechanism; bad base64 → incorrect-encoding', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream();
  c.send(`<auth xmlns='${NS.SASL}' mechanism='DIGEST-MD5'/>`);
  await c.settle();
  assert.ok(c.expect((e) => e.name === 'failure').getChild('invalid-mechanism'));
  c.send(`<auth xmlns='${NS.SASL}' mechanism='PLAIN'>!!not base64!!</auth>`);
  await c.settle();
  assert.ok(c.expect((e) => e.name === 'failure').getChild('incorrect-encoding'));
});

test('PLAIN is not offered (nor accepted) without TLS from a non-loopback peer; offered after STARTTLS', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect({ remoteAddress: '203.0.113.9' });
  const features = await c.openStream();
  assert.not.ok(mechanisms(features).includes('PLAIN'));
  c.send(plainAuth('alice', 'secret'));
  await c.settle();
  assert.ok(c.expect((e) => e.name === 'failure').getChild('invalid-mechanism'));
  const secured = await c.startTls();
  assert.ok(mechanisms(secured).includes('PLAIN'));
  await c.authenticate('alice', 'secret', 'PLAIN');
});

test('allowPlainWithoutTls offers PLAIN to remote peers in the clear', async () => {
  const server = await createTestServer({ users: USERS, listener: { allowPlainWithoutTls: true } });
  const c = server.connect({ remoteAddress: '203.0.113.9' });
  assert.ok(mechanisms(await c.openStream()).includes('PLAIN'));
});

test('a stanza before authentication is a not-authorized stream error', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream();
  c.send(`<message to='bob@localhost'><body>hi</body></message>`);
  await c.settle();
  assert.is(c.streamError, 'not-authorized');
  assert.ok(c.closed);
});

test('ANONYMOUS: off by default; when enabled, a generated identity binds', async () => {
  const off = await createTestServer({ mechanisms: defaultMechanisms({ anonymous: true }) });
  const c1 = off.connect();
  assert.not.ok(mechanisms(await c1.openStream()).includes('ANONYMOUS'), 'host type does not allow it');
  const server = await createTestServer({ mechanisms: defaultMechanisms({ anonymous: true }), allowAnonymous: true });
  const c = server.connect();
  assert.ok(mechanisms(await c.openStream()).includes('ANONYMOUS'));
  await c.authenticate('', '', 'ANONYMOUS');
  assert.match(await c.bind('r'), /^[^@]+@localhost\/r$/);
});

test.run();
