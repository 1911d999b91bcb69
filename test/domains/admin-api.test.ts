// The HTTP admin API (src/admin): domains added, read, disabled, enabled and deleted over REST
// on a real loopback port, with a bearer token; every refusal has its status code and a JSON
// `{ error, message }` body, and changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { silentLogger } from '../../src/core/logger.ts';

const TOKEN = 's3cret-token';
let server: XmppServer;
let base: string;

test.before(async () => {
  server = createServer({
    domains: ['static.example'],
    dynamicDomains: { hostTypes: ['tenants'], pollIntervalMs: 1000 },
    admin: { port: 0, token: TOKEN, maxBodyBytes: 1024 },
    storage: memoryStorage(),
    logger: silentLogger,
  });
  await server.start();
  const a = server.adminAddress()!;
  assert.is(a.host, '127.0.0.1', 'loopback by default');
  base = `http://${a.host}:${a.port}`;
});

test.after(async () => {
  await server.stop();
});

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token !== null && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(3000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

test('401 without (or with a wrong) bearer token', async () => {
  for (const t of [null, 'wrong']) {
    const r = await call('GET', '/api/domains', undefined, t);
    assert.is(r.status, 401);
    assert.is(r.json.error, 'unauthorized');
    assert.is(r.headers.get('www-authenticate'), 'Bearer');
  }
});

test('PUT creates (201), repeats (200), and the domain is served at once; GET list and details', async () => {
  const r1 = await call('PUT', '/api/domains/a.example', { hostType: 'tenants' });
  assert.is(r1.status, 201);
  assert.equal(r1.json, { domain: 'a.example', hostType: 'tenants', status: 'enabled', static: false });
  assert.is(server.domains.hostTypeOf('a.example'), 'tenants');
  const r2 = await call('PUT', '/api/domains/a.example', { hostType: 'tenants' });
  assert.is(r2.status, 200);
  const list = await call('GET', '/api/domains');
  assert.is(list.status, 200);
  assert.equal(list.json.domains.map((d: any) => `${d.domain}:${d.hostType}:${d.static}`), ['a.example:tenants:false', 'static.example:static.example:true']);
  const only = await call('GET', '/api/domains?hostType=tenants');
  assert.equal(only.json.domains.map((d: any) => d.domain), ['a.example']);
  const one = await call('GET', '/api/domains/a.example');
  assert.equal(one.json, { domain: 'a.example', hostType: 'tenants', status: 'enabled', static: false });
  assert.is((await call('GET', '/api/domains/nope.example')).status, 404);
});

test('refusals: 400 unknown host type / malformed domain / bad body, 403 static, 409 duplicate, 413, 404, 405', async () => {
  const cases: [string, string, unknown, number, string][] = [
    ['PUT', '/api/domains/b.example', { hostType: 'nope' }, 400, 'unknown-host-type'],
    ['PUT', '/api/domains/' + encodeURIComponent('user@b.example'), { hostType: 'tenants' }, 400, 'invalid-domain'],
    ['PUT', '/api/domains/bad..example', { hostType: 'tenants' }, 400, 'invalid-domain'],
    ['PUT', '/api/domains/%E0%A4%A', { hostType: 'tenants' }, 400, 'invalid-domain'],
    ['PUT', '/api/domains/b.example', '{not json', 400, 'bad-request'],
    ['PUT', '/api/domains/b.example', [], 400, 'bad-request'],
    ['PUT', '/api/domains/b.example', {}, 400, 'bad-request'],
    ['PUT', '/api/domains/static.example', { hostType: 'tenants' }, 403, 'static'],
    ['PATCH', '/api/domains/static.example', { enabled: false }, 403, 'static'],
    ['DELETE', '/api/domains/static.example', undefined, 403, 'static'],
    ['PATCH', '/api/domains/a.example', { enabled: 'no' }, 400, 'bad-request'],
    ['PATCH', '/api/domains/zzz.example', { enabled: false }, 404, 'not-found'],
    ['DELETE', '/api/domains/zzz.example', undefined, 404, 'not-found'],
    ['PUT', '/api/domains/b.example', { hostType: 'tenants', pad: 'x'.repeat(2000) }, 413, 'payload-too-large'],
    ['GET', '/api/elsewhere', undefined, 404, 'not-found'],
    ['GET', '/api/domains/' + encodeURIComponent('a@b.example'), undefined, 400, 'invalid-domain'],
    ['POST', '/api/domains', undefined, 405, 'method-not-allowed'],
  ];
  for (const [method, path, body, status, error] of cases) {
    const r = await call(method, path, body);
    assert.is(r.status, status, `${method} ${path}`);
    assert.is(r.json.error, error, `${method} ${path}`);
    assert.type(r.json.message, 'string');
  }
  assert.is(server.domains.hostTypeOf('b.example'), undefined, 'nothing was created');
});

test('409 when the domain exists with another host type', async () => {
  await server.storage.domains.insert('other', 'c.example');
  const r = await call('PUT', '/api/domains/c.example', { hostType: 'tenants' });
  assert.is(r.status, 409);
  assert.is(r.json.error, 'duplicate');
});

test('PATCH disables and enables; DELETE removes the domain and its accounts', async () => {
  await server.users.add('alice@a.example', 'pw');
  const off = await call('PATCH', '/api/domains/a.example', { enabled: false });
  assert.is(off.status, 200);
  assert.is(off.json.status, 'disabled');
  assert.is(server.domains.hostTypeOf('a.example'), undefined);
  const on = await call('PATCH', '/api/domains/a.example', { enabled: true });
  assert.is(on.json.status, 'enabled');
  assert.is(server.domains.hostTypeOf('a.example'), 'tenants');
  const del = await call('DELETE', '/api/domains/a.example');
  assert.is(del.status, 200);
  assert.equal(del.json, { domain: 'a.example', hostType: 'tenants', deleted: true });
  assert.is(server.domains.hostTypeOf('a.example'), undefined);
  assert.equal(await server.storage.auth.listUsers('tenants', 'a.example'), []);
  assert.is((await call('GET', '/api/domains/a.example')).status, 404);
});

test('without a token the API is open (still loopback only)', async () => {
  const s = createServer({ domains: ['x.example'], dynamicDomains: { hostTypes: ['t'] }, admin: { port: 0 }, storage: memoryStorage(), logger: silentLogger });
  await s.start();
  try {
    const a = s.adminAddress()!;
    const res = await fetch(`http://${a.host}:${a.port}/api/domains`, { signal: AbortSignal.timeout(3000) });
    assert.is(res.status, 200);
    await res.text();
  } finally {
    await s.stop();
  }
  assert.is(s.adminAddress(), undefined);
});

test.run();
