// XEP-0352 client state indication through the test kit: buffering while inactive, order,
// overflow, urgent stanzas, <active/> flush, hand-over to stream management when the
// connection goes dormant, re-routing at teardown (reference §5.4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { csi, csiSlot, NS_CSI, isUrgent, type CsiOptions } from '../../src/ext/csi/index.ts';
import { streamManagement, smSlot, NS_SM } from '../../src/ext/stream-management/index.ts';
import { Acc } from '../../src/core/acc.ts';
import { parseElement } from '../../src/core/xml/parse-element.ts';
import { xml } from '../../src/core/xml/element.ts';
import type { ModuleInstance } from '../../src/c2s/module.ts';
import { resumeOn } from '../helpers/test-kit.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };

async function setup(opts: Partial<CsiOptions> = {}, more: ModuleInstance[] = []) {
  const server = await createTestServer({ users: USERS, modules: [{ module: csi, options: opts }, ...more] });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  return { server, alice, bob };
}

const state = (text: string) => `<message to='alice@localhost/phone' type='chat' id='${text}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`;
const chat = (text: string) => `<message to='alice@localhost/phone' type='chat' id='${text}'><body>${text}</body></message>`;
const ids = (c: TestClient) => c.received().filter((e) => e.name === 'message' || e.name === 'presence').map((e) => e.attrs.id);

/** A presence routed to alice (the core routes no client presence without a presence module). */
function presenceTo(server: TestServer, to: string, id: string): void {
  const el = xml('presence', { from: 'bob@localhost/pc', to, id });
  server.router.route(Acc.fromElement(el, { hostType: 'localhost', lserver: 'localhost', origin: 'server' }));
}

test('<csi/> is offered after authentication; the urgency rule', async () => {
  const server = await createTestServer({ users: USERS, modules: [csi] });
  const c = server.connect();
  assert.not.ok((await c.openStream()).getChild('csi', NS_CSI));
  assert.ok((await c.authenticate('alice', 'a')).getChild('csi', NS_CSI));
  const p = (s: string) => parseElement(s, { defaultNs: 'jabber:client' });
  assert.ok(isUrgent(p(`<message type='chat'><body>x</body></message>`)));
  assert.ok(isUrgent(p(`<message><body>x</body></message>`)));
  assert.not.ok(isUrgent(p(`<message type='groupchat'><body>x</body></message>`)));
  assert.not.ok(isUrgent(p(`<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)));
  assert.ok(isUrgent(p(`<iq type='get' id='1'/>`)));
  assert.not.ok(isUrgent(p(`<iq type='result' id='1'/>`)));
  assert.not.ok(isUrgent(p(`<presence/>`)));
});

test('inactive: non-urgent stanzas wait; <active/> flushes them in order', async () => {
  const { server, alice, bob } = await setup();
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  await alice.settle();
  bob.send(state('s1'));
  presenceTo(server, 'alice@localhost/phone', 'p1');
  bob.send(state('s2'));
  await bob.settle();
  assert.equal(ids(alice), []);
  assert.is(alice.connection.getModState(csiSlot)!.buffer.length, 3);
  alice.send(`<active xmlns='${NS_CSI}'/>`);
  await alice.settle();
  assert.equal(ids(alice), ['s1', 'p1', 's2']);
  bob.send(state('s3'));
  await bob.settle();
  assert.equal(ids(alice), ['s3'], 'active again: straight through');
});

test('an urgent stanza flushes the buffer first, then goes out; urgentFlush false holds everything', async () => {
  const { alice, bob } = await setup();
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  bob.send(state('s1'));
  bob.send(state('s2'));
  bob.send(chat('hello'));
  bob.send(state('s3'));
  await bob.settle();
  assert.equal(ids(alice), ['s1', 's2', 'hello']);

  const s2 = await setup({ urgentFlush: false });
  s2.alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  s2.bob.send(chat('m1'));
  s2.bob.send(state('s1'));
  await s2.bob.settle();
  assert.equal(ids(s2.alice), []);
});

test('overflow: one more than bufferMax flushes everything, the new stanza last', async () => {
  const { alice, bob } = await setup({ bufferMax: 3 });
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  for (const n of [1, 2, 3]) bob.send(state(`s${n}`));
  await bob.settle();
  assert.equal(ids(alice), []);
  bob.send(state('s4'));
  await bob.settle();
  assert.equal(ids(alice), ['s1', 's2', 's3', 's4']);
  bob.send(state('s5'));
  await bob.settle();
  assert.equal(ids(alice), [], 'still inactive: buffering again');
});

test('with stream management: flushed stanzas are counted and buffered by SM (one <r/> each)', async () => {
  const { alice, bob } = await setup({}, [{ module: streamManagement }]);
  alice.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  await alice.settle();
  alice.received();
  bob.send(state('s1'));
  bob.send(state('s2'));
  await bob.settle();
  assert.is(alice.connection.getModState(smSlot)!.buffer.length, 0, 'held by CSI, not sent, not counted');
  alice.send(`<active xmlns='${NS_CSI}'/>`);
  await alice.settle();
  assert.equal(alice.received().map((e) => e.attrs.id ?? e.name), ['s1', 'r', 's2', 'r']);
  assert.is(alice.connection.getModState(smSlot)!.buffer.length, 2);
});

test('going dormant flushes the CSI buffer into stream management; resume re-sends it in order', async () => {
  const { server, alice, bob } = await setup({}, [{ module: streamManagement }]);
  alice.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  await alice.settle();
  const id = alice.expect((e) => e.name === 'enabled').attrs.id!;
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  bob.send(state('s1'));
  bob.send(state('s2'));
  await bob.settle();
  alice.closeSocket();
  await alice.settle();
  assert.is(alice.connection.state, 'external.resumable');
  assert.equal(alice.connection.getModState(smSlot)!.buffer.map((a) => a.element.attrs.id), ['s1', 's2']);
  assert.is(alice.connection.getModState(csiSlot)!.buffer.length, 0);
  bob.send(state('s3'));
  await bob.settle();
  const { c: a2, answer } = await resumeOn(server, 'alice', 'a', id);
  assert.is(answer.name, 'resumed');
  assert.equal(ids(a2), ['s1', 's2', 's3']);
});

test('teardown re-routes the CSI buffer (another resource gets it)', async () => {
  const { server, alice, bob } = await setup();
  const laptop = server.connect();
  await laptop.login('alice@localhost/laptop', 'a');
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  bob.send(state('s1'));
  await bob.settle();
  alice.closeSocket();
  await alice.settle();
  assert.ok(alice.connection.closed);
  assert.equal(ids(laptop), ['s1']);
});

test('CSI elements before bind are ignored; unknown CSI elements are ignored', async () => {
  const server = await createTestServer({ users: USERS, modules: [csi] });
  const c = server.connect();
  await c.openStream();
  await c.authenticate('alice', 'a');
  c.send(`<inactive xmlns='${NS_CSI}'/>`);
  await c.settle();
  await c.bind('phone');
  assert.is(c.connection.getModState(csiSlot), undefined);
  c.send(`<whatever xmlns='${NS_CSI}'/>`);
  await c.settle();
  assert.not.ok(c.closed);
});

test.run();
