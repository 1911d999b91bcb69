// XEP-0198 stream management through the test kit (fake clock): enable, h counting, acks,
// buffer limits, dormant state, resumption with hand-over, timeouts and re-routing
// (reference §5.2, sm_SUITE checklist in §9).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { streamManagement, smSlot, NS_SM, type StreamManagementOptions } from '../../src/ext/stream-management/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { Acc } from '../../src/core/acc.ts';
import { Jid } from '../../src/core/jid.ts';
import { NS } from '../../src/core/namespaces.ts';
import { xml, type XmlElement } from '../../src/core/xml/element.ts';
import * as h from '../../src/c2s/hooks.ts';
import type { ModuleInstance } from '../../src/c2s/module.ts';
import { resumeOn } from '../helpers/test-kit.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const PW: Record<string, string> = { alice: 'a', bob: 'b', carol: 'c' };

async function setup(opts: Partial<StreamManagementOptions> = {}, more: ModuleInstance[] = [], listener = {}) {
  const server = await createTestServer({ users: USERS, modules: [{ module: streamManagement, options: opts }, ...more], listener });
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  return { server, bob };
}

async function smLogin(server: TestServer, jid: string, resume = true): Promise<{ c: TestClient; id: string | undefined }> {
  const c = server.connect();
  await c.login(jid, PW[Jid.parse(jid).local]!);
  c.send(`<enable xmlns='${NS_SM}'${resume ? " resume='true'" : ''}/>`);
  await c.settle();
  const en = c.expect((e) => e.name === 'enabled' && e.ns === NS_SM, '<enabled/>');
  return { c, id: en.attrs.id };
}

const chat = (to: string, text: string) => `<message to='${to}' type='chat'><body>${text}</body></message>`;
const msgs = (c: TestClient) => c.received().filter((e) => e.name === 'message');
const bodies = (els: XmlElement[]) => els.map((e) => e.getChildText('body'));
const slot = (c: TestClient) => c.connection.getModState(smSlot)!;
const failedCondition = (el: XmlElement) => el.elements().find((c) => c.ns === 'urn:ietf:params:xml:ns:xmpp-stanzas')?.name;

test('<sm/> is offered after authentication only', async () => {
  const { server } = await setup();
  const c = server.connect();
  const pre = await c.openStream();
  assert.not.ok(pre.getChild('sm', NS_SM));
  const post = await c.authenticate('alice', 'a');
  assert.ok(post.getChild('sm', NS_SM));
});

test('enable before bind and enable twice → <failed><unexpected-request/>; after bind → <enabled id resume max>', async () => {
  const { server } = await setup({ resumeTimeout: 300_000 });
  const c = server.connect();
  await c.openStream();
  await c.authenticate('alice', 'a');
  c.send(`<enable xmlns='${NS_SM}'/>`);
  await c.settle();
  assert.is(failedCondition(c.expect((e) => e.name === 'failed')), 'unexpected-request');
  await c.bind('phone');
  c.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  await c.settle();
  const en = c.expect((e) => e.name === 'enabled');
  assert.ok(en.attrs.id && en.attrs.id.length >= 20);
  assert.is(en.attrs.resume, 'true');
  assert.is(en.attrs.max, '300');
  assert.equal(await server.storage.smIds.lookup('localhost', en.attrs.id!), { kind: 'sid', sid: c.connection.sid });
  c.send(`<enable xmlns='${NS_SM}'/>`);
  await c.settle();
  assert.is(failedCondition(c.expect((e) => e.name === 'failed')), 'unexpected-request');
  assert.not.ok(c.closed, 'a second enable is answered, the stream stays');
  // Without resume: no id.
  const d = await smLogin(server, 'carol@localhost/x', false);
  assert.is(d.id, undefined);
  // A shorter client max is honoured (XEP-0198 §5), a longer one is not.
  const e = server.connect();
  await e.login('bob@localhost/m', 'b');
  e.send(`<enable xmlns='${NS_SM}' resume='true' max='60'/>`);
  await e.settle();
  assert.is(e.expect((x) => x.name === 'enabled').attrs.max, '60');
  e.closeSocket();
  await e.settle();
  assert.is(e.connection.timeoutDeadline('resumeTimeout'), server.clock.now() + 60_000);
  const f = server.connect();
  await f.login('bob@localhost/n', 'b');
  f.send(`<enable xmlns='${NS_SM}' resume='true' max='9999'/>`);
  await f.settle();
  assert.is(f.expect((x) => x.name === 'enabled').attrs.max, '300');
});

test('enable before the session (legacySession) in awaitingSession', async () => {
  const { server } = await setup({}, [], { legacySession: true });
  const c = server.connect();
  await c.openStream();
  await c.authenticate('alice', 'a');
  c.send(xml('iq', { type: 'set', id: 'b1' }, xml('bind', { xmlns: NS.BIND }, xml('resource', null, 'phone'))));
  await c.settle();
  c.expect((e) => e.attrs.id === 'b1' && e.attrs.type === 'result');
  assert.is(c.connection.state, 'awaitingSession');
  c.send(`<enable xmlns='${NS_SM}' resume='1'/>`);
  await c.settle();
  assert.is(c.expect((e) => e.name === 'enabled').attrs.resume, 'true');
  c.send(xml('iq', { type: 'set', id: 's1' }, xml('session', { xmlns: NS.SESSION })));
  await c.settle();
  c.expect((e) => e.attrs.id === 's1' && e.attrs.type === 'result');
  assert.is(c.connection.state, 'established');
  c.send(`<r xmlns='${NS_SM}'/>`);
  await c.settle();
  // The session IQ came after <enable/>: a stanza the client counts, so the server does too.
  assert.is(c.expect((e) => e.name === 'a').attrs.h, '1');
});

test('h counts messages, presences and IQs, not other elements; <r/> → <a h/>', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  alice.send(chat('bob@localhost/pc', 'one'));
  alice.send(`<presence/>`);
  alice.send(`<iq type='get' id='q1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  alice.send(`<foo xmlns='urn:example:nonza'/>`);
  alice.send(`<r xmlns='${NS_SM}'/>`);
  await alice.settle();
  assert.is(alice.expect((e) => e.name === 'a').attrs.h, '3');
  assert.equal(bodies(msgs(bob)), ['one']);
});

test('server <r/> after each stanza (ackFreq 1), <a/> drops acked stanzas; ackFreq 2', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  bob.send(chat('alice@localhost/phone', 'm1'));
  bob.send(chat('alice@localhost/phone', 'm2'));
  await bob.settle();
  const got = alice.received();
  assert.equal(
    got.map((e) => e.name),
    ['message', 'r', 'message', 'r'],
  );
  assert.is(slot(alice).buffer.length, 2);
  alice.send(`<a xmlns='${NS_SM}' h='1'/>`);
  await alice.settle();
  assert.equal(bodies(slot(alice).buffer.map((a) => a.element)), ['m2']);
  alice.send(`<a xmlns='${NS_SM}' h='2'/>`);
  await alice.settle();
  assert.is(slot(alice).buffer.length, 0);
  assert.is(slot(alice).counterOut, 2);

  const s2 = await setup({ ackFreq: 2 });
  const { c: a2 } = await smLogin(s2.server, 'alice@localhost/phone');
  for (const n of [1, 2, 3, 4]) s2.bob.send(chat('alice@localhost/phone', `x${n}`));
  await s2.bob.settle();
  assert.equal(a2.received().map((e) => e.name), ['message', 'message', 'r', 'message', 'message', 'r']);
});

test('h counts the stanzas the core answers itself: a jid-malformed reply, an optional session IQ', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  alice.send(`<message to='@@bad@@' id='m1' type='chat'><body>x</body></message>`);
  alice.send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
  alice.send(chat('bob@localhost/pc', 'after'));
  alice.send(`<r xmlns='${NS_SM}'/>`);
  await alice.settle();
  const got = alice.received();
  assert.ok(got.some((e) => e.name === 'message' && e.attrs.type === 'error' && e.attrs.id === 'm1'), 'jid-malformed reply');
  assert.ok(got.some((e) => e.name === 'iq' && e.attrs.type === 'result' && e.attrs.id === 's1'), 'session IQ answered');
  assert.is(got.find((e) => e.name === 'a')?.attrs.h, '3');
  assert.equal(bodies(msgs(bob)), ['after']);
});

test('counters wrap at 2^32 (in and out)', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  slot(alice).counterIn = 2 ** 32 - 1;
  slot(alice).inBase = alice.connection.stanzasIn;
  alice.send(chat('bob@localhost/pc', 'wrap'));
  alice.send(`<r xmlns='${NS_SM}'/>`);
  await alice.settle();
  assert.is(alice.expect((e) => e.name === 'a').attrs.h, '0');
  slot(alice).counterOut = 2 ** 32 - 1;
  bob.send(chat('alice@localhost/phone', 'a'));
  bob.send(chat('alice@localhost/phone', 'b'));
  await bob.settle();
  alice.send(`<a xmlns='${NS_SM}' h='1'/>`);
  await alice.settle();
  assert.is(slot(alice).buffer.length, 0);
  assert.is(slot(alice).counterOut, 1);
  assert.not.ok(alice.closed);
});

test('too many unacked stanzas → resource-constraint after the check timeout (not per stanza); acking in time keeps the stream', async () => {
  const { server, bob } = await setup({ bufferMax: 3, bufferCheckMs: 5000 });
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  const { c: carol } = await smLogin(server, 'carol@localhost/x');
  for (const n of [1, 2, 3, 4, 5]) {
    bob.send(chat('alice@localhost/phone', `a${n}`));
    bob.send(chat('carol@localhost/x', `c${n}`));
  }
  await bob.settle();
  assert.ok(alice.connection.timeoutDeadline('sm.bufferCheck'));
  carol.send(`<a xmlns='${NS_SM}' h='5'/>`);
  await carol.settle();
  server.clock.advance(5000);
  await alice.settle();
  assert.is(alice.streamError, 'resource-constraint');
  assert.is(alice.streamErrorText, 'too many unacked stanzas');
  assert.ok(alice.closed);
  assert.not.ok(carol.closed, 'carol acked: the check found her buffer under the limit');
  // The unacked messages were not dropped: alice is offline and there is no offline module, so they bounce.
  const errs = bob.received().filter((e) => e.name === 'message' && e.attrs.type === 'error');
  assert.is(errs.length, 5);
});

test('acks more than sent → undefined-condition with <handled-count-too-high h send-count/>; invalid h → policy-violation', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  bob.send(chat('alice@localhost/phone', 'only one'));
  await bob.settle();
  alice.send(`<a xmlns='${NS_SM}' h='5'/>`);
  await alice.settle();
  assert.is(alice.streamError, 'undefined-condition');
  const err = alice.received().find((e) => e.name === 'error' && e.ns === NS.STREAMS)!;
  const app = err.getChild('handled-count-too-high', NS_SM)!;
  assert.equal(app.attrs, { h: '5', 'send-count': '1' });

  const { c: carol } = await smLogin(server, 'carol@localhost/x');
  carol.send(`<a xmlns='${NS_SM}' h='-1'/>`);
  await carol.settle();
  assert.is(carol.streamError, 'policy-violation');
});

test('<r/> and <a/> before enable → <failed><unexpected-request/>', async () => {
  const { bob } = await setup();
  bob.send(`<r xmlns='${NS_SM}'/>`);
  await bob.settle();
  assert.is(failedCondition(bob.expect((e) => e.name === 'failed')), 'unexpected-request');
});

test('socket killed → dormant (claimed) → resume on a new connection: unacked re-sent with delay exactly once, then new ones', async () => {
  const { server, bob } = await setup();
  const { c: alice, id } = await smLogin(server, 'alice@localhost/phone');
  alice.send(chat('bob@localhost/pc', 'hello'));
  bob.send(chat('alice@localhost/phone', 'm1'));
  bob.send(chat('alice@localhost/phone', 'm2'));
  await bob.settle();
  assert.equal(bodies(msgs(alice)), ['m1', 'm2']);
  alice.send(`<a xmlns='${NS_SM}' h='1'/>`);
  await alice.settle();
  alice.closeSocket();
  await alice.settle();
  assert.is(alice.connection.state, 'external.resumable');
  assert.not.ok(alice.connection.closed);
  assert.ok(alice.connection.timeoutDeadline('resumeTimeout'));
  bob.send(chat('alice@localhost/phone', 'm3 while away'));
  await bob.settle();
  assert.equal(bodies(slot(alice).buffer.map((a) => a.element)), ['m2', 'm3 while away']);

  const { c: alice2, answer } = await resumeOn(server, 'alice', 'a', id!, 1);
  assert.is(answer.name, 'resumed');
  assert.is(answer.attrs.previd, id);
  assert.is(answer.attrs.h, '1', 'alice had handled one stanza');
  const resent = msgs(alice2);
  assert.equal(bodies(resent), ['m2', 'm3 while away']);
  for (const m of resent) {
    const d = m.getChild('delay', NS.DELAY)!;
    assert.is(d.text(), 'SM Storage');
    assert.is(d.attrs.from, 'localhost');
    assert.ok(d.attrs.stamp);
  }
  assert.is(alice2.connection.state, 'established');
  assert.is(alice2.connection.jid?.toString(), 'alice@localhost/phone');
  assert.ok(alice.connection.closed, 'the old connection terminated after handing over');
  assert.is(server.sessions.count(), 2);
  assert.is(server.sessions.get('alice@localhost/phone'), alice2.connection.session);
  assert.equal(await server.storage.smIds.lookup('localhost', id!), { kind: 'sid', sid: alice2.connection.sid });
  // Counting continues on the new stream: the re-sent stanzas are unacked again.
  assert.is(slot(alice2).buffer.length, 2);
  alice2.send(`<a xmlns='${NS_SM}' h='3'/>`);
  bob.send(chat('alice@localhost/phone', 'm4'));
  await bob.settle();
  assert.equal(bodies(msgs(alice2)), ['m4']);
  assert.is(slot(alice2).counterOut, 3);
  alice2.send(chat('bob@localhost/pc', 'back'));
  alice2.send(`<r xmlns='${NS_SM}'/>`);
  await alice2.settle();
  assert.is(alice2.expect((e) => e.name === 'a').attrs.h, '2');
  assert.equal(bodies(msgs(bob)), ['hello', 'back'], 'bob got no bounce, no duplicate');
  assert.equal(server.hookErrors, []);
});

test('resume while the old socket is still attached: the old stream gets conflict, the new one takes over', async () => {
  const { server, bob } = await setup();
  const { c: alice, id } = await smLogin(server, 'alice@localhost/phone');
  bob.send(chat('alice@localhost/phone', 'unacked'));
  await bob.settle();
  alice.received();
  const { c: alice2, answer } = await resumeOn(server, 'alice', 'a', id!, 0);
  assert.is(answer.name, 'resumed');
  assert.equal(bodies(msgs(alice2)), ['unacked']);
  assert.is(alice.streamError, 'conflict');
  assert.ok(alice.connection.closed);
  assert.equal(msgs(alice), []);
});

test('stanzas arriving while the old connection hands over reach the new one after the re-sent ones', async () => {
  const { server, bob } = await setup();
  const { c: alice, id } = await smLogin(server, 'alice@localhost/phone');
  bob.send(chat('alice@localhost/phone', 'before'));
  await bob.settle();
  alice.closeSocket();
  await alice.settle();
  // Deliver one more right when the old connection answers the resume call.
  server.hooks.add(
    h.foreignEvent,
    'localhost',
    (ef, p) => {
      if (p.conn === alice.connection && p.tag === 'stream-management') bob.send(chat('alice@localhost/phone', 'during'));
      return undefined;
    },
    1,
  );
  const { c: alice2, answer } = await resumeOn(server, 'alice', 'a', id!, 0);
  assert.is(answer.name, 'resumed');
  await alice2.settle();
  assert.equal(bodies(msgs(alice2)), ['before', 'during']);
});

test('resume with an unknown id, a bad h, another user, or twice → <failed>', async () => {
  const { server } = await setup();
  const { id } = await smLogin(server, 'alice@localhost/phone');
  let r = await resumeOn(server, 'alice', 'a', 'bogus-id', 0);
  assert.is(r.answer.name, 'failed');
  assert.is(failedCondition(r.answer), 'item-not-found');
  assert.is(r.answer.attrs.h, undefined);
  r = await resumeOn(server, 'alice', 'a', id!, 'x');
  assert.is(failedCondition(r.answer), 'bad-request');
  r = await resumeOn(server, 'carol', 'c', id!, 0);
  assert.is(failedCondition(r.answer), 'item-not-found', "carol cannot take alice's session");
  // After a failure the client may bind normally.
  await r.c.bind('fresh');
  assert.is(r.c.connection.state, 'established');
  r.c.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
  await r.c.settle();
  assert.is(failedCondition(r.c.expect((e) => e.name === 'failed')), 'unexpected-request');
});

test('resume timeout → unavailable state ends, unacked messages re-routed to another resource; the id then gives a stale h', async () => {
  const { server, bob } = await setup();
  const { c: alice, id } = await smLogin(server, 'alice@localhost/phone');
  const laptop = server.connect();
  await laptop.login('alice@localhost/laptop', 'a');
  alice.send(chat('bob@localhost/pc', 'counted'));
  bob.send(chat('alice@localhost/phone', 'unacked 1'));
  await bob.settle();
  alice.closeSocket();
  await alice.settle();
  bob.send(chat('alice@localhost/phone', 'unacked 2'));
  await bob.settle();
  assert.equal(msgs(laptop), []);
  server.clock.advance(600_000 - 1);
  await alice.settle();
  assert.not.ok(alice.connection.closed);
  server.clock.advance(1);
  await alice.settle();
  assert.ok(alice.connection.closed);
  const got = msgs(laptop);
  assert.equal(bodies(got), ['unacked 1', 'unacked 2'], 're-routed, never dropped');
  assert.ok(got.every((m) => m.getChild('delay', NS.DELAY)?.text() === 'SM Storage'));
  await server.settle();
  const r = await resumeOn(server, 'alice', 'a', id!, 0);
  assert.is(failedCondition(r.answer), 'item-not-found');
  assert.is(r.answer.attrs.h, '1', 'the stale h of the gone session');
});

test('resume timeout with no other resource → offline storage (offline module)', async () => {
  const { server, bob } = await setup({ resumeTimeout: 60_000 }, [{ module: offline }]);
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  bob.send(chat('alice@localhost/phone', 'keep me'));
  await bob.settle();
  alice.closeSocket();
  await alice.settle();
  bob.send(chat('alice@localhost', 'to the bare jid while away'));
  await bob.settle();
  server.clock.advance(60_000);
  await server.settle();
  assert.ok(alice.connection.closed);
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'alice'), 2);
  assert.equal(bob.received().filter((e) => e.attrs.type === 'error'), [], 'nothing bounced');
});

test('a clean </stream:stream> does not go dormant; enable without resume does not either', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  alice.send('</stream:stream>');
  await alice.settle();
  assert.ok(alice.connection.closed);
  const { c: carol } = await smLogin(server, 'carol@localhost/x', false);
  carol.closeSocket();
  await carol.settle();
  assert.ok(carol.connection.closed);
  assert.is(server.sessions.count(), 1);
  assert.ok(bob);
});

test('a stop request is claimed too; a second one while dormant terminates', async () => {
  const { server } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  alice.closeSocket();
  await alice.settle();
  assert.is(alice.connection.state, 'external.resumable');
  alice.connection.stop('admin-kick');
  await alice.settle();
  assert.ok(alice.connection.closed);
  const { c: carol, id } = await smLogin(server, 'carol@localhost/x');
  carol.connection.stop('ping-timeout');
  await carol.settle();
  assert.is(carol.connection.state, 'external.resumable');
  assert.ok(server.sessions.get('carol@localhost/x'));
  // The live socket was dropped without a word (it looks like a network failure to the client).
  assert.ok(carol.closed);
  assert.not.ok(carol.trailer);
  assert.is(carol.streamError, undefined);
  const r = await resumeOn(server, 'carol', 'c', id!, 0);
  assert.is(r.answer.name, 'resumed');
});

test('resume a resumed session again (chain); stanzas pinned to any earlier sid are accepted, others dropped', async () => {
  const { server, bob } = await setup();
  const { c: a1, id } = await smLogin(server, 'alice@localhost/phone');
  a1.closeSocket();
  await a1.settle();
  const { c: a2 } = await resumeOn(server, 'alice', 'a', id!, 0);
  a2.closeSocket();
  await a2.settle();
  bob.send(chat('alice@localhost/phone', 'to the chain'));
  await bob.settle();
  const { c: a3, answer } = await resumeOn(server, 'alice', 'a', id!, 0);
  assert.is(answer.name, 'resumed');
  assert.equal(bodies(msgs(a3)), ['to the chain']);
  assert.equal(slot(a3).resumedFrom, [a1.connection.sid, a2.connection.sid]);
  const pinned = (sid: string, text: string) => {
    const el = xml('message', { from: 'bob@localhost/pc', to: 'alice@localhost/phone', type: 'chat' }, xml('body', null, text));
    const acc = Acc.fromElement(el, { hostType: 'localhost', lserver: 'localhost', origin: 'server' });
    acc.setPermanent('c2s', 'receiverSid', sid);
    server.router.route(acc);
  };
  pinned(a1.connection.sid, 'for a1');
  pinned('someone-else', 'for another connection');
  pinned(a3.connection.sid, 'for a3');
  await server.settle();
  assert.equal(bodies(msgs(a3)), ['for a1', 'for a3']);
});

test('a replaced connection (same resource, no resume) forwards its unacked stanzas to the replacing one', async () => {
  const { server, bob } = await setup();
  const { c: alice } = await smLogin(server, 'alice@localhost/phone');
  bob.send(chat('alice@localhost/phone', 'unacked'));
  await bob.settle();
  const alice2 = server.connect();
  await alice2.login('alice@localhost/phone', 'a');
  await alice2.settle();
  assert.is(alice.streamError, 'conflict');
  assert.equal(bodies(msgs(alice2)), ['unacked']);
});

test.run();
