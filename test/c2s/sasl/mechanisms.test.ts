import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeInitialResponse,
  decodeSaslPayload,
  defaultMechanisms,
  encodeSaslPayload,
  offeredMechanisms,
  saslFeatures,
  saslStepElement,
  startSasl,
} from '../../../src/c2s/sasl/index.ts';
import { NS } from '../../../src/core/namespaces.ts';
import { MemoryAuthStore } from '../../../src/storage/memory/auth-store.ts';
import { assertKind, buf, makeContext, mustSession, storeWith } from './fixtures.ts';

const remote = { allowPlainWithoutTls: false, remoteIsLoopback: false };
const loopback = { allowPlainWithoutTls: false, remoteIsLoopback: true };
const names = (ms: { name: string }[]) => ms.map((m) => m.name);
const cb = { 'tls-exporter': Buffer.alloc(32, 1), 'tls-server-end-point': Buffer.alloc(32, 2) };

test('default mechanisms in advertised order', () => {
  assert.equal(names(defaultMechanisms()), [
    'SCRAM-SHA-512-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'PLAIN',
  ]);
  assert.is(names(defaultMechanisms({ anonymous: true })).at(-1), 'ANONYMOUS');
});

test('plain TCP from a remote address: no PLAIN, no -PLUS', () => {
  const ctx = makeContext(new MemoryAuthStore(), { secure: false });
  assert.equal(names(offeredMechanisms(defaultMechanisms(), ctx, remote)), ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1']);
});

test('plain TCP: PLAIN from loopback, or when the listener allows it', () => {
  const ctx = makeContext(new MemoryAuthStore(), { secure: false });
  assert.ok(names(offeredMechanisms(defaultMechanisms(), ctx, loopback)).includes('PLAIN'));
  assert.ok(names(offeredMechanisms(defaultMechanisms(), ctx, { allowPlainWithoutTls: true, remoteIsLoopback: false })).includes('PLAIN'));
});

test('TLS without channel binding: PLAIN yes, -PLUS no', () => {
  const ctx = makeContext(new MemoryAuthStore(), { secure: true });
  assert.equal(names(offeredMechanisms(defaultMechanisms(), ctx, remote)), ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
});

test('TLS with channel binding: everything; ANONYMOUS only when the host type enables it', () => {
  const store = new MemoryAuthStore();
  const mechs = defaultMechanisms({ anonymous: true });
  assert.equal(names(offeredMechanisms(mechs, makeContext(store, { cb }), remote)), names(defaultMechanisms()));
  assert.equal(names(offeredMechanisms(mechs, makeContext(store, { cb, allowAnonymous: true }), remote)), names(mechs));
});

test('saslFeatures: <mechanisms/> plus XEP-0440 <sasl-channel-binding/> when -PLUS is offered', () => {
  const ctx = makeContext(new MemoryAuthStore(), { cb });
  const [mechanisms, cbFeature, ...rest] = saslFeatures(offeredMechanisms(defaultMechanisms(), ctx, remote), ctx);
  assert.is(rest.length, 0);
  assert.ok(mechanisms!.is('mechanisms', NS.SASL));
  assert.equal(mechanisms!.getChildren('mechanism').map((m) => m.children.join('')), names(defaultMechanisms()));
  assert.ok(cbFeature!.is('sasl-channel-binding', NS.SASL_CB));
  assert.equal(cbFeature!.getChildren('channel-binding').map((c) => c.attr('type')), ['tls-exporter', 'tls-server-end-point']);

  const plainCtx = makeContext(new MemoryAuthStore(), { secure: true });
  const features = saslFeatures(offeredMechanisms(defaultMechanisms(), plainCtx, remote), plainCtx);
  assert.equal(features.map((f) => f.name), ['mechanisms']);
  assert.equal(saslFeatures([], plainCtx), []);
});

test('payload decoding (RFC 6120 §6.4.2)', () => {
  assert.equal(decodeSaslPayload('='), Buffer.alloc(0));
  assert.equal(decodeSaslPayload(''), Buffer.alloc(0));
  assert.equal(decodeSaslPayload('AGp1bGlldAByMG0zMA=='), buf('\0juliet\0r0m30'));
  for (const bad of ['AGp1bGlldAByMG0zMA', 'AGp1 bGll', 'AGp1bGlldAByMG0zMA==\n', '====', 'QQ=x', 'QR==', '*']) {
    assert.is(decodeSaslPayload(bad), 'incorrect-encoding', bad);
  }
  assert.is(decodeInitialResponse(''), undefined);
  assert.equal(decodeInitialResponse('='), Buffer.alloc(0));
  assert.is(decodeInitialResponse('!'), 'incorrect-encoding');
  assert.is(encodeSaslPayload(Buffer.alloc(0)), '=');
  assert.is(encodeSaslPayload(buf('v=abc')), 'dj1hYmM=');
});

test('saslStepElement: challenge, success, failure nonzas', () => {
  const ch = saslStepElement({ kind: 'challenge', data: buf('r=x') });
  assert.ok(ch.is('challenge', NS.SASL));
  assert.equal(ch.children, ['cj14']);
  assert.equal(saslStepElement({ kind: 'challenge', data: Buffer.alloc(0) }).children, []);
  assert.equal(saslStepElement({ kind: 'success', user: 'u' }).children, []);
  assert.equal(saslStepElement({ kind: 'success', user: 'u', data: Buffer.alloc(0) }).children, ['=']);
  const f = saslStepElement({ kind: 'failure', condition: 'not-authorized', text: 'invalid-proof', data: buf('e=invalid-proof') });
  assert.ok(f.is('failure', NS.SASL));
  assert.equal(f.elements().map((e) => e.name), ['not-authorized', 'text']);
  assert.ok(f.getChild('not-authorized', NS.SASL));
  assert.is(f.getChild('text', NS.SASL)!.attr('xml:lang'), 'en');
});

test('startSasl: a mechanism not offered on this stream → invalid-mechanism', async () => {
  const ctx = makeContext(await storeWith('u', 'p'), { secure: false });
  const offered = offeredMechanisms(defaultMechanisms(), ctx, remote);
  for (const name of ['PLAIN', 'SCRAM-SHA-256-PLUS', 'DIGEST-MD5', 'scram-sha-1']) {
    const { first, session } = await startSasl(offered, name, ctx, buf('\0u\0p'));
    assert.is(assertKind(first, 'failure').condition, 'invalid-mechanism', name);
    assert.is(session, undefined);
  }
});

test('startSasl: a finished session refuses further steps', async () => {
  const ctx = makeContext(await storeWith('u', 'p'), { secure: true });
  const offered = offeredMechanisms(defaultMechanisms(), ctx, remote);
  const { session } = await startSasl(offered, 'PLAIN', ctx, undefined);
  const s = mustSession(session);
  assertKind(await s.step(buf('\0u\0p')), 'success');
  assertKind(await s.step(buf('\0u\0p')), 'failure');
});

test.run();
