import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IqHandlerRegistry } from '../../src/core/iq-handlers.ts';
import { Acc } from '../../src/core/acc.ts';
import { xml } from '../../src/core/xml/element.ts';
import { parseStanzaError } from '../../src/core/stanza.ts';

const key = { hostType: 'ht', target: 'server', type: 'get', ns: 'urn:xmpp:ping', name: 'ping' } as const;
const ping = (type = 'get', to = 'example.com') =>
  Acc.fromElement(xml('iq', { from: 'a@example.com/r', to, type, id: 'p' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), { hostType: 'ht', lserver: 'example.com', origin: 'c2s' });

test('iq handlers: lookup by host type, target, type, ns and name', () => {
  const r = new IqHandlerRegistry();
  const h = () => null;
  const off = r.register(key, h);
  assert.is(r.lookup('ht', 'server', 'get', 'urn:xmpp:ping', 'ping'), h);
  assert.is(r.lookup('ht', 'server', 'set', 'urn:xmpp:ping', 'ping'), undefined);
  assert.is(r.lookup('ht', 'user', 'get', 'urn:xmpp:ping', 'ping'), undefined);
  assert.is(r.lookup('ht2', 'server', 'get', 'urn:xmpp:ping', 'ping'), undefined);
  assert.is(r.lookup('ht', 'server', 'get', 'urn:xmpp:ping', 'pong'), undefined);
  assert.throws(() => r.register(key, () => null), /already registered/);
  off();
  assert.is(r.lookup('ht', 'server', 'get', 'urn:xmpp:ping', 'ping'), undefined);
  r.register(key, h); // the key is free again
});

test('iq handlers: dispatch answers result / payload / full iq / nothing / error', () => {
  const r = new IqHandlerRegistry();
  const out: Acc[] = [];
  const reply = (a: Acc) => out.push(a);
  let answer: unknown = null;
  r.register(key, () => answer as never);
  r.dispatch(ping(), 'server', reply);
  assert.equal({ ...out[0]!.element.attrs }, { from: 'example.com', to: 'a@example.com/r', id: 'p', type: 'result' });
  assert.is(out[0]!.from.toString(), 'example.com');
  assert.is(out[0]!.to.toString(), 'a@example.com/r');
  answer = xml('pong', { xmlns: 'urn:x' });
  r.dispatch(ping(), 'server', reply);
  assert.ok(out[1]!.element.getChild('pong', 'urn:x'));
  answer = xml('iq', { type: 'result', id: 'custom', to: 'a@example.com/r', from: 'example.com' });
  r.dispatch(ping(), 'server', reply);
  assert.is(out[2]!.element.attrs.id, 'custom');
  answer = undefined;
  r.dispatch(ping(), 'server', reply);
  assert.is(out.length, 3);
  r.dispatch(ping('set'), 'server', reply);
  assert.is(parseStanzaError(out[3]!.element)!.condition, 'service-unavailable');
  r.dispatch(ping('result'), 'server', reply);
  r.dispatch(ping('error'), 'server', reply);
  assert.is(out.length, 4);
});

test.run();
