/**
 * The public test kit (`xmpp-blocks/testing`): an in-memory transport, a fake clock and a
 * composed in-memory server, so a module author tests a stanza flow without sockets and
 * without waiting for real timeouts. Guide: `docs/testing-flows.md`.
 * @module
 */
export { FakeClock } from './fake-clock.ts';
export { MemoryTransport, type MemoryTransportOptions, type ServerOutputSink } from './memory-transport.ts';
export { ScramClient, isScram } from './scram-client.ts';
export {
  createTestServer,
  TestClient,
  type LoginOptions,
  type OpenStreamOptions,
  type TestServer,
  type TestServerOptions,
} from './test-server.ts';
