// Helpers of the transport tests: an event recorder, a tiny fake clock, a test certificate and
// a byte collector for client sockets. Everything waits on events, never on wall-clock time.
import { generate } from 'selfsigned';
import type { TransportEvents, XmppTransport } from '../../../src/c2s/transport.ts';
import type { StreamEvent } from '../../../src/core/xml/stream-parser.ts';
import type { StreamError } from '../../../src/core/errors.ts';
import type { Clock } from '../../../src/core/clock.ts';

export type Recorded = StreamEvent | { type: 'streamError'; error: StreamError } | { type: 'close' } | { type: 'socketError'; error: Error };

/** Records transport events; `next(type)` resolves with the next event of that type. */
export class Recorder implements TransportEvents {
  readonly events: Recorded[] = [];
  #read = 0;
  #waiters: (() => void)[] = [];
  onStreamEvent(ev: StreamEvent): void {
    this.#add(ev);
  }
  onStreamError(error: StreamError): void {
    this.#add({ type: 'streamError', error });
  }
  onClose(): void {
    this.#add({ type: 'close' });
  }
  onSocketError(error: Error): void {
    this.#add({ type: 'socketError', error });
  }
  #add(r: Recorded): void {
    this.events.push(r);
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
  /** The next not-yet-consumed event (waits for it). */
  async next(): Promise<Recorded> {
    while (this.#read >= this.events.length) await new Promise<void>((r) => this.#waiters.push(r));
    return this.events[this.#read++]!;
  }
  /** Skip to the next event of `type`. */
  async nextOf<T extends Recorded['type']>(type: T): Promise<Extract<Recorded, { type: T }>> {
    for (;;) {
      const e = await this.next();
      if (e.type === type) return e as Extract<Recorded, { type: T }>;
    }
  }
}

/** A fake clock: timers fire only on `advance`. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #seq = 0;
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    this.#now += ms;
    for (const [id, t] of [...this.#timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.#now && this.#timers.delete(id)) t.fn();
    }
  }
}

let certPromise: Promise<{ key: string; cert: string }> | undefined;
/** One self-signed EC P-256 / SHA-256 certificate for the whole test process. */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  return (certPromise ??= generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' }).then((p) => ({
    key: p.private,
    cert: p.cert,
  })));
}

/** Collects what a client socket receives; `until(s)` resolves once the text contains `s`. */
export class Collector {
  text = '';
  chunks = 0;
  #waiters: (() => void)[] = [];
  ended = false;
  constructor(stream: { on(ev: 'data', f: (b: Buffer | string) => void): unknown; on(ev: 'close', f: () => void): unknown }) {
    stream.on('data', (b) => {
      this.text += b.toString();
      this.chunks++;
      this.#wake();
    });
    stream.on('close', () => {
      this.ended = true;
      this.#wake();
    });
  }
  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
  async until(s: string): Promise<string> {
    while (!this.text.includes(s)) {
      if (this.ended) throw new Error(`stream ended without ${JSON.stringify(s)}; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.text;
  }
  async closed(): Promise<void> {
    while (!this.ended) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

/** A queue of transports handed out by a listener. */
export class Accepted {
  #list: XmppTransport[] = [];
  #waiters: (() => void)[] = [];
  readonly push = (t: XmppTransport): void => {
    this.#list.push(t);
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  };
  async next(): Promise<XmppTransport> {
    while (this.#list.length === 0) await new Promise<void>((r) => this.#waiters.push(r));
    return this.#list.shift()!;
  }
}

export const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";
