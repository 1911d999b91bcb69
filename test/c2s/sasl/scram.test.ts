import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scramMechanism, startSasl, defaultMechanisms, offeredMechanisms } from '../../../src/c2s/sasl/index.ts';
import type { SaslMechanism } from '../../../src/c2s/sasl/index.ts';
import { MemoryAuthStore } from '../../../src/storage/memory/auth-store.ts';
import { ScramClient, assertKind, buf, makeContext, mustSession, storeWith, text } from './fixtures.ts';

const TLS_EXPORTER = Buffer.from('d3b2f1e0a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabb', 'hex');
const END_POINT = Buffer.from('8f2a61b4c0d9e7f6a5b4c3d2e1f00112233445566778899aabbccddeeff0011', 'hex');

test('RFC 5802 §5: the SCRAM-SHA-1 example, byte for byte', async () => {
  const store = await storeWith('user', 'pencil', { salt: Buffer.from('QSXCR+Q6sek8bf92', 'base64'), iterations: 4096, hashes: ['sha1'] });
  const mech = scramMechanism('sha1', { serverNonce: () => '3rfcNHYJY1ZVvWVs7j' });
  assert.is(mech.name, 'SCRAM-SHA-1');
  const { first, session } = await mech.start(makeContext(store), buf('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
  assert.is(text(assertKind(first, 'challenge').data), 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
  const done = await mustSession(session).step(buf('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
  const ok = assertKind(done, 'success');
  assert.is(ok.user, 'user');
  assert.is(text(ok.data), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
});

test('RFC 7677 §3: the SCRAM-SHA-256 example, byte for byte', async () => {
  const store = await storeWith('user', 'pencil', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations: 4096, hashes: ['sha256'] });
  const mech = scramMechanism('sha256', { serverNonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' });
  const { first, session } = await mech.start(makeContext(store), buf('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.is(text(assertKind(first, 'challenge').data), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const done = await mustSession(session).step(
    buf('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='),
  );
  assert.is(text(assertKind(done, 'success').data), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

/** Run a whole exchange with the test client; returns the final step. */
async function exchange(mech: SaslMechanism, ctx: ReturnType<typeof makeContext>, client: ScramClient, opts: { plusOffered?: boolean; cbind?: Buffer; tamperProof?: boolean } = {}) {
  const { first, session } = await mech.start(ctx, buf(client.first()), { plusOffered: opts.plusOffered ?? false });
  if (first.kind !== 'challenge') return first;
  return mustSession(session).step(buf(client.final(text(first.data), opts)));
}

test('SCRAM-SHA-512 round trip (no initial response: empty challenge first)', async () => {
  const store = await storeWith('juliet', 'r0m30myr0m30');
  const mech = scramMechanism('sha512');
  const client = new ScramClient('sha512', 'r0m30myr0m30', { user: 'juliet' });
  const start = await mech.start(makeContext(store), undefined, { plusOffered: false });
  assert.is(assertKind(start.first, 'challenge').data.length, 0);
  const session = mustSession(start.session);
  const serverFirst = text(assertKind(await session.step(buf(client.first())), 'challenge').data);
  assert.ok(serverFirst.startsWith(client.clientFirstBare.split(',')[1]!), 'combined nonce starts with the client nonce');
  const ok = assertKind(await session.step(buf(client.final(serverFirst))), 'success');
  assert.is(ok.user, 'juliet');
  assert.is(text(ok.data), `v=${client.serverSignature}`);
});

test('the username is SASLprep-ed and case-mapped; =2C / =3D are decoded', async () => {
  const store = await storeWith('a,b=c', 'pw');
  const client = new ScramClient('sha256', 'pw', { user: 'A=2Cb=3DC' });
  const ok = assertKind(await exchange(scramMechanism('sha256'), makeContext(store), client), 'success');
  assert.is(ok.user, 'a,b=c');
  const bad = await exchange(scramMechanism('sha256'), makeContext(store), new ScramClient('sha256', 'pw', { user: 'a=2Db' }));
  assert.equal([bad.kind, bad.kind === 'failure' && bad.condition], ['failure', 'malformed-request']);
});

for (const [type, data] of [['tls-exporter', TLS_EXPORTER], ['tls-server-end-point', END_POINT]] as const) {
  test(`SCRAM-SHA-256-PLUS with ${type}`, async () => {
    const store = await storeWith('user', 'pencil');
    const ctx = makeContext(store, { cb: { 'tls-exporter': TLS_EXPORTER, 'tls-server-end-point': END_POINT } });
    const mech = scramMechanism('sha256', { plus: true });
    assert.is(mech.name, 'SCRAM-SHA-256-PLUS');
    const client = new ScramClient('sha256', 'pencil', { gs2Header: `p=${type},,`, cbData: data });
    const ok = assertKind(await exchange(mech, ctx, client, { plusOffered: true }), 'success');
    assert.is(text(ok.data), `v=${client.serverSignature}`);
  });
}

test('-PLUS: channel-binding data of another TLS connection → not-authorized', async () => {
  const store = await storeWith('user', 'pencil');
  const ctx = makeContext(store, { cb: { 'tls-exporter': TLS_EXPORTER } });
  const client = new ScramClient('sha256', 'pencil', { gs2Header: 'p=tls-exporter,,', cbData: Buffer.alloc(32, 7) });
  const fail = assertKind(await exchange(scramMechanism('sha256', { plus: true }), ctx, client, { plusOffered: true }), 'failure');
  assert.is(fail.condition, 'not-authorized');
  assert.is(text(fail.data), 'e=channel-bindings-dont-match');
});

test('-PLUS: a channel-binding type the transport lacks → not-authorized', async () => {
  const store = await storeWith('user', 'pencil');
  const ctx = makeContext(store, { cb: { 'tls-exporter': TLS_EXPORTER } });
  for (const header of ['p=tls-server-end-point,,', 'p=tls-unique,,']) {
    const client = new ScramClient('sha256', 'pencil', { gs2Header: header });
    const fail = assertKind(await exchange(scramMechanism('sha256', { plus: true }), ctx, client, { plusOffered: true }), 'failure');
    assert.is(fail.condition, 'not-authorized');
    assert.is(fail.text, 'unsupported-channel-binding-type');
  }
});

test('-PLUS requires p=; plain SCRAM refuses p=', async () => {
  const store = await storeWith('user', 'pencil');
  const ctx = makeContext(store, { cb: { 'tls-exporter': TLS_EXPORTER } });
  const noCb = await exchange(scramMechanism('sha256', { plus: true }), ctx, new ScramClient('sha256', 'pencil'), { plusOffered: true });
  assert.is(assertKind(noCb, 'failure').condition, 'not-authorized');
  const cbOnPlain = await exchange(scramMechanism('sha256'), ctx, new ScramClient('sha256', 'pencil', { gs2Header: 'p=tls-exporter,,', cbData: TLS_EXPORTER }), { plusOffered: true });
  assert.is(assertKind(cbOnPlain, 'failure').text, 'channel-binding-not-supported');
});

test('downgrade: flag y while -PLUS was advertised fails in strict mode (RFC 5802 §6); accepted by default (no tls-unique offered, XEP-0440); y without -PLUS is fine', async () => {
  const store = await storeWith('user', 'pencil');
  const ctx = makeContext(store, { cb: { 'tls-exporter': TLS_EXPORTER } });
  const strict = [scramMechanism('sha256', { plus: true, strictYFlag: true }), scramMechanism('sha256', { strictYFlag: true })];
  const offered = offeredMechanisms(strict, ctx, { allowPlainWithoutTls: false, remoteIsLoopback: false });
  const client = new ScramClient('sha256', 'pencil', { gs2Header: 'y,,' });
  const { first } = await startSasl(offered, 'SCRAM-SHA-256', ctx, buf(client.first()));
  const fail = assertKind(first, 'failure');
  assert.is(fail.condition, 'not-authorized');
  assert.is(fail.text, 'server-does-support-channel-binding');

  // Default: a client that only knows tls-unique (pre-XEP-0440) truthfully sends y; we offer no tls-unique.
  const lenient = offeredMechanisms(defaultMechanisms(), ctx, { allowPlainWithoutTls: false, remoteIsLoopback: false });
  assert.ok(lenient.some((m) => m.name === 'SCRAM-SHA-256-PLUS'), '-PLUS is offered');
  const clientY = new ScramClient('sha256', 'pencil', { gs2Header: 'y,,' });
  const startY = await startSasl(lenient, 'SCRAM-SHA-256', ctx, buf(clientY.first()));
  const chY = assertKind(startY.first, 'challenge');
  assertKind(await mustSession(startY.session).step(buf(clientY.final(text(chY.data)))), 'success');

  const plainCtx = makeContext(store);
  const plainOffered = offeredMechanisms(defaultMechanisms(), plainCtx, { allowPlainWithoutTls: false, remoteIsLoopback: false });
  const client2 = new ScramClient('sha256', 'pencil', { gs2Header: 'y,,' });
  const start = await startSasl(plainOffered, 'SCRAM-SHA-256', plainCtx, buf(client2.first()));
  const ch = assertKind(start.first, 'challenge');
  assertKind(await mustSession(start.session).step(buf(client2.final(text(ch.data)))), 'success');
});

test('a wrong password fails at the proof with not-authorized / e=invalid-proof', async () => {
  const store = await storeWith('user', 'pencil');
  const fail = assertKind(await exchange(scramMechanism('sha256'), makeContext(store), new ScramClient('sha256', 'crayon')), 'failure');
  assert.equal([fail.condition, text(fail.data), fail.user], ['not-authorized', 'e=invalid-proof', 'user']);
  const tampered = await exchange(scramMechanism('sha1'), makeContext(store), new ScramClient('sha1', 'pencil'), { tamperProof: true });
  assert.is(assertKind(tampered, 'failure').condition, 'not-authorized');
});

test('an unknown user gets a stable fake salt and the same failure as a wrong password', async () => {
  const store = new MemoryAuthStore();
  const ctx = makeContext(store);
  const mech = scramMechanism('sha256');
  const salts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const client = new ScramClient('sha256', 'x', { user: 'nobody' });
    const { first, session } = await mech.start(ctx, buf(client.first()));
    const serverFirst = text(assertKind(first, 'challenge').data);
    assert.match(serverFirst, /,i=4096$/);
    salts.push(serverFirst.split(',')[1]!);
    const fail = assertKind(await mustSession(session).step(buf(client.final(serverFirst))), 'failure');
    assert.equal([fail.condition, text(fail.data)], ['not-authorized', 'e=invalid-proof']);
  }
  assert.is(salts[0], salts[1]);
  const { first } = await scramMechanism('sha256', { fakeIterations: 10000 }).start(ctx, buf('n,,n=nobody,r=abc'));
  assert.match(text(assertKind(first, 'challenge').data), /,i=10000$/);
});

test('the server nonce is fresh per exchange and the client must echo the combined nonce', async () => {
  const store = await storeWith('user', 'pencil');
  const mech = scramMechanism('sha256');
  const nonces = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const { first } = await mech.start(makeContext(store), buf('n,,n=user,r=abc'));
    nonces.add(text(assertKind(first, 'challenge').data).split(',')[0]!);
  }
  assert.is(nonces.size, 3);
  const { first, session } = await mech.start(makeContext(store), buf('n,,n=user,r=abc'));
  assertKind(first, 'challenge');
  const fail = assertKind(await mustSession(session).step(buf('c=biws,r=abcXYZ,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')), 'failure');
  assert.is(fail.condition, 'not-authorized');
});

test('malformed client-first messages', async () => {
  const store = await storeWith('user', 'pencil');
  const cases: [string, string][] = [
    ['', 'malformed-request'],
    ['x,,n=user,r=abc', 'malformed-request'],
    ['n,n=user,r=abc', 'malformed-request'],
    ['n,,r=abc,n=user', 'malformed-request'],
    ['n,,n=user', 'malformed-request'],
    ['n,,m=ext,n=user,r=abc', 'malformed-request'],
    ['n,,n=user,r=a,bc', 'malformed-request'],
    ['n,,n=,r=abc', 'malformed-request'],
    ['n,a=,n=user,r=abc', 'malformed-request'],
    ['n,,n=us\0er,r=abc', 'malformed-request'],
  ];
  for (const [msg, condition] of cases) {
    const { first } = await scramMechanism('sha256').start(makeContext(store), buf(msg));
    assert.is(assertKind(first, 'failure').condition, condition, msg);
  }
  const mext = assertKind((await scramMechanism('sha256').start(makeContext(store), buf('n,,m=ext,n=user,r=abc'))).first, 'failure');
  assert.is(text(mext.data), 'e=extensions-not-supported');
  const notUtf8 = (await scramMechanism('sha256').start(makeContext(store), Buffer.from([0x6e, 0x2c, 0x2c, 0xff]))).first;
  assert.is(assertKind(notUtf8, 'failure').condition, 'malformed-request');
  // Well-formed optional extensions after the nonce are ignored (RFC 5802 §7 grammar).
  assertKind((await scramMechanism('sha256').start(makeContext(store), buf('n,,n=user,r=abc,x=1'))).first, 'challenge');
});

test('malformed or badly encoded client-final messages', async () => {
  const store = await storeWith('user', 'pencil');
  const cases: [string, string][] = [
    ['c=biws,r=NONCE', 'malformed-request'],
    ['r=NONCE,c=biws,p=AAAA', 'malformed-request'],
    ['c=biws,r=NONCE,p=***', 'incorrect-encoding'],
    ['c=b!ws,r=NONCE,p=AAAA', 'incorrect-encoding'],
    ['c=biws,r=NONCE,p=AAAA', 'not-authorized'],
  ];
  for (const [msg, condition] of cases) {
    const { first, session } = await scramMechanism('sha256', { serverNonce: () => 'S' }).start(makeContext(store), buf('n,,n=user,r=C'));
    assertKind(first, 'challenge');
    const step = await mustSession(session).step(buf(msg.replace('NONCE', 'CS')));
    assert.is(assertKind(step, 'failure').condition, condition, msg);
  }
});

test('c= must repeat the gs2 header exactly (no silent flag change)', async () => {
  const store = await storeWith('user', 'pencil');
  const client = new ScramClient('sha256', 'pencil', { gs2Header: 'n,,' });
  const fail = await exchange(scramMechanism('sha256'), makeContext(store), client, { cbind: Buffer.from('y,,') });
  assert.is(assertKind(fail, 'failure').text, 'channel-bindings-dont-match');
});

test('authzid: own bare JID accepted, anyone else → invalid-authzid', async () => {
  const store = await storeWith('user', 'pencil');
  const own = new ScramClient('sha256', 'pencil', { gs2Header: 'n,a=User@LocalHost,' });
  assertKind(await exchange(scramMechanism('sha256'), makeContext(store), own), 'success');
  const other = new ScramClient('sha256', 'pencil', { gs2Header: 'n,a=admin@localhost,' });
  assert.is(assertKind(await exchange(scramMechanism('sha256'), makeContext(store), other), 'failure').condition, 'invalid-authzid');
});

test('a user with no credentials for this hash cannot log in with it', async () => {
  const store = await storeWith('user', 'pencil', { hashes: ['sha1'] });
  const fail = await exchange(scramMechanism('sha512'), makeContext(store), new ScramClient('sha512', 'pencil'));
  assert.is(assertKind(fail, 'failure').condition, 'not-authorized');
});

test.run();
