// `established`: address checks (RFC 6120 §8.1), the send and receive pipelines (reference
// §1.7) with two users chatting, effects applied in order, async handlers keeping order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { next, stop } from '../../src/hooks/index.ts';
import * as h from '../../src/c2s/hooks.ts';
import { NS } from '../../src/core/namespaces.ts';
import { xml } from '../../src/core/xml/element.ts';
import type { Effects } from '../../src/c2s/effects.ts';
import type { Acc } from '../../src/core/acc.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };

async function pair() {
  const server = await createTestServer({ users: USERS });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  return { server, alice, bob };
}

const body = (c: TestClient) => c.received().filter((e) => e.name === 'message').map((e) => `${e.attrs.from}>${e.attrs.to}:${e.getChildText('body')}`);

test('two users chat: bare and full JID, from rewritten to the sender full JID', async () => {
  const { server, alice, bob } = await pair();
  alice.send(`<message to='bob@localhost' type='chat'><body>hi bob</body></message>`);
  alice.send(`<message to='bob@localhost/pc' type='chat'><body>still there?</body></message>`);
  await alice.settle();
  assert.equal(body(bob), ['alice@localhost/phone>bob@localhost:hi bob', 'alice@localhost/phone>bob@localhost/pc:still there?']);
  bob.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', null, 'yes')));
  await bob.settle();
  assert.equal(body(alice), ['bob@localhost/pc>alice@localhost/phone:yes']);
  assert.equal(server.hookErrors, []);
});

test('`from` may be the full or the bare JID; anything else is invalid-from', async () => {
  const { alice, bob } = await pair();
  alice.send(`<message from='alice@localhost/phone' to='bob@localhost'><body>1</body></message>`);
  alice.send(`<message from='alice@localhost' to='bob@localhost'><body>2</body></message>`);
  await alice.settle();
  assert.is(body(bob).length, 2);
  alice.send(`<message from='alice@localhost/other' to='bob@localhost'><body>3</body></message>`);
  await alice.settle();
  assert.is(alice.streamError, 'invalid-from');
  assert.ok(alice.closed);
  assert.is(body(bob).length, 0);
});

test('a malformed `to` → jid-malformed stanza error; the stream stays open', async () => {
  const { alice } = await pair();
  alice.send(`<message id='m1' to='@@bad@@'><body>x</body></message>`);
  await alice.settle();
  const err = alice.expect((e) => e.attrs.id === 'm1');
  assert.is(err.attrs.type, 'error');
  assert.ok(err.getChild('error')?.getChild('jid-malformed', NS.STANZA_ERRORS));
  assert.not.ok(alice.closed);
});

test('missing `to` means the sender bare JID; send hooks run packet → by name, in order', async () => {
  const { server, alice } = await pair();
  const seen: string[] = [];
  server.hooks.add(h.userSendPacket, 'localhost', (ef, p) => void seen.push(`packet:${p.acc.name}:${p.acc.to}`));
  server.hooks.add(h.userSendIq, 'localhost', (ef, p) => {
    seen.push(`iq:${p.acc.to}`);
    return stop(ef.socketSend(xml('iq', { type: 'result', id: p.acc.element.attrs.id })));
  });
  server.hooks.add(h.userSendXmlel, 'localhost', (ef, p) => void seen.push(`xmlel:${p.acc.name}`));
  alice.send(`<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>`);
  alice.send(`<r xmlns='urn:xmpp:sm:3'/>`);
  await alice.settle();
  assert.equal(seen, ['packet:iq:alice@localhost', 'iq:alice@localhost', 'packet:r:alice@localhost', 'xmlel:r']);
  assert.is(alice.expect((e) => e.attrs.id === 'v').attrs.type, 'result');
});

test('userSendPacket stop: no by-name hook, no routing', async () => {
  const { server, alice, bob } = await pair();
  let byName = 0;
  server.hooks.add(h.userSendPacket, 'localhost', (ef) => stop(ef));
  server.hooks.add(h.userSendMessage, 'localhost', () => void byName++);
  alice.send(`<message to='bob@localhost'><body>x</body></message>`);
  await alice.settle();
  assert.is(byName, 0);
  assert.is(body(bob).length, 0);
});

test('presences are never routed by the core (a presence module does it)', async () => {
  const { server, alice, bob } = await pair();
  const presences: string[] = [];
  server.hooks.add(h.userSendPresence, 'localhost', (ef, p) => void presences.push(String(p.acc.to)));
  alice.send(`<presence to='bob@localhost' type='subscribe'/>`);
  alice.send(`<presence/>`);
  await alice.settle();
  assert.equal(presences, ['bob@localhost', 'alice@localhost']);
  assert.equal(bob.received(), []);
});

test('receive pipeline: packet → by name → presend → socket → xmppSendElement; stop drops', async () => {
  const { server, alice, bob } = await pair();
  const seen: string[] = [];
  const tag = (name: string) => (ef: Effects) => void seen.push(name);
  server.hooks.add(h.userReceivePacket, 'localhost', tag('packet'));
  server.hooks.add(h.userReceiveMessage, 'localhost', (ef, p) => {
    seen.push('message');
    return p.acc.element.getChildText('body') === 'drop me' ? stop(ef) : next(ef);
  });
  server.hooks.add(h.xmppPresendElement, 'localhost', tag('presend'));
  server.hooks.add(h.xmppSendElement, 'localhost', (ef, p) => void seen.push(`sent:${p.sent}:${p.element.name}`));
  alice.send(`<message to='bob@localhost'><body>drop me</body></message>`);
  alice.send(`<message to='bob@localhost'><body>keep me</body></message>`);
  await alice.settle();
  assert.equal(seen, ['packet', 'message', 'packet', 'message', 'presend', 'sent:true:message']);
  assert.equal(body(bob), ['alice@localhost/phone>bob@localhost:keep me']);
});

test('effects order: socketSendFirst before socketSend; route re-enters the receive pipeline before the next input', async () => {
  const { server, alice } = await pair();
  server.hooks.add(h.userSendXmlel, 'localhost', (ef, p) => {
    if (p.acc.name !== 'ping-me') return;
    const notice = p.acc.strip({ element: xml('message', { type: 'headline' }, xml('body', null, 'routed')) });
    return stop(ef.socketSend(xml('second', { xmlns: 'urn:test' })).route(notice).socketSendFirst(xml('first', { xmlns: 'urn:test' })));
  });
  alice.send(`<ping-me xmlns='urn:test'/>`);
  alice.send(`<iq type='set' id='after'><session xmlns='${NS.SESSION}'/></iq>`);
  await alice.settle();
  assert.equal(alice.received().map((e) => e.attrs.id ?? e.getChildText('body') ?? e.name), ['first', 'second', 'routed', 'after']);
});

test('flush: a CSI-like module buffers in presend and flushes in order (presend runs again, socket, xmppSendElement)', async () => {
  const { server, alice, bob } = await pair();
  let inactive = false;
  const buffer: Acc[] = [];
  let sends = 0;
  server.hooks.add(h.userSendXmlel, 'localhost', (ef, p) => {
    if (p.acc.name === 'inactive') inactive = true;
    if (p.acc.name === 'active') {
      inactive = false;
      for (const acc of buffer.splice(0)) ef.flush(acc);
    }
    return stop(ef);
  });
  server.hooks.add(h.xmppPresendElement, 'localhost', (ef, p) => {
    if (p.conn !== bob.connection || !inactive) return;
    buffer.push(p.acc);
    return stop(ef);
  });
  server.hooks.add(h.xmppSendElement, 'localhost', (ef, p) => void (p.conn === bob.connection && p.element.name === 'message' && sends++));
  bob.send(`<inactive xmlns='urn:xmpp:csi:0'/>`);
  for (const n of ['1', '2']) alice.send(`<message to='bob@localhost'><body>${n}</body></message>`);
  await alice.settle();
  assert.equal(body(bob), []);
  bob.send(`<active xmlns='urn:xmpp:csi:0'/>`);
  await bob.settle();
  assert.equal(body(bob).map((s) => s.split(':')[1]), ['1', '2']);
  assert.is(sends, 2);
});

test('an async handler pauses the connection; order of later stanzas is kept', async () => {
  const { server, alice, bob } = await pair();
  server.hooks.add(h.userSendMessage, 'localhost', async (ef, p) => {
    if (p.acc.element.getChildText('body') === 'slow') await new Promise((r) => setImmediate(r));
    return next(ef);
  });
  alice.send(`<message to='bob@localhost'><body>slow</body></message>`);
  alice.send(`<message to='bob@localhost'><body>fast</body></message>`);
  assert.ok(alice.connection.busy);
  await alice.settle();
  assert.equal(body(bob).map((s) => s.split(':')[1]), ['slow', 'fast']);
});

test('a throwing handler is logged and skipped; the stanza still flows', async () => {
  const { server, alice, bob } = await pair();
  server.hooks.add(h.userSendMessage, 'localhost', () => {
    throw new Error('boom');
  });
  alice.send(`<message to='bob@localhost'><body>ok</body></message>`);
  await alice.settle();
  assert.is(body(bob).length, 1);
  assert.is(server.hookErrors.length, 1);
});

test.run();
