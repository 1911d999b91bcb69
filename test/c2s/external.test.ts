// External states contributed by modules, claimed (interceptable) stops, call/cast into the
// foreignEvent hook, and teardown re-routing (reference §1.8, §5.6).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestServer } from '../../src/testing/index.ts';
import { next, stop } from '../../src/hooks/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { defineModSlot, Effects, getModState } from '../../src/c2s/effects.ts';
import * as h from '../../src/c2s/hooks.ts';
import type { Acc } from '../../src/core/acc.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };

// A stream-management-like module: on socket close it claims the connection and goes
// dormant in `external.resumable`, buffering what is delivered; a cast resumes or kills it;
// a timeout ends it; at teardown it re-routes its buffer.
const bufferSlot = defineModSlot<Acc[]>('dormant');
let router: TestServer['router'] | undefined;
const dormant = defineModule({
  name: 'dormant',
  defaults: { resumeMs: 60_000 },
  externalStates: [{ name: 'resumable', socketless: true }],
  slots: [bufferSlot],
  hooks: (_ht, opts) => [
    hook(h.userSocketError, (ef) => stop(ef.nextState('external.resumable').setModState(bufferSlot, []))),
    hook(h.userSocketClosed, (ef) =>
      stop(
        ef
          .nextState('external.resumable')
          .setModState(bufferSlot, [])
          .setTimeout('resume', opts.resumeMs, () => new Effects().stop('resume-timeout')),
      ),
    ),
    hook(h.xmppPresendElement, (ef, p) => {
      if (p.conn.state !== 'external.resumable') return;
      getModState(p.conn, bufferSlot)!.push(p.acc.strip());
      return stop(ef);
    }),
    hook(h.foreignEvent, (ef, p) => {
      if (p.tag !== 'dormant') return;
      if (p.content === 'kill') return stop(ef.hardStop('killed'));
      if (p.content === 'wake') return stop(ef.cancelTimeout('resume').nextState('established'));
      if (p.content === 'count' && p.callRef) return stop(ef.reply(p.callRef, getModState(p.conn, bufferSlot)?.length ?? 0));
      if (p.content === 'ignore-call') return stop(ef);
    }),
    hook(h.rerouteUnackedMessages, (ef, p) => {
      for (const acc of getModState(p.conn, bufferSlot) ?? []) router!.route(acc);
    }),
  ],
});

async function setup() {
  const server = await createTestServer({ users: USERS, modules: [dormant] });
  router = server.router;
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  return { server, alice, bob };
}

test('the external state is part of the listener machine; a module enters and leaves it', async () => {
  const { alice } = await setup();
  alice.connection.cast('dormant', 'wake');
  assert.is(alice.connection.state, 'established');
  const states = Object.keys((alice.connection.actor.getSnapshot().machine.root.states as Record<string, { states: object }>).external.states);
  assert.equal(states, ['resumable']);
});

test('claimed stop: socket closed → dormant in external.resumable, stanzas buffered, then resumed', async () => {
  const { server, alice, bob } = await setup();
  alice.closeSocket();
  await alice.settle();
  assert.is(alice.connection.state, 'external.resumable');
  assert.not.ok(alice.connection.closed);
  assert.is(server.sessions.count(), 2, 'the session stays registered');
  bob.send(`<message to='alice@localhost/phone'><body>while away</body></message>`);
  await bob.settle();
  assert.is(await alice.connection.call<number>('dormant', 'count'), 1);
  alice.connection.cast('dormant', 'wake');
  assert.is(alice.connection.state, 'established');
});

test('claimed stop, then the resume timeout: terminate and re-route the buffer to another resource', async () => {
  const { server, alice, bob } = await setup();
  const other = server.connect();
  await other.login('alice@localhost/laptop', 'a');
  alice.closeSocket();
  await alice.settle();
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>buffered</body></message>`);
  await bob.settle();
  assert.equal(other.received().filter((e) => e.name === 'message'), []);
  server.clock.advance(60_000);
  await alice.settle();
  assert.ok(alice.connection.closed);
  assert.is(alice.connection.state, 'closed');
  const got = other.received().filter((e) => e.name === 'message');
  assert.equal(got.map((e) => e.getChildText('body')), ['buffered'], 'rerouteUnackedMessages delivered it elsewhere');
  assert.is(server.sessions.count(), 2);
});

test('a socket error is claimable too, and the close that follows it runs no second hook', async () => {
  const { server, alice } = await setup();
  let closedRuns = 0;
  server.hooks.add(h.userSocketClosed, 'localhost', () => void closedRuns++, 1);
  alice.transport.clientError(new Error('ECONNRESET'));
  await alice.settle();
  assert.is(alice.connection.state, 'external.resumable');
  assert.is(closedRuns, 0);
  assert.not.ok(alice.connection.closed);
});

test('a soft stop nobody claims terminates; exit() is never interceptable', async () => {
  const { server, alice, bob } = await setup();
  alice.connection.stop('admin');
  await alice.settle();
  assert.ok(alice.closed && alice.trailer);
  assert.is(alice.streamError, undefined);
  bob.connection.exit('system-shutdown', 'system-shutdown');
  await bob.settle();
  assert.is(bob.streamError, 'system-shutdown');
  assert.is(server.sessions.count(), 0);
});

test('call/cast reach foreignEvent: reply, unhandled → reject, no reply → reject on the fake clock', async () => {
  const { server, alice } = await setup();
  assert.is(await alice.connection.call('dormant', 'count'), 0);
  let err = await alice.connection.call('nobody', 'x').catch((e: Error) => e.message);
  assert.match(String(err), /unhandled/);
  const pending = alice.connection.call('dormant', 'ignore-call', 1000).catch((e: Error) => e.message);
  server.clock.advance(1000);
  assert.match(String(await pending), /timed out/);
  alice.connection.cast('dormant', 'kill');
  await alice.settle();
  assert.ok(alice.connection.closed);
  err = await alice.connection.call('dormant', 'count').catch((e: Error) => e.message);
  assert.match(String(err), /closed/);
});

test('onClosed fires once at the end; destroy() tears down without waiting for async hooks', async () => {
  const { server, alice, bob } = await setup();
  let closed = 0;
  alice.connection.onClosed(() => closed++);
  alice.connection.exit('bye');
  await alice.settle();
  assert.is(closed, 1);
  alice.connection.onClosed(() => closed++);
  assert.is(closed, 2, 'late listeners run at once');
  server.hooks.add(h.userTerminate, 'localhost', () => new Promise<void>(() => {}));
  bob.connection.exit('stuck');
  await bob.settle().catch(() => undefined);
  assert.not.ok(bob.connection.closed, 'waiting on a hook that never settles');
  bob.connection.destroy();
  assert.ok(bob.connection.closed);
  assert.is(server.sessions.count(), 0);
});

test('teardown re-routes everything still queued (never silently dropped)', async () => {
  const { server, bob } = await setup();
  const alice2 = server.connect();
  await alice2.login('alice@localhost/laptop', 'a');
  const alice = server.connections.find((c) => c.jid?.toString() === 'alice@localhost/phone')!;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  server.hooks.add(h.userReceiveMessage, 'localhost', async (ef, p) => {
    if (p.conn !== alice) return next(ef);
    await gate;
    return stop(ef.hardStop('gone'));
  });
  for (const n of [1, 2, 3]) bob.send(`<message to='alice@localhost/phone' type='chat'><body>${n}</body></message>`);
  assert.ok(alice.busy, 'the first delivery is in an async handler; 2 and 3 are queued');
  release();
  await bob.settle();
  assert.ok(alice.closed);
  const bodies = alice2.received().filter((e) => e.name === 'message').map((e) => e.getChildText('body'));
  assert.equal(bodies, ['2', '3']);
});

test.run();
