/**
 * The test kit's {@link TestServer} on a server with dynamic domains (host type `tenants`
 * beside the static `static.example`).
 * @module
 */
import type { ServerOptions } from '../../src/server.ts';
import type { DynamicDomains } from '../../src/core/dynamic-domains.ts';
import { createTestServer, FakeClock, type TestServer } from '../../src/testing/index.ts';

export interface DynamicTestServer extends TestServer {
  readonly dynamic: DynamicDomains;
}

/** A started server with `dynamicDomains` on a fake clock; `options` override the defaults. */
export async function createDynamicTestServer(options: Partial<ServerOptions> & { users?: Record<string, string> } = {}): Promise<DynamicTestServer> {
  const { users, clock, ...serverOptions } = options;
  const ts = await createTestServer({
    domains: ['static.example'],
    clock: (clock as FakeClock | undefined) ?? new FakeClock(),
    iterations: 128,
    serverOptions: { dynamicDomains: { hostTypes: ['tenants'], pollIntervalMs: 1000 }, ...serverOptions },
  });
  // Accounts in dynamic domains can only be added once the domain exists; callers pass users for static domains here.
  for (const [jid, pw] of Object.entries(users ?? {})) await ts.addUser(jid, pw);
  return Object.assign(ts, { dynamic: ts.server.dynamicDomains! });
}
