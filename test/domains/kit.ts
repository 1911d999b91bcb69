/**
 * The test kit's {@link TestServer} built on a server with dynamic domains (`createTestServer`
 * has no `dynamicDomains` option yet): same fake clock, in-memory transports and settle loop.
 * @module
 */
import { createServer, type ServerOptions } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { deriveCredentials } from '../../src/core/auth/scram.ts';
import { Jid } from '../../src/core/jid.ts';
import type { HookErrorInfo } from '../../src/hooks/index.ts';
import type { C2sConnection } from '../../src/c2s/connection.ts';
import type { DynamicDomains } from '../../src/core/dynamic-domains.ts';
import { FakeClock, TestClient, type TestServer } from '../../src/testing/index.ts';

export interface DynamicTestServer extends TestServer {
  readonly dynamic: DynamicDomains;
}

/** A started server with `dynamicDomains` on a fake clock; `options` override the defaults. */
export async function createDynamicTestServer(options: Partial<ServerOptions> & { users?: Record<string, string> } = {}): Promise<DynamicTestServer> {
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
  const hookErrors: { err: unknown; info: HookErrorInfo }[] = [];
  const server = createServer({
    domains: ['static.example'],
    dynamicDomains: { hostTypes: ['tenants'], pollIntervalMs: 1000 },
    storage: memoryStorage(),
    logger: silentLogger,
    onHookError: (err, info) => hookErrors.push({ err, info }),
    ...options,
    clock,
  });
  await server.start();
  const connections: C2sConnection[] = [];
  const settle = async () => {
    for (let i = 0; i < 1000; i++) {
      await new Promise<void>((r) => setImmediate(r));
      if (!connections.some((c) => c.busy && !c.closed)) {
        await new Promise<void>((r) => setImmediate(r));
        if (!connections.some((c) => c.busy && !c.closed)) return;
      }
    }
    throw new Error('settle: connections still busy after 1000 turns');
  };
  const addUser = async (jid: string, password: string) => {
    const j = Jid.parse(jid);
    const ht = server.domains.hostTypeOf(j.domain);
    if (ht === undefined) throw new Error(`addUser: ${j.domain} is not served`);
    await server.storage.auth.register(ht, j.domain, j.local, deriveCredentials(password, { iterations: 128 }));
  };
  const ts: DynamicTestServer = {
    server,
    dynamic: server.dynamicDomains!,
    clock,
    hooks: server.hooks,
    domains: server.domains,
    router: server.router,
    sessions: server.sessions,
    iqHandlers: server.iqHandlers,
    storage: server.storage,
    authStore: server.storage.auth,
    listener: server.connectOptions,
    services: server.services,
    connections,
    hookErrors,
    connect(topts = {}) {
      const client = new TestClient(ts, topts);
      connections.push(client.connection);
      return client;
    },
    addUser,
    settle,
    async stop() {
      for (const c of connections) if (!c.closed) c.exit('system-shutdown', 'system-shutdown');
      await settle();
      await server.stop();
    },
  };
  for (const [jid, pw] of Object.entries(options.users ?? {})) await addUser(jid, pw);
  return ts;
}
