// XEP-0388 SASL2 and XEP-0386 Bind2 through the test kit: the feature (TLS only), PLAIN and
// SCRAM-SHA-256 with <success/> first and no stream restart, failures and the shared retry
// budget, abort, user-agent handling, Bind2 resources (tag, stable per user-agent id), the
// inline hooks other modules use (SM resume/enable, carbons, CSI) shown with small test
// modules — including a real hand-over/adopt of a session inside the SASL2 success —,
// userOpenSession denying the bind, the pre-session timeout, and the real stream-management
// module used the classic way after SASL2 (enable after Bind2, <resume/> after SASL2 alone).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, ScramClient, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { sasl2, NS_SASL2, USER_AGENT_INFO, parseUserAgent } from '../../src/ext/sasl2/index.ts';
import { bind2, NS_BIND2 } from '../../src/ext/bind2/index.ts';
import { bind2EnableFeatures, bind2StreamFeatures, sasl2StreamFeatures, sasl2Success } from '../../src/c2s/sasl2-hooks.ts';
import { defineModule, hook, type ModuleEnv, type ModuleInstance, type XmppModule } from '../../src/c2s/module.ts';
import { defineModSlot, getModState, type SessionSnapshot } from '../../src/c2s/effects.ts';
import * as h from '../../src/c2s/hooks.ts';
import { NS } from '../../src/core/namespaces.ts';
import { xml, type XmlElement } from '../../src/core/xml/element.ts';
import { parseElement } from '../../src/core/xml/parse-element.ts';
import { next, stop } from '../../src/hooks/index.ts';
import { streamManagement, NS_SM } from '../../src/ext/stream-management/index.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };
const UA = 'd4565fa7-4d72-4749-b3d3-740edbf87770';
const UA2 = '0e3a4c3e-7f44-4f7e-8c55-8a3c2f35b9d1';

type Mods = readonly (XmppModule<any> | ModuleInstance)[];

async function setup(more: Mods = [], listener = {}): Promise<TestServer> {
  return createTestServer({ users: USERS, modules: [sasl2, bind2, ...more], listener });
}

const isSasl2 = (name?: string) => (e: XmlElement) => e.ns === NS_SASL2 && (name === undefined || e.name === name);
const plain = (user: string, pw: string) => Buffer.from(`\0${user}\0${pw}`).toString('base64');
const userAgent = (id = UA) => `<user-agent id='${id}'><software>TestApp</software><device>Test phone</device></user-agent>`;

/** Open a direct-TLS stream; returns the features. */
async function open(server: TestServer, from?: string): Promise<{ c: TestClient; features: XmlElement }> {
  const c = server.connect({ secure: true });
  const features = await c.openStream(from === undefined ? {} : { from });
  return { c, features };
}

async function authPlain(c: TestClient, user: string, pw: string, inner = ''): Promise<XmlElement> {
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${plain(user, pw)}</initial-response>${inner}</authenticate>`);
  await c.settle();
  return c.expect(isSasl2(), 'SASL2 outcome');
}

/** Log in with SASL2 PLAIN + Bind2 (and `inner` more requests); returns <success/>. */
async function loginBind2(server: TestServer, user: string, pw: string, bindInner = '', ua = UA): Promise<{ c: TestClient; success: XmlElement }> {
  const { c } = await open(server);
  const success = await authPlain(c, user, pw, `${userAgent(ua)}<bind xmlns='${NS_BIND2}'>${bindInner}</bind>`);
  assert.is(success.name, 'success', 'authenticated');
  return { c, success };
}

const features = (c: TestClient) => c.received().filter((e) => e.name === 'features' && e.ns === NS.STREAMS);

test('<authentication/> is offered over TLS only, with the mechanisms and Bind2 inline', async () => {
  const server = await setup();
  const plainConn = server.connect();
  assert.not.ok((await plainConn.openStream()).getChild('authentication', NS_SASL2), 'not before TLS');
  const afterTls = await plainConn.startTls();
  const auth = afterTls.getChild('authentication', NS_SASL2)!;
  assert.ok(auth, 'after STARTTLS');
  const mechs = auth.elements().filter((e) => e.name === 'mechanism').map((e) => e.text());
  const sasl1 = afterTls.getChild('mechanisms', NS.SASL)!.elements().map((e) => e.text());
  assert.equal(mechs, sasl1, 'the same mechanisms as SASL1, same order');
  assert.ok(mechs.includes('SCRAM-SHA-256-PLUS') && mechs.includes('PLAIN'));
  assert.ok(auth.getChild('inline', NS_SASL2)?.getChild('bind', NS_BIND2), 'Bind2 inline');
  // Without the module nothing is advertised.
  const bare = await createTestServer({ users: USERS });
  const c = bare.connect({ secure: true });
  assert.not.ok((await c.openStream()).getChild('authentication', NS_SASL2));
  // With TLS required, the first features are STARTTLS only.
  const req = await setup([], { tls: 'required' });
  const r = req.connect();
  const f = await r.openStream();
  assert.not.ok(f.getChild('authentication', NS_SASL2));
  assert.ok(f.getChild('starttls', NS.TLS));
});

test('a host type without the modules offers no SASL2 and answers <authenticate/> like any unknown element', async () => {
  const server = await createTestServer({
    users: { 'alice@a.test': 'a', 'carol@b.test': 'c' },
    domains: { 'a.test': 'a', 'b.test': 'b' },
    hostTypes: { a: { modules: [sasl2, bind2] }, b: { modules: [] } },
  });
  const a = server.connect({ secure: true });
  assert.ok((await a.openStream({ to: 'a.test' })).getChild('authentication', NS_SASL2));
  const b = server.connect({ secure: true });
  const fb = await b.openStream({ to: 'b.test' });
  assert.not.ok(fb.getChild('authentication', NS_SASL2));
  b.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${plain('carol', 'c')}</initial-response></authenticate>`);
  await b.settle();
  assert.equal(b.received().filter(isSasl2()), [], 'no SASL2 answer on b');
  assert.is(b.connection.jid, undefined, 'not authenticated');
});

test('an <authenticate/> without TLS fails with encryption-required and uses a retry', async () => {
  const server = await setup([], { allowPlainWithoutTls: true });
  const c = server.connect();
  await c.openStream();
  const out = await authPlain(c, 'alice', 'a');
  assert.is(out.name, 'failure');
  assert.is(out.elements()[0]!.name, 'encryption-required');
  assert.is(out.elements()[0]!.ns, NS.SASL);
  assert.is(c.connection.state, 'preAuth');
  assert.is(c.connection.jid, undefined);
});

test('PLAIN: <success/> with the bare JID, no stream restart, post-auth features follow; bind IQ works', async () => {
  const server = await setup();
  const { c } = await open(server);
  const headers = c.headers;
  const success = await authPlain(c, 'alice', 'a', userAgent());
  assert.is(success.name, 'success');
  assert.is(success.getChildText('authorization-identifier', NS_SASL2), 'alice@localhost');
  assert.not.ok(success.getChild('additional-data', NS_SASL2), 'PLAIN has no additional data');
  const f = c.expect((e) => e.name === 'features' && e.ns === NS.STREAMS, 'post-auth features');
  assert.ok(f.getChild('bind', NS.BIND), 'RFC 6120 bind offered');
  assert.is(c.headers, headers, 'no new stream header (no restart)');
  assert.is(c.connection.state, 'postAuth');
  assert.is(c.connection.info.authMechanism, 'PLAIN');
  assert.equal(c.connection.info[USER_AGENT_INFO], { id: UA, software: 'TestApp', device: 'Test phone' });
  const jid = await c.bind('laptop');
  assert.is(jid, 'alice@localhost/laptop');
  assert.is(c.connection.state, 'established');
  // The session is usable: bob (SASL1) exchanges a message with it.
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  bob.send(`<message to='alice@localhost/laptop' id='m1' type='chat'><body>hi</body></message>`);
  await bob.settle();
  assert.is(c.expect((e) => e.name === 'message', 'message').attrs.id, 'm1');
});

test('SCRAM-SHA-256: challenge, response, <success/> with the server signature in <additional-data/>', async () => {
  const server = await setup();
  const { c } = await open(server, 'alice@localhost');
  const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'a');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${scram.first().toString('base64')}</initial-response>${userAgent()}</authenticate>`);
  await c.settle();
  const challenge = c.expect(isSasl2('challenge'), 'challenge');
  assert.is(c.connection.state, 'external.sasl2');
  c.send(`<response xmlns='${NS_SASL2}'>${scram.final(Buffer.from(challenge.text(), 'base64')).toString('base64')}</response>`);
  await c.settle();
  const success = c.expect(isSasl2('success'), 'success');
  assert.ok(scram.verify(Buffer.from(success.getChildText('additional-data', NS_SASL2)!, 'base64')), 'server signature verifies');
  assert.is(success.getChildText('authorization-identifier', NS_SASL2), 'alice@localhost');
  assert.is(c.connection.info.authMechanism, 'SCRAM-SHA-256');
});

test('SCRAM-SHA-256-PLUS with tls-exporter over SASL2', async () => {
  const server = await setup();
  const { c } = await open(server);
  const scram = new ScramClient('SCRAM-SHA-256-PLUS', 'alice', 'a', c.transport.channelBinding('tls-exporter'));
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256-PLUS'><initial-response>${scram.first().toString('base64')}</initial-response></authenticate>`);
  await c.settle();
  const challenge = c.expect(isSasl2('challenge'), 'challenge');
  c.send(`<response xmlns='${NS_SASL2}'>${scram.final(Buffer.from(challenge.text(), 'base64')).toString('base64')}</response>`);
  await c.settle();
  assert.ok(c.nextElement(isSasl2('success')), 'success');
});

test('failures: wrong password, unknown mechanism, bad base64 — each uses one of the shared retries; the 4th closes', async () => {
  const server = await setup();
  const { c } = await open(server);
  const cond = (el: XmlElement) => (assert.is(el.name, 'failure'), el.elements()[0]!.name);
  assert.is(cond(await authPlain(c, 'alice', 'wrong')), 'not-authorized');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='X-UNKNOWN'/>`);
  await c.settle();
  assert.is(cond(c.expect(isSasl2())), 'invalid-mechanism');
  // A SASL1 failure draws from the same budget.
  assert.is(await c.trySasl('alice', 'nope'), 'not-authorized');
  assert.not.ok(c.closed);
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>!!!</initial-response></authenticate>`);
  await c.settle();
  assert.is(cond(c.expect(isSasl2())), 'incorrect-encoding', 'the failure is still written');
  assert.ok(c.trailer && c.closed, 'retries exhausted: closed');
});

test('SCRAM wrong password: <failure/> carries the mechanism error in <additional-data/>', async () => {
  const server = await setup();
  const { c } = await open(server);
  const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'wrong');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${scram.first().toString('base64')}</initial-response></authenticate>`);
  await c.settle();
  const ch = c.expect(isSasl2('challenge'));
  c.send(`<response xmlns='${NS_SASL2}'>${scram.final(Buffer.from(ch.text(), 'base64')).toString('base64')}</response>`);
  await c.settle();
  const f = c.expect(isSasl2('failure'));
  assert.is(f.elements()[0]!.name, 'not-authorized');
  const data = f.getChildText('additional-data', NS_SASL2);
  assert.match(Buffer.from(data ?? '', 'base64').toString(), /^e=/, 'RFC 5802 server-error in additional-data');
  assert.is(c.connection.state, 'preAuth', 'back to pre-auth for another attempt');
  assert.ok((await authPlain(c, 'alice', 'a')).name === 'success', 'a later attempt may succeed');
});

test('<abort/> during a challenge: <failure><aborted/></failure>, back to pre-auth', async () => {
  const server = await setup();
  const { c } = await open(server);
  const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'a');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${scram.first().toString('base64')}</initial-response></authenticate>`);
  await c.settle();
  c.expect(isSasl2('challenge'));
  c.send(`<abort xmlns='${NS_SASL2}'/>`);
  await c.settle();
  assert.is(c.expect(isSasl2('failure')).elements()[0]!.name, 'aborted');
  assert.is(c.connection.state, 'preAuth');
  assert.is((await authPlain(c, 'alice', 'a')).name, 'success');
});

test('anything but <response/>/<abort/> during an exchange is a stream error; a second <authenticate/> too', async () => {
  const server = await setup();
  const { c } = await open(server);
  const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'a');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${scram.first().toString('base64')}</initial-response></authenticate>`);
  await c.settle();
  c.send(`<message to='bob@localhost'><body>x</body></message>`);
  await c.settle();
  assert.is(c.streamError, 'policy-violation');
  const { c: d } = await open(server);
  assert.is((await authPlain(d, 'alice', 'a')).name, 'success');
  d.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${plain('alice', 'a')}</initial-response></authenticate>`);
  await d.settle();
  assert.is(d.streamError, 'policy-violation', 'XEP-0388 §Multiple Authentication');
});

test('user-agent: an id that is not a UUID is malformed-request; a missing id is fine', async () => {
  const server = await setup();
  const { c } = await open(server);
  const f = await authPlain(c, 'alice', 'a', `<user-agent id='my-phone'><software>X</software></user-agent>`);
  assert.is(f.name, 'failure');
  assert.is(f.elements()[0]!.name, 'malformed-request');
  assert.is(c.connection.state, 'preAuth');
  const ok = await authPlain(c, 'alice', 'a', `<user-agent><software>X</software></user-agent>`);
  assert.is(ok.name, 'success');
  assert.equal(c.connection.info[USER_AGENT_INFO], { id: undefined, software: 'X', device: undefined });
  const p = (s: string) => parseElement(s, { defaultNs: 'jabber:client' });
  assert.equal(parseUserAgent(p(`<authenticate xmlns='${NS_SASL2}'><user-agent id='${UA.toUpperCase()}'/></authenticate>`)), { id: UA, software: undefined, device: undefined });
  assert.is(parseUserAgent(p(`<authenticate xmlns='${NS_SASL2}'/>`)), undefined);
});

test('a stream from another account fails the authentication', async () => {
  const server = await setup();
  const { c } = await open(server, 'bob@localhost');
  const f = await authPlain(c, 'alice', 'a');
  assert.is(f.name, 'failure');
  assert.is(f.elements()[0]!.name, 'not-authorized');
});

test('Bind2: <success/> first with the full JID and <bound/>; resource tag/id; session open, no features', async () => {
  const server = await setup();
  const { c } = await open(server);
  const success = await authPlain(c, 'alice', 'a', `${userAgent()}<bind xmlns='${NS_BIND2}'><tag>AwesomeXMPP</tag></bind>`);
  assert.is(success.name, 'success');
  const aid = success.getChildText('authorization-identifier', NS_SASL2)!;
  assert.match(aid, /^alice@localhost\/AwesomeXMPP\/[A-Za-z0-9_-]{12}$/);
  assert.not.ok(aid.includes(UA), 'the user-agent id is not exposed');
  assert.ok(success.getChild('bound', NS_BIND2));
  assert.equal(features(c), [], 'no stream features after a bound success');
  assert.is(c.connection.state, 'established');
  assert.is(c.connection.jid!.toString(), aid);
  assert.ok(server.sessions.sessionsOf(c.connection.jid!.bare()).some((e) => e.sid === c.connection.sid), 'registered in the session manager');
  // Stanzas flow both ways at once.
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  c.send(`<message to='bob@localhost/pc' id='m1' type='chat'><body>hello</body></message>`);
  await c.settle();
  const got = bob.expect((e) => e.name === 'message');
  assert.is(got.attrs.from, aid);
  bob.send(`<message to='${aid}' id='m2' type='chat'><body>back</body></message>`);
  await bob.settle();
  assert.is(c.expect((e) => e.name === 'message').attrs.id, 'm2');
});

test('Bind2: the same user-agent id gets the same resource and replaces its old session; another id does not', async () => {
  const server = await setup();
  const first = await loginBind2(server, 'alice', 'a', '<tag>App</tag>');
  const jid1 = first.success.getChildText('authorization-identifier', NS_SASL2)!;
  const second = await loginBind2(server, 'alice', 'a', '<tag>App</tag>');
  assert.is(second.success.getChildText('authorization-identifier', NS_SASL2), jid1, 'stable resource');
  await first.c.settle();
  assert.is(first.c.streamError, 'conflict', 'the older session of this client is replaced');
  const other = await loginBind2(server, 'alice', 'a', '<tag>App</tag>', UA2);
  const jid3 = other.success.getChildText('authorization-identifier', NS_SASL2)!;
  assert.is.not(jid3, jid1);
  assert.match(jid3, /^alice@localhost\/App\//);
  // Bob with the same user-agent id gets his own resource.
  const bob = await loginBind2(server, 'bob', 'b', '<tag>App</tag>');
  assert.is.not(bob.success.getChildText('authorization-identifier', NS_SASL2)!.split('/').slice(1).join('/'), jid1.split('/').slice(1).join('/'));
});

test('Bind2: no user-agent id → random resources; no tag → no prefix; an invalid tag is dropped', async () => {
  const server = await setup();
  const { c } = await open(server);
  const s1 = await authPlain(c, 'alice', 'a', `<bind xmlns='${NS_BIND2}'/>`);
  const { c: d } = await open(server);
  const s2 = await authPlain(d, 'alice', 'a', `<bind xmlns='${NS_BIND2}'/>`);
  const r1 = s1.getChildText('authorization-identifier', NS_SASL2)!;
  const r2 = s2.getChildText('authorization-identifier', NS_SASL2)!;
  assert.match(r1, /^alice@localhost\/[A-Za-z0-9_-]{12}$/);
  assert.is.not(r1, r2);
  const { c: e } = await open(server);
  const s3 = await authPlain(e, 'alice', 'a', `<bind xmlns='${NS_BIND2}'><tag>${'x'.repeat(100)}</tag></bind>`);
  assert.match(s3.getChildText('authorization-identifier', NS_SASL2)!, /^alice@localhost\/[A-Za-z0-9_-]{12}$/);
});

// ------------------------------------------------------------------ the inline hooks, with test modules

const probeSlot = defineModSlot<string[]>('inline-probe');

/**
 * What stream management, carbons and CSI register to take part (see the README): an element
 * in SASL2's <inline/>, vars in Bind2's <inline/>, a resume on sasl2Success at 10, enables on
 * bind2EnableFeatures.
 */
const inlineProbe = defineModule({
  name: 'inline-probe',
  defaults: {},
  hooks: () => [
    hook(sasl2StreamFeatures, (list) => next([...list, xml('sm', { xmlns: 'urn:xmpp:sm:3' })])),
    hook(bind2StreamFeatures, (vars) => next([...vars, 'urn:xmpp:sm:3', 'urn:xmpp:carbons:2', 'urn:xmpp:csi:0'])),
    // A resume that never finds the old session: <failed/> in <success/>, and binding proceeds.
    hook(
      sasl2Success,
      (acc, p) => {
        if (p.request.getChild('resume', 'urn:xmpp:sm:3') === undefined) return;
        acc.success.push(xml('failed', { xmlns: 'urn:xmpp:sm:3' }, xml('item-not-found', { xmlns: NS.STANZA_ERRORS })));
      },
      10,
    ),
    hook(bind2EnableFeatures, (acc, p) => {
      const on: string[] = [];
      if (p.request.getChild('enable', 'urn:xmpp:sm:3')) {
        on.push('sm');
        acc.bound.push(xml('enabled', { xmlns: 'urn:xmpp:sm:3', id: 'smid-1', resume: 'true' }));
      }
      if (p.request.getChild('enable', 'urn:xmpp:carbons:2')) {
        on.push('carbons');
        acc.effects.setInfo('carbons', true);
      }
      if (p.request.getChild('inactive', 'urn:xmpp:csi:0')) on.push('csi-inactive');
      acc.effects.setModState(probeSlot, on);
    }),
  ],
});

test('inline features: advertised through the hooks; enables run with the bind; answers inside <bound/>', async () => {
  const server = await setup([inlineProbe]);
  const { c, features } = await open(server);
  const inline = features.getChild('authentication', NS_SASL2)!.getChild('inline', NS_SASL2)!;
  assert.ok(inline.getChild('sm', 'urn:xmpp:sm:3'));
  const vars = inline.getChild('bind', NS_BIND2)!.getChild('inline')!.elements().map((e) => e.attrs.var);
  assert.equal(vars, ['urn:xmpp:sm:3', 'urn:xmpp:carbons:2', 'urn:xmpp:csi:0']);
  const success = await authPlain(
    c,
    'alice',
    'a',
    `${userAgent()}<bind xmlns='${NS_BIND2}'><tag>T</tag><enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/><inactive xmlns='urn:xmpp:csi:0'/></bind>`,
  );
  const bound = success.getChild('bound', NS_BIND2)!;
  assert.is(bound.getChild('enabled', 'urn:xmpp:sm:3')?.attrs.id, 'smid-1');
  assert.equal(c.connection.getModState(probeSlot), ['sm', 'carbons', 'csi-inactive']);
  const sess = server.sessions.sessionsOf(c.connection.jid!.bare()).find((s) => s.sid === c.connection.sid);
  assert.ok(sess, 'registered');
  assert.is(c.connection.info.carbons, true, 'info set inline reaches the connection');
});

test('inline SM resume that fails: <failed/> in <success/>, then Bind2 binds a new session (XEP-0386 §bind-request)', async () => {
  const server = await setup([inlineProbe]);
  const { c } = await open(server);
  const success = await authPlain(c, 'alice', 'a', `<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/><bind xmlns='${NS_BIND2}'/>`);
  const kids = success.elements().map((e) => e.name);
  assert.equal(kids, ['authorization-identifier', 'failed', 'bound']);
  assert.is(c.connection.state, 'established');
});

test('a resumed session (sasl2Success at 10 sets session) is not bound again', async () => {
  const fakeResume = defineModule({
    name: 'fake-resume',
    defaults: {},
    hooks: () => [
      hook(
        sasl2Success,
        (acc, p) => {
          if (!p.request.getChild('resume', 'urn:xmpp:sm:3')) return;
          // A real module adopts the old session (Effects.adoptSession); here: bind one ourselves.
          const full = p.jid.withResource('resumed');
          acc.effects.openSession(full);
          acc.session = 'resumed';
          acc.jid = full;
          acc.success.push(xml('resumed', { xmlns: 'urn:xmpp:sm:3', previd: 'x', h: '0' }));
        },
        10,
      ),
    ],
  });
  const server = await setup([fakeResume]);
  const { c } = await open(server);
  const success = await authPlain(c, 'alice', 'a', `<resume xmlns='urn:xmpp:sm:3' previd='x' h='0'/><bind xmlns='${NS_BIND2}'><tag>T</tag></bind>`);
  assert.is(success.getChildText('authorization-identifier', NS_SASL2), 'alice@localhost/resumed');
  assert.ok(success.getChild('resumed', 'urn:xmpp:sm:3'));
  assert.not.ok(success.getChild('bound', NS_BIND2), 'Bind2 skipped');
  assert.equal(features(c), []);
});

/**
 * A miniature of stream-management resumption inside SASL2, to show the core path the real
 * module needs: on `sasl2Success` (priority 10) call the old connection, which hands its
 * session over (`handOverSession`); adopt it (`adoptSession`) — applied after `authenticated`,
 * so the new connection is authenticated and in `postAuth` by then; answer inside <success/>.
 */
const resumeSlot = defineModSlot<{ counter: number }>('mini-resume');
const miniResume = defineModule({
  name: 'mini-resume',
  defaults: {},
  hooks: (_ht: string, _o: object, env: ModuleEnv) => [
    hook(bind2EnableFeatures, (acc) => {
      acc.effects.setModState(resumeSlot, { counter: 41 });
    }),
    hook(h.foreignEvent, (ef, p) => {
      if (p.tag !== 'mini-resume' || p.callRef === undefined) return;
      return stop(ef.handOverSession(p.callRef, { ok: true }));
    }),
    hook(
      sasl2Success,
      async (acc, p) => {
        const req = p.request.getChild('resume', 'urn:example:mini');
        if (req === undefined) return;
        const entry = env.sessions.entry(req.attrs.previd ?? '');
        if (entry === undefined || !entry.jid.bareEquals(p.jid)) {
          acc.success.push(xml('failed', { xmlns: 'urn:example:mini' }));
          return;
        }
        const reply = await entry.session.call<{ snapshot: SessionSnapshot }>('mini-resume', {});
        const old = reply.snapshot.modState.get(resumeSlot as never) as { counter: number };
        acc.effects.adoptSession(reply.snapshot).setModState(resumeSlot, { counter: old.counter + 1 });
        acc.session = 'resumed';
        acc.jid = reply.snapshot.jid;
        acc.success.push(xml('resumed', { xmlns: 'urn:example:mini', previd: reply.snapshot.sid }));
      },
      10,
    ),
  ],
});

test('inline resumption through the core: the new connection adopts the old session inside the SASL2 success', async () => {
  const server = await setup([miniResume]);
  const first = await loginBind2(server, 'alice', 'a', '<tag>T</tag>');
  const jid = first.success.getChildText('authorization-identifier', NS_SASL2)!;
  const oldSid = first.c.connection.sid;
  const { c } = await open(server);
  const success = await authPlain(c, 'alice', 'a', `<resume xmlns='urn:example:mini' previd='${oldSid}'/><bind xmlns='${NS_BIND2}'><tag>T</tag></bind>`);
  assert.is(success.name, 'success');
  assert.is(success.getChildText('authorization-identifier', NS_SASL2), jid, 'the resumed full JID');
  assert.is(success.getChild('resumed', 'urn:example:mini')?.attrs.previd, oldSid);
  assert.not.ok(success.getChild('bound', NS_BIND2), 'not bound again');
  assert.is(c.connection.state, 'established');
  assert.equal(getModState(c.connection, resumeSlot), { counter: 42 }, 'slots moved over');
  assert.equal(
    server.sessions.sessionsOf(c.connection.jid!.bare()).map((e) => e.sid),
    [c.connection.sid],
    'the new connection owns the session row',
  );
  // Stanzas to the JID reach the new connection.
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  bob.send(`<message to='${jid}' id='r1' type='chat'><body>after resume</body></message>`);
  await bob.settle();
  assert.is(c.expect((e) => e.name === 'message').attrs.id, 'r1');
});

test('userOpenSession denying the bind fails the authentication; nothing inline is applied', async () => {
  const deny = defineModule({
    name: 'deny-sessions',
    defaults: {},
    hooks: () => [hook(h.userOpenSession, (ef, p) => (p.jid.local === 'bob' ? stop(ef) : undefined))],
  });
  const server = await setup([deny, inlineProbe]);
  const { c } = await open(server);
  const f = await authPlain(c, 'bob', 'b', `<bind xmlns='${NS_BIND2}'><enable xmlns='urn:xmpp:carbons:2'/></bind>`);
  assert.is(f.name, 'failure');
  assert.is(f.elements()[0]!.name, 'not-authorized');
  assert.is(c.connection.state, 'preAuth');
  assert.is(c.connection.jid, undefined);
  assert.is(c.connection.getModState(probeSlot), undefined);
  assert.is(c.connection.info.carbons, undefined);
  // Alice is allowed.
  const { c: a } = await open(server);
  assert.is((await authPlain(a, 'alice', 'a', `<bind xmlns='${NS_BIND2}'/>`)).name, 'success');
});

test('<success/> is written before anything a hook handler queued with socketSend', async () => {
  const noisy = defineModule({
    name: 'noisy',
    defaults: {},
    hooks: () => [
      hook(bind2EnableFeatures, (acc) => {
        acc.effects.socketSend(xml('message', { id: 'after-success' }, xml('body', null, 'x')));
      }),
    ],
  });
  const server = await setup([noisy]);
  const { c } = await open(server);
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${plain('alice', 'a')}</initial-response><bind xmlns='${NS_BIND2}'/></authenticate>`);
  await c.settle();
  const out = c.received();
  assert.is(out[0]!.name, 'success');
  assert.is(out[1]!.attrs.id, 'after-success');
});

test('the pre-session state timeout still applies during a SASL2 exchange', async () => {
  const server = await setup();
  const { c } = await open(server);
  const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'a');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${scram.first().toString('base64')}</initial-response></authenticate>`);
  await c.settle();
  c.expect(isSasl2('challenge'));
  server.clock.advance(6000);
  await c.settle();
  assert.is(c.streamError, 'connection-timeout');
});

test('entering the SASL2 exchange state does not re-arm the pre-session timeout', async () => {
  const server = await setup();
  const { c } = await open(server);
  server.clock.advance(3000);
  const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'a');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${scram.first().toString('base64')}</initial-response></authenticate>`);
  await c.settle();
  c.expect(isSasl2('challenge'));
  server.clock.advance(2500);
  await c.settle();
  assert.is(c.streamError, 'connection-timeout', '5 s after the stream opened, not after the challenge');
});

test('after a SASL2 success without Bind2 the pre-session timeout still counts from the stream start', async () => {
  const server = await setup();
  const { c } = await open(server);
  server.clock.advance(3000);
  assert.is((await authPlain(c, 'alice', 'a')).name, 'success');
  assert.is(c.connection.state, 'postAuth');
  server.clock.advance(2500);
  await c.settle();
  assert.is(c.streamError, 'connection-timeout', 'binding is still due within the 5 s');
});

// ------------------------------------------------------------------ with the real stream-management module (not inline)

test('with stream management: enabled after a Bind2 login; resumed with <resume/> after a SASL2 login without Bind2', async () => {
  const server = await setup([{ module: streamManagement, options: { ackFreq: 0 } }]);
  const { c } = await loginBind2(server, 'alice', 'a', '<tag>T</tag>');
  const jid = c.connection.jid!.toString();
  // XEP-0198 §3: <enable/> is allowed once a resource is bound, however it was bound.
  c.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  await c.settle();
  const enabled = c.expect((e) => e.name === 'enabled' && e.ns === NS_SM, '<enabled/>');
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  bob.send(`<message to='${jid}' id='q1' type='chat'><body>one</body></message>`);
  await bob.settle();
  c.expect((e) => e.name === 'message');
  c.closeSocket();
  await c.settle();
  bob.send(`<message to='${jid}' id='q2' type='chat'><body>while away</body></message>`);
  await bob.settle();
  // A new connection authenticates with SASL2 only, then resumes the classic way: it is in postAuth.
  const { c: d } = await open(server);
  const success = await authPlain(d, 'alice', 'a', userAgent());
  assert.is(success.getChildText('authorization-identifier', NS_SASL2), 'alice@localhost');
  d.expect((e) => e.name === 'features' && e.ns === NS.STREAMS, 'post-auth features');
  d.send(`<resume xmlns='${NS_SM}' previd='${enabled.attrs.id}' h='0'/>`);
  await d.settle();
  const resumed = d.expect((e) => e.name === 'resumed' && e.ns === NS_SM, '<resumed/>');
  assert.is(resumed.attrs.previd, enabled.attrs.id);
  const again = d.received().filter((e) => e.name === 'message').map((e) => e.attrs.id);
  assert.equal(again, ['q1', 'q2'], 'the unacked stanzas are re-sent once, in order');
  assert.is(d.connection.jid!.toString(), jid);
  assert.is(d.connection.state, 'established');
});

test.run();
