// The test kit itself: fake clock ordering, the in-memory transport's framing and pausing,
// and the inbox helpers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, FakeClock, ScramClient } from '../../src/testing/index.ts';
import { deriveCredentials } from '../../src/core/auth/scram.ts';
import { defineModule, hook, userSendXmlel } from '../../src/c2s/index.ts';
import { stop } from '../../src/hooks/index.ts';
import { xml } from '../../src/core/xml/element.ts';

test('FakeClock fires due timers in deadline order, including ones scheduled while advancing', () => {
  const clock = new FakeClock(0);
  const log: string[] = [];
  clock.setTimeout(() => log.push('b@20'), 20);
  clock.setTimeout(() => {
    log.push('a@10');
    clock.setTimeout(() => log.push('c@15'), 5);
  }, 10);
  const gone = clock.setTimeout(() => log.push('never'), 12);
  clock.clearTimeout(gone);
  clock.advance(19);
  assert.equal(log, ['a@10', 'c@15']);
  assert.is(clock.now(), 19);
  clock.advance(1);
  assert.equal(log, ['a@10', 'c@15', 'b@20']);
  assert.is(clock.pending, 0);
  assert.is(clock.armed, 4);
  assert.is(clock.cleared, 1);
});

test('bytes split anywhere reach the server as whole stanzas (the real StreamParser is used)', async () => {
  const server = await createTestServer({ users: { 'alice@localhost': 's' } });
  const c = server.connect();
  await c.login('alice@localhost/r', 's');
  const msg = `<message to='alice@localhost/r'><body>héllo wörld</body></message>`;
  const bytes = Buffer.from(msg);
  for (let i = 0; i < bytes.length; i += 3) c.transport.clientWrite(bytes.subarray(i, i + 3));
  await c.settle();
  assert.is(c.expect((e) => e.name === 'message').getChildText('body'), 'héllo wörld');
});

test('received() empties the inbox; nextElement takes the first match only', async () => {
  const server = await createTestServer({ users: { 'alice@localhost': 's' } });
  const c = server.connect();
  await c.login('alice@localhost/r', 's');
  for (const b of ['1', '2', '3']) c.send(`<message to='alice@localhost/r'><body>${b}</body></message>`);
  assert.is(c.nextElement((e) => e.getChildText('body') === '2')?.getChildText('body'), '2');
  assert.equal(c.received().map((e) => e.getChildText('body')), ['1', '3']);
  assert.equal(c.received(), []);
  assert.is(c.nextElement(), undefined);
  assert.throws(() => c.expect((e) => e.name === 'iq', 'an iq'), /expected an iq; received: nothing/);
});

test('ScramClient verifies the server signature and rejects a wrong one', () => {
  const creds = deriveCredentials('pencil', { iterations: 4096, hashes: ['sha256'] });
  const keys = creds.scram.sha256!;
  const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil');
  const first = client.first().toString();
  assert.match(first, /^n,,n=user,r=/);
  const nonce = first.split('r=')[1]!;
  const serverFirst = `r=${nonce}srv,s=${keys.salt},i=${keys.iterations}`;
  const final = client.final(Buffer.from(serverFirst)).toString();
  assert.match(final, /^c=biws,r=.*,p=/);
  assert.not.ok(client.verify(Buffer.from('v=' + Buffer.alloc(32).toString('base64'))));
});

// The example of docs/testing-flows.md, kept compiling and passing.
const echo = defineModule({
  name: 'echo',
  defaults: { prefix: '>' },
  hooks: (_hostType, opts) => [
    hook(userSendXmlel, (effects, { acc }) => {
      if (acc.name !== 'echo' || acc.element.ns !== 'urn:example:echo') return;
      return stop(effects.socketSend(xml('echo', { xmlns: 'urn:example:echo' }, opts.prefix + acc.element.text())));
    }),
  ],
});

test('docs/testing-flows.md example: echo answers on the same stream', async () => {
  const server = await createTestServer({ users: { 'alice@localhost': 's' }, modules: [{ module: echo, options: { prefix: '» ' } }] });
  const alice = server.connect();
  await alice.login('alice@localhost/r', 's');
  alice.send(`<echo xmlns='urn:example:echo'>hello</echo>`);
  assert.is(alice.expect((e) => e.name === 'echo').text(), '» hello');
  assert.equal(server.hookErrors, []);
});

test.run();
