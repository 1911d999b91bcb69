/**
 * Parser throughput on an XMPP-shaped stream: our pipeline (framer → UTF-8 check → shared
 * sax-wasm tokenizer → element builder) against ltx 3.1.2 on the same bytes, in one run; and
 * the same pipeline with the `'builtin'` tokenizer (the element builder finds the start tags
 * itself, no wasm pass).
 *
 * ltx is measured two ways: its SAX tokenizer (`ltx/lib/parsers/ltx.js`, fed strings through a
 * StringDecoder as the reference did) with a tree builder equivalent to @xmpp/xml's (one ltx
 * `Element` per stanza) — the like-for-like comparison — and the tokenizer alone with no-op
 * handlers. Best of 3 runs each (interleaved, so background load hits all alike), 64 KiB
 * chunks. Two partial pipelines show where the time goes: the framer alone, and the framer
 * plus sax-wasm with a no-op sink — the ceiling for anything built on sax-wasm.
 *
 * Run: `npx tsx bench/parse.ts` (env `PARSE_BENCH_MIB` to change the 50 MiB size).
 * @module
 */
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';
import { Framer, FrameKind } from '../src/core/xml/framer.ts';
import { StreamParser } from '../src/core/xml/stream-parser.ts';
import { XmlElement, type XmlNode } from '../src/core/xml/element.ts';
import { sharedTokenizer, type TokenSink, type TokenizerKind } from '../src/core/xml/tokenizer.ts';

const require = createRequire(import.meta.url);

interface LtxSax {
  write(data: string): void;
  on(event: 'startElement', fn: (name: string, attrs: Record<string, string>) => void): void;
  on(event: 'endElement', fn: (name: string, selfClosing: boolean) => void): void;
  on(event: 'text', fn: (text: string) => void): void;
  on(event: 'error', fn: (e: unknown) => void): void;
}
interface LtxElement {
  parent: LtxElement | undefined;
  cnode(child: LtxElement): LtxElement;
  t(text: string): LtxElement;
}
const SaxLtx = require('ltx/lib/parsers/ltx.js') as new () => LtxSax;
const LtxElementCtor = require('ltx/lib/Element.js') as new (name: string, attrs: Record<string, string>) => LtxElement;

const CHUNK = 64 * 1024;

type SliceFn = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: SliceFn }).latin1Slice;

/** A deterministic XMPP-shaped stream of about `mib` MiB. */
export function makeStream(mib: number): { bytes: Buffer; stanzas: number } {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const users = ['alice', 'bob', 'carol', 'dave', 'eve', 'mallory', 'trent', 'peggy'];
  const words = ['hello', 'there', 'how', 'are', 'you', 'ok', 'see', 'you', 'later', 'café', 'ümlaut', '😀', 'x&amp;y', '&lt;3', 'a&quot;b'];
  const jid = (): string => `${users[rnd(users.length)]}@example.com/res${rnd(5)}`;
  const text = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += (i ? ' ' : '') + words[rnd(words.length)];
    return s;
  };
  const parts: string[] = [
    `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="example.com" version="1.0" xml:lang="en">`,
  ];
  let size = parts[0]!.length;
  let stanzas = 0;
  const target = mib * 1024 * 1024;
  while (size < target) {
    const r = rnd(10);
    let s: string;
    if (r < 6) {
      s = `<message to="${jid()}" from="${jid()}" type="chat" id="m${stanzas}"><body>${text(1 + rnd(12))}</body>${
        rnd(3) === 0 ? '<active xmlns="http://jabber.org/protocol/chatstates"/>' : ''
      }</message>`;
    } else if (r < 8) {
      s = `<presence from="${jid()}" to="${jid()}"><show>away</show><status>${text(1 + rnd(4))}</status><priority>${rnd(10)}</priority></presence>`;
    } else {
      s = `<iq type="get" id="i${stanzas}" to="${jid()}"><query xmlns="jabber:iq:roster" ver="v${rnd(100)}"/></iq>`;
    }
    if (rnd(20) === 0) s += '\n';
    parts.push(s);
    size += Buffer.byteLength(s);
    stanzas++;
  }
  parts.push('</stream:stream>');
  return { bytes: Buffer.from(parts.join('')), stanzas };
}

function chunksOf(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.subarray(i, i + CHUNK));
  return out;
}

function runOurs(chunks: Buffer[], tokenizer: TokenizerKind): number {
  const p = new StreamParser({ tokenizer });
  let n = 0;
  for (const c of chunks) for (const e of p.push(c)) if (e.type === 'element') n++;
  return n;
}

/**
 * Framer + sax-wasm, frames batched per chunk as {@link StreamParser} does, with `sink` in
 * place of the element builder.
 */
function runFramerAndWasmWith(chunks: Buffer[], sink: TokenSink): void {
  const tok = sharedTokenizer();
  const frames: Uint8Array[] = [];
  let count = 0;
  let chunk: Uint8Array = new Uint8Array(0);
  const framer = new Framer((kind, bytes) => {
    if (kind === FrameKind.Stanza) frames[count++] = bytes.buffer === chunk.buffer ? bytes : bytes.slice();
  });
  for (const c of chunks) {
    chunk = c;
    framer.push(c);
    current = frames;
    currentCount = count;
    tok.tokenizeFrames(frames, count, sink);
    count = 0;
  }
}
let current: Uint8Array[] = [];
let currentCount = 0;

/** The floor under any sax-wasm pipeline: framer + sax-wasm, a sink that does nothing. */
function runFramerAndWasm(chunks: Buffer[]): number {
  let n = 0;
  runFramerAndWasmWith(chunks, {
    startTag() {
      n++;
    },
    endFrame() {},
  });
  return n;
}

/**
 * A bound on any sax-wasm pipeline: framer + sax-wasm + a tree builder that checks nothing —
 * no well-formedness, no namespaces, no entities, no UTF-8 (non-ASCII text comes out as
 * latin1) — just the XmlElements, attribute objects, child arrays and strings every real
 * builder has to make. Only meaningful on the well-formed benchmark stream.
 */
function runFramerAndWasmUnchecked(chunks: Buffer[]): number {
  let n = 0;
  let frame = 0;
  runFramerAndWasmWith(chunks, {
    startTag(start) {
      uStarts[uCount++] = start;
    },
    endFrame() {
      if (buildUnchecked(current[frame++]!)) n++;
      uCount = 0;
      if (frame === currentCount) frame = 0;
    },
  });
  return n;
}

const uStarts = new Int32Array(4096);
let uCount = 0;
const uNames: string[] = [];
const uAttrs: Record<string, string>[] = [];
const uKids: XmlNode[][] = [];

function buildUnchecked(buf: Uint8Array): XmlElement | undefined {
  const str = latin1Slice.call(buf, 0, buf.length);
  const len = buf.length;
  let root: XmlElement | undefined;
  let depth = 0;
  let pos = 0;
  let t = 0;
  while (pos < len) {
    const b = buf[pos];
    if (t < uCount && uStarts[t] === pos) {
      t++;
      let p = pos + 1;
      let c = buf[p];
      while (c !== 0x20 && c !== 0x3e && c !== 0x2f) c = buf[++p];
      const name = str.slice(pos + 1, p);
      const attrs: Record<string, string> = {};
      for (;;) {
        while (c === 0x20) c = buf[++p];
        if (c === 0x3e || c === 0x2f) break;
        const a = p;
        while (c !== 0x3d) c = buf[++p];
        const key = str.slice(a, p);
        const q = buf[p + 1];
        const v = (p += 2);
        while (buf[p] !== q) p++;
        attrs[key] = str.slice(v, p);
        c = buf[++p];
      }
      if (c === 0x2f) {
        pos = p + 2;
        const el = new XmlElement(name, undefined, attrs);
        if (depth === 0) root = el;
        else uKids[depth - 1]!.push(el);
      } else {
        pos = p + 1;
        uNames[depth] = name;
        uAttrs[depth] = attrs;
        uKids[depth++] = [];
      }
    } else if (b === 0x3c) {
      while (buf[pos] !== 0x3e) pos++;
      pos++;
      depth--;
      const el = new XmlElement(uNames[depth]!, undefined, uAttrs[depth]!, uKids[depth]!);
      if (depth === 0) root = el;
      else uKids[depth - 1]!.push(el);
    } else {
      const s = pos;
      while (buf[pos] !== 0x3c) pos++;
      uKids[depth - 1]!.push(str.slice(s, pos));
    }
  }
  return root;
}

function runFramer(chunks: Buffer[]): number {
  let n = 0;
  const framer = new Framer(() => {
    n++;
  });
  for (const c of chunks) framer.push(c);
  return n;
}

function runLtxTree(chunks: Buffer[]): number {
  const sax = new SaxLtx();
  const dec = new StringDecoder('utf8');
  let depth = 0;
  let el: LtxElement | undefined;
  let n = 0;
  sax.on('startElement', (name, attrs) => {
    depth++;
    if (depth === 1) return; // the stream root
    const child = new LtxElementCtor(name, attrs);
    el = el ? el.cnode(child) : child;
  });
  sax.on('endElement', () => {
    depth--;
    if (depth === 0 || !el) return;
    if (depth === 1) {
      n++;
      el = undefined;
    } else el = el.parent;
  });
  sax.on('text', (t) => {
    if (el) el.t(t);
  });
  sax.on('error', (e) => {
    throw e;
  });
  for (const c of chunks) sax.write(dec.write(c));
  return n;
}

function runLtxSax(chunks: Buffer[]): number {
  const sax = new SaxLtx();
  const dec = new StringDecoder('utf8');
  let n = 0;
  sax.on('startElement', () => {
    n++;
  });
  sax.on('endElement', () => {});
  sax.on('text', () => {});
  sax.on('error', (e) => {
    throw e;
  });
  for (const c of chunks) sax.write(dec.write(c));
  return n;
}

interface Runner {
  label: string;
  fn: () => number;
  bestMs: number;
  count: number;
}

/** Best-of-`runs` wall time; runners are interleaved so background load hits all alike. */
function measure(runners: Runner[], runs: number): void {
  for (let r = 0; r < runs; r++) {
    for (const x of runners) {
      const t0 = performance.now();
      x.count = x.fn();
      const ms = performance.now() - t0;
      if (ms < x.bestMs) x.bestMs = ms;
    }
  }
}

/** Run the benchmark; returns MiB/s figures and ratios. */
export async function runParseBench(): Promise<Record<string, number>> {
  const mibTarget = Number(process.env.PARSE_BENCH_MIB ?? 50);
  const { bytes, stanzas } = makeStream(mibTarget);
  const mib = bytes.length / (1024 * 1024);
  const chunks = chunksOf(bytes);
  console.log(`parse bench: ${mib.toFixed(1)} MiB, ${stanzas} stanzas, ${CHUNK / 1024} KiB chunks, best of ${process.env.PARSE_BENCH_RUNS ?? 3}`);
  const runners: Runner[] = [
    { label: 'xmpp-blocks StreamParser (sax-wasm)', fn: () => runOurs(chunks, 'sax-wasm'), bestMs: Infinity, count: 0 },
    { label: 'xmpp-blocks StreamParser (builtin)', fn: () => runOurs(chunks, 'builtin'), bestMs: Infinity, count: 0 },
    { label: 'ltx 3.1.2 SAX + element tree', fn: () => runLtxTree(chunks), bestMs: Infinity, count: 0 },
    { label: 'ltx 3.1.2 SAX only (no-op handlers)', fn: () => runLtxSax(chunks), bestMs: Infinity, count: 0 },
  ];
  const parts: Runner[] = [
    { label: '  part: framer only', fn: () => runFramer(chunks), bestMs: Infinity, count: 0 },
    { label: '  part: framer + sax-wasm (no builder)', fn: () => runFramerAndWasm(chunks), bestMs: Infinity, count: 0 },
    { label: '  part: + a builder that checks nothing', fn: () => runFramerAndWasmUnchecked(chunks), bestMs: Infinity, count: 0 },
  ];
  measure([...runners, ...parts], Number(process.env.PARSE_BENCH_RUNS ?? 3));
  const [framerRate, wasmRate, uncheckedRate] = parts.map((x) => mib / (x.bestMs / 1000)) as [number, number, number];
  const [ours, builtin, ltxTree, ltxSax] = runners.map((x) => {
    const rate = mib / (x.bestMs / 1000);
    console.log(`${x.label.padEnd(38)} ${rate.toFixed(1).padStart(6)} MiB/s  (best ${x.bestMs.toFixed(0)} ms, ${x.count} items)`);
    return rate;
  }) as [number, number, number, number];
  for (const x of parts) console.log(`${x.label.padEnd(38)} ${(mib / (x.bestMs / 1000)).toFixed(1).padStart(6)} MiB/s  (${(mib / (x.bestMs / 1000) / ltxTree).toFixed(2)}× ltx tree)`);
  const ratio = ours / ltxTree;
  console.log(`ratio ours (sax-wasm) / ltx(tree): ${ratio.toFixed(2)}×   ours (sax-wasm) / ltx(sax only): ${(ours / ltxSax).toFixed(2)}×`);
  console.log(`ratio ours (builtin)  / ltx(tree): ${(builtin / ltxTree).toFixed(2)}×   ours (builtin)  / ltx(sax only): ${(builtin / ltxSax).toFixed(2)}×`);
  return {
    pipelineMiBps: ours,
    builtinMiBps: builtin,
    builtinRatioVsLtxTree: builtin / ltxTree,
    ltxTreeMiBps: ltxTree,
    ltxSaxMiBps: ltxSax,
    ratioVsLtxTree: ratio,
    ratioVsLtxSax: ours / ltxSax,
    framerMiBps: framerRate,
    framerPlusWasmMiBps: wasmRate,
    framerPlusWasmUncheckedMiBps: uncheckedRate,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runParseBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
