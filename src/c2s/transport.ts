/**
 * One interface for every way a client connects (TCP with STARTTLS, direct TLS, WebSocket,
 * in-memory). A transport owns framing: it turns bytes into {@link StreamEvent}s (TCP runs the
 * {@link StreamParser}; WebSocket parses each RFC 7395 frame and maps `<open/>`/`<close/>`) and
 * serialises what the connection sends. The c2s machine never sees bytes.
 * @module
 */
import type { XmlElement } from '../core/xml/element.ts';
import type { StreamEvent } from '../core/xml/stream-parser.ts';
import type { StreamError } from '../core/errors.ts';

export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

/** Callbacks a transport invokes, in order, never re-entrantly from inside a send call. */
export interface TransportEvents {
  /** A parsed stream event (header, stanza, end). */
  onStreamEvent(ev: StreamEvent): void;
  /** The input could not be parsed; the connection answers with this stream error and closes. */
  onStreamError(err: StreamError): void;
  /** The peer closed the socket (or it was closed). No event follows. */
  onClose(): void;
  /** A socket-level error (reset, TLS alert…). `onClose` follows. */
  onSocketError(err: Error): void;
}

export interface XmppTransport {
  readonly kind: 'tcp' | 'tls' | 'websocket' | 'memory';
  /** Peer address (IP string) — used e.g. to allow PLAIN without TLS from loopback only. */
  readonly remoteAddress: string;
  /** Start delivering events to `events`. Called once by the connection. */
  attach(events: TransportEvents): void;
  isSecure(): boolean;
  /** `true` when STARTTLS can be offered (plain TCP with a certificate configured). */
  canStartTls(): boolean;
  /**
   * Upgrade to TLS after `<proceed/>` was written: resolves when the handshake is done and the
   * parser has been reset for the new stream header; rejects on handshake failure.
   */
  startTls(): Promise<void>;
  /** Channel-binding types this transport can provide (empty without TLS). */
  channelBindingTypes(): readonly ChannelBindingType[];
  channelBinding(type: ChannelBindingType): Buffer | undefined;
  /** Write the opening stream header (WebSocket: `<open/>`). `attrs` excludes namespace declarations. */
  sendHeader(attrs: Readonly<Record<string, string>>): void;
  /** Write one top-level element (stanza, features, stream error, nonza). */
  sendElement(el: XmlElement): void;
  /** Write the closing `</stream:stream>` (WebSocket: `<close/>`). */
  sendTrailer(): void;
  /** Expect a fresh stream header on the same connection (after SASL success). */
  resetStream(): void;
  /** Close the socket once pending writes are flushed. Idempotent. */
  close(): void;
  /** Stop reading from the socket (backpressure, shaper, async processing). */
  pause(): void;
  resume(): void;
}
