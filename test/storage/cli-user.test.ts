/** `xmpp-blocks user …` against a SQLite file, the way an operator uses it. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databasePath, userCommand } from '../../src/cli/user.ts';
import { sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { verifyPassword } from '../../src/core/auth/scram.ts';
import { tempDir } from './temp-db.ts';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(dataDir: string, args: string[], stdinText?: string): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await userCommand(args, { dataDir, stdout: out, stderr: err, ...(stdinText !== undefined ? { stdin: Readable.from([stdinText]) } : {}) });
  return { code, out: o, err: e };
}

/** Opens the file the CLI wrote, like the server does after `npm start`. */
async function withStorage<T>(dataDir: string, fn: (st: ReturnType<typeof sqliteStorage>) => Promise<T>): Promise<T> {
  const st = sqliteStorage({ path: databasePath(dataDir) });
  try {
    return await fn(st);
  } finally {
    await st.close();
  }
}

const cli = suite('cli · user');

cli('add, list, passwd, remove', async () => {
  const dir = tempDir('cli');
  assert.equal(await run(dir, ['add', 'Alice@Example.com', '--password', 'first secret']), { code: 0, out: 'created alice@example.com\n', err: '' });
  const again = await run(dir, ['add', 'alice@example.com', '--password=x']);
  assert.is(again.code, 1);
  assert.match(again.err, 'already exists');
  await run(dir, ['add', 'bob@example.com', '--password', 'b']);
  assert.equal(await run(dir, ['list', 'example.com']), { code: 0, out: 'alice@example.com\nbob@example.com\n', err: '' });

  // The server verifies logins against what the CLI stored (SCRAM keys, 4096 iterations).
  await withStorage(dir, async (st) => {
    const creds = (await st.auth.getCredentials('example.com', 'example.com', 'alice'))!;
    assert.ok(verifyPassword(creds, 'first secret'));
    assert.is(creds.scram.sha256!.iterations, 4096);
  });

  assert.is((await run(dir, ['passwd', 'alice@example.com', '--password', 'second'])).code, 0);
  await withStorage(dir, async (st) => {
    const creds = (await st.auth.getCredentials('example.com', 'example.com', 'alice'))!;
    assert.ok(verifyPassword(creds, 'second'));
    assert.not.ok(verifyPassword(creds, 'first secret'));
    await st.roster.upsertItem('example.com', 'example.com', 'alice', { jid: 'bob@example.com', subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: [] });
  });
  const nobody = await run(dir, ['passwd', 'nobody@example.com', '--password', 'x']);
  assert.is(nobody.code, 1);
  assert.match(nobody.err, 'does not exist');

  assert.equal(await run(dir, ['remove', 'alice@example.com']), { code: 0, out: 'removed alice@example.com\n', err: '' });
  assert.is((await run(dir, ['remove', 'alice@example.com'])).code, 1);
  assert.equal((await run(dir, ['list', 'example.com'])).out, 'bob@example.com\n');
  await withStorage(dir, async (st) => {
    assert.equal((await st.roster.getRoster('example.com', 'example.com', 'alice')).items, [], 'remove deletes the account data too');
  });
});

cli('bad input: invalid JIDs, missing password, usage errors', async () => {
  const dir = tempDir('cli-bad');
  const noLocal = await run(dir, ['add', 'example.com', '--password', 'x']);
  assert.is(noLocal.code, 1);
  assert.match(noLocal.err, 'no localpart');
  assert.match((await run(dir, ['add', 'a@example.com/res', '--password', 'x'])).err, 'has a resource');
  assert.match((await run(dir, ['add', 'a@b@', '--password', 'x'])).err, 'invalid JID');
  assert.match((await run(dir, ['add', 'a@example.com'])).err, 'password is required');
  assert.is((await run(dir, ['add', 'a@example.com', '--password', 'x', '--hashes', 'md5'])).code, 2);
  assert.is((await run(dir, ['frobnicate', 'x'])).code, 2);
  assert.is((await run(dir, [])).code, 2);
  assert.is((await run(dir, ['add'])).code, 2);
  assert.equal((await run(dir, ['list', 'example.com'])).out, '');
  assert.match((await run(dir, ['import', join(dir, 'missing.txt')])).err, 'ENOENT');
  await withStorage(dir, async (st) => {
    st.database.db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 0)").run();
  });
  const future = await run(dir, ['list', 'example.com']);
  assert.is(future.code, 1);
  assert.match(future.err, 'newer than the newest this xmpp-blocks knows');
});

cli('--hashes limits the SCRAM hashes stored', async () => {
  const dir = tempDir('cli-hashes');
  assert.is((await run(dir, ['add', 'eve@example.com', '--password', 'pw', '--hashes=SHA-256,sha1'])).code, 0);
  await withStorage(dir, async (st) => {
    const creds = (await st.auth.getCredentials('example.com', 'example.com', 'eve'))!;
    assert.equal(Object.keys(creds.scram).sort(), ['sha1', 'sha256']);
    assert.ok(verifyPassword(creds, 'pw'));
  });
});

cli('the host type is the domain unless the DomainStore maps it', async () => {
  const dir = tempDir('cli-ht');
  await withStorage(dir, async (st) => {
    assert.is(await st.domains.insert('tenant-ht', 'dyn.example.org'), 'ok');
  });
  assert.is((await run(dir, ['add', 'carol@dyn.example.org', '--password', 'c'])).code, 0);
  assert.equal((await run(dir, ['list', 'dyn.example.org'])).out, 'carol@dyn.example.org\n');
});

cli('import from stdin: comments and blanks skipped, bad lines reported by number, the rest imported', async () => {
  const dir = tempDir('cli-imp');
  await run(dir, ['add', 'dup@example.com', '--password', 'x']);
  const text = [
    '# accounts for the pilot', // 1
    'ann@example.com  pass with spaces  ', // 2
    '', // 3
    'not a jid@@ pw', // 4
    'ben@example.com', // 5: no password
    '   # indented comment', // 6
    'dup@example.com other', // 7: exists
    'cat@example.com/phone pw', // 8: resource
    'dan@example.com\tpw-d\r', // 9: tab separator, CRLF
  ].join('\n');
  const r = await run(dir, ['import', '-'], text);
  assert.is(r.code, 1, 'some lines failed');
  const errs = r.err.trim().split('\n').sort();
  assert.is(errs.length, 4, r.err);
  for (const n of [4, 5, 7, 8]) assert.ok(errs.some((l) => l.startsWith(`line ${n}: `)), `line ${n} reported: ${r.err}`);
  assert.match(r.out, 'imported 2 account(s), 4 line(s) failed');
  assert.equal((await run(dir, ['list', 'example.com'])).out, 'ann@example.com\ndan@example.com\ndup@example.com\n');
  await withStorage(dir, async (st) => {
    assert.ok(verifyPassword((await st.auth.getCredentials('example.com', 'example.com', 'ann'))!, 'pass with spaces'));
    assert.ok(verifyPassword((await st.auth.getCredentials('example.com', 'example.com', 'dan'))!, 'pw-d'));
    assert.ok(verifyPassword((await st.auth.getCredentials('example.com', 'example.com', 'dup'))!, 'x'), 'an existing account is not overwritten');
  });
});

cli('import 10,000 accounts from a file (4096 iterations, timing printed)', async () => {
  const dir = tempDir('cli-10k');
  const file = join(dir, 'accounts.txt');
  writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => `user${i}@bulk.example.com secret-${i}`).join('\n') + '\n');
  const t0 = Date.now();
  const r = await run(dir, ['import', file]);
  const secs = (Date.now() - t0) / 1000;
  console.log(`  user import: 10,000 accounts in ${secs.toFixed(1)} s`);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'imported 10000 account(s), 0 line(s) failed');
  await withStorage(dir, async (st) => {
    assert.is(await st.auth.countUsers('bulk.example.com', 'bulk.example.com'), 10_000);
    assert.ok(verifyPassword((await st.auth.getCredentials('bulk.example.com', 'bulk.example.com', 'user9999'))!, 'secret-9999'));
  });
});

cli.run();
