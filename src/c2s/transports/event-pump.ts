/**
 * The ordered, pausable hand-off of {@link StreamEvent}s from a socket to the connection,
 * shared by the TCP and WebSocket transports.
 *
 * Guarantees of {@link TransportEvents}: events arrive in stream order, never re-entrantly (a
 * callback that calls `resume()` or sends does not receive another event before it returns),
 * nothing after `onClose`, and the close/error notifications come after every stream event
 * already read (a client that sends a message and closes gets its message processed).
 * @module
 */
import type { TransportEvents } from '../transport.ts';
import type { StreamEvent } from '../../core/xml/stream-parser.ts';
import type { StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** See the module comment. Internal to the transports. */
export class EventPump {
  #events: TransportEvents | undefined;
  #queue: StreamEvent[] = [];
  #head = 0;
  #paused = false;
  #draining = false;
  #scheduled = false;
  #streamError: StreamError | undefined;
  #socketError: Error | undefined;
  #closed = false;
  #closeEmitted = false;
  /** Set when the connection asked to close: it wants no more stream events. */
  #discarding = false;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get attached(): boolean {
    return this.#events !== undefined;
  }

  /** `true` once `onClose` was emitted. */
  get finished(): boolean {
    return this.#closeEmitted;
  }

  attach(events: TransportEvents): void {
    if (this.#events !== undefined) throw new Error('transport already attached');
    this.#events = events;
    this.#schedule();
  }

  /** Queue an event read from the socket and deliver what can be delivered. */
  push(ev: StreamEvent): void {
    if (this.#discarding || this.#streamError !== undefined || this.#closed) return;
    this.#queue.push(ev);
  }

  /** The input failed to parse: after the queued events, `onStreamError`, then nothing more. */
  streamError(err: StreamError): void {
    if (this.#streamError === undefined && !this.#closed) this.#streamError = err;
  }

  socketError(err: Error): void {
    if (this.#socketError === undefined && !this.#closed) this.#socketError = err;
  }

  /** The socket is closed: after the queued events, `onClose`. */
  closed(): void {
    this.#closed = true;
  }

  /** Forget queued events (a new stream starts: STARTTLS, SASL success). */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
  }

  /** The connection is closing: drop queued and future stream events, keep close notifications. */
  discard(): void {
    this.#discarding = true;
    this.#streamError = undefined;
    this.clear();
    // A closing connection that paused reading must still hear about the socket closing.
    this.#paused = false;
    this.#schedule();
  }

  pause(): void {
    this.#paused = true;
  }

  /** Resume delivery on a later turn (never inside the caller's stack). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.drain();
    });
  }

  /** Deliver what is deliverable now. Called from socket callbacks (not re-entrant by construction). */
  drain(): void {
    const events = this.#events;
    if (events === undefined || this.#draining || this.#closeEmitted) return;
    this.#draining = true;
    try {
      while (!this.#paused) {
        if (this.#head < this.#queue.length) {
          const ev = this.#queue[this.#head]!;
          this.#queue[this.#head++] = undefined as unknown as StreamEvent;
          // Inline rather than `#call(() => …)`: no closure per stanza on the hot path.
          try {
            events.onStreamEvent(ev);
          } catch (err) {
            this.#handlerThrew(err);
          }
          continue;
        }
        if (this.#head > 0) {
          // Everything was consumed: reuse the array (one allocation less per socket read).
          this.#queue.length = 0;
          this.#head = 0;
        }
        if (this.#streamError !== undefined) {
          const err = this.#streamError;
          this.#streamError = undefined;
          this.#discarding = true;
          this.#call(() => events.onStreamError(err));
          continue;
        }
        if (this.#closed) {
          if (this.#socketError !== undefined) {
            const err = this.#socketError;
            this.#socketError = undefined;
            this.#call(() => events.onSocketError(err));
          }
          this.#closeEmitted = true;
          this.#call(() => events.onClose());
        }
        break;
      }
    } finally {
      this.#draining = false;
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#handlerThrew(err);
    }
  }

  #handlerThrew(err: unknown): void {
    // A connection bug must not become an uncaught exception in a socket callback.
    this.#logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'transport event handler threw');
  }
}
