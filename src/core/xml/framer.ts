/**
 * The per-connection XML framer: step 1 of the parsing pipeline (DESIGN.md "Parsing").
 *
 * It scans raw bytes, keeps a handful of integers of state, and cuts the stream into frames:
 * the optional XML declaration, the stream header start tag, each complete top-level stanza
 * (depth 1 under the stream root) and the closing `</stream:stream>`. A top-level start tag
 * with the root's qualified name is a new stream header, not a stanza (see
 * {@link FrameKind.Header}). Only complete frames go on to the shared sax-wasm tokenizer,
 * which is how we sidestep every chunk-boundary bug of sax-wasm (reference/dependencies.md
 * §1.6): nothing ever spans a `write()`.
 *
 * The framer only looks at ASCII bytes (`<`, `>`, `/`, quotes, whitespace, control bytes), so
 * a multi-byte UTF-8 sequence, an entity or a name split across reads needs no special care.
 * It rejects early, before anything is buffered:
 * - a frame longer than `maxSize` → `policy-violation` (also for the header and for a frame
 *   that has not finished yet, so a peer cannot make us buffer an endless token);
 * - `<!` (DOCTYPE, comment, CDATA) and `<?` (processing instruction) → `restricted-xml`
 *   (RFC 6120 §11.1), so a billion-laughs DOCTYPE never reaches a parser;
 * - character data between stanzas other than whitespace keepalives → `not-well-formed`;
 * - C0 control characters other than TAB/LF/CR (not XML 1.0 `Char`s) → `not-well-formed`;
 * - an XML declaration anywhere but at the very start, or declaring an encoding other than
 *   UTF-8 → `unsupported-encoding` (RFC 6120 §11.6: UTF-8 only).
 *
 * @module
 */
import { StreamError } from '../errors.ts';

/** Kind of a complete frame handed to {@link FrameSink}. */
export const FrameKind = {
  /**
   * The stream header start tag (`<stream:stream …>`), without its end. Also a top-level
   * start tag with the root's qualified name (a second header without `reset()`): it is
   * reported as soon as its start tag is complete and opens a new stream.
   */
  Header: 1,
  /** One complete top-level stanza (or, in fragment mode, the single element). */
  Stanza: 2,
  /** The stream's close tag (`</stream:stream>`); for a self-closing header, an empty frame. */
  End: 3,
} as const;
/** See {@link FrameKind}. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/**
 * Receives complete frames, synchronously and in order. `bytes` is only valid during the
 * call (it may be a view of the framer's reusable buffer or of the caller's chunk).
 */
export type FrameSink = (kind: FrameKind, bytes: Uint8Array) => void;

/** Options of a {@link Framer}. */
export interface FramerOptions {
  /** Largest frame in bytes (header, stanza, declaration). Default 65536. */
  maxSize?: number;
  /**
   * Fragment mode: no stream header, the input is a sequence of top-level elements (used by
   * `parseElement`). Whitespace between them is ignored as usual.
   */
  fragment?: boolean;
}

/** Default `maxStanzaSize`, as ejabberd / Prosody ship it. */
export const DEFAULT_MAX_STANZA_SIZE = 65536;

// Scanner states. Plain integers so the hot loop is a switch on a small int.
const S_START = 0; // very first bytes of a stream: BOM or XML declaration allowed
const S_BOM1 = 1; // saw EF
const S_BOM2 = 2; // saw EF BB
const S_PROLOG = 3; // before the header, after the declaration (whitespace only)
const S_PROLOG_LT = 4; // saw `<` in the prolog
const S_DECL = 5; // inside `<?…`
const S_HEADER = 6; // inside the stream header start tag
const S_BETWEEN = 7; // depth 0 under the root, between stanzas
const S_BETWEEN_LT = 8; // saw `<` between stanzas
const S_END_TAG = 9; // inside `</…` of the stream root
const S_TEXT = 10; // character data inside a stanza
const S_LT = 11; // saw `<` inside a stanza
const S_OPEN = 12; // inside a start tag of (or within) a stanza
const S_CLOSE = 13; // inside an end tag within a stanza
const S_DONE = 14; // after the stream's close tag: only whitespace
const S_FAILED = 15;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUOT = 0x22;
const APOS = 0x27;
const BANG = 0x21;
const QMARK = 0x3f;

/** Bytes of a start tag, outside quotes, that need no action: not `>` `/` `"` `'` `<`, no C0 control but TAB/LF/CR. */
const TAG_PLAIN = new Uint8Array(256);
/** Bytes of an end tag that need no action: not `>` `<`, no C0 control but TAB/LF/CR. */
const END_PLAIN = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const ok = b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  END_PLAIN[b] = ok && b !== GT && b !== LT ? 1 : 0;
  TAG_PLAIN[b] = END_PLAIN[b] === 1 && b !== SLASH && b !== QUOT && b !== APOS ? 1 : 0;
}

/** `true` for the four XML whitespace bytes (S production). */
function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** A byte that may not follow `<` as the first byte of a name. */
function badNameStart(b: number): boolean {
  return b <= 0x20 || b === LT || b === GT || b === QUOT || b === APOS || b === 0x3d /* = */;
}

function controlError(): StreamError {
  return new StreamError('not-well-formed', 'control character');
}

/**
 * Splits a byte stream into frames. One per connection; call {@link Framer.reset} when a new
 * stream starts on the same connection (after STARTTLS or SASL success).
 */
export class Framer {
  private readonly maxSize: number;
  private readonly fragment: boolean;
  private readonly sink: FrameSink;
  private state: number;
  private depth = 0; // open elements inside the current stanza
  private quote = 0; // 0 or the quote byte we are inside, in a tag
  private slash = false; // the last tag byte was `/` (outside quotes)
  private question = false; // the last declaration byte was `?`
  private declAllowed = false; // nothing but a BOM seen yet: an XML declaration may come
  /** Bytes of the unfinished frame carried over from earlier chunks. */
  private pending: Uint8Array = EMPTY;
  private pendingLen = 0;
  private inFrame = false;
  private failure: StreamError | undefined;
  /** Qualified name of the current stream root (bytes), empty before a header / in fragment mode. */
  private rootName: Uint8Array = EMPTY;

  constructor(sink: FrameSink, opts: FramerOptions = {}) {
    this.sink = sink;
    this.maxSize = opts.maxSize ?? DEFAULT_MAX_STANZA_SIZE;
    this.fragment = opts.fragment === true;
    this.state = this.fragment ? S_BETWEEN : S_START;
  }

  /** Forget everything: the next bytes start a fresh stream (or fragment sequence). */
  reset(): void {
    this.state = this.fragment ? S_BETWEEN : S_START;
    this.depth = 0;
    this.quote = 0;
    this.slash = false;
    this.question = false;
    this.declAllowed = false;
    this.pendingLen = 0;
    this.inFrame = false;
    this.failure = undefined;
    this.rootName = EMPTY;
    if (this.pending.length > 4 * 65536) this.pending = EMPTY;
  }

  /** `true` when no frame is in progress (only whitespace since the last complete frame). */
  get idle(): boolean {
    return !this.inFrame;
  }

  /** `true` after the stream's close tag (or a self-closing header) was seen. */
  get ended(): boolean {
    return this.state === S_DONE;
  }

  /**
   * Scan `chunk`, calling the sink for every frame it completes. Throws {@link StreamError};
   * after a throw the framer stays failed and rethrows the same error.
   */
  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    try {
      this.scan(chunk);
    } catch (e) {
      this.state = S_FAILED;
      this.failure = e instanceof StreamError ? e : new StreamError('internal-server-error', String(e));
      throw this.failure;
    }
  }

  private scan(chunk: Uint8Array): void {
    const n = chunk.length;
    let state = this.state;
    let depth = this.depth;
    let quote = this.quote;
    let slash = this.slash;
    // Where the current frame starts in `chunk`; 0 when it began in an earlier chunk.
    let start = 0;
    let i = 0;
    for (; i < n; i++) {
      const b = chunk[i]!;
      switch (state) {
        case S_TEXT: {
          // Hot: run through character data without going back to the switch.
          let c = b;
          while (c !== LT) {
            if (c < 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) throw controlError();
            if (++i === n) break;
            c = chunk[i]!;
          }
          if (i < n) state = S_LT;
          continue;
        }
        case S_OPEN: {
          if (quote !== 0) {
            // Hot: run through the attribute value.
            let c = b;
            while (c !== quote) {
              if (c === LT) throw new StreamError('not-well-formed', '`<` in an attribute value');
              if (c < 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) throw controlError();
              if (++i === n) break;
              c = chunk[i]!;
            }
            if (i < n) quote = 0;
            continue;
          }
          let c = b;
          if (!slash && TAG_PLAIN[c] === 1) {
            // Hot: run through names, `=` and whitespace without going back to the switch.
            do {
              if (++i === n) break;
              c = chunk[i]!;
            } while (TAG_PLAIN[c] === 1);
            if (i === n) continue;
          }
          if (c === GT) {
            if (depth === 0 && this.rootName.length !== 0 && this.isRootStartTag(chunk, start)) {
              // A new stream header without reset() (RFC 6120 only allows one after STARTTLS
              // or SASL success): report it as a header the moment its start tag is complete,
              // instead of waiting for a close tag that will never come, so the c2s can
              // answer it. It then opens a new stream exactly like a first header would.
              this.complete(chunk, start, i + 1, FrameKind.Header);
              if (slash) {
                this.sink(FrameKind.End, EMPTY);
                state = S_DONE;
              } else state = S_BETWEEN;
              slash = false;
              continue;
            }
            if (slash) {
              slash = false;
              if (depth === 0) {
                this.complete(chunk, start, i + 1, FrameKind.Stanza);
                state = S_BETWEEN;
                continue;
              }
            } else depth++;
            state = S_TEXT;
          } else if (slash) {
            throw new StreamError('not-well-formed', '`/` not followed by `>` in a tag');
          } else if (c === QUOT || c === APOS) quote = c;
          else if (c === SLASH) slash = true;
          else if (c === LT) throw new StreamError('not-well-formed', '`<` inside a tag');
          else throw controlError();
          continue;
        }
        case S_CLOSE: {
          let c = b;
          // Hot: the end tag's name and whitespace.
          while (END_PLAIN[c] === 1) {
            if (++i === n) break;
            c = chunk[i]!;
          }
          if (i === n) continue;
          if (c === GT) {
            depth--;
            if (depth === 0) {
              this.complete(chunk, start, i + 1, FrameKind.Stanza);
              state = S_BETWEEN;
            } else state = S_TEXT;
          } else if (c === LT) throw new StreamError('not-well-formed', '`<` inside an end tag');
          else throw controlError();
          continue;
        }
        case S_LT:
          if (b === SLASH) state = S_CLOSE;
          else if (b === BANG || b === QMARK) throw restricted(b);
          else if (badNameStart(b)) throw new StreamError('not-well-formed', 'stray `<`');
          else state = S_OPEN;
          continue;
        case S_BETWEEN:
          if (b === LT) {
            start = i;
            this.inFrame = true;
            state = S_BETWEEN_LT;
          } else if (!isWs(b)) {
            throw new StreamError('not-well-formed', 'character data outside a stanza');
          }
          continue;
        case S_BETWEEN_LT:
          if (b === SLASH) {
            if (this.fragment) throw new StreamError('not-well-formed', 'end tag without start tag');
            state = S_END_TAG;
          } else if (b === BANG || b === QMARK) throw restricted(b);
          else if (badNameStart(b)) throw new StreamError('not-well-formed', 'stray `<`');
          else {
            depth = 0;
            quote = 0;
            slash = false;
            state = S_OPEN;
          }
          continue;
        case S_END_TAG:
          if (b === GT) {
            this.complete(chunk, start, i + 1, FrameKind.End);
            state = S_DONE;
          } else if (b === LT) throw new StreamError('not-well-formed', '`<` inside an end tag');
          else if (b < 0x20 && b !== 0x0a && b !== 0x09 && b !== 0x0d) throw controlError();
          continue;
        case S_HEADER:
          if (quote !== 0) {
            if (b === quote) quote = 0;
            else if (b === LT) throw new StreamError('not-well-formed', '`<` in an attribute value');
            else if (b < 0x20 && b !== 0x0a && b !== 0x09 && b !== 0x0d) throw controlError();
          } else if (b === GT) {
            this.complete(chunk, start, i + 1, FrameKind.Header);
            if (slash) {
              // `<stream:stream …/>`: a well-formed, empty stream.
              this.sink(FrameKind.End, EMPTY);
              state = S_DONE;
            } else state = S_BETWEEN;
            slash = false;
          } else if (slash) {
            throw new StreamError('not-well-formed', '`/` not followed by `>` in a tag');
          } else if (b === QUOT || b === APOS) quote = b;
          else if (b === SLASH) slash = true;
          else if (b === LT) throw new StreamError('not-well-formed', '`<` inside a tag');
          else if (b < 0x20 && b !== 0x0a && b !== 0x09 && b !== 0x0d) throw controlError();
          continue;
        case S_START:
          if (b === 0xef) {
            state = S_BOM1;
            continue;
          }
          state = S_PROLOG;
          i--; // re-examine this byte in the prolog, with the declaration still allowed
          this.declAllowed = true;
          continue;
        case S_BOM1:
          if (b !== 0xbb) throw new StreamError('not-well-formed', 'bytes before the stream header');
          state = S_BOM2;
          continue;
        case S_BOM2:
          if (b !== 0xbf) throw new StreamError('not-well-formed', 'bytes before the stream header');
          state = S_PROLOG;
          this.declAllowed = true;
          continue;
        case S_PROLOG:
          if (b === LT) {
            start = i;
            this.inFrame = true;
            state = S_PROLOG_LT;
          } else if (isWs(b)) {
            // XML 1.0 §2.8: the declaration, if any, comes first — not after whitespace.
            this.declAllowed = false;
          } else {
            throw new StreamError('not-well-formed', 'character data before the stream header');
          }
          continue;
        case S_PROLOG_LT:
          if (b === QMARK) {
            if (!this.declAllowed) throw restricted(b);
            this.declAllowed = false;
            this.question = false;
            state = S_DECL;
          } else if (b === BANG) throw restricted(b);
          else if (b === SLASH || badNameStart(b)) throw new StreamError('not-well-formed', 'stray `<` before the stream header');
          else {
            this.declAllowed = false;
            quote = 0;
            slash = false;
            state = S_HEADER;
          }
          continue;
        case S_DECL:
          if (b === GT && this.question) {
            this.question = false;
            this.complete(chunk, start, i + 1, 0);
            state = S_PROLOG;
          } else {
            if (b < 0x20 && b !== 0x0a && b !== 0x09 && b !== 0x0d) throw controlError();
            this.question = b === QMARK;
          }
          continue;
        case S_DONE:
          if (!isWs(b)) throw new StreamError('not-well-formed', 'data after the end of the stream');
          continue;
        default:
          throw new StreamError('internal-server-error', 'framer used after failure');
      }
    }
    this.state = state;
    this.depth = depth;
    this.quote = quote;
    this.slash = slash;
    if (this.inFrame) {
      // An unfinished frame: enforce the limit *before* buffering a single byte of it.
      const len = this.pendingLen + (n - start);
      if (len > this.maxSize) throw tooBig(this.maxSize);
      this.append(chunk, start, n);
    }
  }

  /** A frame ends at `end` (exclusive) in `chunk`; it began at `start` or in `pending`. */
  private complete(chunk: Uint8Array, start: number, end: number, kind: FrameKind | 0): void {
    const pendingLen = this.pendingLen;
    const len = pendingLen + (end - start);
    if (len > this.maxSize) throw tooBig(this.maxSize);
    let bytes: Uint8Array;
    // A plain view, never a Buffer: Node's Buffer subarray goes through the species
    // constructor (measured ~70 ns more per frame than this).
    if (pendingLen === 0) bytes = new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start);
    else {
      this.append(chunk, start, end);
      bytes = new Uint8Array(this.pending.buffer, this.pending.byteOffset, len);
    }
    this.pendingLen = 0;
    this.inFrame = false;
    if (kind === FrameKind.Header) this.rootName = startTagName(bytes);
    if (kind === 0) checkXmlDecl(bytes);
    else this.sink(kind, bytes);
  }

  /**
   * The top-level start tag that just ended (its frame began at `start` in `chunk`, or in
   * `pending` when that holds bytes) has the stream root's qualified name. Runs once per
   * stanza, on the stanza's first `>`.
   */
  private isRootStartTag(chunk: Uint8Array, start: number): boolean {
    const name = this.rootName;
    const pending = this.pending;
    const pendingLen = this.pendingLen;
    const n = name.length;
    // Frame byte k is pending[k] for k < pendingLen, else chunk[start + k - pendingLen]; the
    // tag ended in this chunk, so every byte up to its `>` exists.
    for (let k = 1; k <= n + 1; k++) {
      const b = k < pendingLen ? pending[k]! : chunk[start + k - pendingLen]!;
      if (k <= n) {
        if (b !== name[k - 1]) return false;
      } else return isWs(b) || b === SLASH || b === GT;
    }
    return false;
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    const need = this.pendingLen + (end - start);
    if (need > this.pending.length) {
      const grown = new Uint8Array(Math.max(need, Math.min(this.pending.length * 2 || 1024, this.maxSize)));
      grown.set(this.pending.subarray(0, this.pendingLen));
      this.pending = grown;
    }
    this.pending.set(chunk.subarray(start, end), this.pendingLen);
    this.pendingLen = need;
  }
}

const EMPTY = new Uint8Array(0);

/** The qualified name of the start tag `bytes` (`<qname …>`), as a copy. */
function startTagName(bytes: Uint8Array): Uint8Array {
  let e = 1;
  while (e < bytes.length && !isWs(bytes[e]!) && bytes[e] !== SLASH && bytes[e] !== GT) e++;
  return new Uint8Array(bytes.subarray(1, e));
}

function restricted(b: number): StreamError {
  return new StreamError('restricted-xml', b === BANG ? 'DOCTYPE, comment or CDATA section' : 'processing instruction');
}

function tooBig(max: number): StreamError {
  return new StreamError('policy-violation', `stanza larger than ${max} bytes`);
}

// XML 1.0 §2.8 XMLDecl, with the pseudo-attributes in their fixed order.
const XML_DECL =
  /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>$/;

/**
 * Validate an XML declaration (`<?xml version="1.0" encoding="UTF-8"?>`). Any other
 * processing instruction → `restricted-xml`; a malformed declaration → `not-well-formed`;
 * an encoding other than UTF-8 → `unsupported-encoding` (RFC 6120 §11.6).
 */
export function checkXmlDecl(bytes: Uint8Array): void {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    // Anything non-ASCII cannot be part of a valid declaration; keep it visible to the regex.
    s += b < 0x80 ? String.fromCharCode(b) : '\uFFFD';
  }
  const target = /^<\?([^ \t\r\n?]*)/.exec(s)?.[1] ?? '';
  if (target !== 'xml') {
    throw new StreamError(target.toLowerCase() === 'xml' ? 'not-well-formed' : 'restricted-xml', 'processing instruction');
  }
  const m = XML_DECL.exec(s);
  if (!m) throw new StreamError('not-well-formed', 'malformed XML declaration');
  const enc = m[1] ?? m[2];
  if (enc !== undefined && enc.toLowerCase() !== 'utf-8') {
    throw new StreamError('unsupported-encoding', `encoding ${enc}`);
  }
}
