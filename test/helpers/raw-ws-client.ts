/**
 * A raw XMPP-over-WebSocket (RFC 7395) connection for tests: every message the server sends is
 * parsed as one element with the project's `parseElement`, so tests see `<open/>`,
 * `<stream:error/>` and `<close/>` exactly as sent.
 * @module
 */
import { WebSocket } from 'ws';
import { parseElement } from '../../src/core/xml/parse-element.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { withTimeout, sleep } from './wait.ts';
import { EventQueue } from './event-queue.ts';

/** What the server sent: an element, an unparsable message, or the WebSocket close. */
export type WsEvent =
  | { readonly type: 'element'; readonly element: XmlElement; readonly raw: string }
  | { readonly type: 'parseError'; readonly raw: string; readonly error: Error }
  | { readonly type: 'close'; readonly code: number };

/** See the module comment. */
export class RawWsClient {
  private readonly events = new EventQueue<WsEvent>();
  readonly log: WsEvent[] = this.events.log;
  private closedCode: number | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const raw = isBinary ? `<binary ${data.length} bytes>` : data.toString('utf8');
      try {
        this.push({ type: 'element', element: parseElement(raw), raw });
      } catch (error) {
        this.push({ type: 'parseError', raw, error: error as Error });
      }
    });
    ws.on('close', (code: number) => {
      this.closedCode = code;
      this.push({ type: 'close', code });
    });
    ws.on('error', () => {});
  }

  /** Connect with subprotocol `xmpp` (RFC 7395 §3.2). */
  static async connect(url: string, timeoutMs = 3000): Promise<RawWsClient> {
    const ws = new WebSocket(url, 'xmpp');
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        }),
        timeoutMs,
        `WebSocket ${url}`,
      );
    } catch (err) {
      ws.terminate();
      throw err;
    }
    return new RawWsClient(ws);
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get hasClosed(): boolean {
    return this.closedCode !== undefined;
  }

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** The next event within `timeoutMs` (rejects on timeout). */
  async next(timeoutMs = 3000): Promise<WsEvent> {
    const ev = await this.events.next(timeoutMs, () => (this.closedCode === undefined ? undefined : { type: 'close', code: this.closedCode }));
    if (ev === undefined) throw new Error(`timed out after ${timeoutMs} ms; received: ${this.transcript()}`);
    return ev;
  }

  async expectElement(timeoutMs = 3000): Promise<XmlElement> {
    const ev = await this.next(timeoutMs);
    if (ev.type !== 'element') throw new Error(`expected an element, got ${ev.type}; received: ${this.transcript()}`);
    return ev.element;
  }

  /** Every event until the WebSocket closes (the close included). */
  async readUntilClose(timeoutMs = 3000): Promise<WsEvent[]> {
    const out: WsEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = await this.next(Math.max(1, deadline - Date.now()));
      out.push(ev);
      if (ev.type === 'close') return out;
    }
  }

  /** Close the WebSocket; terminate it if the closing handshake lingers. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closedCode !== undefined) return;
    this.ws.close(1000);
    const deadline = Date.now() + timeoutMs;
    while (this.closedCode === undefined && Date.now() < deadline) await sleep(10);
    if (this.closedCode === undefined) this.ws.terminate();
    for (let i = 0; i < 100 && this.closedCode === undefined; i++) await sleep(10);
  }

  transcript(): string {
    return this.log.map((e) => (e.type === 'close' ? `close ${e.code}` : e.raw)).join(' | ') || '(nothing)';
  }

  private push(ev: WsEvent): void {
    this.events.push(ev);
  }
}
