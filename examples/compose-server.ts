// The README's "compose your own server" example, kept runnable: test/interop/readme-example.test.ts runs it.
import { createServer } from '../src/server.ts';
import { sqliteStorage } from '../src/storage/sqlite/index.ts';
import { selfSignedCertificate } from '../src/c2s/certificate.ts';
import { hook, defineModule } from '../src/c2s/module.ts';
import { userSendMessage } from '../src/c2s/hooks.ts';

// A module is a value: here, one that counts the messages each host type routes.
export const counter = { messages: 0 };
const messageCounter = defineModule({
  name: 'message-counter',
  defaults: {},
  hooks: () => [hook(userSendMessage, (effects) => { counter.messages++; return { stop: false, acc: effects }; })],
});

export async function main(opts: { port?: number; dbPath?: string } = {}) {
  const server = createServer({
    domains: ['localhost'],
    listeners: [{ kind: 'tcp', port: opts.port ?? 5222, tls: 'optional', certificate: await selfSignedCertificate(['localhost']) }],
    storage: sqliteStorage({ path: opts.dbPath ?? ':memory:' }),
    modules: [messageCounter],
  });
  await server.start();
  await server.users.add('alice@localhost', 'wonderland');
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
