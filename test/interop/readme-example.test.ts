// The README's "compose your own server" example (examples/compose-server.ts) works as
// written: import it, run its main(), log a user in over a raw socket, exchange a message, stop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import type { XmppServer } from '../../src/server.ts';
import { RawXmppClient } from '../helpers/raw-client.ts';

const EXAMPLE = new URL('../../examples/compose-server.ts', import.meta.url);
const README = new URL('../../README.md', import.meta.url);

test('the README shows examples/compose-server.ts as it is (what runs is what readers copy)', () => {
  const readme = readFileSync(README, 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Compose your own server'));
  assert.ok(section, 'README.md has a "Compose your own server" section');
  const block = /```ts\n([\s\S]*?)```/.exec(section!)?.[1];
  assert.ok(block, 'the section has a ```ts code block');
  // The file adds only a leading comment and the "run when executed directly" line.
  const code = readFileSync(EXAMPLE, 'utf8')
    .split('\n')
    .filter((line, i, lines) => !(lines.slice(0, i + 1).every((l) => l.startsWith('//'))) && !line.startsWith('if (import.meta.url'))
    .join('\n');
  assert.fixture(block!.trim(), code.trim());
});

interface ExampleModule {
  main?: (opts?: { port?: number; dbPath?: string }) => Promise<XmppServer>;
  counter?: { messages: number };
}

test('examples/compose-server.ts starts a server a client can log in to and message on', async () => {
  assert.ok(existsSync(EXAMPLE), 'examples/compose-server.ts exists');
  const mod = (await import(EXAMPLE.href)) as ExampleModule;
  assert.type(mod.main, 'function', 'the example exports main()');
  // Port 0: the example's default (5222) may be taken by a running server.
  const server = await mod.main!({ port: 0 });
  let client: RawXmppClient | undefined;
  try {
    const addr = server.addresses().find((a) => a.kind === 'tcp' && a.tls !== 'direct');
    assert.ok(addr, `a TCP listener: ${JSON.stringify(server.addresses())}`);
    client = await RawXmppClient.connect({ host: addr.host, port: addr.port });
    // The account the example creates.
    const jid = await client.login({ user: 'alice', password: 'wonderland', resource: 'readme' });
    assert.is(jid, 'alice@localhost/readme');
    const before = mod.counter?.messages ?? 0;
    client.send(`<message to='alice@localhost' type='chat' id='self'><body>it works</body></message>`);
    const echoed = await client.waitForElement((el) => el.is('message') && el.attr('id') === 'self', 3000, 'the message to ourselves');
    assert.is(echoed.getChildText('body'), 'it works');
    if (mod.counter) assert.is(mod.counter.messages - before, 1, "the example's message-counter module saw the message once");
    await client.close();
  } finally {
    client?.destroy();
    await server.stop();
  }
});

test.run();
