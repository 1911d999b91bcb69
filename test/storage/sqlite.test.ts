/** SQLite adapter specifics: migrations, group commit, credentials at rest, concurrent readers. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, migrate, schemaVersion, sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { MamIdGenerator, type MamMessage } from '../../src/core/storage/mam-store.ts';
import { deriveCredentials, verifyPassword } from '../../src/core/auth/scram.ts';
import { tempDir } from './temp-db.ts';

const dir = tempDir('sqlite');
let n = 0;
const freshPath = () => join(dir, `t-${n++}.sqlite`);

const mamRow = (gen: MamIdGenerator, i: number): MamMessage => {
  const { id, timestamp } = gen.next(1_700_000_000_000_000 + i);
  return { id, timestamp, peer: 'bob@example.com', peerResource: '', direction: 'in', xml: `<message id='${i}'><body>${i}</body></message>` };
};

// ---------------------------------------------------------------------------------------------
const migrations = suite('sqlite · migrations');

migrations('the step list is contiguous from 1 and keeps an earlier version to upgrade from', () => {
  assert.equal(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  assert.ok(SCHEMA_VERSION >= 2);
});

migrations('an empty file is brought to the current version, once', async () => {
  const path = freshPath();
  const st = sqliteStorage({ path });
  await st.close();
  const db = new Database(path);
  try {
    assert.is(schemaVersion(db), SCHEMA_VERSION);
    assert.equal(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), MIGRATIONS.map((m) => m.version));
    assert.is(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(migrate(db), [], 'reopening applies nothing');
  } finally {
    db.close();
  }
});

for (const from of MIGRATIONS.slice(0, -1).map((m) => m.version)) {
  migrations(`a version ${from} file is upgraded and its data is readable through the ports`, async () => {
    const path = freshPath();
    const raw = new Database(path);
    migrate(raw, from);
    assert.is(schemaVersion(raw), from);
    // Rows written as version `from` wrote them (every version so far shares these columns).
    raw.prepare("INSERT INTO users VALUES ('example.com', 'alice', ?, 0)").run(JSON.stringify(deriveCredentials('pw', { iterations: 16 })));
    raw.prepare("INSERT INTO inbox (domain, username, remote_jid, msg_id, xml, timestamp, unread, muted_until) VALUES ('example.com', 'alice', 'bob@x', 'm1', '<message/>', 5, 2, 0)").run();
    raw.prepare("INSERT INTO mam_messages VALUES ('example.com', 'alice', '0000000000001000', 'bob@x', '', 'in', 1, NULL, '<message/>')").run();
    raw.close();

    const st = sqliteStorage({ path });
    try {
      assert.is(schemaVersion(st.database.db), SCHEMA_VERSION);
      assert.ok(verifyPassword((await st.auth.getCredentials('ht', 'example.com', 'alice'))!, 'pw'));
      assert.equal(await st.inbox.getEntry('ht', 'example.com', 'alice', 'bob@x'), {
        remoteJid: 'bob@x', msgId: 'm1', xml: '<message/>', timestamp: 5, unread: 2, mutedUntil: 0, box: 'inbox',
      });
      assert.is((await st.mam.query('ht', 'example.com', 'alice', { peer: 'bob@x' })).count, 1);
      const indexes = st.database.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'mam_by_peer'").all();
      assert.is(indexes.length, 1);
      // Tables of later steps exist and work on the upgraded file.
      const fast = { current: { token: 't1', mechanism: 'HT-SHA-256-NONE', expiresAt: 9 }, previous: undefined, count: 1 };
      await st.fastTokens.set('ht', 'example.com', 'alice', 'agent-1', fast);
      assert.equal(await st.fastTokens.get('ht', 'example.com', 'alice', 'agent-1'), fast);
      const avatar = { id: 'a1', payload: '<metadata xmlns="urn:xmpp:avatar:metadata"/>', publisher: 'alice@example.com', timestamp: 7 };
      assert.is(await st.pep.createNode('ht', 'example.com', 'alice', 'urn:xmpp:avatar:metadata', { 'pubsub#max_items': '1' }), 'ok');
      assert.is(await st.pep.publish('ht', 'example.com', 'alice', 'urn:xmpp:avatar:metadata', avatar, 1), true);
      assert.equal(await st.pep.getItems('ht', 'example.com', 'alice', 'urn:xmpp:avatar:metadata'), [avatar]);
      const room = { name: 'coven', config: { 'muc#roomconfig_getmemberlist': ['moderator'] }, affiliations: [{ jid: 'alice@example.com', affiliation: 'owner' as const }] };
      await st.muc.saveRoom('ht', 'conference.example.com', room);
      assert.equal(await st.muc.getRoom('ht', 'conference.example.com', 'coven'), room);
    } finally {
      await st.close();
    }
  });
}

migrations('a file from a newer version is refused with a clear error and left untouched', async () => {
  const path = freshPath();
  await sqliteStorage({ path }).close();
  const raw = new Database(path);
  raw.prepare("INSERT INTO schema_migrations VALUES (?, 'from the future', 0)").run(SCHEMA_VERSION + 5);
  raw.close();
  let err: unknown;
  try {
    sqliteStorage({ path });
  } catch (e) {
    err = e;
  }
  assert.instance(err, SchemaTooNewError);
  assert.match(String((err as Error).message), `version ${SCHEMA_VERSION + 5} is newer`);
  const check = new Database(path, { readonly: true });
  assert.is(schemaVersion(check), SCHEMA_VERSION + 5);
  check.close();
});

migrations.run();

// ---------------------------------------------------------------------------------------------
const gc = suite('sqlite · group commit');

gc('writes issued together commit in one batch; each resolves after COMMIT and is readable', async () => {
  const st = sqliteStorage({ path: freshPath(), groupCommit: { delayMs: 5, maxBatch: 10_000 } });
  try {
    const gen = new MamIdGenerator();
    const p = Promise.all(Array.from({ length: 200 }, (_, i) => st.mam.append('ht', 'example.com', 'alice', mamRow(gen, i))));
    assert.is(st.database.writes.pending, 200, 'queued, not yet written');
    assert.is((await st.mam.query('ht', 'example.com', 'alice')).count, 0, 'nothing visible before the flush');
    await p;
    assert.is(st.database.writes.pending, 0);
    assert.is((await st.mam.query('ht', 'example.com', 'alice')).count, 200);
  } finally {
    await st.close();
  }
});

gc('maxBatch triggers a flush without waiting for the timer', async () => {
  const st = sqliteStorage({ path: freshPath(), groupCommit: { delayMs: 60_000, maxBatch: 50 } });
  try {
    const gen = new MamIdGenerator();
    await Promise.all(Array.from({ length: 100 }, (_, i) => st.mam.append('ht', 'example.com', 'alice', mamRow(gen, i))));
    assert.is((await st.mam.query('ht', 'example.com', 'alice')).count, 100);
  } finally {
    await st.close();
  }
});

gc('close() commits queued writes first', async () => {
  const path = freshPath();
  const st = sqliteStorage({ path, groupCommit: { delayMs: 60_000, maxBatch: 10_000 } });
  const gen = new MamIdGenerator();
  const writes = Array.from({ length: 10 }, (_, i) => st.mam.append('ht', 'example.com', 'alice', mamRow(gen, i)));
  await st.close();
  await Promise.all(writes);
  const again = sqliteStorage({ path });
  assert.is((await again.mam.query('ht', 'example.com', 'alice')).count, 10);
  await again.close();
  let rejected = false;
  await st.mam.append('ht', 'example.com', 'alice', mamRow(gen, 99)).catch(() => (rejected = true));
  assert.ok(rejected, 'writes after close are refused');
});

gc('writes that cannot be committed (another connection holds the lock) are rejected, not acknowledged', async () => {
  const path = freshPath();
  const st = sqliteStorage({ path, groupCommit: { delayMs: 5 } });
  const blocker = new Database(path, { timeout: 0 });
  try {
    st.database.db.pragma('busy_timeout = 0');
    blocker.exec('BEGIN EXCLUSIVE'); // holds the write lock: the batch's BEGIN/COMMIT cannot proceed
    const gen = new MamIdGenerator();
    const results = await Promise.allSettled([0, 1, 2].map((i) => st.mam.append('ht', 'example.com', 'alice', mamRow(gen, i))));
    assert.equal(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    blocker.exec('ROLLBACK');
    await st.mam.append('ht', 'example.com', 'alice', mamRow(gen, 3));
    assert.is((await st.mam.query('ht', 'example.com', 'alice')).count, 1);
  } finally {
    blocker.close();
    await st.close();
  }
});

gc.run();

// ---------------------------------------------------------------------------------------------
const misc = suite('sqlite · credentials and readers');

misc('SCRAM credentials verify, and the password appears nowhere in the file or its WAL', async () => {
  const path = freshPath();
  const password = 'Tr0ub4dor&3-unique-7f3a9c';
  const st = sqliteStorage({ path });
  let closed = false;
  try {
    assert.ok(await st.auth.register('ht', 'example.com', 'alice', deriveCredentials(password)));
    assert.ok(await st.auth.setCredentials('ht', 'example.com', 'bob', deriveCredentials(password)) === false);
    await st.auth.register('ht', 'example.com', 'bob', deriveCredentials(password, { iterations: 4096 }));
    const creds = (await st.auth.getCredentials('ht', 'example.com', 'alice'))!;
    assert.ok(verifyPassword(creds, password));
    assert.not.ok(verifyPassword(creds, password + 'x'));
    assert.equal(Object.keys(creds.scram).sort(), ['sha1', 'sha256', 'sha512']);
    const needles = [Buffer.from(password, 'utf8'), Buffer.from(password, 'utf16le'), Buffer.from(Buffer.from(password).toString('base64'))];
    const scan = () => {
      for (const f of [path, path + '-wal']) {
        if (!existsSync(f)) continue;
        const bytes = readFileSync(f);
        for (const needle of needles) assert.is(bytes.indexOf(needle), -1, `password found in ${f}`);
      }
    };
    assert.ok(readFileSync(path + '-wal').length > 0, 'the WAL holds the fresh rows');
    scan();
    await st.close();
    closed = true;
    scan(); // after the checkpoint into the main file
  } finally {
    if (!closed) await st.close();
  }
});

misc('a second connection reads while the group-commit writer runs, and never blocks it', async () => {
  const path = freshPath();
  const writer = sqliteStorage({ path, groupCommit: { delayMs: 1, maxBatch: 100 } });
  const reader = sqliteStorage({ path });
  const longReader = new Database(path, { readonly: true });
  try {
    const gen = new MamIdGenerator();
    // A long read on the second connection holds a WAL snapshot open during the writes below.
    await writer.mam.append('ht', 'example.com', 'alice', mamRow(gen, 0));
    const snapshot = longReader.prepare('SELECT id FROM mam_messages').iterate();
    assert.ok(!snapshot.next().done);

    let acked = 0;
    let lastSeen = 1;
    let i = 1;
    while (acked < 2000) {
      const batch = Array.from({ length: 100 }, () => writer.mam.append('ht', 'example.com', 'alice', mamRow(gen, i++)).then(() => acked++));
      // Reads interleave with queued writes: they see a committed prefix, never a partial batch.
      const seen = (await reader.mam.query('ht', 'example.com', 'alice', { limit: 0 })).count;
      assert.ok(seen >= lastSeen && seen <= i, `reader saw ${seen}`);
      assert.is(seen % 100, 1, 'whole batches only');
      lastSeen = seen;
      await Promise.all(batch);
      const after = (await reader.mam.query('ht', 'example.com', 'alice', { limit: 0 })).count;
      assert.ok(after >= acked + 1, 'every acknowledged write is visible to the other connection');
    }
    // The snapshot taken before all this still iterates its old view (WAL isolation).
    let rest = 0;
    for (const _ of snapshot) rest++;
    assert.is(rest, 0);
    assert.is((await reader.mam.query('ht', 'example.com', 'alice', { limit: 0 })).count, 2001);
  } finally {
    longReader.close();
    await reader.close();
    await writer.close();
  }
});

misc('an inbox read sees upserts that are still queued in the group commit (not awaited)', async () => {
  const s = sqliteStorage({ path: freshPath() });
  try {
    const pending: Promise<unknown>[] = [];
    for (let i = 1; i <= 3; i++) {
      pending.push(s.inbox.upsert('ht', 'example.com', 'alice', { remoteJid: 'bob@example.com', msgId: `m${i}`, xml: `<message id='m${i}'/>`, timestamp: i, unread: 'increment' }));
    }
    const entry = await s.inbox.getEntry('ht', 'example.com', 'alice', 'bob@example.com');
    assert.is(entry?.unread, 3);
    assert.is(entry?.msgId, 'm3');
    await Promise.all(pending);
  } finally {
    await s.close();
  }
});

misc('FAST tokens persist across a reopen, including a set still queued at close', async () => {
  const path = freshPath();
  const st = sqliteStorage({ path, groupCommit: { delayMs: 60_000, maxBatch: 10_000 } });
  const a = { current: { token: 'secret-a2', mechanism: 'HT-SHA-256-ENDP', expiresAt: 1_900_000_000_000 }, previous: { token: 'secret-a1', mechanism: 'HT-SHA-256-ENDP', expiresAt: 1_800_000_000_000 }, count: 3 };
  const queued = st.fastTokens.set('ht', 'example.com', 'alice', 'agent-1', a);
  assert.is(st.database.writes.pending, 1);
  await st.close();
  await queued;
  const again = sqliteStorage({ path });
  try {
    assert.equal(await again.fastTokens.get('ht', 'example.com', 'alice', 'agent-1'), a);
    assert.equal(await again.fastTokens.agents('ht', 'example.com', 'alice'), ['agent-1']);
  } finally {
    await again.close();
  }
});

misc('PEP nodes and items persist across a reopen, including a publish still queued at close', async () => {
  const path = freshPath();
  const st = sqliteStorage({ path, groupCommit: { delayMs: 60_000, maxBatch: 10_000 } });
  const node = 'urn:xmpp:avatar:metadata';
  const item = (id: string, timestamp: number) => ({ id, payload: `<metadata xmlns="${node}"/>`, publisher: 'alice@example.com', timestamp });
  const writes = [
    st.pep.createNode('ht', 'example.com', 'alice', node, { 'pubsub#max_items': '2' }),
    st.pep.publish('ht', 'example.com', 'alice', node, item('a1', 1), 2),
    st.pep.publish('ht', 'example.com', 'alice', node, item('a2', 2), 2),
    st.pep.publish('ht', 'example.com', 'alice', node, item('a1', 3), 2),
  ];
  assert.is(st.database.writes.pending, 4);
  await st.close();
  assert.equal(await Promise.all(writes), ['ok', true, true, true]);
  const again = sqliteStorage({ path });
  try {
    assert.equal(await again.pep.listNodes('ht', 'example.com', 'alice'), [{ node, config: { 'pubsub#max_items': '2' } }]);
    assert.equal(await again.pep.getItems('ht', 'example.com', 'alice', node), [item('a1', 3), item('a2', 2)]);
    assert.is(await again.pep.publish('ht', 'example.com', 'alice', node, item('a3', 4), 2), true);
    assert.equal(await again.pep.getItems('ht', 'example.com', 'alice', node), [item('a3', 4), item('a1', 3)]);
    assert.is(await again.pep.deleteNode('ht', 'example.com', 'alice', node), true);
    assert.is(again.database.db.prepare('SELECT COUNT(*) FROM pep_items').pluck().get(), 0, 'items go with their node');
  } finally {
    await again.close();
  }
});

misc('MUC rooms persist across a reopen, including a save still queued at close; a deleted room takes its affiliations', async () => {
  const path = freshPath();
  const st = sqliteStorage({ path, groupCommit: { delayMs: 60_000, maxBatch: 10_000 } });
  const svc = 'conference.example.com';
  const coven = {
    name: 'coven',
    config: { 'muc#roomconfig_roomname': 'The Coven', 'muc#roomconfig_getmemberlist': ['moderator', 'participant'] },
    affiliations: [{ jid: 'alice@example.com', affiliation: 'owner' as const }, { jid: 'mallory@evil.example', affiliation: 'outcast' as const, reason: 'spam' }],
    subject: { text: 'Spells', by: 'alice' },
  };
  const writes = [
    st.muc.saveRoom('ht', svc, { name: 'coven', config: {}, affiliations: [{ jid: 'bob@example.com', affiliation: 'member' }] }),
    st.muc.saveRoom('ht', svc, coven),
    st.muc.saveRoom('ht', svc, { name: 'attic', config: {}, affiliations: [{ jid: 'bob@example.com', affiliation: 'admin' }] }),
  ];
  assert.is(st.database.writes.pending, 3);
  await st.close();
  assert.equal(await Promise.all(writes), [undefined, undefined, undefined]);
  const again = sqliteStorage({ path });
  try {
    assert.equal(await again.muc.listRooms('ht', svc), ['attic', 'coven']);
    assert.equal(await again.muc.getRoom('ht', svc, 'coven'), coven);
    await again.muc.removeUser('ht', 'example.com', 'bob');
    assert.equal(await again.muc.getRoom('ht', svc, 'attic'), { name: 'attic', config: {}, affiliations: [] });
    assert.is(await again.muc.deleteRoom('ht', svc, 'coven'), true);
    assert.is(again.database.db.prepare('SELECT COUNT(*) FROM muc_affiliations').pluck().get(), 0, 'affiliations go with their room');
  } finally {
    await again.close();
  }
});

misc.run();
