/**
 * Transports and listeners: TCP with STARTTLS, direct TLS (XEP-0368), WebSocket (RFC 7395),
 * the read shaper and channel-binding helpers.
 * @module
 */
export { TcpTransport, isLoopback, normaliseAddress, type TcpTransportOptions } from './tcp.ts';
export { WebSocketTransport, XMPP_SUBPROTOCOL, type WebSocketTransportOptions } from './websocket.ts';
export { TokenBucketShaper, DEFAULT_SHAPER_RATE, type Shaper } from './shaper.ts';
export { tlsServerEndPoint, tlsExporter, signatureAlgorithmOid } from './channel-binding.ts';
export {
  XmppListener,
  Listener,
  type ListenerAddress,
  resolveListenerOptions,
  type CertificateOptions,
  type ListenerDeps,
  type ListenerOptions,
  type ResolvedListenerOptions,
  type TlsMode,
} from './listener.ts';
