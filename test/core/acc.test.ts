import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { xml } from '../../src/core/xml/element.ts';
import { Acc } from '../../src/core/acc.ts';
import { Jid } from '../../src/core/jid.ts';
import { StanzaError } from '../../src/core/errors.ts';
import type { Clock } from '../../src/core/clock.ts';

const fakeClock: Clock = { now: () => 1_700_000_000_123.456, setTimeout: () => 0, clearTimeout: () => {} };
const alice = Jid.parse('alice@example.com/phone');
const bob = Jid.parse('bob@example.com');
const msg = xml('message', { type: 'chat', id: 'm1' }, xml('body', {}, 'hi'));

function newAcc(): Acc {
  return Acc.fromElement(msg, { from: alice, to: bob, hostType: 'default', lserver: 'example.com', origin: 'c2s', clock: fakeClock });
}

test('fromElement: built-ins', () => {
  const acc = newAcc();
  assert.is(acc.from, alice);
  assert.is(acc.to, bob);
  assert.is(acc.element, msg);
  assert.is(acc.name, 'message');
  assert.is(acc.type, 'chat');
  assert.is(acc.origin, 'c2s');
  assert.is(acc.hostType, 'default');
  assert.is(acc.lserver, 'example.com');
  assert.is(acc.timestamp, 1_700_000_000_123_456, 'µs from the injected clock');
  assert.is(typeof acc.ref, 'number');
  assert.is(xml('presence').attr('type'), undefined);
  assert.is(Acc.fromElement(xml('presence'), { from: alice, to: bob, hostType: 'h', lserver: 'l', origin: 'server' }).type, undefined);
});

test('refs are unique per acc, timestamps default to the system clock', () => {
  const a = newAcc();
  const b = newAcc();
  assert.is.not(a.ref, b.ref);
  assert.is.not(a.stanzaRef, b.stanzaRef);
  const before = Date.now() * 1000;
  const c = Acc.fromElement(msg, { from: alice, to: bob, hostType: 'h', lserver: 'l', origin: 's2s' });
  assert.ok(c.timestamp >= before && Number.isInteger(c.timestamp));
  assert.is(Acc.fromElement(msg, { from: alice, to: bob, hostType: 'h', lserver: 'l', origin: 's2s', timestamp: 42 }).timestamp, 42);
});

test('fromElement parses missing JIDs from attributes, rejects bad or missing ones', () => {
  const el = xml('message', { from: 'Alice@Example.com/phone', to: 'BOB@example.com' });
  const acc = Acc.fromElement(el, { hostType: 'h', lserver: 'example.com', origin: 's2s' });
  assert.ok(acc.from.equals(alice));
  assert.ok(acc.to.equals(bob));
  const explicit = Acc.fromElement(el, { from: bob, hostType: 'h', lserver: 'example.com', origin: 's2s' });
  assert.is(explicit.from, bob);
  for (const bad of [xml('message', { from: 'a b@x', to: 'b@x' }), xml('message', { to: 'b@x' })]) {
    try {
      Acc.fromElement(bad, { hostType: 'h', lserver: 'x', origin: 's2s' });
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, StanzaError);
      assert.is((e as StanzaError).condition, 'jid-malformed');
    }
  }
});

test('namespaced scratch data: get/set/has/delete, defaults, namespaces independent', () => {
  const acc = newAcc();
  assert.is(acc.get('mam', 'id'), undefined);
  assert.is(acc.get('mam', 'id', 'dflt'), 'dflt');
  assert.not.ok(acc.has('mam', 'id'));
  assert.is(acc.set('mam', 'id', 'abc'), acc, 'set chains');
  acc.set('inbox', 'id', 7);
  assert.is(acc.get<string>('mam', 'id'), 'abc');
  assert.is(acc.get<number>('inbox', 'id'), 7);
  assert.is(acc.get('mam', 'id', 'dflt'), 'abc');
  acc.set('x', 'undef', undefined);
  assert.ok(acc.has('x', 'undef'));
  assert.is(acc.get('x', 'undef', 'dflt'), undefined, 'a stored undefined is a value');
  assert.ok(acc.delete('mam', 'id'));
  assert.not.ok(acc.delete('mam', 'id'));
  assert.not.ok(acc.has('mam', 'id'));
  assert.is(acc.get('inbox', 'id'), 7);
});

test('strip keeps built-ins and permanent keys only', () => {
  const acc = newAcc();
  acc.set('c2s', 'effects', { socketSend: [] });
  acc.setPermanent('c2s', 'origin_sid', 'sid-1');
  acc.setPermanent('trace', 'id', 't1');
  acc.set('trace', 'tmp', 1);
  const s = acc.strip();
  assert.is.not(s, acc);
  assert.is(s.ref, acc.ref);
  assert.is(s.timestamp, acc.timestamp);
  assert.is(s.origin, acc.origin);
  assert.is(s.from, acc.from);
  assert.is(s.to, acc.to);
  assert.is(s.element, acc.element);
  assert.is(s.stanzaRef, acc.stanzaRef, 'same stanza, same stanza ref');
  assert.is(s.get('c2s', 'origin_sid'), 'sid-1');
  assert.is(s.get('trace', 'id'), 't1');
  assert.ok(s.isPermanent('trace', 'id'));
  assert.not.ok(s.has('c2s', 'effects'));
  assert.not.ok(s.has('trace', 'tmp'));
  // The original is untouched, and the two no longer share data.
  assert.ok(acc.has('c2s', 'effects'));
  s.set('trace', 'id', 'changed');
  assert.is(acc.get('trace', 'id'), 't1');
});

test('strip with a new context', () => {
  const acc = newAcc();
  acc.set('a', 'b', 1);
  const carol = Jid.parse('carol@other.org');
  const el = xml('message', { type: 'normal' });
  const s = acc.strip({ lserver: 'other.org', hostType: 'ht2', element: el, to: carol });
  assert.is(s.lserver, 'other.org');
  assert.is(s.hostType, 'ht2');
  assert.is(s.element, el);
  assert.is(s.type, 'normal');
  assert.is(s.to, carol);
  assert.is(s.from, alice);
  assert.is(s.ref, acc.ref);
  assert.is.not(s.stanzaRef, acc.stanzaRef, 'a new stanza gets a new stanza ref');
  assert.not.ok(s.has('a', 'b'));
  assert.is(acc.lserver, 'example.com');
});

test('set over a permanent key makes it strippable again', () => {
  const acc = newAcc();
  acc.setPermanent('n', 'k', 1);
  acc.set('n', 'k', 2);
  assert.not.ok(acc.isPermanent('n', 'k'));
  assert.not.ok(acc.strip().has('n', 'k'));
  acc.setPermanent('n', 'k', 3);
  acc.delete('n', 'k');
  acc.set('n', 'k', 4);
  assert.not.ok(acc.strip().has('n', 'k'), 'delete forgets permanence');
});

test('updateStanza: new stanza version, same acc ref, data carried, original untouched', () => {
  const acc = newAcc();
  acc.set('mam', 'id', 'x');
  acc.setPermanent('c2s', 'origin_sid', 's');
  const fwd = xml('message', { type: 'chat', id: 'carbon' });
  const u = acc.updateStanza({ element: fwd, to: alice });
  assert.is(u.ref, acc.ref);
  assert.is(u.timestamp, acc.timestamp);
  assert.is.not(u.stanzaRef, acc.stanzaRef);
  assert.is(u.element, fwd);
  assert.is(u.to, alice);
  assert.is(u.from, alice);
  assert.is(u.get('mam', 'id'), 'x');
  assert.ok(u.isPermanent('c2s', 'origin_sid'));
  assert.is(acc.element, msg, 'original keeps its stanza');
  assert.is(acc.to, bob);
  u.set('mam', 'id', 'y');
  assert.is(acc.get('mam', 'id'), 'x', 'scratch data copied, not shared');
  assert.is(u.updateStanza({}).element, fwd);
});

test.run();
