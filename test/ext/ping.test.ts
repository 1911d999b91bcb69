// XEP-0199 ping: client pings to the server and to a user's bare JID; optional server pings
// as named timeouts postponed by client traffic without a timer per stanza; kill on timeout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { ping, NS_PING, type PingOptions } from '../../src/ext/ping/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };

async function setup(options?: Partial<PingOptions>) {
  const server = await createTestServer({ users: USERS, modules: [options ? { module: ping, options } : ping] });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  return { server, alice };
}

const isServerPing = (e: XmlElement) => e.name === 'iq' && e.attrs.type === 'get' && e.getChild('ping', NS_PING) !== undefined;
const iqId = (id: string) => (e: XmlElement) => e.name === 'iq' && e.attrs.id === id;
const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;

test('client → server ping: empty result from the domain', async () => {
  const { server, alice } = await setup();
  alice.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await alice.settle();
  const r = alice.expect(iqId('p1'), 'pong');
  assert.is(r.attrs.type, 'result');
  assert.is(r.attrs.from, 'localhost');
  assert.is(r.attrs.to, 'alice@localhost/phone');
  assert.is(r.elements().length, 0);
  // set is not a ping: service-unavailable (RFC 6120 §8.2.3).
  alice.send(`<iq type='set' id='p2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await alice.settle();
  assert.is(errorOf(alice.expect(iqId('p2'))), 'service-unavailable');
  assert.equal(server.hookErrors, []);
});

test('ping to a user bare JID is answered by the server, whether the user is online or not', async () => {
  const { server, alice } = await setup();
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  alice.send(`<iq type='get' id='b1' to='bob@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  alice.send(`<iq type='get' id='c1' to='carol@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  alice.send(`<iq type='get' id='self'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await alice.settle();
  for (const [id, from] of [['b1', 'bob@localhost'], ['c1', 'carol@localhost'], ['self', 'alice@localhost']] as const) {
    const r = alice.expect(iqId(id), `pong ${id}`);
    assert.is(r.attrs.type, 'result', id);
    assert.is(r.attrs.from, from, id);
  }
  assert.equal(bob.received(), [], 'bob is not bothered');
  // A ping to a full JID is the client's business (routed to it).
  alice.send(`<iq type='get' id='b2' to='bob@localhost/pc'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await alice.settle();
  const got = bob.expect(iqId('b2'), 'the full-JID ping reaches bob');
  assert.is(got.attrs.from, 'alice@localhost/phone');
  assert.equal(server.hookErrors, []);
});

test('server pings are off by default: no timer armed per session', async () => {
  const { server, alice } = await setup();
  const pendingBefore = server.clock.pending;
  server.clock.advance(10 * 60_000);
  await alice.settle();
  assert.equal(alice.received().filter(isServerPing), []);
  assert.ok(server.clock.pending <= pendingBefore);
});

async function answer(c: TestClient, p: XmlElement, type: 'result' | 'error' = 'result'): Promise<void> {
  c.send(type === 'result'
    ? `<iq type='result' id='${p.attrs.id}' to='${p.attrs.from}'/>`
    : `<iq type='error' id='${p.attrs.id}' to='${p.attrs.from}'><ping xmlns='urn:xmpp:ping'/><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
  await c.settle();
}

test('server ping after pingInterval of silence; the answer cancels the timeout and is not routed', async () => {
  const { server, alice } = await setup({ sendPings: true, pingInterval: 60_000, pingReqTimeout: 32_000, timeoutAction: 'kill' });
  server.clock.advance(59_999);
  await alice.settle();
  assert.is(alice.nextElement(isServerPing), undefined, 'not yet');
  server.clock.advance(1);
  await alice.settle();
  const p = alice.expect(isServerPing, 'server ping');
  assert.is(p.attrs.from, 'localhost');
  assert.is(p.attrs.to, 'alice@localhost/phone');
  assert.ok(alice.connection.timeoutDeadline('ping.timeout') !== undefined, 'ping.timeout armed');
  server.clock.advance(10_000);
  await answer(alice, p);
  assert.is(alice.connection.timeoutDeadline('ping.timeout'), undefined, 'answer cancelled ping.timeout');
  assert.equal(alice.received(), [], 'the pong is swallowed, nothing comes back (no error from the server)');
  server.clock.advance(40_000);
  await alice.settle();
  assert.not.ok(alice.closed, 'not killed: it answered');
  // Next ping a full interval after the answer.
  server.clock.advance(20_000);
  await alice.settle();
  const p2 = alice.expect(isServerPing, 'second ping');
  assert.is.not(p2.attrs.id, p.attrs.id);
  // An error answer also proves the client is alive.
  await answer(alice, p2, 'error');
  server.clock.advance(32_000);
  await alice.settle();
  assert.not.ok(alice.closed);
  assert.equal(server.hookErrors, []);
});

test('client traffic postpones the ping without arming a timer per stanza', async () => {
  const { server, alice } = await setup({ sendPings: true, pingInterval: 60_000 });
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  const armed0 = server.clock.armed;
  // 200 stanzas over 50 s: every one updates the activity slot, none arms a timer.
  for (let i = 0; i < 200; i++) {
    if (i % 4 === 0) server.clock.advance(1000);
    alice.send(`<message to='bob@localhost/pc' type='chat'><body>${i}</body></message>`);
  }
  await alice.settle();
  assert.is(server.clock.armed, armed0, 'no timer armed by 200 stanzas');
  assert.is(bob.received().filter((e) => e.name === 'message').length, 200);
  // At 60 s the send timer fires, sees activity 10 s ago: re-armed once for the remainder.
  server.clock.advance(10_000);
  await alice.settle();
  assert.is(alice.nextElement(isServerPing), undefined, 'postponed');
  // alice: one re-arm for the remainder; bob (silent): pinged, so ping.timeout armed.
  assert.is(server.clock.armed, armed0 + 2, 'one re-arm for alice, one ping.timeout for bob');
  const deadline = alice.connection.timeoutDeadline('ping.send')!;
  assert.is(deadline - server.clock.now(), 50_000, 'remainder of the interval after the last stanza');
  server.clock.advance(50_000);
  await alice.settle();
  alice.expect(isServerPing, 'ping after a full silent interval');
  // bob, silent all along, was pinged at 60 s.
  assert.ok(bob.nextElement(isServerPing), 'the idle session was pinged on time');
});

test("timeoutAction 'kill': no answer → the connection is stopped; 'none' keeps it", async () => {
  const { server, alice } = await setup({ sendPings: true, pingInterval: 1000, pingReqTimeout: 500, timeoutAction: 'kill' });
  server.clock.advance(1000);
  await alice.settle();
  alice.expect(isServerPing);
  server.clock.advance(499);
  await alice.settle();
  assert.not.ok(alice.closed);
  server.clock.advance(1);
  await alice.settle();
  assert.ok(alice.closed, 'killed');
  assert.is(server.sessions.sessionsOf('alice@localhost').length, 0);

  const s2 = await setup({ sendPings: true, pingInterval: 1000, pingReqTimeout: 500, timeoutAction: 'none' });
  s2.server.clock.advance(1500);
  await s2.alice.settle();
  assert.not.ok(s2.alice.closed);
  s2.alice.expect(isServerPing);
  s2.server.clock.advance(1000);
  await s2.alice.settle();
  assert.ok(s2.alice.nextElement(isServerPing), 'pinged again after the interval');
});

test('late answers and unrelated results are routed as usual (not swallowed)', async () => {
  const { server, alice } = await setup({ sendPings: true, pingInterval: 1000, pingReqTimeout: 500, timeoutAction: 'none' });
  server.clock.advance(1000);
  await alice.settle();
  const p = alice.expect(isServerPing);
  server.clock.advance(500);
  await alice.settle();
  // Late: the server dropped it (result to the server), no error back.
  await answer(alice, p);
  assert.equal(alice.received(), []);
  assert.not.ok(alice.closed);
  assert.equal(server.hookErrors, []);
});

test('teardown leaves no ping timers behind', async () => {
  const { server, alice } = await setup({ sendPings: true });
  alice.send('</stream:stream>');
  await alice.settle();
  assert.ok(alice.closed);
  assert.is(alice.connection.timeoutDeadline('ping.send'), undefined);
  assert.is(server.clock.pending, 0);
});

test.run();
