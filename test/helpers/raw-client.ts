/**
 * A tiny XMPP client over a raw `net` socket, for tests that must see exactly what the server
 * writes (stream errors, trailers, closes) — things a client library hides. What the server
 * sends is parsed with the project's own {@link StreamParser}, so tests assert on elements.
 *
 * It does just enough to log in: STARTTLS (optional), SASL PLAIN, resource binding.
 * @module
 */
import net from 'node:net';
import tls from 'node:tls';
import { StreamParser, type StreamEvent } from '../../src/core/xml/stream-parser.ts';
import { XmlElement, xml } from '../../src/core/xml/element.ts';
import { serialize, escapeAttr } from '../../src/core/xml/serialize.ts';
import { NS } from '../../src/core/namespaces.ts';
import { sleep, withTimeout } from './wait.ts';
import { EventQueue } from './event-queue.ts';

/** What the client observes, in order: the parser's events, a parse failure, the socket close. */
export type RawEvent = StreamEvent | { readonly type: 'parseError'; readonly error: Error } | { readonly type: 'close' };

/** Where to connect. */
export interface RawAddress {
  readonly host: string;
  readonly port: number;
}

/** Options of {@link RawXmppClient.connect}. */
export interface RawConnectOptions {
  /** Direct TLS (XEP-0368) trusting this CA / self-signed certificate (PEM). */
  readonly tls?: { readonly ca: string; readonly servername?: string } | undefined;
  /** Connect timeout (default 3000 ms). */
  readonly timeoutMs?: number | undefined;
}

/** Attributes of a stream header written by {@link streamHeader}; `undefined` leaves one out. */
export interface StreamHeaderOptions {
  readonly to?: string | undefined;
  readonly version?: string | undefined;
  /** Content namespace (default `jabber:client`). */
  readonly xmlns?: string | undefined;
  /** Namespace bound to the `stream` prefix (default the RFC 6120 streams namespace). */
  readonly streamNs?: string | undefined;
  readonly lang?: string | undefined;
  readonly from?: string | undefined;
  /** Prefix the XML declaration (default `true`). */
  readonly declaration?: boolean | undefined;
}

/** The opening `<stream:stream …>` tag a client sends (RFC 6120 §4.2). */
export function streamHeader(o: StreamHeaderOptions = {}): string {
  const attrs: [string, string | undefined][] = [
    ['from', o.from],
    ['to', 'to' in o ? o.to : 'localhost'],
    ['version', 'version' in o ? o.version : '1.0'],
    ['xml:lang', 'lang' in o ? o.lang : 'en'],
    ['xmlns', o.xmlns ?? NS.CLIENT],
    ['xmlns:stream', o.streamNs ?? NS.STREAMS],
  ];
  const a = attrs
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}='${escapeAttr(v)}'`)
    .join('');
  return `${o.declaration === false ? '' : "<?xml version='1.0'?>"}<stream:stream${a}>`;
}

/** Short human description of an event, for assertion messages. */
export function describeEvent(ev: RawEvent): string {
  switch (ev.type) {
    case 'element':
      return serialize(ev.element);
    case 'streamStart':
      return `stream header ${JSON.stringify(ev.header.attrs)}`;
    case 'parseError':
      return `parse error: ${ev.error.message}`;
    default:
      return ev.type;
  }
}

/** The defined condition of a `<stream:error/>` element (RFC 6120 §4.9.3), if it is one. */
export function streamErrorCondition(el: XmlElement): string | undefined {
  if (!el.is('error', NS.STREAMS)) return undefined;
  return el.elements().find((c) => (c.ns ?? el.ns) === NS.STREAM_ERRORS && c.name !== 'text')?.name;
}

let iqCounter = 0;

/** A raw XMPP client connection (see module comment). */
export class RawXmppClient {
  private readonly events = new EventQueue<RawEvent>();
  /** Every event received, in order (also those already consumed). */
  readonly log: RawEvent[] = this.events.log;
  /** Settles when the socket has closed. */
  readonly closed: Promise<void>;
  private socket: net.Socket;
  private parser = new StreamParser({ maxStanzaSize: 1 << 20 });
  private isClosed = false;
  private markClosed!: () => void;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((r) => (this.markClosed = r));
    this.attach(socket);
  }

  /** Connect (plain TCP, or direct TLS with `opts.tls`). */
  static async connect(addr: RawAddress, opts: RawConnectOptions = {}): Promise<RawXmppClient> {
    const socket = opts.tls
      ? tls.connect({ host: addr.host, port: addr.port, ca: opts.tls.ca, servername: opts.tls.servername ?? 'localhost' })
      : net.connect({ host: addr.host, port: addr.port });
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
          socket.once('error', reject);
        }),
        opts.timeoutMs ?? 3000,
        `connection to ${addr.host}:${addr.port}`,
      );
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return new RawXmppClient(socket);
  }

  /** `true` once the socket closed. */
  get hasClosed(): boolean {
    return this.isClosed;
  }

  /** `true` when the connection is TLS-protected. */
  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** Write raw bytes or text. */
  send(data: string | Uint8Array | XmlElement): void {
    if (this.isClosed || this.socket.destroyed) return;
    this.socket.write(data instanceof XmlElement ? serialize(data, { defaultNs: NS.CLIENT }) : data);
  }

  /** The next event, waiting at most `timeoutMs` (rejects on timeout). After the close, always `close`. */
  async next(timeoutMs = 3000): Promise<RawEvent> {
    const ev = await this.events.next(timeoutMs, () => (this.isClosed ? { type: 'close' } : undefined));
    if (ev === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for data from the server; received so far: ${this.transcript()}`);
    return ev;
  }

  /** The next event, which must be an element. */
  async expectElement(timeoutMs = 3000): Promise<XmlElement> {
    const ev = await this.next(timeoutMs);
    if (ev.type !== 'element') throw new Error(`expected an element, got ${describeEvent(ev)}; received so far: ${this.transcript()}`);
    return ev.element;
  }

  /** Consume events until an element satisfies `pred` (others are skipped); rejects on close or timeout. */
  async waitForElement(pred: (el: XmlElement) => boolean, timeoutMs = 3000, what = 'a matching element'): Promise<XmlElement> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.transcript()}`);
      const ev = await this.next(left).catch(() => undefined);
      if (ev === undefined) continue;
      if (ev.type === 'close') throw new Error(`connection closed while waiting for ${what}; received: ${this.transcript()}`);
      if (ev.type === 'element' && pred(ev.element)) return ev.element;
    }
  }

  /** Every event until the socket closes (the final `close` included). Rejects after `timeoutMs`. */
  async readUntilClose(timeoutMs = 3000): Promise<RawEvent[]> {
    const out: RawEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`connection still open after ${timeoutMs} ms; received: ${this.transcript()}`);
      const ev = await this.next(left).catch(() => undefined);
      if (ev === undefined) continue;
      out.push(ev);
      if (ev.type === 'close') return out;
    }
  }

  /** Events that arrive within `ms` (whatever they are), consumed. */
  async drain(ms: number): Promise<RawEvent[]> {
    await sleep(ms);
    return this.events.drain();
  }

  /** Send a stream header; return the server's header and features. */
  async openStream(header: StreamHeaderOptions = {}, timeoutMs = 3000): Promise<{ header: XmlElement; features: XmlElement }> {
    this.send(streamHeader(header));
    const start = await this.next(timeoutMs);
    if (start.type !== 'streamStart') throw new Error(`expected the server's stream header, got ${describeEvent(start)}`);
    const features = await this.expectElement(timeoutMs);
    if (!features.is('features', NS.STREAMS)) throw new Error(`expected <stream:features/>, got ${serialize(features)}`);
    return { header: start.header, features };
  }

  /** STARTTLS (RFC 6120 §5.4), trusting `ca`; afterwards a new stream must be opened. */
  async startTls(ca: string, timeoutMs = 3000): Promise<void> {
    this.send(xml('starttls', { xmlns: NS.TLS }));
    const proceed = await this.expectElement(timeoutMs);
    if (!proceed.is('proceed', NS.TLS)) throw new Error(`expected <proceed/>, got ${serialize(proceed)}`);
    const plain = this.socket;
    this.detach(plain);
    const secure = tls.connect({ socket: plain, ca, servername: 'localhost' });
    this.socket = secure;
    this.parser = new StreamParser({ maxStanzaSize: 1 << 20 });
    this.attach(secure);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      }),
      timeoutMs,
      'TLS handshake',
    );
  }

  /** SASL PLAIN (RFC 4616); returns the server's `<success/>` or `<failure/>`. */
  async authPlain(user: string, password: string, timeoutMs = 3000): Promise<XmlElement> {
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    this.send(xml('auth', { xmlns: NS.SASL, mechanism: 'PLAIN' }, token));
    const answer = await this.expectElement(timeoutMs);
    // RFC 6120 §6.4.6: after success the server's next data is a new stream header.
    if (answer.is('success', NS.SASL)) this.parser = new StreamParser({ maxStanzaSize: 1 << 20 });
    return answer;
  }

  /** Send an IQ and wait for the answer with the same id. */
  async iq(type: 'get' | 'set', payload: XmlElement, to?: string, timeoutMs = 3000): Promise<XmlElement> {
    const id = `raw-${++iqCounter}`;
    this.send(xml('iq', { type, id, to }, payload));
    return this.waitForElement((el) => el.is('iq') && el.attr('id') === id, timeoutMs, `the answer to iq ${id}`);
  }

  /**
   * Log in: stream, optional STARTTLS, SASL PLAIN, resource binding (and the legacy session
   * IQ when the server requires it). Returns the bound full JID.
   */
  async login(o: { user: string; password: string; domain?: string; resource?: string; starttls?: { ca: string } }): Promise<string> {
    const domain = o.domain ?? 'localhost';
    let { features } = await this.openStream({ to: domain });
    if (o.starttls) {
      if (!features.getChild('starttls', NS.TLS)) throw new Error(`STARTTLS not offered: ${serialize(features)}`);
      await this.startTls(o.starttls.ca);
      ({ features } = await this.openStream({ to: domain }));
    }
    const mechanisms = features.getChild('mechanisms', NS.SASL)?.getChildren('mechanism').map((m) => m.text()) ?? [];
    if (!mechanisms.includes('PLAIN')) throw new Error(`PLAIN not offered: ${serialize(features)}`);
    const answer = await this.authPlain(o.user, o.password);
    if (!answer.is('success', NS.SASL)) throw new Error(`SASL PLAIN failed: ${serialize(answer)}`);
    ({ features } = await this.openStream({ to: domain }));
    if (!features.getChild('bind', NS.BIND)) throw new Error(`no bind feature: ${serialize(features)}`);
    const bound = await this.iq('set', xml('bind', { xmlns: NS.BIND }, o.resource === undefined ? null : xml('resource', {}, o.resource)));
    const jid = bound.getChild('bind', NS.BIND)?.getChildText('jid');
    if (bound.attr('type') !== 'result' || !jid) throw new Error(`bind failed: ${serialize(bound)}`);
    const session = features.getChild('session', NS.SESSION);
    if (session && !session.getChild('optional')) {
      const r = await this.iq('set', xml('session', { xmlns: NS.SESSION }));
      if (r.attr('type') !== 'result') throw new Error(`session failed: ${serialize(r)}`);
    }
    return jid;
  }

  /** Close gracefully (RFC 6120 §4.4): our trailer, wait for the server's close; destroy if it lingers. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.isClosed) return;
    this.send('</stream:stream>');
    try {
      await withTimeout(this.closed, timeoutMs, 'the server to close the connection');
    } catch {
      this.destroy();
      await this.closed;
    }
  }

  /** Tear the socket down now. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Everything received so far, one event per line (for failure messages). */
  transcript(): string {
    return this.log.length === 0 ? '(nothing)' : '\n  ' + this.log.map(describeEvent).join('\n  ');
  }

  private push(ev: RawEvent): void {
    this.events.push(ev);
  }

  private readonly onData = (chunk: Buffer): void => {
    let events: StreamEvent[];
    try {
      events = this.parser.push(chunk);
    } catch (error) {
      // A failed parser rethrows on every push: report the failure once.
      if (!this.log.some((e) => e.type === 'parseError')) this.push({ type: 'parseError', error: error as Error });
      return;
    }
    for (const ev of events) this.push(ev);
  };

  private readonly onClose = (): void => {
    if (this.isClosed) return;
    this.isClosed = true;
    this.push({ type: 'close' });
    this.markClosed();
  };

  // ECONNRESET and friends end in 'close'; the error itself is not what tests assert on.
  private readonly onError = (): void => {};

  private attach(s: net.Socket): void {
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', this.onError);
  }

  private detach(s: net.Socket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('error', this.onError);
  }
}
