// XEP-0160 with the real presence module (src/ext/presence): stored messages are delivered on
// initial presence with priority ≥ 0, not on a negative one, each exactly once, to the
// resource that announced itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { NS } from '../../src/core/namespaces.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const messages = (c: TestClient) => c.received().filter((e) => e.name === 'message');

test('initial presence ≥ 0 delivers; negative initial presence does not', async () => {
  const server = await createTestServer({ users: USERS, modules: [presence, offline] });
  const alice = server.connect();
  await alice.login('alice@localhost/a', 'a');
  alice.send('<presence/>');
  const carol = server.connect();
  await carol.login('carol@localhost/c', 'c');
  carol.send('<presence/>');
  alice.send(`<message to='bob@localhost' type='chat' id='1'><body>from alice</body></message>`);
  carol.send(`<message to='bob@localhost' type='chat' id='2'><body>from carol</body></message>`);
  await server.settle();
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 2);

  const shy = server.connect();
  await shy.login('bob@localhost/shy', 'b');
  shy.send('<presence><priority>-5</priority></presence>');
  await shy.settle();
  await server.settle();
  assert.equal(messages(shy), [], 'negative priority: nothing delivered');
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 2);

  const pc = server.connect();
  await pc.login('bob@localhost/pc', 'b');
  pc.send('<presence><priority>1</priority></presence>');
  await pc.settle();
  await server.settle();
  const got = messages(pc);
  assert.equal(got.map((e) => `${e.attrs.from} ${e.attrs.id}`), ['alice@localhost/a 1', 'carol@localhost/c 2']);
  for (const m of got) assert.is(m.getChild('delay', NS.DELAY)?.attrs.from, 'localhost');
  assert.equal(messages(shy), []);
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 0);
  assert.equal(server.hookErrors, []);
});

test.run();
