/**
 * The shared sax-wasm tokenizer: step 3 of the parsing pipeline (DESIGN.md "Parsing").
 *
 * One wasm instance serves the whole process (per worker thread): an instance reserves
 * 10 GiB of virtual address space, so one per connection caps a process at ~6.7k connections
 * (reference/dependencies.md §1.7). Each complete frame is tokenized with `write()` + `end()`;
 * `end()` resets the wasm parser, so nothing ever spans documents.
 *
 * We bypass sax-wasm's JS wrapper and drive its exports directly, with our own event
 * listener that reads the event structs in wasm memory (§1.9): the wrapper allocates reader
 * objects and decodes every string per event, which made it 5× slower than ltx on
 * XMPP-shaped input. We only need tag and attribute *byte offsets* — names, values and text
 * are sliced from the frame bytes we own, because sax-wasm's `Text.value` drops newlines
 * (§1.4). This reads the structs' internal layout, hence the exact `sax-wasm` pin (3.1.4).
 *
 * Instantiation is synchronous (`new WebAssembly.Instance`), so the parser API can be
 * synchronous too; the Module is compiled once.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SaxEventType } from 'sax-wasm';
import { StreamError } from '../errors.ts';

/**
 * Receives the tokens of one frame. Offsets are byte offsets into the frame that was passed
 * to {@link Tokenizer.tokenize}; `end` is exclusive.
 */
export interface TokenSink {
  /**
   * A start tag `[start, end)`; the qualified name is `nameLen` bytes at `start + 1`.
   * `attrs` holds {@link ATTR_FIELDS} integers per attribute: type (sax-wasm `AttributeType`),
   * name start, name end, value start, value end (the value excludes its quotes). The array
   * is reused: read it during the call only.
   *
   * Measured on sax-wasm 3.1.4: when a tag or attribute name starts with a multi-byte
   * character, its start offset points one byte into that character; the sink must step
   * back (the end offsets and value offsets are exact).
   *
   * End tags are not reported: subscribing to CloseTag costs ~25 % of the wasm throughput
   * (measured 56 → 43 MiB/s), and sax-wasm reports mismatched end tags as text or as
   * implicit closes anyway (dependencies.md §1.4), so the sink must parse end tags from the
   * bytes between start tags itself.
   */
  openTag(start: number, end: number, nameLen: number, selfClosing: boolean, attrCount: number, attrs: Int32Array): void;
}

/** Integers per attribute in {@link TokenSink.openTag}'s `attrs`. */
export const ATTR_FIELDS = 5;

/**
 * Largest single `write()`. sax-wasm copies a write to wasm offset 4 without growing memory
 * (a write larger than memory throws RangeError, §1.4), and the region below 1 MiB is the
 * wasm stack: 64 KiB stays far from both.
 */
export const MAX_WRITE = 65536;

/** Recreate the instance once its memory has grown past this (wasm memory never shrinks). */
export const MAX_MEMORY = 8 * 1024 * 1024;

// Only what the builder needs, plus every restricted construct (RFC 6120 §11.1) so that
// anything the framer might let through still fails closed (measured: no throughput cost).
const EVENTS =
  SaxEventType.OpenTag |
  SaxEventType.Doctype |
  SaxEventType.Comment |
  SaxEventType.ProcessingInstruction |
  SaxEventType.Declaration |
  SaxEventType.Cdata;

const EV_OPEN = SaxEventType.OpenTag;

// Struct layout of sax-wasm 3.1.4 (dependencies.md §1.9), in bytes.
const TAG_NAME_LEN = 8;
const TAG_ATTRS_PTR = 16;
const TAG_ATTRS_LEN = 20;
const TAG_SELF_CLOSING = 36;
const TAG_START = 112;
const TAG_END = 120;
const ATTR_SIZE = 168;
const ATTR_NAME_START = 56; // name Text's byte offsets
const ATTR_NAME_END = 64;
const ATTR_VALUE_START = 72 + 56; // value Text's byte offsets
const ATTR_VALUE_END = 72 + 64;
const ATTR_TYPE = 144;

interface SaxExports {
  memory: { buffer: ArrayBuffer };
  parser(events: number): void;
  write(ptr: number, len: number): void;
  end(): void;
}

let compiled: unknown;

function wasmModule(): unknown {
  if (compiled === undefined) {
    const path = createRequire(import.meta.url).resolve('sax-wasm/lib/sax-wasm.wasm');
    // A fresh, exact-size copy: never a pooled Buffer slice (§1.1).
    const bytes = new Uint8Array(readFileSync(path));
    compiled = new WA.Module(bytes);
  }
  return compiled;
}

// Node has WebAssembly at runtime; our tsconfig `lib` does not declare it.
const WA = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => unknown; Instance: new (m: unknown, i: object) => { exports: unknown } } }).WebAssembly;

/** Tokenizer statistics, for tests and metrics. */
export interface TokenizerStats {
  /** `write()` calls into wasm. */
  writes: number;
  /** Bytes written into wasm. */
  bytes: number;
  /** Wasm instances created (the first one, plus every recreation). */
  instances: number;
}

/** A sax-wasm instance driven with a custom event listener. Use {@link sharedTokenizer}. */
export class Tokenizer {
  /** Counters; tests use them to prove that oversized input never reaches wasm. */
  readonly stats: TokenizerStats = { writes: 0, bytes: 0, instances: 0 };
  /** Recreate the wasm instance after a frame once its memory exceeds this many bytes. */
  maxMemory = MAX_MEMORY;
  private exports!: SaxExports;
  private memBuf!: ArrayBuffer;
  private u8!: Uint8Array;
  private u32!: Uint32Array;
  private sink: TokenSink | undefined;
  private frameLen = 0;
  private error: unknown;
  private attrs = new Int32Array(ATTR_FIELDS * 16);
  private busy = false;

  constructor() {
    this.instantiate();
  }

  private instantiate(): void {
    const instance = new WA.Instance(wasmModule(), { env: { event_listener: this.trap } });
    this.exports = instance.exports as SaxExports;
    this.exports.parser(EVENTS);
    this.refreshViews();
    this.stats.instances++;
  }

  private refreshViews(): void {
    this.memBuf = this.exports.memory.buffer;
    this.u8 = new Uint8Array(this.memBuf);
    this.u32 = new Uint32Array(this.memBuf, 0, this.memBuf.byteLength >>> 2);
  }

  /** Bytes of wasm memory currently held by the instance. */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /**
   * Tokenize one complete frame, calling `sink` synchronously. Frames longer than
   * {@link MAX_WRITE} are written in pieces cut right after a `>` (the validated workaround
   * for sax-wasm's chunk-boundary bugs, §1.6). Errors thrown by the sink are rethrown after
   * the wasm parser has been reset (never thrown through wasm frames).
   */
  tokenize(frame: Uint8Array, sink: TokenSink): void {
    if (this.busy) throw new StreamError('internal-server-error', 'tokenizer re-entered');
    this.busy = true;
    this.sink = sink;
    this.error = undefined;
    this.frameLen = frame.length;
    try {
      const len = frame.length;
      let pos = 0;
      while (pos < len && this.error === undefined) {
        let end = len;
        if (len - pos > MAX_WRITE) end = cutPoint(frame, pos, pos + MAX_WRITE);
        // sax-wasm's offsets are cumulative across writes until end(): frame offsets as is.
        this.write(frame, pos, end);
        pos = end;
      }
      this.exports.end();
    } catch (e) {
      // A trap inside wasm leaves the instance in an unknown state: start a new one.
      this.instantiate();
      this.error ??= new StreamError('not-well-formed', 'tokenizer failure: ' + String(e));
    } finally {
      this.sink = undefined;
      this.busy = false;
    }
    if (this.u8.length === 0) this.refreshViews();
    if (this.memBuf.byteLength > this.maxMemory) this.instantiate();
    if (this.error !== undefined) {
      const e = this.error;
      this.error = undefined;
      throw e;
    }
  }

  private write(frame: Uint8Array, start: number, end: number): void {
    if (this.u8.length === 0) this.refreshViews();
    this.u8.set(start === 0 && end === frame.length ? frame : frame.subarray(start, end), 4);
    this.stats.writes++;
    this.stats.bytes += end - start;
    this.exports.write(4, end - start);
  }

  // Called by wasm for each subscribed event. Never throws into wasm: the first error is
  // kept and later events of the frame are ignored.
  private readonly trap = (event: number, ptr: number): void => {
    if (this.error !== undefined || this.sink === undefined) return;
    try {
      // Growing wasm memory detaches the old buffer, zeroing our views' length: a plain
      // property check instead of the `memory.buffer` accessor on every event.
      if (this.u8.length === 0) this.refreshViews();
      if (event === EV_OPEN) {
        const start = this.read32(ptr + TAG_START);
        const end = this.read32(ptr + TAG_END);
        if (end > this.frameLen || start >= end) throw new StreamError('not-well-formed', 'malformed tag');
        const selfClosing = this.u8[ptr + TAG_SELF_CLOSING] !== 0;
        const count = this.read32(ptr + TAG_ATTRS_LEN);
        let attrs = this.attrs;
        if (count * ATTR_FIELDS > attrs.length) attrs = this.attrs = new Int32Array(count * ATTR_FIELDS * 2);
        let a = this.read32(ptr + TAG_ATTRS_PTR);
        for (let i = 0, k = 0; i < count; i++, k += ATTR_FIELDS, a += ATTR_SIZE) {
          attrs[k] = this.u8[a + ATTR_TYPE]!;
          attrs[k + 1] = this.read32(a + ATTR_NAME_START);
          attrs[k + 2] = this.read32(a + ATTR_NAME_END);
          attrs[k + 3] = this.read32(a + ATTR_VALUE_START);
          attrs[k + 4] = this.read32(a + ATTR_VALUE_END);
        }
        this.sink.openTag(start, end, this.read32(ptr + TAG_NAME_LEN), selfClosing, count, attrs);
      } else {
        throw new StreamError('restricted-xml', 'DOCTYPE, comment, CDATA or processing instruction');
      }
    } catch (e) {
      this.error = e;
    }
  };

  private read32(p: number): number {
    // The structs are 4-aligned in practice; fall back to byte reads if one ever is not.
    if ((p & 3) === 0) return this.u32[p >>> 2]!;
    const u8 = this.u8;
    return (u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24)) >>> 0;
  }
}

/**
 * Where to end a write that starts at `pos` and may not go past `limit`: right after the last
 * `>` before `limit` (§1.6). Without any `>` in the window (a huge text run or attribute
 * value) we cut at a UTF-8 character boundary, never at the window's first bytes.
 */
function cutPoint(frame: Uint8Array, pos: number, limit: number): number {
  for (let i = limit - 1; i > pos; i--) if (frame[i] === 0x3e) return i + 1;
  let cut = limit;
  while (cut > pos + 1 && (frame[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

let shared: Tokenizer | undefined;

/** The process-wide tokenizer (created on first use). */
export function sharedTokenizer(): Tokenizer {
  return (shared ??= new Tokenizer());
}
