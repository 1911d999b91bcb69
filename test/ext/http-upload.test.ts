// XEP-0363 HTTP File Upload as conversations: a client asks upload.localhost for a slot over
// XMPP, then PUTs and GETs over real HTTP on 127.0.0.1 (node's fetch, or node:http for raw
// paths fetch would normalise). Slot and file lifetimes run on the fake clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { httpUpload, NS_HTTP_UPLOAD, type HttpUploadOptions } from '../../src/ext/http-upload/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';

const UPLOAD = 'upload.localhost';
const MAX = 1000;

interface World {
  server: TestServer;
  alice: TestClient;
  dir: string;
}

async function world(options: Partial<HttpUploadOptions> = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'http-upload-test-'));
  const server = await createTestServer({
    users: { 'alice@localhost': 'a', 'bob@other.test': 'b' },
    domains: { localhost: 'localhost', 'other.test': 'other' },
    hostTypes: {
      localhost: { modules: [disco, { module: httpUpload, options: { port: 0, storageDir: dir, maxFileSize: MAX, ...options } }] },
      other: { modules: [disco] },
    },
  });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  return { server, alice, dir };
}

/** A test with its own server; the server (and so its HTTP listener) stops even when an assertion fails. */
function scenario(name: string, options: Partial<HttpUploadOptions>, body: (w: World) => Promise<void>): void {
  test(name, async () => {
    const w = await world(options);
    try {
      await body(w);
      assert.equal(w.server.hookErrors, []);
    } finally {
      await w.server.stop();
      await rm(w.dir, { recursive: true, force: true });
    }
  });
}

let seq = 0;
/** Send an IQ and return its answer (the slot answer waits for the HTTP server to listen: real I/O). */
async function iq(c: TestClient, stanza: string): Promise<XmlElement> {
  const id = /id='([^']+)'/.exec(stanza)![1];
  c.send(stanza);
  const is = (e: XmlElement) => e.name === 'iq' && e.attrs.id === id;
  for (let i = 0; i < 500; i++) {
    await c.settle();
    const el = c.nextElement(is);
    if (el) return el;
    await new Promise((r) => setTimeout(r, 5));
  }
  return c.expect(is, `answer to ${id}`);
}

function errorOf(el: XmlElement): string | undefined {
  if (el.attrs.type !== 'error') return undefined;
  return el.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;
}

function requestSlot(c: TestClient, filename: string, size: number | string, contentType?: string, to = UPLOAD): Promise<XmlElement> {
  const ct = contentType === undefined ? '' : ` content-type='${contentType}'`;
  return iq(c, `<iq type='get' id='slot-${++seq}' to='${to}'><request xmlns='${NS_HTTP_UPLOAD}' filename='${filename}' size='${size}'${ct}/></iq>`);
}

/** A slot's PUT and GET URLs (asserting a result). */
async function slot(c: TestClient, filename: string, size: number, contentType?: string): Promise<{ put: string; get: string }> {
  const r = await requestSlot(c, filename, size, contentType);
  assert.is(r.attrs.type, 'result', JSON.stringify(r.toString?.() ?? r));
  const s = r.getChild('slot', NS_HTTP_UPLOAD)!;
  return { put: s.getChild('put')!.attrs.url!, get: s.getChild('get')!.attrs.url! };
}

/** An HTTP request with the path sent exactly as given (fetch would normalise `..`). */
function raw(url: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, agent: false, headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The stored files' names in the storage directory. */
async function stored(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

scenario('service discovery: the server lists upload.localhost; its disco#info has store/file, the feature and max-file-size', {}, async (w) => {
  const items = await iq(w.alice, `<iq type='get' id='d1' to='localhost'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
  assert.ok(items.getChild('query')!.getChildren('item').some((i) => i.attrs.jid === UPLOAD), 'server disco#items has the upload service');

  const info = await iq(w.alice, `<iq type='get' id='d2' to='${UPLOAD}'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
  assert.is(info.attrs.type, 'result');
  assert.is(info.attrs.from, UPLOAD);
  const q = info.getChild('query', NS.DISCO_INFO)!;
  assert.equal(q.getChildren('identity').map((i) => `${i.attrs.category}/${i.attrs.type}`), ['store/file']);
  assert.ok(q.getChildren('feature').some((f) => f.attrs.var === NS_HTTP_UPLOAD));
  const form = q.getChild('x', 'jabber:x:data')!;
  const field = (v: string) => form.getChildren('field').find((f) => f.attrs.var === v)?.getChildText('value');
  assert.is(field('FORM_TYPE'), NS_HTTP_UPLOAD);
  assert.is(field('max-file-size'), String(MAX));

  // Another host type without the module has no such service.
  const other = w.server.connect();
  await other.login('bob@other.test/pc', 'b');
  const otherItems = await iq(other, `<iq type='get' id='d3' to='other.test'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
  assert.not.ok(otherItems.getChild('query')!.getChildren('item').some((i) => i.attrs.jid === 'upload.other.test'));
});

scenario('slot request → PUT 201 → GET returns the same bytes with type, length, disposition, nosniff and CORS; stored by id only', {}, async (w) => {
  const bytes = Buffer.from('hello, upload — ünïcödé\n');
  const { put, get } = await slot(w.alice, 'my notes.txt', bytes.length, 'text/plain; charset=utf-8');
  assert.is(put, get);
  assert.match(put, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}\/my%20notes\.txt$/);

  const r = await fetch(put, { method: 'PUT', body: bytes, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  assert.is(r.status, 201);

  const g = await fetch(get);
  assert.is(g.status, 200);
  assert.equal(Buffer.from(await g.arrayBuffer()), bytes);
  assert.is(g.headers.get('content-type'), 'text/plain;charset=utf-8');
  assert.is(g.headers.get('content-length'), String(bytes.length));
  assert.is(g.headers.get('x-content-type-options'), 'nosniff');
  assert.is(g.headers.get('access-control-allow-origin'), '*');
  assert.is(g.headers.get('content-disposition'), "attachment; filename*=UTF-8''my%20notes.txt");

  const id = new URL(put).pathname.split('/')[1]!;
  assert.equal(await stored(w.dir), [id, `${id}.json`], 'the user-chosen name is never a path');

  // Images are shown inline; without a content-type in the request the PUT's header counts.
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
  const img = await slot(w.alice, 'cat.png', png.length);
  assert.is((await fetch(img.put, { method: 'PUT', body: png, headers: { 'content-type': 'image/png' } })).status, 201);
  const gi = await fetch(img.get);
  assert.is(gi.headers.get('content-type'), 'image/png');
  assert.match(gi.headers.get('content-disposition')!, /^inline;/);
  await gi.arrayBuffer();
});

scenario('a file too large is not-acceptable with <file-too-large><max-file-size>; bad names and sizes are bad-request', {}, async (w) => {
  const big = await requestSlot(w.alice, 'big.bin', MAX + 1);
  assert.is(errorOf(big), 'not-acceptable');
  const tooLarge = big.getChild('error')!.getChild('file-too-large', NS_HTTP_UPLOAD);
  assert.ok(tooLarge, 'file-too-large element');
  assert.is(tooLarge!.getChildText('max-file-size'), String(MAX));

  for (const [name, size] of [['../etc/passwd', 3], ['a/b', 3], ['a\\b', 3], ['..', 3], ['', 3], ['ok.txt', 'abc'], ['ok.txt', -1], ['ok.txt', 0]] as const) {
    assert.is(errorOf(await requestSlot(w.alice, name, size)), 'bad-request', `${name} ${size}`);
  }
  assert.is(errorOf(await requestSlot(w.alice, 'ok.txt', 3, 'not a type')), 'bad-request');
});

scenario('a PUT of the wrong size or type is refused and stores nothing; the slot then still takes the right upload, once (409 after)', {}, async (w) => {
  const { put, get } = await slot(w.alice, 'data.bin', 10, 'application/octet-stream');
  const headers = { 'content-type': 'application/octet-stream' };
  assert.is((await fetch(put, { method: 'PUT', body: Buffer.alloc(5), headers })).status, 400, 'shorter');
  assert.is((await fetch(put, { method: 'PUT', body: Buffer.alloc(11), headers })).status, 413, 'longer');
  assert.is((await fetch(put, { method: 'PUT', body: Buffer.alloc(10), headers: { 'content-type': 'text/html' } })).status, 400, 'other type');
  assert.equal(await stored(w.dir), []);
  assert.is((await fetch(get)).status, 404);

  assert.is((await fetch(put, { method: 'PUT', body: Buffer.alloc(10, 1), headers })).status, 201);
  assert.is((await fetch(put, { method: 'PUT', body: Buffer.alloc(10, 2), headers })).status, 409, 'a slot takes one upload');
  assert.equal(Buffer.from(await (await fetch(get)).arrayBuffer()), Buffer.alloc(10, 1), 'the first upload stays');
});

scenario('a body cut short (Content-Length promised, connection closed) leaves nothing behind', {}, async (w) => {
  const { put } = await slot(w.alice, 'cut.bin', 100);
  const u = new URL(put);
  const req = request({ host: u.hostname, port: u.port, method: 'PUT', path: u.pathname, agent: false, headers: { 'content-length': '100' } });
  const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
  req.on('error', () => {});
  req.write(Buffer.alloc(40));
  // Cut the connection once the server is writing the upload (bounded wait for real I/O).
  for (let i = 0; i < 400 && !(await stored(w.dir)).some((n) => n.endsWith('.part')); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok((await stored(w.dir)).some((n) => n.endsWith('.part')), 'the upload started');
  req.destroy();
  await closed;
  // The server notices the close on its own schedule: wait (bounded) for it to free the slot.
  let status = 0;
  for (let i = 0; i < 200 && status !== 201; i++) {
    status = (await fetch(put, { method: 'PUT', body: Buffer.alloc(100) })).status;
    if (status !== 201) await new Promise((r) => setTimeout(r, 5));
  }
  assert.is(status, 201, 'the slot is free again after the failed upload');
  assert.is((await stored(w.dir)).filter((n) => n.endsWith('.part')).length, 0);
});

scenario('a slot expires after slotLifetimeMs on the server clock: the PUT gets 403', { slotLifetimeMs: 60_000 }, async (w) => {
  const a = await slot(w.alice, 'a.txt', 1);
  const b = await slot(w.alice, 'b.txt', 1);
  w.server.clock.advance(59_999);
  assert.is((await fetch(a.put, { method: 'PUT', body: 'a' })).status, 201, 'still valid');
  w.server.clock.advance(1);
  assert.is((await fetch(b.put, { method: 'PUT', body: 'b' })).status, 403);
  assert.is((await fetch(b.put, { method: 'PUT', body: 'b' })).status, 404, 'then it is gone');
  // An unknown but well-formed id, and a name that is not the slot's, are 404.
  const other = a.put.replace(/\/[A-Za-z0-9_-]{24}\//, '/AAAAAAAAAAAAAAAAAAAAAAAA/');
  assert.is((await fetch(other, { method: 'PUT', body: 'a' })).status, 404);
  const c = await slot(w.alice, 'c.txt', 1);
  assert.is((await fetch(c.put.replace('c.txt', 'd.txt'), { method: 'PUT', body: 'c' })).status, 404);
});

scenario('path traversal: dot segments, encoded slashes and bad ids are refused; nothing is written outside the directory', {}, async (w) => {
  const { put, get } = await slot(w.alice, 'x.txt', 1);
  assert.is((await fetch(put, { method: 'PUT', body: 'x' })).status, 201);
  const id = new URL(put).pathname.split('/')[1]!;
  const attempts = [
    '/../../../../etc/passwd',
    `/${id}/..%2F..%2F..%2Fetc%2Fpasswd`,
    `/${id}/..%5C..%5Cwin.ini`,
    `/${id}/..`,
    `/${id}/%2e%2e`,
    '/%2e%2e/%2e%2e/etc/passwd',
    `/../${id}/x.txt`,
    `/${id}%2Fx.txt`,
    `/${id}/x.txt%00.png`,
    '/..%2F..%2Fetc/passwd',
  ];
  for (const path of attempts) {
    for (const method of ['GET', 'PUT']) {
      const r = await raw(get, method, path, method === 'PUT' ? Buffer.from('x') : undefined);
      assert.ok(r.status === 400 || r.status === 404, `${method} ${path}: ${r.status}`);
    }
  }
  assert.equal(await stored(w.dir), [id, `${id}.json`]);
  assert.is((await raw(get, 'GET', `/${id}/x.txt`)).body.toString(), 'x');
});

scenario('only local users get slots: a user of another host type is refused (forbidden)', {}, async (w) => {
  const bob = w.server.connect();
  await bob.login('bob@other.test/pc', 'b');
  const r = await requestSlot(bob, 'x.txt', 1);
  assert.is(errorOf(r), 'forbidden');
  assert.is(r.attrs.from, UPLOAD);
});

scenario('OPTIONS preflight answers CORS; HEAD gives the headers without the body; other methods 405', {}, async (w) => {
  const { put, get } = await slot(w.alice, 'h.txt', 3, 'text/plain');
  const pre = await fetch(put, { method: 'OPTIONS', headers: { origin: 'https://web.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' } });
  assert.is(pre.status, 204);
  assert.is(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods')!, /PUT/);
  assert.match(pre.headers.get('access-control-allow-methods')!, /GET/);
  assert.match(pre.headers.get('access-control-allow-headers')!, /Authorization/);
  assert.match(pre.headers.get('access-control-allow-headers')!, /Content-Type/);

  assert.is((await fetch(put, { method: 'PUT', body: 'abc', headers: { 'content-type': 'text/plain' } })).status, 201);
  const head = await raw(get, 'HEAD', new URL(get).pathname);
  assert.is(head.status, 200);
  assert.is(head.headers['content-length'], '3');
  assert.is(head.headers['content-type'], 'text/plain');
  assert.is(head.body.length, 0);

  const del = await fetch(get, { method: 'DELETE' });
  assert.is(del.status, 405);
  assert.match(del.headers.get('allow')!, /PUT/);
});

scenario('quota: bytes per user over the window; over it is resource-constraint with <retry stamp/>, allowed again after', { userQuotaBytes: 10, quotaWindowMs: 3_600_000 }, async (w) => {
  const start = w.server.clock.now();
  await slot(w.alice, 'a', 6);
  const r = await requestSlot(w.alice, 'b', 6);
  assert.is(errorOf(r), 'resource-constraint');
  const retry = r.getChild('error')!.getChild('retry', NS_HTTP_UPLOAD);
  assert.is(retry?.attrs.stamp, new Date(start + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  await slot(w.alice, 'c', 4);
  w.server.clock.advance(3_600_000);
  await slot(w.alice, 'd', 6);
});

scenario('fileLifetimeMs: an old file is no longer served and the timer deletes it', { fileLifetimeMs: 10_000, cleanupIntervalMs: 5_000 }, async (w) => {
  const { put, get } = await slot(w.alice, 'e.txt', 1);
  assert.is((await fetch(put, { method: 'PUT', body: 'e' })).status, 201);
  assert.is((await fetch(get)).status, 200);
  w.server.clock.advance(9_999);
  assert.is((await fetch(get)).status, 200);
  w.server.clock.advance(1);
  assert.is((await fetch(get)).status, 404);
  w.server.clock.advance(5_000);
  for (let i = 0; i < 200 && (await stored(w.dir)).length > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(await stored(w.dir), []);
});

scenario('account removal deletes the account’s files', {}, async (w) => {
  const { put, get } = await slot(w.alice, 'f.txt', 1);
  assert.is((await fetch(put, { method: 'PUT', body: 'f' })).status, 201);
  await w.server.server.users.remove('alice@localhost');
  assert.equal(await stored(w.dir), []);
  assert.is((await fetch(get)).status, 404);
});

scenario("stopping the server closes the module's HTTP server; files stay in storageDir", {}, async (w) => {
  const { put, get } = await slot(w.alice, 'g.txt', 1);
  assert.is((await fetch(put, { method: 'PUT', body: 'g' })).status, 201);
  await w.server.stop();
  let refused = false;
  try {
    await raw(get, 'GET', new URL(get).pathname);
  } catch (err) {
    refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
  assert.ok(refused, 'the port no longer accepts connections');
  assert.is((await stored(w.dir)).length, 2);
});

test.run();
