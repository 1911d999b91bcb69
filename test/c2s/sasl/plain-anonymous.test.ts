import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { anonymousMechanism, plainMechanism, startSasl } from '../../../src/c2s/sasl/index.ts';
import type { SaslStep } from '../../../src/c2s/sasl/index.ts';
import { MemoryAuthStore } from '../../../src/storage/memory/auth-store.ts';
import { assertKind, buf, makeContext, mustSession, storeWith } from './fixtures.ts';

const plain = (authzid: string, authcid: string, password: string) => buf(`${authzid}\0${authcid}\0${password}`);
const condition = (s: SaslStep) => assertKind(s, 'failure').condition;

test('PLAIN: right password succeeds with the normalised localpart', async () => {
  const store = await storeWith('juliet', 'r0m30');
  const { first } = await plainMechanism().start(makeContext(store, { secure: true }), plain('', 'Juliet', 'r0m30'));
  const ok = assertKind(first, 'success');
  assert.is(ok.user, 'juliet');
  assert.is(ok.data, undefined);
});

test('PLAIN: wrong password and unknown user are both not-authorized', async () => {
  const store = await storeWith('juliet', 'r0m30');
  const wrong = assertKind((await plainMechanism().start(makeContext(store), plain('', 'juliet', 'nope'))).first, 'failure');
  assert.equal([wrong.condition, wrong.user], ['not-authorized', 'juliet']);
  assert.is(condition((await plainMechanism().start(makeContext(store), plain('', 'romeo', 'r0m30'))).first), 'not-authorized');
});

test('PLAIN: authzid must be empty or the bare JID of the authcid', async () => {
  const store = await storeWith('juliet', 'r0m30');
  const ctx = makeContext(store);
  assertKind((await plainMechanism().start(ctx, plain('juliet@localhost', 'juliet', 'r0m30'))).first, 'success');
  assertKind((await plainMechanism().start(ctx, plain('JULIET@localhost.', 'juliet', 'r0m30'))).first, 'success');
  for (const authzid of ['romeo@localhost', 'juliet@example.com', 'juliet@localhost/balcony', 'localhost']) {
    assert.is(condition((await plainMechanism().start(ctx, plain(authzid, 'juliet', 'r0m30'))).first), 'invalid-authzid', authzid);
  }
  // A wrong password never reveals whether the authzid would have been accepted.
  assert.is(condition((await plainMechanism().start(ctx, plain('romeo@localhost', 'juliet', 'bad'))).first), 'not-authorized');
});

test('PLAIN: malformed messages → malformed-request', async () => {
  const store = await storeWith('juliet', 'r0m30');
  for (const msg of [buf('juliet\0r0m30'), buf('\0juliet\0r0m30\0x'), buf('\0\0r0m30'), buf('\0juliet\0'), Buffer.alloc(0), Buffer.from([0, 0x6a, 0, 0xff])]) {
    assert.is(condition((await plainMechanism().start(makeContext(store), msg)).first), 'malformed-request', JSON.stringify(msg.toString()));
  }
});

test('PLAIN: no initial response → empty challenge, then the message', async () => {
  const store = await storeWith('juliet', 'r0m30');
  const { first, session } = await plainMechanism().start(makeContext(store), undefined);
  assert.is(assertKind(first, 'challenge').data.length, 0);
  assert.is(assertKind(await mustSession(session).step(plain('', 'juliet', 'r0m30')), 'success').user, 'juliet');
});

test('PLAIN: a password that fails SASLprep is simply wrong', async () => {
  const store = await storeWith('juliet', 'r0m30');
  assert.is(condition((await plainMechanism().start(makeContext(store), plain('', 'juliet', 'bad\u0007'))).first), 'not-authorized');
});

test('ANONYMOUS: off unless the host type allows it', async () => {
  const store = new MemoryAuthStore();
  const mech = anonymousMechanism();
  const listener = { allowPlainWithoutTls: false, remoteIsLoopback: false };
  assert.is(mech.available(makeContext(store), listener), false);
  assert.is(condition((await mech.start(makeContext(store), undefined)).first), 'invalid-mechanism');
  assert.is(mech.available(makeContext(store, { allowAnonymous: true }), listener), true);
});

test('ANONYMOUS: success with a fresh user each time; trace ignored', async () => {
  const ctx = makeContext(new MemoryAuthStore(), { allowAnonymous: true });
  const a = assertKind((await anonymousMechanism().start(ctx, undefined)).first, 'success');
  const b = assertKind((await anonymousMechanism().start(ctx, buf('sirhc'))).first, 'success');
  assert.match(a.user, /^[0-9a-f]{16}$/);
  assert.is.not(a.user, b.user);
});

test('ANONYMOUS: a custom generator is asked again when its name is taken', async () => {
  const store = await storeWith('anon-1', 'x');
  const names = ['anon-1', 'anon-2'];
  const ctx = makeContext(store, { allowAnonymous: true, newAnonymousUser: () => names.shift()! });
  assert.is(assertKind((await anonymousMechanism().start(ctx, undefined)).first, 'success').user, 'anon-2');
});

test('startSasl: AuthStore errors become temporary-auth-failure without leaking the message', async () => {
  const store = new MemoryAuthStore();
  store.getCredentials = async () => {
    throw new Error('db down: password=hunter2');
  };
  const ctx = makeContext(store, { secure: true });
  const fail = assertKind((await startSasl([plainMechanism()], 'PLAIN', ctx, plain('', 'juliet', 'x'))).first, 'failure');
  assert.equal([fail.condition, fail.text], ['temporary-auth-failure', undefined]);
  const { first, session } = await startSasl([plainMechanism()], 'PLAIN', ctx, undefined);
  assertKind(first, 'challenge');
  assert.is(condition(await mustSession(session).step(plain('', 'juliet', 'x'))), 'temporary-auth-failure');
});

test.run();
