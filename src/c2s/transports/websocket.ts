/**
 * XMPP over WebSocket (RFC 7395) on top of the `ws` package. Every WebSocket message is one
 * complete element (RFC 7395 §3.3); `<open/>` and `<close/>` in the framing namespace stand for
 * the stream header and trailer and are mapped to the same {@link StreamEvent}s the TCP parser
 * produces, so the connection cannot tell the transports apart.
 * @module
 */
import type { WebSocket, RawData } from 'ws';
import type { TLSSocket } from 'node:tls';
import type { ChannelBindingType, TransportEvents, XmppTransport } from '../transport.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import type { TokenizerKind } from '../../core/xml/tokenizer.ts';
import { StreamError } from '../../core/errors.ts';
import { XmlElement } from '../../core/xml/element.ts';
import { serialize, serializeStandalone } from '../../core/xml/serialize.ts';
import { NS } from '../../core/namespaces.ts';
import { type Clock, type TimerHandle, systemClock } from '../../core/clock.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import type { Shaper } from './shaper.ts';
import { EventPump } from './event-pump.ts';
import { availableBindings, tlsExporter } from './channel-binding.ts';
import { normaliseAddress } from './tcp.ts';

const STREAM_PREFIXES: ReadonlyMap<string, string> = new Map([[NS.STREAMS, 'stream']]);

/** The WebSocket subprotocol of RFC 7395 §3.2. */
export const XMPP_SUBPROTOCOL = 'xmpp';

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** Largest message in bytes (default 65536) → `policy-violation`. */
  readonly maxStanzaSize?: number | undefined;
  /** Who finds the start tags (default `'sax-wasm'`); see {@link TokenizerKind}. */
  readonly tokenizer?: TokenizerKind | undefined;
  /**
   * The connection is confidential although this process sees plain HTTP (a TLS-terminating
   * proxy in front). Direct `wss://` is detected from the socket.
   */
  readonly secure?: boolean | undefined;
  /** RFC 5929 data of the certificate (direct `wss://` only). */
  readonly serverEndPoint?: Buffer | undefined;
  readonly shaper?: Shaper | undefined;
  /** After `close()`, how long to wait for the closing handshake before terminating (default 5000 ms). */
  readonly closeTimeout?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

/** See the module comment. */
export class WebSocketTransport implements XmppTransport {
  readonly kind = 'websocket' as const;
  readonly remoteAddress: string;
  readonly #ws: WebSocket;
  readonly #tls: TLSSocket | undefined;
  readonly #opts: WebSocketTransportOptions;
  readonly #clock: Clock;
  readonly #pump: EventPump;
  readonly #maxSize: number;
  readonly #tokenizer: TokenizerKind;
  #closing = false;
  #userPaused = false;
  #shaperPaused = false;
  #shaperTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;

  /**
   * @param ws an open WebSocket whose subprotocol is `xmpp`
   * @param socket the underlying socket (for the address and TLS details)
   */
  constructor(ws: WebSocket, socket: { remoteAddress?: string | undefined; encrypted?: boolean }, options: WebSocketTransportOptions = {}) {
    this.#ws = ws;
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxSize = options.maxStanzaSize ?? 65536;
    this.#tokenizer = options.tokenizer ?? 'sax-wasm';
    this.#tls = socket.encrypted === true ? (socket as TLSSocket) : undefined;
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.#pump = new EventPump(options.logger ?? silentLogger);
    ws.on('error', (err) => this.#pump.socketError(err));
    ws.on('close', () => {
      if (this.#closeTimer !== undefined) this.#clock.clearTimeout(this.#closeTimer);
      if (this.#shaperTimer !== undefined) this.#clock.clearTimeout(this.#shaperTimer);
      this.#closeTimer = this.#shaperTimer = undefined;
      this.#pump.closed();
      this.#pump.drain();
    });
    ws.pause();
  }

  attach(events: TransportEvents): void {
    this.#pump.attach(events);
    this.#ws.on('message', this.#onMessage);
    if (!this.#userPaused && !this.#shaperPaused) this.#ws.resume();
  }

  isSecure(): boolean {
    return this.#tls !== undefined || this.#opts.secure === true;
  }

  canStartTls(): boolean {
    // RFC 7395 §3.1: TLS is the WebSocket layer's business (wss://), never STARTTLS.
    return false;
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error('STARTTLS is not available over WebSocket'));
  }

  channelBindingTypes(): readonly ChannelBindingType[] {
    return availableBindings(this.#tls, this.#opts.serverEndPoint);
  }

  channelBinding(type: ChannelBindingType): Buffer | undefined {
    if (this.#tls === undefined) return undefined;
    return type === 'tls-exporter' ? tlsExporter(this.#tls) : this.#opts.serverEndPoint;
  }

  /** RFC 7395 §3.3.2: `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from id version xml:lang/>`. */
  sendHeader(attrs: Readonly<Record<string, string>>): void {
    this.#send(serializeStandalone(new XmlElement('open', NS.FRAMING, attrs)));
  }

  /**
   * RFC 7395 §3.4: every top-level element carries its own namespace declaration. Stream-level
   * elements keep the `stream:` prefix with its declaration, as in the RFC's examples
   * (`<stream:features xmlns:stream='…'>`) — some clients look for that tag name.
   */
  sendElement(el: XmlElement): void {
    if (el.ns === NS.STREAMS) {
      const s = serialize(el, { prefixes: STREAM_PREFIXES });
      const open = '<stream:' + el.name;
      this.#send(open + " xmlns:stream='" + NS.STREAMS + "'" + s.slice(open.length));
    } else this.#send(serializeStandalone(el, NS.CLIENT));
  }

  /** RFC 7395 §3.6: `<close/>` ends the XMPP stream (the WebSocket close follows). */
  sendTrailer(): void {
    this.#send(serializeStandalone(new XmlElement('close', NS.FRAMING)));
  }

  resetStream(): void {
    // RFC 7395 §3.3.3 / §3.5: after SASL success the client sends a new <open/>; each message is
    // parsed on its own, so there is no parser state to reset — only queued leftovers to drop.
    this.#pump.clear();
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#pump.discard();
    if (this.#ws.readyState === this.#ws.CLOSED) return;
    this.#ws.removeListener('message', this.#onMessage);
    this.#ws.resume();
    this.#ws.close(1000);
    this.#closeTimer = this.#clock.setTimeout(() => this.#ws.terminate(), this.#opts.closeTimeout ?? 5000);
  }

  pause(): void {
    this.#userPaused = true;
    this.#pump.pause();
    this.#ws.pause();
  }

  resume(): void {
    this.#userPaused = false;
    this.#pump.resume();
    if (!this.#shaperPaused && this.#pump.attached) this.#ws.resume();
  }

  #send(s: string): void {
    if (this.#closing || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(s);
  }

  readonly #onMessage = (data: RawData): void => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (this.#opts.shaper !== undefined) {
      const delay = this.#opts.shaper.update(buf.length);
      if (delay > 0) this.#shaperPause(delay);
    }
    let el: XmlElement;
    try {
      if (buf.length > this.#maxSize) throw new StreamError('policy-violation', `message larger than ${this.#maxSize} bytes`);
      el = parseElement(buf, { defaultNs: NS.CLIENT, maxSize: this.#maxSize, tokenizer: this.#tokenizer });
    } catch (err) {
      this.#pump.streamError(err instanceof StreamError ? err : new StreamError('internal-server-error'));
      this.#ws.removeListener('message', this.#onMessage);
      this.#pump.drain();
      return;
    }
    if (el.ns === NS.FRAMING) {
      if (el.name === 'open') {
        // The header as the TCP parser would report it: the c2s checks name, namespace, to, version.
        this.#pump.push({ type: 'streamStart', header: new XmlElement('stream', NS.STREAMS, el.attrs), contentNs: NS.CLIENT });
      } else if (el.name === 'close') this.#pump.push({ type: 'streamEnd' });
      else this.#pump.push({ type: 'element', element: el, size: buf.length });
    } else this.#pump.push({ type: 'element', element: el, size: buf.length });
    this.#pump.drain();
  };

  #shaperPause(delay: number): void {
    this.#shaperPaused = true;
    this.#ws.pause();
    if (this.#shaperTimer !== undefined) this.#clock.clearTimeout(this.#shaperTimer);
    this.#shaperTimer = this.#clock.setTimeout(() => {
      this.#shaperTimer = undefined;
      this.#shaperPaused = false;
      if (!this.#userPaused) this.#ws.resume();
    }, delay);
  }
}
