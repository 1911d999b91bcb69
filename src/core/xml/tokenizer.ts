/**
 * The shared sax-wasm tokenizer: step 3 of the parsing pipeline (DESIGN.md "Parsing").
 *
 * One wasm instance serves the whole process (per worker thread): an instance reserves
 * 10 GiB of virtual address space, so one per connection caps a process at ~6.7k connections
 * (reference/dependencies.md §1.7). Complete frames are packed into one `write()` followed by
 * `end()`, which resets the wasm parser, so nothing ever spans a write.
 *
 * We bypass sax-wasm's JS wrapper and drive its exports directly, with our own event
 * listener that reads the event structs in wasm memory (§1.9): the wrapper allocates reader
 * objects and decodes every string per event, which made it 5× slower than ltx on
 * XMPP-shaped input. sax-wasm tells us where each start tag begins (OpenTagStart) and
 * whether a restricted construct (DOCTYPE, comment, CDATA, PI) appears; names, attributes,
 * end tags and text are parsed from the frame bytes we own by the element builder, which
 * has to check every one of those bytes anyway (sax-wasm accepts malformed markup and its
 * `Text.value` drops newlines, §1.4). This reads the structs' internal layout, hence the
 * exact `sax-wasm` pin (3.1.4).
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
 * Which tokenizer finds the start tags of a frame for the element builder:
 * - `'sax-wasm'` (the default): the shared sax-wasm instance ({@link sharedTokenizer}); all
 *   stanzas of one read are tokenized in one write.
 * - `'builtin'`: the element builder finds them itself while it scans the bytes between
 *   markup, which it does in both modes (`ElementBuilder.scan`).
 *
 * Both build the same elements and reject the same input with the same conditions (a
 * differential fuzz test holds them to it); `'builtin'` skips the wasm pass, about 40 % of
 * the pipeline's time on XMPP-shaped input (docs/benchmarks.md, "Parsing").
 */
export type TokenizerKind = 'sax-wasm' | 'builtin';

/**
 * Receives the tokens of one or more frames (see {@link Tokenizer.tokenizeFrames}). Offsets are
 * byte offsets into the current frame.
 */
export interface TokenSink {
  /**
   * A start tag begins at `start` (its `<`); its qualified name is `nameLen` bytes long. Only
   * the start is reported: the sink parses the attributes and the tag's end from the bytes it
   * owns (the builder checks every byte of a start tag anyway, because sax-wasm accepts
   * unquoted and valueless attributes and garbage, dependencies.md §1.4). Subscribing to
   * sax-wasm's full `OpenTag` (attribute structs) halved the wasm throughput (measured
   * 144 → 66–78 MiB/s on the parse benchmark's stream).
   *
   * Measured on sax-wasm 3.1.4: when a name starts with a multi-byte character, `start` points
   * one byte past the `<`; the sink must step back over non-ASCII bytes.
   *
   * End tags are not reported either (CloseTag costs ~40 % of the wasm throughput, and
   * sax-wasm reports mismatched end tags as text or implicit closes anyway, §1.4): the sink
   * parses end tags from the bytes between start tags itself.
   */
  startTag(start: number, nameLen: number): void;
  /**
   * Every token of the current frame has been reported; the next {@link startTag} (if any)
   * belongs to the next frame. Called once per frame, after its last start tag.
   */
  endFrame(): void;
}

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
  SaxEventType.OpenTagStart |
  SaxEventType.Doctype |
  SaxEventType.Comment |
  SaxEventType.ProcessingInstruction |
  SaxEventType.Declaration |
  SaxEventType.Cdata;

const EV_OPEN_START = SaxEventType.OpenTagStart;

// Struct layout of sax-wasm 3.1.4 (dependencies.md §1.9), in bytes: the Tag's name length and
// its start byte offset (filled in by OpenTagStart already).
const TAG_NAME_LEN = 8;
const TAG_START = 112;

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
  private error: unknown;
  private busy = false;
  private restricted = false;
  // The frames of the current write, back to back from wasm offset 4: frame k starts at
  // bases[k] (in sax-wasm's offsets, which count from the first byte written after end()).
  private bases = new Int32Array(64);
  private baseCount = 0;
  private cur = 0;
  private readonly one: Uint8Array[] = [];

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

  /** Tokenize one complete frame: {@link tokenizeFrames} with a single frame. */
  tokenize(frame: Uint8Array, sink: TokenSink): void {
    const one = this.one;
    one[0] = frame;
    try {
      this.tokenizeFrames(one, 1, sink);
    } finally {
      one[0] = EMPTY;
    }
  }

  /**
   * Tokenize `count` complete frames, calling `sink` synchronously and in order (its
   * {@link TokenSink.endFrame} once per frame). Frames are packed back to back into as few
   * `write()` + `end()` calls as fit {@link MAX_WRITE}: a write and an `end()` cost about a
   * microsecond each, as much as tokenizing a small stanza (measured: 60 → 187 MiB/s for the
   * wasm scan alone when 64 KiB of stanzas share one write). Every write holds only whole
   * frames, so nothing spans a write (§1.6) — except a frame larger than {@link MAX_WRITE},
   * written alone in pieces cut right after a `>` (the validated workaround). Because every
   * frame before a write's last one is well-formed by the time the next is reported (the
   * builder checks every byte), sax-wasm starts each frame in its between-elements state.
   *
   * The first error — thrown by the sink or found by the tokenizer — stops the run: later
   * frames are not reported, and the error is rethrown once the wasm parser has been reset
   * (never thrown through wasm frames). Frames finished before it stay finished.
   */
  tokenizeFrames(frames: readonly Uint8Array[], count: number, sink: TokenSink): void {
    if (this.busy) throw new StreamError('internal-server-error', 'tokenizer re-entered');
    this.busy = true;
    this.sink = sink;
    this.error = undefined;
    this.restricted = false;
    try {
      let i = 0;
      while (i < count && this.error === undefined) {
        const first = frames[i]!;
        if (first.length > MAX_WRITE) {
          this.writeLarge(first);
          i++;
        } else {
          let total = 0;
          let n = 0;
          if (this.u8.length === 0) this.refreshViews();
          while (i < count) {
            const f = frames[i]!;
            if (f.length > MAX_WRITE - total) break;
            if (n === this.bases.length) {
              const grown = new Int32Array(n * 2);
              grown.set(this.bases);
              this.bases = grown;
            }
            this.bases[n++] = total;
            this.u8.set(f, 4 + total);
            total += f.length;
            i++;
          }
          this.baseCount = n;
          this.cur = 0;
          this.stats.writes++;
          this.stats.bytes += total;
          this.exports.write(4, total);
          this.exports.end();
          this.finishWrite();
        }
      }
      if (this.restricted) this.error ??= new StreamError('restricted-xml', 'DOCTYPE, comment, CDATA or processing instruction');
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

  /** A frame larger than one write: several writes, one `end()`; offsets run on across them. */
  private writeLarge(frame: Uint8Array): void {
    this.bases[0] = 0;
    this.baseCount = 1;
    this.cur = 0;
    const len = frame.length;
    let pos = 0;
    while (pos < len && this.error === undefined) {
      const end = len - pos > MAX_WRITE ? cutPoint(frame, pos, pos + MAX_WRITE) : len;
      if (this.u8.length === 0) this.refreshViews();
      this.u8.set(frame.subarray(pos, end), 4);
      this.stats.writes++;
      this.stats.bytes += end - pos;
      this.exports.write(4, end - pos);
      pos = end;
    }
    this.exports.end();
    this.finishWrite();
  }

  /** After a write's `end()`: close the frames that had no start tag after their last one. */
  private finishWrite(): void {
    const sink = this.sink!;
    while (this.error === undefined && !this.restricted && this.cur < this.baseCount) {
      this.cur++;
      try {
        sink.endFrame();
      } catch (e) {
        this.error = e;
      }
    }
  }

  // Called by wasm for each subscribed event. Never throws into wasm: the first error is
  // kept and later events of the run are ignored.
  private readonly trap = (event: number, ptr: number): void => {
    if (this.error !== undefined || this.restricted) return;
    const sink = this.sink;
    if (sink === undefined) return;
    try {
      // Growing wasm memory detaches the old buffer, zeroing our views' length: a plain
      // property check instead of the `memory.buffer` accessor on every event.
      if (this.u8.length === 0) this.refreshViews();
      if (event === EV_OPEN_START) {
        const start = this.read32(ptr + TAG_START);
        // Offsets only grow: the frames before the one holding `start` are complete.
        const bases = this.bases;
        let cur = this.cur;
        while (cur + 1 < this.baseCount && start >= bases[cur + 1]!) {
          this.cur = ++cur;
          sink.endFrame();
        }
        sink.startTag(start - bases[cur]!, this.read32(ptr + TAG_NAME_LEN));
      } else {
        // Which frame it is in would need each event struct's layout. Frames that ended before
        // it were already reported (each frame opens with a start tag, whose event closes the
        // frames before it); this one and later ones are not, and the run fails once the write
        // is done. The builder sees every byte and answers `<!` and `<?` itself: this is the
        // second line.
        this.restricted = true;
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

const EMPTY = new Uint8Array(0);

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
