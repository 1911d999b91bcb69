/**
 * A deliberately small raw-TCP XMPP client for load generation: plain-text c2s on loopback,
 * SASL PLAIN, resource binding, initial presence, and batched writes. No XMPP library, so
 * the client's own cost per stanza is a few string operations.
 */
import { connect, type Socket } from 'node:net';
import { XmlFramer, attr, childText, escapeXml, isElement } from './xml-framer.ts';

export interface Endpoint {
  host: string;
  port: number;
  /** The XMPP domain users live on (`localhost`). */
  domain: string;
}

export interface Account {
  username: string;
  password: string;
}

export type StanzaHandler = (raw: string, conn: BenchConnection) => void;

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';

// Writes are coalesced per event-loop turn: at saturation one socket.write per stanza costs
// more client CPU than the servers spend routing it, which would make the client the bottleneck.
const dirty: BenchConnection[] = [];
let flushScheduled = false;
function flushDirty(): void {
  flushScheduled = false;
  const list = dirty.splice(0, dirty.length);
  for (const conn of list) conn.flush();
}

export class BenchConnection {
  readonly socket: Socket;
  /** Full JID from the bind result; empty until logged in. */
  jid = '';
  /** Receives every stanza after login (and any the login steps did not consume). */
  onStanza: StanzaHandler | null = null;
  /** Set once the socket closed; the reason is kept for error reports. */
  closed: string | null = null;
  onClose: ((conn: BenchConnection) => void) | null = null;

  readonly #framer: XmlFramer;
  readonly #endpoint: Endpoint;
  #queue: string[] = [];
  #waiter: { resolve: (raw: string) => void; reject: (err: Error) => void } | null = null;
  #out: string[] = [];
  #isDirty = false;
  #iqId = 0;

  private constructor(socket: Socket, endpoint: Endpoint) {
    this.socket = socket;
    this.#endpoint = endpoint;
    this.#framer = new XmlFramer({
      streamStart: () => {},
      element: (raw) => this.#deliver(raw),
      streamEnd: () => this.#fail('server closed the stream'),
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#framer.push(chunk));
    socket.on('error', (err) => this.#fail(err.message));
    socket.on('close', () => this.#fail('socket closed'));
  }

  static open(endpoint: Endpoint, timeoutMs = 30_000): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new BenchConnection(socket, endpoint));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Queue raw XML; written with everything else queued in this event-loop turn. */
  send(xml: string): void {
    if (this.closed !== null) return;
    this.#out.push(xml);
    if (!this.#isDirty) {
      this.#isDirty = true;
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushDirty);
      }
    }
  }

  flush(): void {
    this.#isDirty = false;
    if (this.#out.length === 0 || this.closed !== null) return;
    const data = this.#out.length === 1 ? this.#out[0]! : this.#out.join('');
    this.#out = [];
    this.socket.write(data);
  }

  /** The next top-level element that no handler consumed (login steps use this). */
  next(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed !== null) return Promise.reject(new Error(this.closed));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Opens (or restarts) the stream and returns the `<stream:features/>` element. */
  async openStream(): Promise<string> {
    this.#framer.reset();
    this.send(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${this.#endpoint.domain}' version='1.0'>`,
    );
    const features = await this.next();
    if (!isElement(features, 'stream:features')) throw new Error(`expected features, got ${features.slice(0, 200)}`);
    return features;
  }

  /**
   * Full login as RFC 6120/6121 describe it, strictly one step after the other: pipelining
   * (sending auth before features arrive) is not accepted by every server measured, and all
   * targets must run the same client.
   */
  async login(account: Account, resource = 'bench'): Promise<void> {
    const features = await this.openStream();
    if (!features.includes('>PLAIN<')) throw new Error(`server does not offer SASL PLAIN: ${features.slice(0, 300)}`);
    const initial = Buffer.from(`\0${account.username}\0${account.password}`, 'utf8').toString('base64');
    this.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${initial}</auth>`);
    const outcome = await this.next();
    if (!isElement(outcome, 'success')) throw new Error(`SASL failed for ${account.username}: ${outcome.slice(0, 200)}`);
    const features2 = await this.openStream();
    const bindId = `bind${++this.#iqId}`;
    this.send(
      `<iq type='set' id='${bindId}'><bind xmlns='${NS_BIND}'><resource>${escapeXml(resource)}</resource></bind></iq>`,
    );
    const bound = await this.#iqResult(bindId);
    this.jid = childText(bound, 'jid') ?? '';
    if (this.jid === '') throw new Error(`bind result without a JID: ${bound.slice(0, 200)}`);
    // RFC 6121 legacy session: only when advertised as mandatory (no <optional/>, RFC 3921bis).
    const sessionAt = features2.indexOf(NS_SESSION);
    if (sessionAt !== -1) {
      const sessionEnd = features2.indexOf('</session>', sessionAt);
      const optional = sessionEnd !== -1 && features2.slice(sessionAt, sessionEnd).includes('<optional');
      if (!optional) {
        const sessionId = `sess${++this.#iqId}`;
        this.send(`<iq type='set' id='${sessionId}'><session xmlns='${NS_SESSION}'/></iq>`);
        await this.#iqResult(sessionId);
      }
    }
    this.send('<presence/>');
  }

  /** XEP-0077 in-band registration on an unauthenticated stream; an existing account is fine. */
  async register(account: Account): Promise<'created' | 'exists'> {
    // The features are not checked for iq-register: the IQ's answer is the authoritative test.
    await this.openStream();
    const id = `reg${++this.#iqId}`;
    this.send(
      `<iq type='set' id='${id}'><query xmlns='jabber:iq:register'><username>${escapeXml(account.username)}</username><password>${escapeXml(account.password)}</password></query></iq>`,
    );
    const answer = await this.next();
    if (attr(answer, 'type') === 'result') return 'created';
    if (answer.includes('<conflict')) return 'exists';
    throw new Error(`registration of ${account.username} failed: ${answer.slice(0, 300)}`);
  }

  /** Graceful close: end the stream, then drop the socket if the server does not answer. */
  close(): void {
    if (this.closed !== null) return;
    this.flush();
    this.socket.end('</stream:stream>');
    const timer = setTimeout(() => this.socket.destroy(), 2_000);
    timer.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async #iqResult(id: string): Promise<string> {
    for (;;) {
      const raw = await this.next();
      if (!isElement(raw, 'iq') || attr(raw, 'id') !== id) continue;
      if (attr(raw, 'type') === 'result') return raw;
      throw new Error(`iq ${id} failed: ${raw.slice(0, 300)}`);
    }
  }

  #deliver(raw: string): void {
    if (this.onStanza !== null) {
      this.onStanza(raw, this);
      return;
    }
    if (isElement(raw, 'stream:error')) {
      this.#fail(`stream error: ${raw.slice(0, 300)}`);
      return;
    }
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.resolve(raw);
    } else {
      this.#queue.push(raw);
    }
  }

  #fail(reason: string): void {
    if (this.closed === null) {
      this.closed = reason;
      this.onClose?.(this);
    }
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.reject(new Error(reason));
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
