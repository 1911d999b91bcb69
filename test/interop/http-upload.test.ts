// Interop of the http-upload module (XEP-0363) with Debian's python3-slixmpp 1.8 (run with
// /usr/bin/python3) over TCP + STARTTLS on 127.0.0.1: the script finds the service through the
// server's disco#items and the service's disco#info as xep_0363 does (its own discovery trips
// over Python 3.11's asyncio.wait, see slixmpp_http_upload.py), then slixmpp's xep_0363 plugin
// asks for a slot and PUTs the file with aiohttp, and the script GETs the URL. The bytes and the type come back as uploaded, and the file is
// on disk under its slot id. On a machine without slixmpp the test is skipped with a message
// saying so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disco } from '../../src/ext/disco/index.ts';
import { httpUpload } from '../../src/ext/http-upload/index.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, useStartTlsServer } from '../helpers/slixmpp.ts';

interface SlixReport {
  event: string;
  url?: string;
  status?: number;
  content_type?: string;
  data?: string;
  error?: string;
  jid?: string;
  max_file_size?: number;
}

if (await haveSlixmpp('http-upload.test.ts', 'slixmpp HTTP File Upload interop', ['aiohttp'])) {
  const dir = mkdtempSync(join(tmpdir(), 'slixmpp-upload-files-'));
  const server = useStartTlsServer(
    { users: { 'alice@localhost': 'alice-secret' }, modules: [disco, { module: httpUpload, options: { port: 0, storageDir: dir } }] },
    'slixmpp-upload-',
  );
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  test('slixmpp: xep_0363 finds upload.localhost (disco), uploads a file, and the GET returns it', async () => {
    const { ts, caFile } = server();
    const { host, port } = ts.address(0);
    let alice: ChildHandle | undefined;
    try {
      alice = startSlixmpp('slixmpp_http_upload.py', ['--jid', 'alice@localhost/slix', '--password', 'alice-secret', '--host', host, '--port', String(port), '--cafile', caFile, '--timeout', '20'], 23_000);
      await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'alice session_start');
      const bytes = Buffer.from('a small file from slixmpp\n\u0000\u00ff binary too');
      alice.writeLine(JSON.stringify({ cmd: 'upload', name: 'notes from slix.txt', data: bytes.toString('base64'), content_type: 'text/plain' }));
      const service = await alice.waitForJson<SlixReport>((r) => r.event === 'service' || r.event === 'upload_error', 10_000, 'service discovery');
      assert.equal([service.jid, service.max_file_size], ['upload.localhost', 10 * 1024 * 1024], JSON.stringify(service));
      const uploaded = await alice.waitForJson<SlixReport>((r) => r.event === 'uploaded' || r.event === 'upload_error', 10_000, 'upload');
      assert.is(uploaded.event, 'uploaded', JSON.stringify(uploaded));
      assert.match(uploaded.url!, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}\/notes%20from%20slix\.txt$/);
      const got = await alice.waitForJson<SlixReport>((r) => r.event === 'downloaded', 10_000, 'download');
      assert.is(got.status, 200);
      assert.is(got.content_type, 'text/plain');
      assert.equal(Buffer.from(got.data!, 'base64'), bytes);
      const id = new URL(uploaded.url!).pathname.split('/')[1]!;
      assert.equal(readdirSync(dir).sort(), [id, `${id}.json`]);

      alice.writeLine(JSON.stringify({ cmd: 'quit' }));
      assert.is((await alice.exited).code, 0, `exit; stderr:\n${alice.stderr}`);
      const bad = alice.jsonLines<SlixReport>().filter((r) => ['stream_error', 'failed_auth', 'timeout', 'upload_error'].includes(r.event));
      assert.equal(bad, []);
    } finally {
      await alice?.stop();
    }
  });
}

test.run();
