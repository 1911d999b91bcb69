// Resource binding and session establishment (RFC 6120 §7, RFC 6121 appendix E, reference §1.6).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { next, stop } from '../../src/hooks/index.ts';
import { userOpenSession } from '../../src/c2s/hooks.ts';
import { NS } from '../../src/core/namespaces.ts';

const USERS = { 'alice@localhost': 'secret' };

async function authenticated(listener = {}) {
  const server = await createTestServer({ users: USERS, listener });
  const c = server.connect();
  await c.openStream();
  const features = await c.authenticate('alice', 'secret');
  return { server, c, features };
}

const bindIq = (id: string, resource?: string) =>
  `<iq type='set' id='${id}'><bind xmlns='${NS.BIND}'>${resource === undefined ? '' : `<resource>${resource}</resource>`}</bind></iq>`;

test('client-chosen resource; registered with the session manager', async () => {
  const { server, c } = await authenticated();
  assert.is(await c.bind('Laptop'), 'alice@localhost/Laptop');
  assert.is(c.connection.state, 'established');
  assert.is(server.sessions.get('alice@localhost/Laptop')?.sid, c.connection.sid);
});

test('empty resource → a generated, unique one (RFC 6120 §7.6.2.1)', async () => {
  const server = await createTestServer({ users: USERS });
  const jids = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const c = server.connect();
    await c.openStream();
    await c.authenticate('alice', 'secret');
    const jid = await c.bind();
    assert.match(jid, /^alice@localhost\/.+/);
    jids.add(jid);
  }
  assert.is(jids.size, 3);
  assert.is(server.sessions.count(), 3);
});

test('a resource that fails preparation → bad-request and a retry', async () => {
  const { c } = await authenticated();
  c.send(bindIq('b1', 'x'.repeat(1100))); // over RFC 7622's 1023 bytes
  await c.settle();
  const err = c.expect((e) => e.attrs.id === 'b1');
  assert.is(err.attrs.type, 'error');
  assert.ok(err.getChild('error')?.getChild('bad-request', NS.STANZA_ERRORS));
  assert.is(c.connection.state, 'postAuth');
  assert.is(await c.bind('ok'), 'alice@localhost/ok');
});

test('any other IQ before bind → bad-request; retries exhausted (default 5, the 6th closes)', async () => {
  const { c } = await authenticated();
  for (let i = 1; i <= 5; i++) {
    c.send(`<iq type='get' id='q${i}'><query xmlns='jabber:iq:roster'/></iq>`);
    await c.settle();
    assert.ok(c.expect((e) => e.attrs.id === `q${i}`).getChild('error'));
    assert.not.ok(c.closed);
  }
  c.send(`<iq type='get' id='q6'><query xmlns='jabber:iq:roster'/></iq>`);
  await c.settle();
  assert.ok(c.closed);
});

test('userOpenSession can deny: not-allowed, a retry is used, a later bind may pass', async () => {
  const { server, c } = await authenticated({ bindRetries: 1 });
  let deny = true;
  server.hooks.add(userOpenSession, 'localhost', (ef, p) => (deny && p.jid.resource === 'blocked' ? stop(ef) : next(ef)));
  c.send(bindIq('d1', 'blocked'));
  await c.settle();
  const err = c.expect((e) => e.attrs.id === 'd1');
  assert.ok(err.getChild('error')?.getChild('not-allowed', NS.STANZA_ERRORS));
  assert.is(server.sessions.count(), 0);
  deny = false;
  assert.is(await c.bind('blocked'), 'alice@localhost/blocked');
});

test('conflict: the same resource again replaces the older session (stream error conflict)', async () => {
  const server = await createTestServer({ users: USERS });
  const old = server.connect();
  await old.login('alice@localhost/home', 'secret');
  const fresh = server.connect();
  await fresh.login('alice@localhost/home', 'secret');
  await fresh.settle();
  assert.is(old.streamError, 'conflict');
  assert.ok(old.closed);
  assert.not.ok(fresh.closed);
  assert.is(server.sessions.count(), 1);
  assert.is(server.sessions.get('alice@localhost/home')?.sid, fresh.connection.sid);
});

test('optional session (default): advertised with <optional/>; a session IQ gets an empty result', async () => {
  const { c, features } = await authenticated();
  assert.ok(features.getChild('session', NS.SESSION)?.getChild('optional'));
  await c.bind('r');
  c.send(`<iq type='set' id='s1'><session xmlns='${NS.SESSION}'/></iq>`);
  await c.settle();
  const r = c.expect((e) => e.attrs.id === 's1');
  assert.is(r.attrs.type, 'result');
  assert.is(r.elements().length, 0);
});

test('legacySession: bind → awaitingSession → session IQ → established', async () => {
  const { server, c, features } = await authenticated({ legacySession: true });
  assert.ok(features.getChild('session', NS.SESSION));
  assert.not.ok(features.getChild('session', NS.SESSION)!.getChild('optional'));
  c.send(bindIq('b', 'old'));
  await c.settle();
  assert.is(c.expect((e) => e.attrs.id === 'b').attrs.type, 'result');
  assert.is(c.connection.state, 'awaitingSession');
  assert.is(server.sessions.count(), 0, 'not registered before the session IQ');
  c.send(`<iq type='set' id='s'><session xmlns='${NS.SESSION}'/></iq>`);
  await c.settle();
  assert.is(c.expect((e) => e.attrs.id === 's').attrs.type, 'result');
  assert.is(c.connection.state, 'established');
  assert.is(server.sessions.count(), 1);
});

test('legacySession: a denied session IQ closes the stream', async () => {
  const { server, c } = await authenticated({ legacySession: true });
  server.hooks.add(userOpenSession, 'localhost', (ef) => stop(ef));
  c.send(bindIq('b', 'x'));
  await c.settle();
  c.send(`<iq type='set' id='s'><session xmlns='${NS.SESSION}'/></iq>`);
  await c.settle();
  assert.ok(c.expect((e) => e.attrs.id === 's').getChild('error')?.getChild('not-allowed', NS.STANZA_ERRORS));
  assert.ok(c.closed);
});

test.run();
