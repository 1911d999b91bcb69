// XEP-0202 entity time from the injected clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { time } from '../../src/ext/time/index.ts';
import { NS } from '../../src/core/namespaces.ts';

test('utc from the server clock, tzo from the option', async () => {
  const server = await createTestServer({ users: { 'alice@localhost': 'a' }, modules: [time] });
  const alice = server.connect();
  await alice.login('alice@localhost/r', 'a');
  server.clock.advance(1234);
  alice.send(`<iq type='get' id='t1' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`);
  await alice.settle();
  const t = alice.expect((e) => e.attrs.id === 't1').getChild('time', NS.TIME)!;
  assert.is(t.getChildText('tzo'), '+00:00');
  assert.is(t.getChildText('utc'), new Date(server.clock.now()).toISOString());
  assert.ok(/Z$/.test(t.getChildText('utc')!));

  const s2 = await createTestServer({ users: { 'alice@localhost': 'a' }, modules: [{ module: time, options: { tzo: '-05:30' } }] });
  const a2 = s2.connect();
  await a2.login('alice@localhost/r', 'a');
  a2.send(`<iq type='get' id='t2' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`);
  await a2.settle();
  assert.is(a2.expect((e) => e.attrs.id === 't2').getChild('time', NS.TIME)!.getChildText('tzo'), '-05:30');
});

test('a bad tzo option is refused when the module starts', async () => {
  let failed = false;
  try {
    await createTestServer({ modules: [{ module: time, options: { tzo: 'CET' } }] });
  } catch {
    failed = true;
  }
  assert.ok(failed);
});

test.run();
