// `xmpp-blocks domain …` against a data directory: add/list/disable/enable/remove, and every
// bad input (unknown host type, no host types known, malformed domain, static domain,
// duplicate, usage) reported with a clear message and no change to the database.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainCommand } from '../../src/cli/domain.ts';
import { userCommand, databasePath } from '../../src/cli/user.ts';
import { main } from '../../src/cli/main.ts';
import { sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { textSink } from '../helpers/text-sink.ts';

let dataDir: string;
let configFile: string;

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xb-domain-cli-'));
  configFile = join(dataDir, 'config.json');
  await writeFile(configFile, JSON.stringify({ domains: ['static.example', { domain: 'mapped.example', hostType: 'tenants' }], dynamicDomains: { hostTypes: ['tenants', 'other'] } }));
});

test.after(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = textSink();
  const err = textSink();
  const code = await domainCommand(args, { dataDir, stdout: out, stderr: err });
  return { code, out: out.text(), err: err.text() };
}

async function rows(): Promise<string[]> {
  const st = sqliteStorage({ path: databasePath(dataDir) });
  try {
    return (await st.domains.list()).map((d) => `${d.domain}:${d.hostType}:${d.status}`);
  } finally {
    await st.close();
  }
}

test('add, list, disable, enable', async () => {
  let r = await run('add', 'A.example', '--host-type', 'tenants', '--host-types', 'tenants');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'added a.example (host type tenants)');
  r = await run('add', 'b.example', '--host-type=other', '--config', configFile);
  assert.is(r.code, 0, r.err);
  r = await run('add', 'a.example', '--host-type', 'tenants', '--host-types', 'tenants');
  assert.is(r.code, 0);
  assert.match(r.out, 'already exists');
  r = await run('disable', 'b.example');
  assert.is(r.code, 0, r.err);
  assert.equal(await rows(), ['a.example:tenants:enabled', 'b.example:other:disabled']);
  r = await run('enable', 'b.example');
  assert.is(r.code, 0, r.err);
  r = await run('list', '--config', configFile);
  assert.is(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n'), ['a.example\ttenants\tenabled', 'b.example\tother\tenabled', 'mapped.example\ttenants\tenabled\tstatic', 'static.example\tstatic.example\tenabled\tstatic']);
  r = await run('list', '--host-type', 'other');
  assert.equal(r.out.trim().split('\n'), ['b.example\tother\tenabled']);
});

test('bad input gets a clear error and changes nothing', async () => {
  const before = await rows();
  const cases: [string[], number, RegExp][] = [
    [['add', 'c.example', '--host-type', 'tenants'], 1, /unknown-host-type: .*pass --host-types or --config/],
    [['add', 'c.example', '--host-type', 'nope', '--host-types', 'tenants'], 1, /unknown-host-type: host type "nope"/],
    [['add', 'user@c.example', '--host-type', 'tenants', '--host-types', 'tenants'], 1, /invalid-domain/],
    [['add', 'c..example', '--host-type', 'tenants', '--host-types', 'tenants'], 1, /invalid-domain/],
    [['add', 'static.example', '--host-type', 'tenants', '--config', configFile], 1, /static: static.example is a static domain/],
    [['add', 'mapped.example', '--host-type', 'tenants', '--config', configFile], 1, /static/],
    [['remove', 'static.example', '--config', configFile], 1, /static/],
    [['disable', 'static.example', '--config', configFile], 1, /static/],
    [['add', 'a.example', '--host-type', 'other', '--config', configFile], 1, /duplicate: a.example already exists with host type tenants/],
    [['remove', 'zzz.example'], 1, /not-found/],
    [['enable', 'zzz.example'], 1, /not-found/],
    [['add', 'c.example'], 2, /add needs --host-type/],
    [['frobnicate', 'c.example'], 2, /unknown subcommand/],
    [['add'], 2, /wrong arguments/],
    [['add', 'c.example', '--host-type', 'tenants', '--bogus', 'x'], 2, /unknown option --bogus/],
    [['add', 'c.example', '--host-type', 'tenants', '--config', join(dataDir, 'missing.json')], 1, /cannot read config/],
  ];
  for (const [args, code, msg] of cases) {
    const r = await run(...args);
    assert.is(r.code, code, `${args.join(' ')} → ${r.err}`);
    assert.match(r.err, msg, args.join(' '));
  }
  assert.equal(await rows(), before);
});

test('user add files accounts of a dynamic domain under its host type; domain remove deletes them', async () => {
  const err = textSink();
  assert.is(await userCommand(['add', 'alice@a.example', '--password', 'pw'], { dataDir, stdout: textSink(), stderr: err, iterations: 4096 }), 0, err.text());
  let st = sqliteStorage({ path: databasePath(dataDir) });
  assert.ok(await st.auth.exists('tenants', 'a.example', 'alice'));
  await st.close();
  const r = await run('remove', 'a.example');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'removed a.example');
  st = sqliteStorage({ path: databasePath(dataDir) });
  assert.equal(await st.auth.listUsers('tenants', 'a.example'), []);
  assert.is(await st.domains.get('a.example'), undefined);
  await st.close();
});

test('the main dispatcher knows `domain`', async () => {
  const write = process.stdout.write;
  let captured = '';
  process.stdout.write = ((s: string) => ((captured += s), true)) as typeof process.stdout.write;
  try {
    assert.is(await main(['domain', 'list', '--data', dataDir]), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.match(captured, 'b.example\tother\tenabled');
});

test.run();
