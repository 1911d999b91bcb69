/**
 * The streaming XMPP parser: framer → UTF-8 check (in `ElementBuilder.begin`) → shared
 * sax-wasm tokenizer → element builder (DESIGN.md "Parsing"). One {@link StreamParser} per
 * connection; it holds only the framer's few integers of state, an unfinished frame's bytes
 * and the stream's namespace scope. The tokenizer and the builder are shared by the process.
 *
 * @module
 */
import { StreamError } from '../errors.ts';
import type { XmlElement } from './element.ts';
import { ElementBuilder, rootScope, type NsScope } from './element-builder.ts';
import { DEFAULT_MAX_STANZA_SIZE, Framer, FrameKind } from './framer.ts';
import { sharedTokenizer, type TokenSink, type TokenizerKind } from './tokenizer.ts';

/** What {@link StreamParser.push} reports, in stream order. */
export type StreamEvent =
  /**
   * The stream header. `header` is the root start tag as an element (name `stream`, ns
   * `http://etherx.jabber.org/streams` when correct; attributes `to`, `from`, `version`,
   * `xml:lang`, `id`…). `contentNs` is the default namespace the header declares. The parser
   * does **not** reject a wrong root or content namespace: the c2s answers with its own
   * header first, then sends `<invalid-namespace/>` (RFC 6120 §4.9.3.10).
   *
   * A top-level start tag with the root's qualified name arriving without {@link
   * StreamParser.reset} (a second header) is also reported as `streamStart`, as soon as its
   * start tag is complete; whether that is allowed is the c2s's call (it answers
   * `policy-violation`). The parser stays usable: that header opens a new stream (new root,
   * new scope), exactly as if `reset()` had been called just before it.
   */
  | { type: 'streamStart'; header: XmlElement; contentNs: string | undefined }
  /**
   * A complete top-level stanza; `ns` resolved in the header's scope (its default namespace,
   * e.g. `jabber:client`; `stream:features` → the streams namespace). `size` is its size in
   * bytes on the wire.
   */
  | { type: 'element'; element: XmlElement; size: number }
  /**
   * `</stream:stream>` (the end tag must repeat the header's qualified name, else
   * `not-well-formed`); also reported right after `streamStart` for a self-closing header.
   * Only whitespace may follow.
   */
  | { type: 'streamEnd' };

/** Options of a {@link StreamParser}. */
export interface StreamParserOptions {
  /**
   * Largest stanza, stream header or XML declaration in bytes (default 65536). A larger one
   * fails with `policy-violation` before any of it is buffered for the tokenizer.
   */
  maxStanzaSize?: number;
  /** Who finds the start tags (default `'sax-wasm'`); see {@link TokenizerKind}. */
  tokenizer?: TokenizerKind;
}

// Shared by every parser of the process: building is synchronous and never re-entered.
const builder = new ElementBuilder();
const EMPTY_SCOPE = rootScope(undefined);

/**
 * Parses one XMPP stream (RFC 6120 §4) from raw bytes in arbitrary chunks.
 *
 * Every failure is a {@link StreamError} with the RFC 6120 §4.9.3 condition to send:
 * `not-well-formed`, `restricted-xml`, `policy-violation`, `bad-namespace-prefix`,
 * `unsupported-encoding`. Invalid UTF-8 is `not-well-formed` (RFC 6120 §11.6 reserves
 * `unsupported-encoding` for a declared non-UTF-8 encoding; bytes that are not UTF-8 are
 * simply not XML).
 */
export class StreamParser {
  private readonly framer: Framer;
  private events: StreamEvent[] = [];
  private scope: NsScope = EMPTY_SCOPE;
  private qname = '';
  private failure: StreamError | undefined;

  private readonly builtin: boolean;

  constructor(opts: StreamParserOptions = {}) {
    this.builtin = opts.tokenizer === 'builtin';
    this.framer = new Framer(this.onFrame, { maxSize: opts.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE });
  }

  /**
   * Feed bytes; returns the events completed by this chunk, in order.
   *
   * On malformed input the parser fails for good and records the {@link StreamError} in
   * {@link error}. Events completed *before* the fault in the same chunk are not lost (a
   * header and a bad stanza in one TCP read: the c2s must still answer the header first):
   * - if the failing chunk completed events, `push()` returns them and does not throw;
   * - otherwise (and on any call after the failure) it throws {@link error}.
   *
   * So a caller delivers the returned events, then checks {@link error}; a caller that only
   * catches still sees every error, at the latest on its next `push()`.
   */
  push(chunk: Uint8Array): StreamEvent[] {
    if (this.failure) throw this.failure;
    const events: StreamEvent[] = [];
    this.events = events;
    this.chunk = chunk;
    let error: unknown;
    try {
      this.framer.push(chunk);
    } catch (e) {
      error = e;
    }
    // Stanzas framed before a framer error come before it in the stream: build them first,
    // and if one of them is bad, that error is the stream's.
    try {
      this.flush();
    } catch (e) {
      error = e;
    }
    this.chunk = EMPTY;
    if (error !== undefined) {
      this.failure = error instanceof StreamError ? error : new StreamError('internal-server-error', String(error));
      if (events.length === 0) throw this.failure;
    }
    return events;
  }

  /** The error the parser failed with, if it failed (see {@link push}). */
  get error(): StreamError | undefined {
    return this.failure;
  }

  /**
   * Expect a fresh stream header (after STARTTLS or SASL success, RFC 6120 §5.4.3.3 and
   * §6.4.6): forget the old root, its scope and any buffered partial data.
   */
  reset(): void {
    this.framer.reset();
    this.scope = EMPTY_SCOPE;
    this.qname = '';
    // Whatever failed belonged to the old stream, like the partial data dropped above (e.g.
    // garbage pipelined after `<starttls/>`, which RFC 6120 §5.4.3.3 says to discard).
    this.failure = undefined;
  }

  // Stanza frames of the current push, tokenized together (one wasm write for many stanzas).
  private batch: Uint8Array[] = [];
  private batchCount = 0;
  private batchDone = 0;
  private chunk: Uint8Array = EMPTY;

  private readonly onFrame = (kind: FrameKind, bytes: Uint8Array): void => {
    if (kind === FrameKind.Stanza) {
      if (this.builtin) {
        builder.begin(bytes, this.scope);
        builder.scan();
        this.events.push({ type: 'element', element: builder.finish(), size: bytes.length });
        return;
      }
      // A frame that began in an earlier chunk is a view of the framer's reusable buffer,
      // which the rest of this chunk may overwrite before the batch runs: keep a copy (at most
      // one per push). Frames inside the chunk are views of it, stable during push().
      const frame = bytes.buffer === this.chunk.buffer ? bytes : bytes.slice();
      this.batch[this.batchCount++] = frame;
      if (this.batchCount >= MAX_BATCH) this.flush();
      return;
    }
    this.flush();
    if (kind === FrameKind.Header) {
      builder.begin(bytes, EMPTY_SCOPE, true);
      if (this.builtin) builder.scan();
      else sharedTokenizer().tokenize(bytes, builder);
      const info = builder.finishHeader();
      this.scope = info.scope;
      this.qname = info.qname;
      this.events.push({ type: 'streamStart', header: info.element, contentNs: info.contentNs });
    } else {
      // An empty End frame stands for a self-closing header.
      if (bytes.length > 0 && !isStreamClose(bytes, this.qname)) throw new StreamError('not-well-formed', 'mismatched stream end tag');
      this.events.push({ type: 'streamEnd' });
    }
  };

  /** Build the batched stanzas, in order; an error stops at the first bad one. */
  private flush(): void {
    const n = this.batchCount;
    if (n === 0) return;
    this.batchDone = 0;
    builder.begin(this.batch[0]!, this.scope);
    try {
      sharedTokenizer().tokenizeFrames(this.batch, n, this.sink);
    } finally {
      this.batch.fill(EMPTY, 0, n);
      this.batchCount = 0;
    }
  }

  // The tokenizer's sink: start tags go straight to the builder; at the end of each frame the
  // element is finished and the next frame begun.
  private readonly sink: TokenSink = {
    startTag: (start, nameLen) => builder.startTag(start, nameLen),
    endFrame: () => {
      const frame = this.batch[this.batchDone]!;
      this.events.push({ type: 'element', element: builder.finish(), size: frame.length });
      const next = ++this.batchDone;
      if (next < this.batchCount) builder.begin(this.batch[next]!, this.scope);
    },
  };
}

/** Stanzas per tokenizer run at most (the tokenizer splits a run into 64 KiB writes anyway). */
const MAX_BATCH = 1024;
const EMPTY = new Uint8Array(0);

/** `bytes` is `</qname S? >`. */
function isStreamClose(bytes: Uint8Array, qname: string): boolean {
  if (bytes[0] !== 0x3c || bytes[1] !== 0x2f) return false;
  const q = Buffer.from(qname);
  let i = 2;
  for (let k = 0; k < q.length; k++, i++) if (bytes[i] !== q[k]) return false;
  for (; i < bytes.length - 1; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return i === bytes.length - 1 && bytes[i] === 0x3e;
}
