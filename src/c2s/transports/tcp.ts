/**
 * TCP transport (RFC 6120 over a socket): plain TCP with STARTTLS (RFC 6120 §5), or direct TLS
 * (XEP-0368) when constructed with an already-secured `TLSSocket`.
 *
 * Reading: bytes → optional shaper → {@link StreamParser} → {@link EventPump}. Writing:
 * everything sent during one turn of the event loop is coalesced into one `socket.write`
 * (flushed by `setImmediate`), so a burst of deliveries costs one syscall and one TLS record,
 * not one per stanza (bench: see the transports README section of the report).
 * @module
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { ChannelBindingType, TransportEvents, XmppTransport } from '../transport.ts';
import { StreamParser, type StreamEvent } from '../../core/xml/stream-parser.ts';
import type { TokenizerKind } from '../../core/xml/tokenizer.ts';
import type { XmlElement } from '../../core/xml/element.ts';
import { escapeAttr, serialize } from '../../core/xml/serialize.ts';
import { NS } from '../../core/namespaces.ts';
import { type Clock, type TimerHandle, systemClock } from '../../core/clock.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import type { Shaper } from './shaper.ts';
import { EventPump } from './event-pump.ts';
import { availableBindings, tlsExporter } from './channel-binding.ts';

/** Options of {@link TcpTransport}. */
export interface TcpTransportOptions {
  /** Largest stanza or header in bytes (default 65536): larger → `policy-violation`. */
  readonly maxStanzaSize?: number | undefined;
  /** Who finds the start tags (default `'sax-wasm'`); see {@link TokenizerKind}. */
  readonly tokenizer?: TokenizerKind | undefined;
  /** Enables STARTTLS on a plain socket. */
  readonly secureContext?: SecureContext | undefined;
  /** Precomputed RFC 5929 `tls-server-end-point` data of the certificate, when defined. */
  readonly serverEndPoint?: Buffer | undefined;
  /** Per-connection read shaper (fresh instance per transport). */
  readonly shaper?: Shaper | undefined;
  /** TLS handshake limit after `<proceed/>` (default 5000 ms). */
  readonly tlsHandshakeTimeout?: number | undefined;
  /** After `close()`, how long to wait for the peer before destroying the socket (default 5000 ms). */
  readonly closeTimeout?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

const STREAM_PREFIXES: ReadonlyMap<string, string> = new Map([[NS.STREAMS, 'stream']]);
const SERIALIZE_CTX = { defaultNs: NS.CLIENT, prefixes: STREAM_PREFIXES } as const;
const HEADER_START = `<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAMS}'`;

/** See the module comment. */
export class TcpTransport implements XmppTransport {
  readonly kind: 'tcp' | 'tls';
  readonly remoteAddress: string;
  #socket: Socket;
  #tls: TLSSocket | undefined;
  readonly #parser: StreamParser;
  readonly #pump: EventPump;
  readonly #opts: TcpTransportOptions;
  readonly #clock: Clock;
  #out = '';
  #flushScheduled = false;
  #closing = false;
  #upgrading = false;
  /** `<starttls/>` was read: nothing more is accepted in plaintext (RFC 6120 §5.4.3.3). */
  #starttlsRequested = false;
  #shaperPaused = false;
  #userPaused = false;
  #shaperTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;

  /**
   * @param socket a connected plain socket (STARTTLS possible when `secureContext` is given)
   *   or a `TLSSocket` whose handshake completed (direct TLS).
   */
  constructor(socket: Socket, options: TcpTransportOptions = {}) {
    this.#socket = socket;
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.kind = socket instanceof TLSSocket ? 'tls' : 'tcp';
    if (socket instanceof TLSSocket) this.#tls = socket;
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.#parser = new StreamParser({ maxStanzaSize: options.maxStanzaSize ?? 65536, tokenizer: options.tokenizer ?? 'sax-wasm' });
    this.#pump = new EventPump(options.logger ?? silentLogger);
    socket.setNoDelay(true);
    this.#listen(socket);
    // Nothing is read before attach(): the connection must be ready for the first event.
    socket.pause();
  }

  attach(events: TransportEvents): void {
    this.#pump.attach(events);
    this.#socket.on('data', this.#onData);
    if (!this.#userPaused && !this.#shaperPaused) this.#socket.resume();
  }

  isSecure(): boolean {
    return this.#tls !== undefined;
  }

  canStartTls(): boolean {
    return this.#tls === undefined && this.#opts.secureContext !== undefined;
  }

  channelBindingTypes(): readonly ChannelBindingType[] {
    return availableBindings(this.#tls, this.#opts.serverEndPoint);
  }

  channelBinding(type: ChannelBindingType): Buffer | undefined {
    if (this.#tls === undefined) return undefined;
    return type === 'tls-exporter' ? tlsExporter(this.#tls) : this.#opts.serverEndPoint;
  }

  sendHeader(attrs: Readonly<Record<string, string>>): void {
    let s = HEADER_START;
    for (const k in attrs) s += ' ' + k + "='" + escapeAttr(attrs[k]!) + "'";
    this.#write(s + '>');
  }

  sendElement(el: XmlElement): void {
    this.#write(serialize(el, SERIALIZE_CTX));
  }

  sendTrailer(): void {
    this.#write('</stream:stream>');
  }

  resetStream(): void {
    // RFC 6120 §6.4.6 (SASL success): a new stream starts; whatever was read after the
    // mechanism's last step belongs to the old one.
    this.#parser.reset();
    this.#pump.clear();
  }

  /**
   * Upgrade after `<proceed/>` was sent: flush it in plaintext, then run the TLS handshake on the
   * same socket. Anything the client sent after `<starttls/>` is discarded (RFC 6120 §5.4.3.3;
   * the STARTTLS command-injection class of bugs, CVE-2011-0411).
   */
  startTls(): Promise<void> {
    const ctx = this.#opts.secureContext;
    if (ctx === undefined || this.#tls !== undefined || this.#upgrading) return Promise.reject(new Error('STARTTLS not available'));
    this.#upgrading = true;
    this.#starttlsRequested = false;
    const raw = this.#socket;
    raw.removeListener('data', this.#onData);
    raw.pause();
    this.#parser.reset();
    this.#pump.clear();
    const pending = this.#out;
    this.#out = '';
    return new Promise<void>((resolve, reject) => {
      const upgrade = () => {
        if (raw.destroyed) {
          reject(new Error('socket closed before TLS'));
          return;
        }
        this.#unlisten(raw);
        // Node feeds bytes the raw socket already buffered (the ClientHello) to the TLS layer.
        const tls = new TLSSocket(raw, { isServer: true, secureContext: ctx, requestCert: false, rejectUnauthorized: false });
        this.#socket = tls;
        let done = false;
        const timer = this.#clock.setTimeout(() => finish(new Error('TLS handshake timeout')), this.#opts.tlsHandshakeTimeout ?? 5000);
        const finish = (err?: Error) => {
          if (done) return;
          done = true;
          this.#clock.clearTimeout(timer);
          tls.removeListener('secure', onSecure);
          tls.removeListener('error', onHandshakeError);
          this.#upgrading = false;
          if (err) {
            tls.destroy();
            reject(err);
            return;
          }
          this.#tls = tls;
          if (this.#closing) {
            // close() was called during the handshake: finish closing on the secured socket.
            tls.resume();
            if (this.#out !== '') this.#flush();
            tls.end();
            this.#closeTimer = this.#clock.setTimeout(() => tls.destroy(), this.#opts.closeTimeout ?? 5000);
            resolve();
            return;
          }
          tls.on('data', this.#onData);
          if (!this.#userPaused && !this.#shaperPaused) tls.resume();
          else tls.pause();
          if (this.#out !== '') this.#flush();
          resolve();
        };
        const onSecure = () => finish();
        const onHandshakeError = (err: Error) => finish(err);
        tls.once('secure', onSecure);
        tls.once('error', onHandshakeError);
        tls.on('error', this.#onError);
        tls.on('close', this.#onClose);
      };
      if (pending === '') upgrade();
      else raw.write(pending, () => upgrade());
    });
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#pump.discard();
    if (this.#upgrading) return; // finished when the handshake ends
    if (this.#out !== '') this.#flush();
    const s = this.#socket;
    if (s.destroyed) return;
    // Keep reading (and dropping) so the peer's FIN is seen even when reading was paused.
    s.removeListener('data', this.#onData);
    s.resume();
    s.end();
    // RFC 6120 §4.4: wait a while for the peer's own closing, then give up on it.
    this.#closeTimer = this.#clock.setTimeout(() => this.#socket.destroy(), this.#opts.closeTimeout ?? 5000);
  }

  pause(): void {
    this.#userPaused = true;
    this.#pump.pause();
    // During the upgrade the handshake must keep reading; the paused state is applied after it.
    if (!this.#upgrading) this.#socket.pause();
  }

  resume(): void {
    this.#userPaused = false;
    this.#pump.resume();
    if (!this.#shaperPaused && !this.#upgrading && this.#pump.attached) this.#socket.resume();
  }

  /** `true` while reading is stopped (by the shaper or by {@link pause}). */
  get readPaused(): boolean {
    return this.#shaperPaused || this.#userPaused;
  }

  /** Bytes queued for the socket but not written yet (tests, metrics). */
  get pendingOutput(): number {
    return this.#out.length;
  }

  #write(s: string): void {
    if (this.#closing) return;
    this.#out += s;
    if (this.#flushScheduled || this.#upgrading) return;
    this.#flushScheduled = true;
    scheduleFlush(this.#flushSoon);
  }

  readonly #flushSoon = (): void => {
    this.#flushScheduled = false;
    if (!this.#upgrading) this.#flush();
  };

  #flush(): void {
    const s = this.#out;
    if (s === '') return;
    this.#out = '';
    if (!this.#socket.destroyed) this.#socket.write(s);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#starttlsRequested) return;
    if (this.#opts.shaper !== undefined) {
      const delay = this.#opts.shaper.update(chunk.length);
      if (delay > 0) this.#shaperPause(delay);
    }
    let events: StreamEvent[];
    try {
      events = this.#parser.push(chunk);
    } catch {
      // Reported below from `error`, like a fault after some events of the chunk.
      events = [];
    }
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      this.#pump.push(ev);
      if (ev.type === 'element' && ev.element.name === 'starttls' && ev.element.ns === NS.TLS && this.canStartTls()) {
        // RFC 6120 §5.4.3.3: the client sends nothing more until <proceed/>; whatever follows
        // in plaintext is dropped so it can never be taken as sent over TLS (CVE-2011-0411 class).
        this.#starttlsRequested = true;
        break;
      }
    }
    // The events completed before a fault go first (the c2s answers a header before the
    // error); a fault after `<starttls/>` is in bytes we discard anyway.
    const err = this.#parser.error;
    if (err !== undefined && !this.#starttlsRequested) {
      this.#pump.streamError(err);
      this.#socket.removeListener('data', this.#onData);
    }
    this.#pump.drain();
  };

  #shaperPause(delay: number): void {
    this.#shaperPaused = true;
    this.#socket.pause();
    if (this.#shaperTimer !== undefined) this.#clock.clearTimeout(this.#shaperTimer);
    this.#shaperTimer = this.#clock.setTimeout(() => {
      this.#shaperTimer = undefined;
      this.#shaperPaused = false;
      if (!this.#userPaused && !this.#upgrading) this.#socket.resume();
    }, delay);
  }

  readonly #onError = (err: Error): void => {
    this.#pump.socketError(err);
  };

  readonly #onClose = (): void => {
    if (this.#closeTimer !== undefined) this.#clock.clearTimeout(this.#closeTimer);
    if (this.#shaperTimer !== undefined) this.#clock.clearTimeout(this.#shaperTimer);
    this.#closeTimer = this.#shaperTimer = undefined;
    this.#pump.closed();
    this.#pump.drain();
  };

  #listen(s: Socket): void {
    s.on('error', this.#onError);
    s.on('close', this.#onClose);
  }

  #unlisten(s: Socket): void {
    s.removeListener('error', this.#onError);
    s.removeListener('close', this.#onClose);
  }
}

// One `setImmediate` per event-loop turn for all transports with output, not one per
// transport: under load most connections write in the same turn (an Immediate object each).
let pendingFlushes: (() => void)[] = [];
function runFlushes(): void {
  const list = pendingFlushes;
  pendingFlushes = [];
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < list.length; i++) {
    try {
      list[i]!();
    } catch (err) {
      // One socket's failure must not skip the others; it still surfaces as before.
      failure ??= { err };
    }
  }
  if (failure !== undefined) throw failure.err;
}
function scheduleFlush(fn: () => void): void {
  if (pendingFlushes.push(fn) === 1) setImmediate(runFlushes);
}

/** `::ffff:127.0.0.1` → `127.0.0.1` (IPv4-mapped IPv6 from dual-stack listeners). */
export function normaliseAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** `true` for loopback addresses (127.0.0.0/8, ::1). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
