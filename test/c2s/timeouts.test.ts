// The pre-session state timeout (an XState `after` on the fake clock) and named timeouts
// (Clock timers with handler payloads, re-armed by activity without a timer per stanza).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { defineModSlot, Effects, getModState, type TimeoutHandler } from '../../src/c2s/effects.ts';
import * as h from '../../src/c2s/hooks.ts';
import { xml } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a' };

test('state timeout: junk input does not extend it', async () => {
  const server = await createTestServer({ users: USERS });
  const c = server.connect();
  await c.openStream();
  for (let i = 0; i < 4; i++) {
    server.clock.advance(1000);
    c.send(`<junk xmlns='urn:example:junk'/>`);
    await c.settle();
    assert.not.ok(c.closed);
  }
  server.clock.advance(1000);
  await c.settle();
  assert.is(c.streamError, 'connection-timeout');
  assert.ok(c.closed);
});

test('state timeout: covers the whole negotiation, including after SASL; gone once established', async () => {
  const server = await createTestServer({ users: USERS, listener: { stateTimeoutMs: 3000 } });
  const slow = server.connect();
  await slow.openStream();
  await slow.authenticate('alice', 'a');
  server.clock.advance(3000);
  await slow.settle();
  assert.is(slow.streamError, 'connection-timeout', 'no bind in time');

  const c = server.connect();
  await c.login('alice@localhost/r', 'a');
  server.clock.advance(60_000);
  await c.settle();
  assert.not.ok(c.closed);
  assert.is(server.clock.pending, 0, 'the after-timer was cancelled on leaving preSession');
});

// A ping-like module: one named timeout armed at session open. Traffic only records a
// timestamp in the slot; when the timer fires it re-arms for the remainder, or acts.
interface IdleState {
  last: number;
  fired: number;
}
const idleSlot = defineModSlot<IdleState>('idle');
const IDLE_MS = 1000;
const onIdle: TimeoutHandler = (name, conn) => {
  const s = getModState(conn, idleSlot)!;
  const quiet = conn.now() - s.last;
  if (quiet < IDLE_MS) return new Effects().setTimeout(name, IDLE_MS - quiet, onIdle);
  s.fired++;
  return new Effects().socketSend(xml('idle', { xmlns: 'urn:test:idle' })).setTimeout(name, IDLE_MS, onIdle);
};
const idleModule = defineModule({
  name: 'idle',
  defaults: {},
  slots: [idleSlot],
  hooks: () => [
    hook(h.userOpenSession, (ef, p) => void ef.setModState(idleSlot, { last: p.conn.now(), fired: 0 }).setTimeout('idle', IDLE_MS, onIdle)),
    hook(h.userSendPacket, (ef, p) => {
      const s = getModState(p.conn, idleSlot);
      if (s) s.last = p.conn.now();
    }),
  ],
});

test('named timeout re-armed by traffic with no timer per stanza', async () => {
  const server = await createTestServer({ users: USERS, modules: [idleModule] });
  const c = server.connect();
  await c.login('alice@localhost/r', 'a');
  assert.ok(c.connection.timeoutDeadline('idle') !== undefined);
  const armedBefore = server.clock.armed;
  for (let i = 0; i < 50; i++) {
    server.clock.advance(100);
    c.send(`<message to='alice@localhost/r'><body>${i}</body></message>`);
  }
  await c.settle();
  // 5000 ms of traffic: the 1000 ms timer fired ~5 times and re-armed for the remainder each
  // time; 50 stanzas armed nothing.
  const arms = server.clock.armed - armedBefore;
  assert.ok(arms <= 6, `timers armed during traffic: ${arms}`);
  assert.is(getModState(c.connection, idleSlot)!.fired, 0);
  c.received();
  server.clock.advance(IDLE_MS);
  await c.settle();
  assert.ok(c.nextElement((e) => e.name === 'idle'), 'fires after a quiet period');
  assert.is(getModState(c.connection, idleSlot)!.fired, 1);
});

test('cancelTimeout and re-arm: one timer per name, never an orphan', async () => {
  const server = await createTestServer({ users: USERS });
  let fired = 0;
  const handler: TimeoutHandler = () => void fired++;
  server.hooks.add(h.userSendXmlel, 'localhost', (ef, p) => {
    if (p.acc.name === 'arm') ef.setTimeout('t', 500, handler);
    if (p.acc.name === 'cancel') ef.cancelTimeout('t');
  });
  const c = server.connect();
  await c.login('alice@localhost/r', 'a');
  const pending = server.clock.pending;
  c.send(`<arm xmlns='urn:t'/>`);
  c.send(`<arm xmlns='urn:t'/>`);
  assert.is(server.clock.pending, pending + 1, 're-arming replaces');
  c.send(`<cancel xmlns='urn:t'/>`);
  server.clock.advance(1000);
  assert.is(fired, 0);
  c.send(`<arm xmlns='urn:t'/>`);
  server.clock.advance(500);
  await c.settle();
  assert.is(fired, 1);
  assert.is(c.connection.timeoutDeadline('t'), undefined);
});

test('named timeouts are cleared at teardown', async () => {
  const server = await createTestServer({ users: USERS, modules: [idleModule] });
  const c = server.connect();
  await c.login('alice@localhost/r', 'a');
  assert.ok(server.clock.pending > 0);
  c.closeSocket();
  await c.settle();
  assert.is(server.clock.pending, 0);
});

test.run();
