/**
 * Per-stanza overhead of the c2s in `established`: a message from one in-memory client to
 * another (alice's send pipeline, the router and session manager, bob's receive pipeline),
 * with 0 handlers and with 5 no-op handlers on every c2s hook, in the same run.
 *
 * The client side is taken out of the measurement: alice's stanza is injected already parsed
 * and bob's output is not serialised, so the figure is the c2s + routing cost.
 *
 * Run: `npx tsx bench/c2s.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { c2sHooks } from '../src/c2s/hooks.ts';
import { NS } from '../src/core/namespaces.ts';
import { xml } from '../src/core/xml/element.ts';
import { createTestServer, type TestClient } from '../src/testing/index.ts';

const WARMUP = 20_000;
const N = 200_000;

async function setup(handlersPerHook: number): Promise<{ alice: TestClient; bob: TestClient }> {
  const server = await createTestServer({ users: { 'alice@localhost': 'a', 'bob@localhost': 'b' }, iterations: 4096 });
  for (const spec of Object.values(c2sHooks)) {
    for (let i = 0; i < handlersPerHook; i++) server.hooks.add(spec as typeof c2sHooks.userSendPacket, 'localhost', () => undefined, 10 + i);
  }
  const alice = server.connect({ parseOutput: false });
  await alice.login('alice@localhost/bench', 'a');
  const bob = server.connect({ parseOutput: false });
  await bob.login('bob@localhost/bench', 'b');
  return { alice, bob };
}

function run(alice: TestClient, bob: TestClient, n: number): number {
  const element = xml('message', { xmlns: NS.CLIENT, to: 'bob@localhost', type: 'chat', id: 'x' }, xml('body', null, 'hello bob'));
  const ev = { type: 'element' as const, element, size: 80 };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    alice.transport.clientInject(ev);
    if ((i & 1023) === 0) bob.received();
  }
  const t1 = process.hrtime.bigint();
  const got = bob.received().length;
  if (n > 1024 && got === 0) throw new Error('bob received nothing: the benchmark is broken');
  return Number(t1 - t0) / 1000 / n;
}

/** µs per stanza with 0 and with 5 no-op handlers on every c2s hook (best of 3 rounds each). */
export async function runC2sBench(): Promise<Record<string, number>> {
  const base = await setup(0);
  const loaded = await setup(5);
  run(base.alice, base.bob, WARMUP);
  run(loaded.alice, loaded.bob, WARMUP);
  let b = Infinity;
  let l = Infinity;
  for (let round = 0; round < 3; round++) {
    b = Math.min(b, run(base.alice, base.bob, N));
    l = Math.min(l, run(loaded.alice, loaded.bob, N));
  }
  return {
    'c2s µs/stanza, 0 handlers': Number(b.toFixed(3)),
    'c2s µs/stanza, 5 no-op handlers per c2s hook': Number(l.toFixed(3)),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runC2sBench();
  for (const [k, v] of Object.entries(results)) console.log(`${k}: ${v}`);
}
