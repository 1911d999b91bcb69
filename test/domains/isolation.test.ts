// domain-isolation (reference §7): stanzas between two dynamic domains of one host type are
// dropped with service-unavailable when the module is on, delivered when it is off; same-domain
// traffic, subdomains of one's own domain and error stanzas always pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDynamicTestServer } from './kit.ts';
import { domainIsolation } from '../../src/ext/domain-isolation/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { filterLocalPacket } from '../../src/core/server-hooks.ts';
import { stop } from '../../src/hooks/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { Acc } from '../../src/core/acc.ts';

/** A fake service on `svc.@HOST@` that records what reaches it. */
function fakeService(seen: Acc[]) {
  return defineModule({
    name: 'fake-service',
    defaults: {},
    start: (env) => env.domains.addSubdomainPattern(env.hostType, 'svc.@HOST@'),
    hooks: (_ht, _o, env) => [
      hook(
        filterLocalPacket,
        (acc) => {
          if (!env.domains.isSubdomain(acc.to.domain)) return;
          seen.push(acc);
          return stop(acc);
        },
        90,
      ),
    ],
  });
}

async function setup(isolated: boolean) {
  const seen: Acc[] = [];
  const modules = isolated ? [domainIsolation, fakeService(seen)] : [fakeService(seen)];
  const ts = await createDynamicTestServer({ hostTypes: { tenants: { modules } } });
  await ts.dynamic.insert('a.example', 'tenants');
  await ts.dynamic.insert('b.example', 'tenants');
  await ts.addUser('alice@a.example', 'pa');
  await ts.addUser('carol@a.example', 'pc');
  await ts.addUser('bob@b.example', 'pb');
  const alice = ts.connect();
  await alice.login('alice@a.example/phone', 'pa');
  const carol = ts.connect();
  await carol.login('carol@a.example/pc', 'pc');
  const bob = ts.connect();
  await bob.login('bob@b.example/pc', 'pb');
  return { ts, alice, carol, bob, seen };
}

test('isolation on: cross-domain stanzas bounce with service-unavailable "Filtered by the domain isolation"', async () => {
  const { ts, alice, carol, bob, seen } = await setup(true);
  try {
    alice.send(`<message id='x1' to='bob@b.example' type='chat'><body>hi bob</body></message>`);
    alice.send(`<iq id='x2' type='get' to='bob@b.example'><query xmlns='jabber:iq:version'/></iq>`);
    alice.send(`<presence to='bob@b.example/pc'/>`);
    await alice.settle();
    assert.equal(bob.received().filter((e) => e.name !== 'presence' || e.attrs.from?.startsWith('alice')), []);
    for (const id of ['x1', 'x2']) {
      const err = alice.expect((e) => e.attrs.id === id && e.attrs.type === 'error', `error for ${id}`);
      assert.is(err.attrs.from, 'bob@b.example');
      const e = err.getChild('error')!;
      assert.is(e.attrs.type, 'cancel');
      assert.ok(e.getChild('service-unavailable', NS.STANZA_ERRORS));
      assert.is(e.getChildText('text', NS.STANZA_ERRORS), 'Filtered by the domain isolation');
    }
    // Same domain: delivered.
    alice.send(`<message to='carol@a.example' type='chat'><body>hi carol</body></message>`);
    await alice.settle();
    assert.equal(carol.received().filter((e) => e.name === 'message').map((e) => e.getChildText('body')), ['hi carol']);
    // Own subdomain passes, the other domain's subdomain does not.
    alice.send(`<message id='s1' to='room@svc.a.example' type='groupchat'><body>mine</body></message>`);
    alice.send(`<message id='s2' to='room@svc.b.example' type='groupchat'><body>theirs</body></message>`);
    await alice.settle();
    assert.equal(seen.map((a) => a.to.domain), ['svc.a.example']);
    assert.ok(alice.expect((e) => e.attrs.id === 's2').getChild('error')?.getChild('service-unavailable', NS.STANZA_ERRORS));
    // An error stanza crosses (and gets no error back).
    bob.send(`<message id='e1' to='alice@a.example/phone' type='error'><error type='cancel'><item-not-found xmlns='${NS.STANZA_ERRORS}'/></error></message>`);
    await bob.settle();
    assert.ok(alice.expect((e) => e.attrs.id === 'e1' && e.attrs.type === 'error'));
    assert.equal(bob.received().filter((e) => e.name === 'message'), []);
    assert.equal(ts.hookErrors, []);
  } finally {
    await ts.stop();
  }
});

test('isolation off: the same stanzas are delivered', async () => {
  const { ts, alice, bob, seen } = await setup(false);
  try {
    alice.send(`<message id='x1' to='bob@b.example' type='chat'><body>hi bob</body></message>`);
    alice.send(`<message id='s2' to='room@svc.b.example' type='groupchat'><body>theirs</body></message>`);
    await alice.settle();
    assert.equal(bob.received().filter((e) => e.name === 'message').map((e) => e.getChildText('body')), ['hi bob']);
    assert.equal(seen.map((a) => a.to.domain), ['svc.b.example']);
    assert.equal(alice.received().filter((e) => e.attrs.type === 'error'), []);
  } finally {
    await ts.stop();
  }
});

test.run();
