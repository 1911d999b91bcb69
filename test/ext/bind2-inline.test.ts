// Inline features of SASL2 (XEP-0388) / Bind2 (XEP-0386) with the real modules: stream
// management enable inside <bind/> (<enabled/> in <bound/>, acks), resumption inside
// <authenticate/> (<resumed/> in <success/>, unacked stanzas re-sent exactly once, Bind2
// skipped), failed inline resumptions (<failed/> in <success/>, Bind2 still binds), carbons
// enabled inline (copies arrive), CSI inactive inline (buffering until <active/>), and the
// default module set offering all of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { sasl2, NS_SASL2 } from '../../src/ext/sasl2/index.ts';
import { bind2, NS_BIND2 } from '../../src/ext/bind2/index.ts';
import { streamManagement, NS_SM, smSlot } from '../../src/ext/stream-management/index.ts';
import { carbons, carbonsSlot } from '../../src/ext/carbons/index.ts';
import { csi, csiSlot, NS_CSI } from '../../src/ext/csi/index.ts';
import { defaultModules } from '../../src/ext/index.ts';
import type { ModuleInstance, XmppModule } from '../../src/c2s/module.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };
const UA = 'd4565fa7-4d72-4749-b3d3-740edbf87770';
const UA2 = '0e3a4c3e-7f44-4f7e-8c55-8a3c2f35b9d1';
const NS_CARBONS = 'urn:xmpp:carbons:2';

type Mods = readonly (XmppModule<any> | ModuleInstance)[];

async function setup(more: Mods = [{ module: streamManagement, options: { ackFreq: 0 } }, carbons, csi]): Promise<TestServer> {
  return createTestServer({ users: USERS, modules: [sasl2, bind2, ...more] });
}

const plain = (user: string, pw: string) => Buffer.from(`\0${user}\0${pw}`).toString('base64');
const userAgent = (id = UA) => `<user-agent id='${id}'><software>TestApp</software></user-agent>`;
const isSm = (name: string) => (e: XmlElement) => e.ns === NS_SM && e.name === name;
const isMsg = (e: XmlElement) => e.name === 'message';
const msgIds = (c: TestClient) =>
  c
    .received()
    .filter(isMsg)
    .map((e) => e.attrs.id);

/** A direct-TLS stream and a SASL2 PLAIN `<authenticate/>` with `inner`; returns the client and the `<success/>`. */
async function sasl2Login(server: TestServer, user: string, pw: string, inner: string): Promise<{ c: TestClient; success: XmlElement }> {
  const c = server.connect({ secure: true });
  await c.openStream();
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${plain(user, pw)}</initial-response>${inner}</authenticate>`);
  await c.settle();
  const success = c.expect((e) => e.ns === NS_SASL2, 'SASL2 outcome');
  assert.is(success.name, 'success', 'authenticated');
  return { c, success };
}

const bindWith = (inner: string, tag = 'Phone') => `<bind xmlns='${NS_BIND2}'><tag>${tag}</tag>${inner}</bind>`;
const aid = (success: XmlElement) => success.getChildText('authorization-identifier', NS_SASL2)!;

async function bobOnline(server: TestServer): Promise<TestClient> {
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  return bob;
}

function chat(bob: TestClient, to: string, id: string, body = id): void {
  bob.send(`<message to='${to}' id='${id}' type='chat'><body>${body}</body></message>`);
}

test('advertised: <sm/> in SASL2 <inline/>; sm, carbons and csi in Bind2 <inline/>', async () => {
  const server = await setup();
  const c = server.connect({ secure: true });
  const features = await c.openStream();
  const inline = features.getChild('authentication', NS_SASL2)!.getChild('inline', NS_SASL2)!;
  assert.ok(inline.getChild('sm', NS_SM), '<sm/> inline');
  const vars = inline
    .getChild('bind', NS_BIND2)!
    .getChild('inline')!
    .elements()
    .map((e) => e.attrs.var);
  assert.equal([...vars].sort(), [NS_CARBONS, NS_CSI, NS_SM].sort());
  // Without the modules nothing of theirs is listed.
  const bare = await setup([]);
  const b = bare.connect({ secure: true });
  const f2 = (await b.openStream()).getChild('authentication', NS_SASL2)!.getChild('inline', NS_SASL2)!;
  assert.not.ok(f2.getChild('sm', NS_SM));
  assert.not.ok(f2.getChild('bind', NS_BIND2)!.getChild('inline'), 'no inline feature vars');
});

test('inline SM enable: <enabled/> inside <bound/>; acks, <r/> and the buffer work; a second <enable/> fails', async () => {
  const server = await setup([streamManagement]);
  const { c, success } = await sasl2Login(server, 'alice', 'a', `${userAgent()}${bindWith(`<enable xmlns='${NS_SM}' resume='true'/>`)}`);
  const bound = success.getChild('bound', NS_BIND2)!;
  assert.ok(bound, '<bound/>');
  const enabled = bound.getChild('enabled', NS_SM)!;
  assert.ok(enabled, '<enabled/> inside <bound/>');
  assert.ok(enabled.attrs.id, 'a resumption id');
  assert.is(enabled.attrs.resume, 'true');
  assert.is(enabled.attrs.max, '600');
  assert.is(c.connection.state, 'established');
  assert.equal(c.received(), [], 'no stream features, no separate <enabled/>');
  const jid = aid(success);
  const bob = await bobOnline(server);
  chat(bob, jid, 'm1');
  await bob.settle();
  assert.is(c.expect(isMsg).attrs.id, 'm1');
  c.expect(isSm('r'), 'the server asks for an ack (ackFreq 1)');
  assert.is(c.connection.getModState(smSlot)!.buffer.length, 1, 'unacked');
  c.send(`<a xmlns='${NS_SM}' h='1'/>`);
  await c.settle();
  assert.is(c.connection.getModState(smSlot)!.buffer.length, 0, 'acked');
  // h counts what the client sent.
  c.send(`<message to='bob@localhost/pc' id='x1' type='chat'><body>hi</body></message>`);
  c.send(`<r xmlns='${NS_SM}'/>`);
  await c.settle();
  assert.is(c.expect(isSm('a')).attrs.h, '1');
  // XEP-0198 §3: once per stream.
  c.send(`<enable xmlns='${NS_SM}'/>`);
  await c.settle();
  assert.ok(c.expect(isSm('failed')).getChild('unexpected-request', NS.STANZA_ERRORS));
  assert.is(server.hookErrors.length, 0);
});

test('inline SM enable without resume: <enabled/> without id; closing the socket ends the session', async () => {
  const server = await setup();
  const { c, success } = await sasl2Login(server, 'alice', 'a', bindWith(`<enable xmlns='${NS_SM}'/>`));
  const enabled = success.getChild('bound', NS_BIND2)!.getChild('enabled', NS_SM)!;
  assert.ok(enabled);
  assert.is(enabled.attrs.id, undefined);
  const bare = c.connection.jid!.bare();
  c.closeSocket();
  await c.settle();
  assert.equal(server.sessions.sessionsOf(bare), [], 'not resumable: gone');
});

test('inline resume after the socket died: <resumed/> in <success/>, Bind2 skipped, unacked re-sent exactly once', async () => {
  const server = await setup();
  const first = await sasl2Login(server, 'alice', 'a', `${userAgent()}${bindWith(`<enable xmlns='${NS_SM}' resume='true'/>`)}`);
  const c = first.c;
  const smid = first.success.getChild('bound', NS_BIND2)!.getChild('enabled', NS_SM)!.attrs.id!;
  const jid = aid(first.success);
  const bob = await bobOnline(server);
  chat(bob, jid, 'q1');
  chat(bob, jid, 'q2');
  await bob.settle();
  assert.equal(msgIds(c), ['q1', 'q2']);
  c.send(`<a xmlns='${NS_SM}' h='1'/>`);
  await c.settle();
  c.closeSocket();
  await c.settle();
  assert.is(c.connection.state, 'external.resumable', 'dormant');
  chat(bob, jid, 'q3');
  await bob.settle();

  // Resume on a new connection inside the SASL2 <authenticate/>, with a Bind2 request as fallback.
  const { c: d, success } = await sasl2Login(server, 'alice', 'a', `${userAgent()}<resume xmlns='${NS_SM}' previd='${smid}' h='1'/>${bindWith(`<enable xmlns='${NS_SM}' resume='true'/>`)}`);
  assert.equal(
    success.elements().map((e) => e.name),
    ['authorization-identifier', 'resumed'],
  );
  assert.is(aid(success), jid, 'the resumed full JID');
  const resumed = success.getChild('resumed', NS_SM)!;
  assert.is(resumed.attrs.previd, smid);
  assert.is(resumed.attrs.h, '0', 'alice had sent nothing');
  assert.not.ok(success.getChild('bound', NS_BIND2), 'not bound again');
  const after = d.received();
  assert.equal(after.filter((e) => e.name === 'features'), [], 'no stream features after a resumption');
  const again = after.filter(isMsg);
  assert.equal(
    again.map((e) => e.attrs.id),
    ['q2', 'q3'],
    'the unacked stanzas, once, in order',
  );
  assert.ok(again.every((e) => e.getChild('delay', NS.DELAY) !== undefined), 'with SM delay stamps');
  assert.is(d.connection.state, 'established');
  assert.is(d.connection.jid!.toString(), jid);
  assert.equal(
    server.sessions.sessionsOf(d.connection.jid!.bare()).map((s) => s.sid),
    [d.connection.sid],
    'the new connection owns the session',
  );
  const st = d.connection.getModState(smSlot)!;
  assert.is(st.smid, smid, 'still resumable with the same id');
  assert.is(st.buffer.length, 2, 'the re-sent stanzas wait for an ack on the new stream');
  // The stream is usable; nothing else arrives, even when the old connection's timers have run.
  chat(bob, jid, 'q4');
  await bob.settle();
  server.clock.advance(700_000);
  await d.settle();
  assert.equal(msgIds(d), ['q4']);
  assert.equal(bob.received().filter((e) => e.attrs.type === 'error'), [], 'nothing bounced');
  assert.is(server.hookErrors.length, 0);
  // Ack everything (q2, q3, q4: h 4), lose the socket again, resume again: nothing is re-sent.
  d.send(`<a xmlns='${NS_SM}' h='4'/>`);
  await d.settle();
  d.closeSocket();
  await d.settle();
  const { c: e, success: s3 } = await sasl2Login(server, 'alice', 'a', `<resume xmlns='${NS_SM}' previd='${smid}' h='4'/>`);
  assert.ok(s3.getChild('resumed', NS_SM));
  assert.equal(msgIds(e), []);
});

test('inline resume of an unknown id: <failed><item-not-found/></failed> in <success/>, then Bind2 binds (with inline enable)', async () => {
  const server = await setup();
  const { c, success } = await sasl2Login(server, 'alice', 'a', `<resume xmlns='${NS_SM}' previd='bogus' h='0'/>${bindWith(`<enable xmlns='${NS_SM}' resume='true'/>`)}`);
  assert.equal(
    success.elements().map((e) => e.name),
    ['authorization-identifier', 'failed', 'bound'],
  );
  assert.ok(success.getChild('failed', NS_SM)!.getChild('item-not-found', NS.STANZA_ERRORS));
  assert.ok(success.getChild('bound', NS_BIND2)!.getChild('enabled', NS_SM)?.attrs.id, 'a new SM session');
  assert.is(c.connection.state, 'established');
  assert.match(aid(success), /^alice@localhost\/Phone\//);
});

test('inline resume failures: bad h, another account, stale h after the timeout; without Bind2 the post-auth features follow', async () => {
  const server = await setup();
  // bad-request
  const bad = await sasl2Login(server, 'alice', 'a', `<resume xmlns='${NS_SM}' previd='x' h='-1'/>${bindWith('')}`);
  assert.ok(bad.success.getChild('failed', NS_SM)!.getChild('bad-request', NS.STANZA_ERRORS));
  assert.ok(bad.success.getChild('bound', NS_BIND2));

  // Alice's id used by bob: item-not-found, and alice's session is untouched.
  const a = await sasl2Login(server, 'alice', 'a', `${userAgent(UA2)}${bindWith(`<enable xmlns='${NS_SM}' resume='true'/>`, 'Other')}`);
  const smid = a.success.getChild('bound', NS_BIND2)!.getChild('enabled', NS_SM)!.attrs.id!;
  a.c.closeSocket();
  await a.c.settle();
  const b = await sasl2Login(server, 'bob', 'b', `<resume xmlns='${NS_SM}' previd='${smid}' h='0'/>${bindWith('')}`);
  assert.ok(b.success.getChild('failed', NS_SM)!.getChild('item-not-found', NS.STANZA_ERRORS));
  assert.match(aid(b.success), /^bob@localhost\//);
  assert.is(a.c.connection.state, 'external.resumable', 'still waiting for alice');

  // The resume timeout passes: the id is stale, its h is reported. No Bind2: features follow.
  server.clock.advance(600_001);
  await a.c.settle();
  const late = await sasl2Login(server, 'alice', 'a', `<resume xmlns='${NS_SM}' previd='${smid}' h='0'/>`);
  const f = late.success.getChild('failed', NS_SM)!;
  assert.ok(f.getChild('item-not-found', NS.STANZA_ERRORS));
  assert.is(f.attrs.h, '0', 'stale h');
  assert.is(aid(late.success), 'alice@localhost');
  assert.is(late.c.connection.state, 'postAuth');
  assert.ok(late.c.expect((e) => e.name === 'features' && e.ns === NS.STREAMS).getChild('bind', NS.BIND), 'classic bind offered');
});

test('inline resume with an h above what was sent: <failed/> with handled-count-too-high; the old session stays dormant', async () => {
  const server = await setup();
  const a = await sasl2Login(server, 'alice', 'a', `${userAgent()}${bindWith(`<enable xmlns='${NS_SM}' resume='true'/>`)}`);
  const smid = a.success.getChild('bound', NS_BIND2)!.getChild('enabled', NS_SM)!.attrs.id!;
  a.c.closeSocket();
  await a.c.settle();
  const { c, success } = await sasl2Login(server, 'alice', 'a', `${userAgent(UA2)}<resume xmlns='${NS_SM}' previd='${smid}' h='5'/>${bindWith('', 'New')}`);
  const f = success.getChild('failed', NS_SM)!;
  assert.ok(f.getChild('undefined-condition', NS.STANZA_ERRORS));
  assert.is(f.getChild('handled-count-too-high', NS_SM)?.attrs['send-count'], '0');
  assert.ok(success.getChild('bound', NS_BIND2));
  assert.is(c.connection.state, 'established');
  assert.is(a.c.connection.state, 'external.resumable');
  assert.not.ok(c.streamError);
});

test('inline carbons: <enable xmlns=carbons/> inside <bind/> enables carbons for the new session; copies arrive', async () => {
  const server = await setup();
  const { c: phone, success } = await sasl2Login(server, 'alice', 'a', bindWith(`<enable xmlns='${NS_CARBONS}'/>`));
  assert.equal(success.getChild('bound', NS_BIND2)!.elements(), [], 'no answer element for carbons');
  assert.is(phone.connection.getModState(carbonsSlot), true);
  const entry = server.sessions.sessionsOf(phone.connection.jid!.bare()).find((s) => s.sid === phone.connection.sid)!;
  assert.is(server.sessions.entry(entry.sid)!.info.carbons, true, 'in the session table');
  const laptop = server.connect();
  await laptop.login('alice@localhost/laptop', 'a');
  const bob = await bobOnline(server);
  // Received carbon: bob → alice/laptop, copied to the phone.
  chat(bob, 'alice@localhost/laptop', 'to-laptop');
  await bob.settle();
  assert.is(laptop.expect(isMsg).attrs.id, 'to-laptop');
  const rc = phone.expect(isMsg, 'received carbon');
  assert.is(rc.getChild('received', NS_CARBONS)?.getChild('forwarded', NS.FORWARD)?.getChild('message')?.attrs.id, 'to-laptop');
  // Sent carbon: alice/laptop → bob, copied to the phone.
  laptop.send(`<message to='bob@localhost/pc' id='from-laptop' type='chat'><body>x</body></message>`);
  await laptop.settle();
  const sc = phone.expect(isMsg, 'sent carbon');
  assert.is(sc.getChild('sent', NS_CARBONS)?.getChild('forwarded', NS.FORWARD)?.getChild('message')?.attrs.id, 'from-laptop');
  // A session bound without the request gets no copies.
  const tablet = await sasl2Login(server, 'alice', 'a', bindWith('', 'Tablet'));
  chat(bob, 'alice@localhost/laptop', 'again');
  await bob.settle();
  assert.equal(msgIds(tablet.c), []);
  assert.is(phone.expect(isMsg).getChild('received', NS_CARBONS)?.getChild('forwarded', NS.FORWARD)?.getChild('message')?.attrs.id, 'again');
});

test('inline CSI: <inactive/> inside <bind/> starts the session inactive (non-urgent stanzas wait); <active/> flushes', async () => {
  const server = await setup();
  const { c, success } = await sasl2Login(server, 'alice', 'a', bindWith(`<inactive xmlns='${NS_CSI}'/>`));
  assert.equal(success.getChild('bound', NS_BIND2)!.elements(), []);
  assert.equal(c.connection.getModState(csiSlot), { active: false, buffer: [] });
  const jid = aid(success);
  const bob = await bobOnline(server);
  bob.send(`<message to='${jid}' id='cs1' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  bob.send(`<message to='${jid}' id='cs2' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  await bob.settle();
  assert.equal(msgIds(c), [], 'held while inactive');
  assert.is(c.connection.getModState(csiSlot)!.buffer.length, 2);
  c.send(`<active xmlns='${NS_CSI}'/>`);
  await c.settle();
  assert.equal(msgIds(c), ['cs1', 'cs2'], 'flushed in order');
  // <active/> inline (or nothing): no buffering.
  const { c: d } = await sasl2Login(server, 'alice', 'a', bindWith(`<active xmlns='${NS_CSI}'/>`, 'Desk'));
  assert.is(d.connection.getModState(csiSlot), undefined);
});

test('inline CSI and SM together: held stanzas are flushed into the SM buffer when the socket dies, and resumed', async () => {
  const server = await setup();
  const { c, success } = await sasl2Login(server, 'alice', 'a', `${userAgent()}${bindWith(`<enable xmlns='${NS_SM}' resume='true'/><inactive xmlns='${NS_CSI}'/>`)}`);
  const smid = success.getChild('bound', NS_BIND2)!.getChild('enabled', NS_SM)!.attrs.id!;
  const jid = aid(success);
  const bob = await bobOnline(server);
  bob.send(`<message to='${jid}' id='h1' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  await bob.settle();
  assert.equal(msgIds(c), []);
  c.closeSocket();
  await c.settle();
  const { c: d, success: s2 } = await sasl2Login(server, 'alice', 'a', `<resume xmlns='${NS_SM}' previd='${smid}' h='0'/>`);
  assert.ok(s2.getChild('resumed', NS_SM));
  assert.equal(msgIds(d), ['h1'], 'delivered once after the resumption');
});

test('the default module set offers SASL2 with Bind2 and the inline features', async () => {
  // The default set includes http-upload, whose HTTP listener must be closed: stop the server.
  const server = await createTestServer({ users: USERS, modules: defaultModules() });
  try {
    await defaultSetLogin(server);
  } finally {
    await server.stop();
  }
});

async function defaultSetLogin(server: TestServer): Promise<void> {
  const c = server.connect({ secure: true });
  const inline = (await c.openStream()).getChild('authentication', NS_SASL2)?.getChild('inline', NS_SASL2);
  assert.ok(inline?.getChild('sm', NS_SM), 'sasl2 + stream management');
  const vars = inline!
    .getChild('bind', NS_BIND2)!
    .getChild('inline')!
    .elements()
    .map((e) => e.attrs.var);
  for (const v of [NS_SM, NS_CARBONS, NS_CSI]) assert.ok(vars.includes(v), v);
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${plain('alice', 'a')}</initial-response>${bindWith(`<enable xmlns='${NS_SM}' resume='true'/><enable xmlns='${NS_CARBONS}'/>`)}</authenticate>`);
  await c.settle();
  const s = c.expect((e) => e.name === 'success' && e.ns === NS_SASL2);
  assert.ok(s.getChild('bound', NS_BIND2)?.getChild('enabled', NS_SM));
  assert.is(server.hookErrors.length, 0);
}

test.run();
