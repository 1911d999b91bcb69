/**
 * An in-memory {@link XmppTransport}: the client side writes bytes that go through a real
 * {@link StreamParser} (so framing, size limits and restricted XML behave as on TCP), and what
 * the server writes is serialised and parsed back (so tests see exactly what a client would).
 * STARTTLS is a fake upgrade: it flips `isSecure()` and resets the parser.
 * @module
 */
import { NS } from '../core/namespaces.ts';
import type { XmlElement } from '../core/xml/element.ts';
import { escapeAttr, serialize } from '../core/xml/serialize.ts';
import { StreamParser, type StreamEvent } from '../core/xml/stream-parser.ts';
import type { TokenizerKind } from '../core/xml/tokenizer.ts';
import { DEFAULT_MAX_STANZA_SIZE } from '../core/xml/framer.ts';
import type { ChannelBindingType, TransportEvents, XmppTransport } from '../c2s/transport.ts';

/** Receives what the server writes, already parsed. */
export interface ServerOutputSink {
  onHeader(attrs: Readonly<Record<string, string>>): void;
  onElement(el: XmlElement): void;
  onTrailer(): void;
  onClose(): void;
}

/** Options of a {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** Peer address (default `127.0.0.1`; PLAIN is offered without TLS only from loopback). */
  readonly remoteAddress?: string | undefined;
  /** STARTTLS can be offered (default `true`). */
  readonly canStartTls?: boolean | undefined;
  /** Start as an already-secure connection (direct TLS). */
  readonly secure?: boolean | undefined;
  /** Make the fake TLS handshake fail. */
  readonly failTls?: boolean | undefined;
  /** Largest stanza the input parser accepts (default the parser's 65536). */
  readonly maxStanzaSize?: number | undefined;
  /** Who finds the start tags in the input parser (default `'sax-wasm'`). */
  readonly tokenizer?: TokenizerKind | undefined;
  /** Serialise and re-parse server output (default `true`; the benchmark turns it off). */
  readonly parseOutput?: boolean | undefined;
}

const STREAM_PREFIXES = new Map([[NS.STREAMS, 'stream']]);

/** The in-memory transport. The `client*` methods are the client's side of the wire. */
export class MemoryTransport implements XmppTransport {
  readonly kind = 'memory' as const;
  readonly remoteAddress: string;
  #events: TransportEvents | undefined;
  #parser: StreamParser;
  #secure: boolean;
  #paused = false;
  #pending: (Uint8Array | StreamEvent)[] = [];
  #closed = false;
  #outParser: StreamParser | undefined;
  readonly #opts: MemoryTransportOptions;
  readonly #sink: ServerOutputSink;
  /** Every string the server wrote, in order (debugging). */
  readonly wire: string[] = [];

  constructor(sink: ServerOutputSink, opts: MemoryTransportOptions = {}) {
    this.#sink = sink;
    this.#opts = opts;
    this.remoteAddress = opts.remoteAddress ?? '127.0.0.1';
    this.#secure = opts.secure ?? false;
    this.#parser = this.#newParser();
  }

  #newParser(): StreamParser {
    return new StreamParser({ maxStanzaSize: this.#opts.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE, tokenizer: this.#opts.tokenizer ?? 'sax-wasm' });
  }

  // ------------------------------------------------------------ client side

  /** The client writes bytes (a string is UTF-8 encoded). */
  clientWrite(data: string | Uint8Array): void {
    if (this.#closed) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.#paused) this.#pending.push(bytes);
    else this.#feed(bytes);
  }

  /** Hand the connection an already-parsed event (benchmarks: measure the c2s, not the parser). */
  clientInject(ev: StreamEvent): void {
    if (this.#closed) return;
    if (this.#paused) this.#pending.push(ev);
    else this.#events?.onStreamEvent(ev);
  }

  /** The client's socket goes away. */
  clientClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events?.onClose();
  }

  /** A socket error, then close. */
  clientError(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events?.onSocketError(err);
    this.#events?.onClose();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #feed(bytes: Uint8Array): void {
    const parser = this.#parser;
    let events: StreamEvent[];
    try {
      events = parser.push(bytes);
    } catch {
      // Reported below from `error`, like a fault after some events of the chunk.
      events = [];
    }
    for (const ev of events) this.#events?.onStreamEvent(ev);
    // After the events completed before it (the server answers a header first). A parser
    // replaced or reset meanwhile (STARTTLS, SASL success) dropped that stream's bytes.
    const err = parser.error;
    if (err !== undefined && parser === this.#parser && !this.#closed) this.#events?.onStreamError(err);
  }

  // ------------------------------------------------------------ XmppTransport

  attach(events: TransportEvents): void {
    this.#events = events;
  }
  isSecure(): boolean {
    return this.#secure;
  }
  canStartTls(): boolean {
    return !this.#secure && (this.#opts.canStartTls ?? true);
  }
  startTls(): Promise<void> {
    if (this.#opts.failTls) return Promise.reject(new Error('fake TLS handshake failure'));
    this.#secure = true;
    this.#parser = this.#newParser();
    return Promise.resolve();
  }
  channelBindingTypes(): readonly ChannelBindingType[] {
    return this.#secure ? ['tls-exporter'] : [];
  }
  channelBinding(type: ChannelBindingType): Buffer | undefined {
    // A fixed fake value: both sides of the in-memory wire agree on it.
    return this.#secure && type === 'tls-exporter' ? Buffer.alloc(32, 7) : undefined;
  }
  sendHeader(attrs: Readonly<Record<string, string>>): void {
    if (this.#closed) return;
    let s = `<stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAMS}'`;
    for (const k in attrs) s += ` ${k}='${escapeAttr(attrs[k]!)}'`;
    s += '>';
    this.wire.push(s);
    if (this.#opts.parseOutput === false) {
      this.#sink.onHeader(attrs);
      return;
    }
    this.#outParser = new StreamParser({ maxStanzaSize: 1 << 24 });
    this.#deliverOut(s);
  }
  sendElement(el: XmlElement): void {
    if (this.#closed) return;
    if (this.#opts.parseOutput === false) {
      this.#sink.onElement(el);
      return;
    }
    const s = serialize(el, { defaultNs: NS.CLIENT, prefixes: STREAM_PREFIXES });
    this.wire.push(s);
    this.#deliverOut(s);
  }
  sendTrailer(): void {
    if (this.#closed) return;
    this.wire.push('</stream:stream>');
    if (this.#opts.parseOutput === false || this.#outParser === undefined) {
      this.#sink.onTrailer();
      return;
    }
    this.#deliverOut('</stream:stream>');
  }
  resetStream(): void {
    this.#parser.reset();
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.onClose();
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    while (!this.#paused && this.#pending.length > 0 && !this.#closed) {
      const x = this.#pending.shift()!;
      if (x instanceof Uint8Array) this.#feed(x);
      else this.#events?.onStreamEvent(x);
    }
  }

  #deliverOut(s: string): void {
    if (this.#outParser === undefined) throw new Error('server wrote an element before a stream header');
    for (const ev of this.#outParser.push(Buffer.from(s, 'utf8'))) {
      if (ev.type === 'streamStart') this.#sink.onHeader(ev.header.attrs);
      else if (ev.type === 'element') this.#sink.onElement(ev.element);
      else this.#sink.onTrailer();
    }
  }
}
