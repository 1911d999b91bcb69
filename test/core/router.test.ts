import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setup, msg, pres, iq, tick } from './routing-fixture.ts';
import { filterPacket, filterLocalPacket } from '../../src/core/server-hooks.ts';
import { stop, next, GLOBAL } from '../../src/hooks/index.ts';
import { xml } from '../../src/core/xml/element.ts';
import { StanzaError } from '../../src/core/errors.ts';
import { parseStanzaError } from '../../src/core/stanza.ts';
import { XmppRouter } from '../../src/core/router.ts';
import { Acc } from '../../src/core/acc.ts';

test('router: local user delivery goes through the session manager', () => {
  const { connect, send } = setup();
  const bob = connect('bob@example.com/b');
  send(msg('alice@example.com/a', 'bob@example.com/b'));
  assert.is(bob.received.length, 1);
  assert.is(bob.received[0]!.hostType, 'ht');
  assert.is(bob.received[0]!.lserver, 'example.com');
});

test('router: the acc is stripped to the recipient host type and lserver', () => {
  const { connect, send, hooks } = setup();
  const carol = connect('carol@other.org/c');
  hooks.add(filterPacket, GLOBAL, (acc) => {
    acc.set('test', 'scratch', 1);
    acc.setPermanent('test', 'perm', 2);
    return next(acc);
  });
  send(msg('alice@example.com/a', 'carol@other.org/c'));
  const got = carol.received[0]!;
  assert.is(got.hostType, 'ht2');
  assert.is(got.lserver, 'other.org');
  assert.is(got.get('test', 'scratch'), undefined);
  assert.is(got.get('test', 'perm'), 2);
});

test('router: filterPacket stop drops', () => {
  const { connect, send, hooks } = setup();
  const alice = connect('alice@example.com/a');
  const bob = connect('bob@example.com/b');
  hooks.add(filterPacket, GLOBAL, (acc) => (acc.to.local === 'bob' ? stop(acc) : next(acc)));
  send(msg('alice@example.com/a', 'bob@example.com/b'));
  send(iq('alice@example.com/a', 'nowhere.net', 'get', xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.is(bob.received.length, 0);
  assert.equal(alice.errors(), ['remote-server-not-found']);
});

test('router: filterLocalPacket runs for the recipient host type; stop drops', () => {
  const { connect, send, hooks } = setup();
  const bob = connect('bob@example.com/b');
  const carol = connect('carol@other.org/c');
  const seen: string[] = [];
  hooks.add(filterLocalPacket, 'ht2', (acc) => {
    seen.push(acc.to.toString());
    return stop(acc);
  });
  send(msg('alice@example.com/a', 'carol@other.org/c'));
  send(msg('alice@example.com/a', 'bob@example.com/b'));
  assert.equal(seen, ['carol@other.org/c']);
  assert.is(carol.received.length, 0);
  assert.is(bob.received.length, 1);
});

test('router: async filters keep working', async () => {
  const { connect, send, hooks } = setup();
  const bob = connect('bob@example.com/b');
  hooks.add(filterPacket, GLOBAL, async (acc) => next(acc));
  hooks.add(filterLocalPacket, 'ht', async (acc) => next(acc));
  send(msg('alice@example.com/a', 'bob@example.com/b'));
  assert.is(bob.received.length, 0);
  await tick();
  assert.is(bob.received.length, 1);
});

test('router: a throwing filter is isolated (hook registry), the stanza continues', () => {
  const { connect, send, hooks } = setup();
  const bob = connect('bob@example.com/b');
  hooks.add(filterPacket, GLOBAL, () => {
    throw new Error('boom');
  });
  send(msg('alice@example.com/a', 'bob@example.com/b'));
  assert.is(bob.received.length, 1);
});

test('router: non-local domain → remote-server-not-found, never for errors', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  send(msg('alice@example.com/a', 'someone@remote.net', 'chat'));
  send(pres('alice@example.com/a', 'someone@remote.net', 'subscribe'));
  send(msg('alice@example.com/a', 'someone@remote.net', 'error'));
  assert.equal(alice.errors(), ['remote-server-not-found', 'remote-server-not-found']);
  const e = alice.received[0]!;
  assert.is(e.from.toString(), 'someone@remote.net');
  assert.is(e.element.getChildText('body'), 'hi', 'message error replies carry the payload (RFC 6120 §8.3.1)');
});

test('router: error replies to an unreachable sender are dropped, no loop', () => {
  const { send } = setup();
  // From a remote domain to a remote domain: the error goes back to a remote sender and stops.
  send(msg('x@remote.net', 'y@remote2.net', 'chat'));
});

test('router: IQ to the server JID: handled, unhandled → service-unavailable, result dropped', () => {
  const { connect, send, iqHandlers } = setup();
  const alice = connect('alice@example.com/a');
  iqHandlers.register({ hostType: 'ht', target: 'server', type: 'get', ns: 'urn:xmpp:ping', name: 'ping' }, () => null);
  send(iq('alice@example.com/a', 'example.com', 'get', xml('ping', { xmlns: 'urn:xmpp:ping' })));
  send(iq('alice@example.com/a', 'example.com', 'get', xml('query', { xmlns: 'jabber:iq:version' })));
  send(iq('alice@example.com/a', 'example.com', 'result'));
  send(iq('alice@example.com/a', 'example.com', 'error'));
  assert.is(alice.received.length, 2);
  const r = alice.received[0]!.element;
  assert.equal({ ...r.attrs }, { from: 'example.com', to: 'alice@example.com/a', id: 'q1', type: 'result' });
  assert.is(r.children.length, 0);
  assert.equal(alice.errors(), ['service-unavailable']);
});

test('router: messages and presences to the server JID are ignored', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  send(msg('alice@example.com/a', 'example.com', 'chat'));
  send(pres('alice@example.com/a', 'example.com'));
  assert.is(alice.received.length, 0);
});

test('router: domain/resource → item-not-found except result/error', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  send(msg('alice@example.com/a', 'example.com/res', 'chat'));
  send(iq('alice@example.com/a', 'example.com/res', 'get', xml('ping', { xmlns: 'urn:xmpp:ping' })));
  send(iq('alice@example.com/a', 'example.com/res', 'result'));
  send(msg('alice@example.com/a', 'example.com/res', 'error'));
  assert.equal(alice.errors(), ['item-not-found', 'item-not-found']);
});

test('router: subdomains route with the parent host type', () => {
  const { connect, send, domains, iqHandlers } = setup();
  domains.addSubdomainPattern('ht2', 'muc.@HOST@');
  const alice = connect('alice@example.com/a');
  const got: string[] = [];
  iqHandlers.register({ hostType: 'ht2', target: 'server', type: 'get', ns: 'http://jabber.org/protocol/disco#info', name: 'query' }, (acc) => {
    got.push(`${acc.hostType} ${acc.lserver} ${acc.to}`);
    return xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' });
  });
  send(iq('alice@example.com/a', 'muc.other.org', 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
  assert.equal(got, ['ht2 other.org muc.other.org']);
  assert.is(alice.received[0]!.element.attrs.type, 'result');
  assert.is(alice.received[0]!.element.attrs.from, 'muc.other.org');
});

test('router: IQ handler errors: StanzaError value, throw, async reject', async () => {
  const { connect, send, iqHandlers } = setup();
  const alice = connect('alice@example.com/a');
  const key = { hostType: 'ht', target: 'server', type: 'set', name: 'q' } as const;
  iqHandlers.register({ ...key, ns: 'urn:a' }, () => new StanzaError('not-allowed'));
  iqHandlers.register({ ...key, ns: 'urn:b' }, () => {
    throw new Error('bug');
  });
  iqHandlers.register({ ...key, ns: 'urn:c' }, async () => {
    throw new StanzaError('forbidden');
  });
  iqHandlers.register({ ...key, ns: 'urn:d' }, async () => xml('q', { xmlns: 'urn:d' }, 'ok'));
  for (const ns of ['urn:a', 'urn:b', 'urn:c', 'urn:d']) send(iq('alice@example.com/a', 'example.com', 'set', xml('q', { xmlns: ns })));
  await tick();
  assert.equal(alice.errors(), ['not-allowed', 'internal-server-error', 'forbidden']);
  const ok = alice.received.find((a) => a.type === 'result')!;
  assert.is(ok.element.getChildText('q', 'urn:d'), 'ok');
  void parseStanzaError;
});

test('router: a get/set IQ without exactly one child → bad-request', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  send(iq('alice@example.com/a', 'example.com', 'get'));
  send(xml('iq', { from: 'alice@example.com/a', to: 'example.com', type: 'get', id: 'x' }, xml('a', { xmlns: 'urn:a' }), xml('b', { xmlns: 'urn:b' })));
  assert.equal(alice.errors(), ['bad-request', 'bad-request']);
});

test('router: onOutcome sees each decision', () => {
  const outcomes: string[] = [];
  const s = setup();
  const router = new XmppRouter({ hooks: s.hooks, domains: s.domains, iqHandlers: s.iqHandlers, users: s.sm, onOutcome: (o) => outcomes.push(o) });
  const route = (el: ReturnType<typeof msg>) => router.route(Acc.fromElement(el, { hostType: 'ht', lserver: 'example.com', origin: 'c2s' }));
  s.hooks.add(filterPacket, GLOBAL, (acc) => (acc.to.local === 'spam' ? stop(acc) : next(acc)));
  route(msg('alice@example.com/a', 'bob@example.com'));
  route(msg('alice@example.com/a', 'spam@example.com'));
  route(msg('alice@example.com/a', 'example.com'));
  route(msg('alice@example.com/a', 'x@remote.net'));
  route(msg('alice@example.com/a', 'example.com/r', 'error'));
  // The remote domain's error comes back through this router to alice (local-user); bob's bounce
  // goes through the session manager's own router.
  assert.equal(outcomes, ['local-user', 'filtered', 'local-server', 'no-route', 'local-user', 'dropped']);
});

test.run();
