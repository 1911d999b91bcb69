// Dynamic domains through the test kit (reference §7): a domain added at runtime accepts logins
// and routes at once; static domains win; errors are values; disable and delete close the
// domain's streams with host-gone; delete leaves nothing in any storage port; subdomains resolve
// to the parent's host type but accept no login; instances sharing a store follow the feed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDynamicTestServer, type DynamicTestServer } from './kit.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { removeDomain } from '../../src/core/server-hooks.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { fillEveryPort, leftovers } from './storage-check.ts';
import { FakeClock, type TestClient } from '../../src/testing/index.ts';

const bodies = (c: TestClient) => c.received().filter((e) => e.name === 'message').map((e) => `${e.attrs.from}>${e.attrs.to}:${e.attrs.type === 'error' ? 'error' : e.getChildText('body')}`);

async function withServer(fn: (ts: DynamicTestServer) => Promise<void>, opts: Parameters<typeof createDynamicTestServer>[0] = {}): Promise<void> {
  const ts = await createDynamicTestServer(opts);
  try {
    await fn(ts);
    assert.equal(ts.hookErrors, []);
  } finally {
    await ts.stop();
  }
}

test('a domain added at runtime accepts logins and routes between two dynamic domains at once', () =>
  withServer(async (ts) => {
    const c = ts.connect();
    c.sendStreamHeader({ to: 'a.example' });
    await c.settle();
    assert.is(c.streamError, 'host-unknown');

    const r = await ts.dynamic.insert('A.Example', 'tenants');
    assert.equal(r, { ok: true, value: { domain: 'a.example', hostType: 'tenants', status: 'enabled', static: false, created: true } });
    assert.ok((await ts.dynamic.insert('b.example', 'tenants')).ok);
    assert.is(ts.domains.hostTypeOf('a.example'), 'tenants');
    await ts.addUser('alice@a.example', 'pa');
    await ts.addUser('bob@b.example', 'pb');

    const alice = ts.connect();
    await alice.login('alice@a.example/phone', 'pa');
    const bob = ts.connect();
    await bob.login('bob@b.example/pc', 'pb');
    alice.send(`<message to='bob@b.example' type='chat'><body>hi from a</body></message>`);
    await alice.settle();
    assert.equal(bodies(bob), ['alice@a.example/phone>bob@b.example:hi from a']);
    bob.send(`<message to='alice@a.example/phone' type='chat'><body>hi from b</body></message>`);
    await bob.settle();
    assert.equal(bodies(alice), ['bob@b.example/pc>alice@a.example/phone:hi from b']);
  }));

test('insert is idempotent; errors are values: invalid domain, unknown host type, static, duplicate, wrong host type, not found', () =>
  withServer(
    async (ts) => {
      assert.ok((await ts.dynamic.insert('a.example', 'tenants')).ok);
      const again = await ts.dynamic.insert('a.example', 'tenants');
      assert.ok(again.ok && again.value.created === false);
      const err = async (p: Promise<{ ok: boolean; error?: string }>) => ((r) => (r.ok ? 'ok' : r.error))(await p);
      assert.is(await err(ts.dynamic.insert('a.example', 'other')), 'duplicate');
      assert.is(await err(ts.dynamic.insert('c.example', 'nope')), 'unknown-host-type');
      assert.is(await err(ts.dynamic.insert('user@c.example', 'tenants')), 'invalid-domain');
      assert.is(await err(ts.dynamic.insert('c.example/res', 'tenants')), 'invalid-domain');
      assert.is(await err(ts.dynamic.insert('bad..domain', 'tenants')), 'invalid-domain');
      assert.is(await err(ts.dynamic.insert('', 'tenants')), 'invalid-domain');
      assert.is(await err(ts.dynamic.insert('static.example', 'tenants')), 'static');
      assert.is(await err(ts.dynamic.disable('static.example')), 'static');
      assert.is(await err(ts.dynamic.delete('static.example')), 'static');
      assert.is(await err(ts.dynamic.delete('a.example', 'other')), 'wrong-host-type');
      assert.is(await err(ts.dynamic.delete('zzz.example')), 'not-found');
      assert.is(await err(ts.dynamic.enable('zzz.example')), 'not-found');
      // Nothing of the refused operations reached the store or the registry.
      assert.equal((await ts.storage.domains.list()).map((d) => `${d.domain}:${d.hostType}:${d.status}`), ['a.example:tenants:enabled']);
      assert.is(ts.domains.hostTypeOf('c.example'), undefined);
      assert.is(ts.domains.hostTypeOf('static.example'), 'static.example');
      assert.equal((await ts.dynamic.list()).map((d) => `${d.domain}:${d.static}`), ['a.example:false', 'static.example:true']);
    },
    { dynamicDomains: { hostTypes: ['tenants', 'other'] } },
  ));

test('a dynamic row naming a static domain is ignored: the static mapping wins', async () => {
  const storage = memoryStorage();
  await storage.domains.insert('tenants', 'static.example');
  await withServer(
    async (ts) => {
      assert.is(ts.domains.hostTypeOf('static.example'), 'static.example');
      assert.ok(ts.domains.isStatic('static.example'));
    },
    { storage },
  );
});

test('disable with sessions open: streams end with host-gone, new logins get host-unknown; enable serves it again', () =>
  withServer(async (ts) => {
    await ts.dynamic.insert('a.example', 'tenants');
    await ts.dynamic.insert('b.example', 'tenants');
    await ts.addUser('alice@a.example', 'pa');
    await ts.addUser('bob@b.example', 'pb');
    const alice1 = ts.connect();
    await alice1.login('alice@a.example/one', 'pa');
    const alice2 = ts.connect();
    await alice2.login('alice@a.example/two', 'pa');
    const pending = ts.connect();
    await pending.openStream({ to: 'a.example' });
    const bob = ts.connect();
    await bob.login('bob@b.example/pc', 'pb');

    const r = await ts.dynamic.disable('a.example');
    await ts.settle();
    assert.ok(r.ok && r.value.status === 'disabled');
    for (const c of [alice1, alice2, pending]) {
      assert.is(c.streamError, 'host-gone');
      assert.ok(c.closed);
    }
    assert.not.ok(bob.closed, 'other domains are untouched');
    assert.equal(ts.sessions.sessionsOf('alice@a.example'), []);
    const late = ts.connect();
    late.sendStreamHeader({ to: 'a.example' });
    await late.settle();
    assert.is(late.streamError, 'host-unknown');
    // Messages to the disabled domain find no route.
    bob.send(`<message id='m1' to='alice@a.example' type='chat'><body>x</body></message>`);
    await bob.settle();
    assert.ok(bob.expect((e) => e.attrs.id === 'm1').getChild('error')?.getChild('remote-server-not-found'));
    // The data stays: enabling brings the same account back.
    assert.ok((await ts.dynamic.enable('a.example')).ok);
    const again = ts.connect();
    await again.login('alice@a.example/three', 'pa');
    assert.ok(again.jid);
  }));


test('delete with sessions open: streams closed, removeDomain ran for the domain and its subdomains, nothing left in any port', async () => {
  const removed: string[] = [];
  const recorder = defineModule({
    name: 'recorder',
    defaults: {},
    hooks: () => [hook(removeDomain, (acc, p) => void removed.push(p.domain))],
    start: (env) => {
      env.domains.addSubdomainPattern(env.hostType, 'muclight.@HOST@');
      env.domains.addSubdomainPattern(env.hostType, 'conference.@HOST@');
    },
  });
  await withServer(
    async (ts) => {
      await ts.dynamic.insert('a.example', 'tenants');
      await ts.dynamic.insert('b.example', 'tenants');
      await ts.addUser('alice@a.example', 'pa');
      await ts.addUser('bob@b.example', 'pb');
      await fillEveryPort(ts.storage, 'tenants', 'a.example', 'alice');
      await fillEveryPort(ts.storage, 'tenants', 'b.example', 'bob');
      const alice = ts.connect();
      await alice.login('alice@a.example/phone', 'pa');
      await ts.sessions.flushStore();
      assert.is((await ts.storage.sessions.byDomain('a.example')).length, 1);

      const del = ts.dynamic.delete('a.example', 'tenants');
      await ts.settle();
      const r = await del;
      assert.equal(r, { ok: true, value: { domain: 'a.example', hostType: 'tenants' } });
      assert.is(alice.streamError, 'host-gone');
      assert.ok(alice.closed);
      assert.equal(removed, ['a.example', 'muclight.a.example', 'conference.a.example']);
      assert.equal(await leftovers(ts.storage, 'tenants', 'a.example', 'alice'), []);
      assert.is(ts.domains.routeHostTypeOf('muclight.a.example'), undefined);
      assert.is(ts.domains.routeHostTypeOf('conference.a.example'), undefined);
      // The neighbour keeps everything.
      assert.equal(await leftovers(ts.storage, 'tenants', 'b.example', 'bob'), ['auth', 'roster', 'offline', 'mam', 'inbox', 'privacy', 'vcard', 'private', 'last', 'mucLight rooms', 'mucLight members', 'fastTokens', 'pep nodes', 'pep items', 'muc rooms', 'muc affiliations', 'domains']);
      // The name is free again, even for another host type.
      assert.ok((await ts.dynamic.insert('a.example', 'other')).ok);
    },
    { dynamicDomains: { hostTypes: ['tenants', 'other'] }, hostTypes: { tenants: { modules: [recorder] } } },
  );
});

test('a failed removal step leaves the domain disabled and reports removal-failed; deleting again retries', async () => {
  let fail = true;
  const flaky = defineModule({
    name: 'flaky',
    defaults: {},
    hooks: () => [hook(removeDomain, (acc) => (fail ? { stop: false, acc: { failed: [...acc.failed, 'flaky'] } } : undefined))],
  });
  await withServer(
    async (ts) => {
      await ts.dynamic.insert('a.example', 'tenants');
      const r = await ts.dynamic.delete('a.example');
      assert.ok(!r.ok && r.error === 'removal-failed' && r.message.includes('flaky'), JSON.stringify(r));
      assert.equal(await ts.storage.domains.get('a.example'), { domain: 'a.example', hostType: 'tenants', status: 'disabled' });
      assert.is(ts.domains.hostTypeOf('a.example'), undefined);
      fail = false;
      assert.ok((await ts.dynamic.delete('a.example')).ok);
      assert.is(await ts.storage.domains.get('a.example'), undefined);
    },
    { hostTypes: { tenants: { modules: [flaky] } } },
  );
});

test('subdomains of dynamic domains route with the parent host type; nobody logs in to them', async () => {
  const muc = defineModule({ name: 'fake-muc', defaults: {}, start: (env) => env.domains.addSubdomainPattern(env.hostType, 'muc.@HOST@') });
  await withServer(
    async (ts) => {
      await ts.dynamic.insert('a.example', 'tenants');
      assert.is(ts.domains.routeHostTypeOf('muc.a.example'), 'tenants');
      assert.is(ts.domains.parentDomainOf('muc.a.example'), 'a.example');
      assert.is(ts.domains.hostTypeOf('muc.a.example'), undefined);
      const c = ts.connect();
      c.sendStreamHeader({ to: 'muc.a.example' });
      await c.settle();
      assert.is(c.streamError, 'host-unknown');
      const clash = await ts.dynamic.insert('muc.a.example', 'tenants');
      assert.ok(!clash.ok && clash.error === 'duplicate');
      await ts.dynamic.disable('a.example');
      assert.is(ts.domains.routeHostTypeOf('muc.a.example'), undefined);
    },
    { hostTypes: { tenants: { modules: [muc] } } },
  );
});

test('two instances on one store: a change on one is seen by the other at its next poll', async () => {
  const storage = memoryStorage();
  const clockA = new FakeClock();
  const clockB = new FakeClock();
  const a = await createDynamicTestServer({ storage, clock: clockA });
  const b = await createDynamicTestServer({ storage, clock: clockB, users: {} });
  try {
    await a.dynamic.insert('a.example', 'tenants');
    assert.is(a.domains.hostTypeOf('a.example'), 'tenants', 'local change: at once');
    assert.is(b.domains.hostTypeOf('a.example'), undefined);
    clockB.advance(1000);
    await b.settle();
    assert.is(b.domains.hostTypeOf('a.example'), 'tenants');

    await a.addUser('alice@a.example', 'pa');
    const alice = b.connect();
    await alice.login('alice@a.example/on-b', 'pa');
    await a.dynamic.disable('a.example');
    clockB.advance(1000);
    await b.settle();
    await b.settle();
    assert.is(b.domains.hostTypeOf('a.example'), undefined);
    assert.is(alice.streamError, 'host-gone');

    await a.dynamic.enable('a.example');
    clockB.advance(1000);
    await b.settle();
    assert.is(b.domains.hostTypeOf('a.example'), 'tenants');
    await a.dynamic.delete('a.example');
    clockB.advance(1000);
    await b.settle();
    assert.is(b.domains.hostTypeOf('a.example'), undefined);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('an instance that lagged behind a prune of the change feed re-reads the whole table', async () => {
  const storage = memoryStorage();
  const clockA = new FakeClock();
  const clockB = new FakeClock();
  const a = await createDynamicTestServer({ storage, clock: clockA, dynamicDomains: { hostTypes: ['tenants'], keepEvents: 100 } });
  const b = await createDynamicTestServer({ storage, clock: clockB });
  try {
    await a.dynamic.insert('gone.example', 'tenants');
    clockB.advance(1000);
    await b.settle();
    assert.is(b.domains.hostTypeOf('gone.example'), 'tenants');
    for (let i = 0; i < 300; i++) await a.dynamic.insert(`n${i}.example`, 'tenants');
    await a.dynamic.delete('gone.example');
    clockA.advance(1000);
    await a.settle();
    const events = await storage.domains.eventsSince(0);
    assert.ok(events.length <= 100 && events[0]!.id > 2, `pruned to ${events.length} events from id ${events[0]?.id}`);
    clockB.advance(1000);
    await b.settle();
    assert.is(b.domains.hostTypeOf('gone.example'), undefined);
    assert.is(b.domains.hostTypeOf('n0.example'), 'tenants');
    assert.is(b.domains.hostTypeOf('n299.example'), 'tenants');
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('domains of a host type this server does not serve are ignored', async () => {
  const storage = memoryStorage();
  await storage.domains.insert('elsewhere', 'x.example');
  await withServer(async (ts) => {
    assert.is(ts.domains.hostTypeOf('x.example'), undefined);
  }, { storage });
});

test.run();
