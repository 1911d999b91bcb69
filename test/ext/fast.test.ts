// XEP-0484 FAST through the test kit, with sasl2 + bind2 + fast: the <fast/> inline feature
// (over TLS: HT-SHA-256-EXPR with the memory transport's tls-exporter binding, and -NONE; never
// in <mechanism/> or SASL1), a token requested with a PLAIN login, logins with HT-SHA-256-NONE
// and -EXPR (the Responder proof in <additional-data/>, Bind2 in the same request), every way a
// token login is refused (not-authorized), replayed counts, rotation near expiry on the fake
// clock (the old token works until the new one is used), invalidate='true', and account removal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { sasl2, NS_SASL2 } from '../../src/ext/sasl2/index.ts';
import { bind2, NS_BIND2 } from '../../src/ext/bind2/index.ts';
import { fast, NS_FAST, type FastOptions } from '../../src/ext/fast/index.ts';
import { defaultModules } from '../../src/ext/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };
const UA = 'd4565fa7-4d72-4749-b3d3-740edbf87770';
const UA2 = '0e3a4c3e-7f44-4f7e-8c55-8a3c2f35b9d1';
const DAY = 24 * 60 * 60 * 1000;
const NONE = 'HT-SHA-256-NONE';
const EXPR = 'HT-SHA-256-EXPR';

async function setup(options: Partial<FastOptions> = {}): Promise<TestServer> {
  return createTestServer({ users: USERS, modules: [sasl2, bind2, { module: fast, options }] });
}

const isSasl2 = (e: XmlElement) => e.ns === NS_SASL2 && (e.name === 'success' || e.name === 'failure' || e.name === 'challenge');
const userAgent = (id: string | null) => (id === null ? '' : `<user-agent id='${id}'><software>TestApp</software></user-agent>`);
const requestToken = (mechanism = NONE) => `<request-token xmlns='${NS_FAST}' mechanism='${mechanism}'/>`;
const condition = (el: XmlElement) => (assert.is(el.name, 'failure', 'a <failure/>'), el.elements()[0]!.name);

async function open(server: TestServer): Promise<{ c: TestClient; features: XmlElement }> {
  const c = server.connect({ secure: true });
  return { c, features: await c.openStream() };
}

/** SASL2 PLAIN with `inner` children of <authenticate/>; returns the outcome. */
async function passwordLogin(server: TestServer, inner: string, user = 'alice', pw = 'a'): Promise<XmlElement> {
  const { c } = await open(server);
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${Buffer.from(`\0${user}\0${pw}`).toString('base64')}</initial-response>${inner}</authenticate>`);
  await c.settle();
  return c.expect(isSasl2, 'SASL2 outcome');
}

/** A PLAIN login that asks for a token; returns the <token/> attributes. */
async function getToken(server: TestServer, ua = UA, mechanism = NONE): Promise<{ token: string; expiry: string }> {
  const success = await passwordLogin(server, userAgent(ua) + requestToken(mechanism));
  assert.is(success.name, 'success');
  const t = success.getChild('token', NS_FAST);
  assert.ok(t, '<token/> in <success/>');
  return { token: t!.attrs.token!, expiry: t!.attrs.expiry! };
}

/** Independent of the module: HMAC-SHA-256(token, label || cb-data). */
const hmac = (token: string, label: string, cb: Buffer) => createHmac('sha256', Buffer.from(token, 'utf8')).update(label).update(cb).digest();

interface HtLogin {
  readonly token: string;
  readonly user?: string;
  readonly mechanism?: string;
  readonly ua?: string | null;
  /** More children of <authenticate/> (Bind2, <fast/>, <request-token/>). */
  readonly inner?: string;
  /** Replace the initial response (base64). */
  readonly ir?: string;
}

/** A token login on a fresh connection; returns the outcome, the connection and the cb-data used. */
async function htLogin(server: TestServer, o: HtLogin): Promise<{ c: TestClient; out: XmlElement; cb: Buffer }> {
  const { c } = await open(server);
  const mechanism = o.mechanism ?? NONE;
  const cb = mechanism === EXPR ? c.transport.channelBinding('tls-exporter')! : Buffer.alloc(0);
  const ir = o.ir ?? Buffer.concat([Buffer.from(o.user ?? 'alice', 'utf8'), Buffer.from([0]), hmac(o.token, 'Initiator', cb)]).toString('base64');
  c.send(`<authenticate xmlns='${NS_SASL2}' mechanism='${mechanism}'><initial-response>${ir}</initial-response>${userAgent(o.ua === undefined ? UA : o.ua)}${o.inner ?? ''}</authenticate>`);
  await c.settle();
  return { c, out: c.expect(isSasl2, 'SASL2 outcome'), cb };
}

/** `true` when a token login with `token` succeeds. */
async function works(server: TestServer, token: string, inner = ''): Promise<boolean> {
  const { out } = await htLogin(server, { token, inner });
  return out.name === 'success';
}

test('<fast/> is inside SASL2 <inline/> over TLS with EXPR and NONE, never a <mechanism/> or a SASL1 mechanism', async () => {
  const server = await setup();
  const { features } = await open(server);
  const auth = features.getChild('authentication', NS_SASL2)!;
  const f = auth.getChild('inline', NS_SASL2)?.getChild('fast', NS_FAST);
  assert.ok(f, '<fast/> inline');
  assert.equal(
    f!.elements().map((e) => [e.name, e.text()]),
    [
      ['mechanism', EXPR],
      ['mechanism', NONE],
    ],
    'tls-exporter is available, tls-server-end-point is not (memory transport)',
  );
  const listed = auth.elements().filter((e) => e.name === 'mechanism').map((e) => e.text());
  assert.ok(listed.includes('PLAIN'));
  assert.not.ok(listed.some((m) => m.startsWith('HT-')), 'not in <mechanism/>');
  const sasl1 = features.getChild('mechanisms', NS.SASL)!.elements().map((e) => e.text());
  assert.not.ok(sasl1.some((m) => m.startsWith('HT-')), 'not in RFC 6120 SASL');
  // The option filters; an unknown name is refused at startup.
  const noneOnly = await setup({ mechanisms: [NONE] });
  const f2 = (await open(noneOnly)).features.getChild('authentication', NS_SASL2)!.getChild('inline', NS_SASL2)!.getChild('fast', NS_FAST)!;
  assert.equal(f2.elements().map((e) => e.text()), [NONE]);
  let threw = false;
  try {
    await setup({ mechanisms: ['HT-SHA-256-UNIQ' as typeof NONE] });
  } catch {
    threw = true;
  }
  assert.ok(threw, 'unknown mechanism rejected');
});

test('a PLAIN login with <request-token/> gets <token expiry token/>; none without a user-agent id or for an unknown mechanism', async () => {
  const server = await setup();
  const now = server.clock.now();
  const { token, expiry } = await getToken(server);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.is(expiry, new Date(now + 14 * DAY).toISOString().replace(/\.\d+Z$/, 'Z'), 'XEP-0082, 14 days');
  const entry = await server.storage.fastTokens.get('localhost', 'localhost', 'alice', UA);
  assert.equal(entry, { current: { token, mechanism: NONE, expiresAt: now + 14 * DAY }, previous: undefined, count: 0 });
  // No user-agent id: no token (FAST binds tokens to a client installation).
  const noUa = await passwordLogin(server, requestToken());
  assert.is(noUa.name, 'success');
  assert.not.ok(noUa.getChild('token', NS_FAST));
  const noId = await passwordLogin(server, `<user-agent><software>x</software></user-agent>${requestToken()}`);
  assert.not.ok(noId.getChild('token', NS_FAST));
  const unknownMech = await passwordLogin(server, userAgent(UA2) + requestToken('HT-SHA-256-UNIQ'));
  assert.is(unknownMech.name, 'success');
  assert.not.ok(unknownMech.getChild('token', NS_FAST));
  assert.equal(await server.storage.fastTokens.agents('localhost', 'localhost', 'alice'), [UA]);
  // A login without <request-token/> leaves the tokens alone.
  const plain = await passwordLogin(server, userAgent(UA));
  assert.not.ok(plain.getChild('token', NS_FAST));
  assert.ok(await works(server, token));
  assert.equal(server.hookErrors, []);
});

test('HT-SHA-256-NONE with the token: <success/> with the Responder proof, Bind2 binds in the same request', async () => {
  const server = await setup();
  const { token } = await getToken(server);
  const { c, out, cb } = await htLogin(server, { token, inner: `<bind xmlns='${NS_BIND2}'><tag>phone</tag></bind>` });
  assert.is(out.name, 'success');
  assert.equal(Buffer.from(out.getChildText('additional-data', NS_SASL2)!, 'base64'), hmac(token, 'Responder', cb), 'HMAC(token, "Responder")');
  assert.ok(out.getChild('bound', NS_BIND2), '<bound/>');
  assert.match(out.getChildText('authorization-identifier', NS_SASL2)!, /^alice@localhost\/phone\//);
  assert.not.ok(out.getChild('token', NS_FAST), 'a fresh token is not rotated');
  assert.is(c.connection.info.authMechanism, NONE);
  assert.is(c.connection.state, 'established');
  // The user name is normalised like any SASL authcid.
  assert.is((await htLogin(server, { token, user: 'Alice' })).out.name, 'success');
  assert.equal(server.hookErrors, []);
});

test('HT-SHA-256-EXPR binds the proofs to the tls-exporter data', async () => {
  const server = await setup();
  const { token } = await getToken(server, UA, EXPR);
  const { c, out, cb } = await htLogin(server, { token, mechanism: EXPR, inner: `<bind xmlns='${NS_BIND2}'/>` });
  assert.is(cb.length, 32);
  assert.is(out.name, 'success');
  assert.equal(Buffer.from(out.getChildText('additional-data', NS_SASL2)!, 'base64'), hmac(token, 'Responder', cb));
  assert.ok(out.getChild('bound', NS_BIND2));
  assert.is(c.connection.info.authMechanism, EXPR);
  // The proof without the channel binding (what a MITM's TLS session would give) is refused.
  const ir = Buffer.concat([Buffer.from('alice\0'), hmac(token, 'Initiator', Buffer.alloc(0))]).toString('base64');
  assert.is(condition((await htLogin(server, { token, mechanism: EXPR, ir })).out), 'not-authorized');
});

test('refused with not-authorized: wrong token, other user-agent, no user-agent, other mechanism, other user, expired; malformed initial response', async () => {
  const server = await setup();
  const { token } = await getToken(server);
  await getToken(server, UA2, EXPR); // the same account holds a token for another installation
  const refused = async (o: HtLogin) => {
    const { c, out } = await htLogin(server, o);
    assert.is(c.connection.jid, undefined, 'not authenticated');
    assert.is(c.connection.state, 'preAuth');
    return condition(out);
  };
  assert.is(await refused({ token: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') }), 'not-authorized', 'wrong token');
  assert.is(await refused({ token, ua: UA2 }), 'not-authorized', 'another installation');
  assert.is(await refused({ token, ua: null }), 'not-authorized', 'no user-agent');
  assert.is(await refused({ token, mechanism: EXPR }), 'not-authorized', 'issued for NONE, used with EXPR');
  assert.is(await refused({ token, user: 'bob' }), 'not-authorized', "another account's name");
  assert.is(await refused({ token, user: 'nobody' }), 'not-authorized', 'unknown account');
  assert.is(await refused({ token, ir: Buffer.from('alice').toString('base64') }), 'malformed-request', 'no NUL');
  assert.is(await refused({ token, ir: Buffer.from('alice\0short').toString('base64') }), 'malformed-request', 'not an HMAC');
  assert.is(await refused({ token, ir: '' }), 'malformed-request', 'empty');
  // An HT mechanism the module does not offer on this stream is not a mechanism at all.
  assert.is(await refused({ token, mechanism: 'HT-SHA-256-ENDP' }), 'invalid-mechanism');
  assert.ok(await works(server, token), 'still valid after the failed attempts');
  server.clock.advance(14 * DAY);
  assert.is(await refused({ token }), 'not-authorized', 'expired');
  assert.equal(server.hookErrors, []);
});

test('<fast count/>: each count must be greater than the last one accepted', async () => {
  const server = await setup({ rotateBeforeMs: 0 });
  const { token } = await getToken(server);
  const withCount = (n: string) => `<fast xmlns='${NS_FAST}' count='${n}'/>`;
  assert.ok(await works(server, token, withCount('5')));
  assert.is((await server.storage.fastTokens.get('localhost', 'localhost', 'alice', UA))?.count, 5);
  assert.is(condition((await htLogin(server, { token, inner: withCount('5') })).out), 'not-authorized', 'replayed');
  assert.is(condition((await htLogin(server, { token, inner: withCount('4') })).out), 'not-authorized', 'lower');
  assert.is(condition((await htLogin(server, { token, inner: withCount('x') })).out), 'not-authorized', 'not a number');
  assert.ok(await works(server, token, withCount('6')));
  assert.ok(await works(server, token), 'count is optional (no 0-RTT)');
  // A password login with a new token starts the count again.
  const { token: t2 } = await getToken(server);
  assert.ok(await works(server, t2, withCount('1')));
});

test('rotation: near expiry a token login gets a new <token/>; the old one works until the new one is used', async () => {
  const server = await setup();
  const { token: t1 } = await getToken(server);
  server.clock.advance(8 * DAY); // 6 days left < rotateBeforeMs (7 days)
  const r1 = await htLogin(server, { token: t1 });
  assert.is(r1.out.name, 'success');
  const t2 = r1.out.getChild('token', NS_FAST)?.attrs.token;
  assert.ok(t2 && t2 !== t1, 'a new token in <success/>');
  assert.is(r1.out.getChild('token', NS_FAST)!.attrs.expiry, new Date(server.clock.now() + 14 * DAY).toISOString().replace(/\.\d+Z$/, 'Z'));
  // The client may have missed <success/>: t1 still works, and gets a fresh current token.
  const r2 = await htLogin(server, { token: t1 });
  assert.is(r2.out.name, 'success', 'previous token still accepted');
  const t3 = r2.out.getChild('token', NS_FAST)?.attrs.token;
  assert.ok(t3 && t3 !== t1 && t3 !== t2, 'a fresh token for a login with the previous one');
  // Using the newest token once retires the previous one.
  const r3 = await htLogin(server, { token: t3! });
  assert.is(r3.out.name, 'success');
  assert.not.ok(r3.out.getChild('token', NS_FAST), 'no rotation for a fresh token');
  assert.is(condition((await htLogin(server, { token: t1 })).out), 'not-authorized', 'previous refused after the new one was used');
  assert.is(condition((await htLogin(server, { token: t2! })).out), 'not-authorized', 'the replaced token is gone');
  assert.ok(await works(server, t3!));
});

test('rotation on request: <request-token/> with a token login issues a new token', async () => {
  const server = await setup();
  const { token: t1 } = await getToken(server);
  const { out } = await htLogin(server, { token: t1, inner: requestToken() });
  const t2 = out.getChild('token', NS_FAST)?.attrs.token;
  assert.ok(t2 && t2 !== t1);
  // t2 never used: a login with t1 (far from expiry, nothing requested) still gets a current token.
  const r = await htLogin(server, { token: t1 });
  assert.is(r.out.name, 'success');
  const t3 = r.out.getChild('token', NS_FAST)?.attrs.token;
  assert.ok(t3 && t3 !== t1 && t3 !== t2);
  assert.ok(await works(server, t3!));
  assert.not.ok(await works(server, t1));
  assert.not.ok(await works(server, t2!));
});

test("invalidate='true': the installation's tokens are deleted after the login; with <request-token/> a new one replaces them", async () => {
  const server = await setup();
  const { token: t1 } = await getToken(server);
  const { out } = await htLogin(server, { token: t1, inner: `<fast xmlns='${NS_FAST}' invalidate='true'/>` });
  assert.is(out.name, 'success', 'the login itself succeeds');
  assert.not.ok(out.getChild('token', NS_FAST));
  assert.equal(await server.storage.fastTokens.agents('localhost', 'localhost', 'alice'), []);
  assert.not.ok(await works(server, t1));
  const { token: t2 } = await getToken(server);
  const r = await htLogin(server, { token: t2, inner: `<fast xmlns='${NS_FAST}' invalidate='true'/>${requestToken()}` });
  const t3 = r.out.getChild('token', NS_FAST)?.attrs.token;
  assert.ok(t3 && t3 !== t2);
  assert.not.ok(await works(server, t2));
  assert.ok(await works(server, t3!));
});

test('account removal deletes its tokens; an account gone from the auth store is refused even with tokens left', async () => {
  const server = await setup();
  const { token } = await getToken(server);
  await getToken(server, UA2);
  await server.server.users.remove('alice@localhost');
  assert.equal(await server.storage.fastTokens.agents('localhost', 'localhost', 'alice'), []);
  await server.addUser('alice@localhost', 'a');
  assert.not.ok(await works(server, token), 'a re-created account does not inherit the tokens');
  // Removed directly from the auth store (tokens still stored): refused all the same.
  const { token: t2 } = await getToken(server);
  await server.authStore.removeUser('localhost', 'localhost', 'alice');
  assert.ok(await server.storage.fastTokens.get('localhost', 'localhost', 'alice', UA));
  assert.is(condition((await htLogin(server, { token: t2 })).out), 'not-authorized');
});

test('the default module set offers FAST', async () => {
  // The default set includes http-upload, whose HTTP listener must be closed: stop the server.
  const server = await createTestServer({ users: USERS, modules: defaultModules() });
  try {
    const { features } = await open(server);
    assert.ok(features.getChild('authentication', NS_SASL2)?.getChild('inline', NS_SASL2)?.getChild('fast', NS_FAST));
  } finally {
    await server.stop();
  }
});

test.run();
