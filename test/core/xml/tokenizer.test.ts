import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { MAX_WRITE, Tokenizer, sharedTokenizer, type TokenSink } from '../../../src/core/xml/tokenizer.ts';

/** The start tags the tokenizer reports, per frame, as `[start, name]`. */
function collectFrames(frames: Uint8Array[], tok: Tokenizer = sharedTokenizer()): [number, string][][] {
  const out: [number, string][][] = [[]];
  const sink: TokenSink = {
    startTag(start, nameLen) {
      const f = frames[out.length - 1]!;
      // A name starting with a multi-byte character is reported one byte late (see TokenSink).
      let s = start;
      while (s > 0 && f[s]! >= 0x80) s--;
      out[out.length - 1]!.push([s, Buffer.from(f).toString('utf8', s + 1, s + 1 + nameLen)]);
    },
    endFrame() {
      out.push([]);
    },
  };
  tok.tokenizeFrames(frames, frames.length, sink);
  assert.is(out.pop()!.length, 0, 'no start tag after the last endFrame');
  assert.is(out.length, frames.length, 'one endFrame per frame');
  return out;
}

function collect(bytes: Uint8Array, tok?: Tokenizer): [number, string][] {
  return collectFrames([bytes], tok)[0]!;
}

test('one shared instance per process', () => {
  assert.is(sharedTokenizer(), sharedTokenizer());
});

test('start tags with byte offsets into the frame and their name lengths', () => {
  const b = Buffer.from(`<message to='a@b' id="1"><body>x &amp; y\nz</body><c xmlns="u"/><éa x='1'/><x:y/></message>`);
  assert.equal(collect(b), [
    [0, 'message'],
    [25, 'body'],
    [49, 'c'],
    [63, 'éa'],
    [75, 'x:y'],
  ]);
});

test('an unclosed start tag (the stream header) is reported', () => {
  const b = Buffer.from(`<stream:stream xmlns:stream="http://etherx.jabber.org/streams" to="x">`);
  assert.equal(collect(b), [[0, 'stream:stream']]);
});

test('many frames in one write: offsets are per frame, one endFrame each, in order', () => {
  const frames = ['<a x="1"/>', '<b><c/>t</b>', '<d>x</d>', '<e/>'].map((s) => Buffer.from(s));
  const tok = new Tokenizer();
  const writes = tok.stats.writes;
  assert.equal(collectFrames(frames, tok), [[[0, 'a']], [[0, 'b'], [3, 'c']], [[0, 'd']], [[0, 'e']]]);
  assert.is(tok.stats.writes - writes, 1);
  // And each run is independent of the previous one.
  assert.equal(collectFrames([Buffer.from('<z/>')], tok), [[[0, 'z']]]);
});

test('runs larger than one write are split between frames', () => {
  const frames: Buffer[] = [];
  for (let i = 0; i < 6000; i++) frames.push(Buffer.from(`<item n="${i}">${'é'.repeat(i % 9)}t${i}<sub/></item>`));
  const total = frames.reduce((n, f) => n + f.length, 0);
  assert.ok(total > 2 * MAX_WRITE);
  const tok = new Tokenizer();
  const writes = tok.stats.writes;
  const out = collectFrames(frames, tok);
  assert.ok(tok.stats.writes - writes >= 3);
  out.forEach((tags, i) => assert.equal(tags, [[0, 'item'], [frames[i]!.indexOf('<sub'), 'sub']]));
});

test('a frame larger than one write is split after `>` with correct offsets', () => {
  const parts: string[] = ['<r>'];
  for (let i = 0; i < 4000; i++) parts.push(`<item n="${i}" v="${'é'.repeat(i % 7)}">t${i}</item>`);
  parts.push('</r>');
  const b = Buffer.from(parts.join(''));
  assert.ok(b.length > 2 * MAX_WRITE);
  const tok = new Tokenizer();
  const writes = tok.stats.writes;
  const frames = [Buffer.from('<before/>'), b, Buffer.from('<after/>')];
  const out = collectFrames(frames, tok);
  assert.ok(tok.stats.writes - writes >= 5);
  assert.equal(out[0], [[0, 'before']]);
  assert.equal(out[2], [[0, 'after']]);
  const tags = out[1]!;
  assert.is(tags.length, 4001);
  for (const [start] of tags) assert.is(b[start], 0x3c);
  assert.is(tags[4000]![0], b.lastIndexOf('<item'));
});

test('restricted constructs reaching the tokenizer → restricted-xml; earlier frames stay reported; the instance stays usable', () => {
  for (const s of ['<a><!-- c --></a>', '<a><![CDATA[x]]></a>', '<?pi x?><a/>', '<!DOCTYPE a><a/>', '<?xml version="1.0"?><a/>']) {
    assert.throws(() => collect(Buffer.from(s)), (e: unknown) => e instanceof StreamError && e.condition === 'restricted-xml', s);
  }
  let ended = 0;
  const sink: TokenSink = { startTag() {}, endFrame: () => void ended++ };
  const frames = ['<ok/>', '<ok2/>', '<a><!-- c --></a>', '<never/>'].map((s) => Buffer.from(s));
  assert.throws(() => sharedTokenizer().tokenizeFrames(frames, frames.length, sink), (e: StreamError) => e.condition === 'restricted-xml');
  assert.is(ended, 2);
  assert.equal(collect(Buffer.from('<ok/>')), [[0, 'ok']]);
});

test('errors thrown by the sink stop the run and are rethrown after it, never through wasm', () => {
  const tok = new Tokenizer();
  let calls = 0;
  let ended = 0;
  const sink: TokenSink = {
    startTag() {
      calls++;
      if (calls === 3) throw new StreamError('bad-namespace-prefix');
    },
    endFrame() {
      ended++;
    },
  };
  const frames = ['<a/>', '<b><c/><d/></b>', '<e/>'].map((s) => Buffer.from(s));
  assert.throws(() => tok.tokenizeFrames(frames, 3, sink), (e: StreamError) => e.condition === 'bad-namespace-prefix');
  assert.is(calls, 3);
  assert.is(ended, 1);
  // An error thrown by endFrame stops the run too.
  const failing: TokenSink = {
    startTag() {},
    endFrame() {
      throw new StreamError('not-well-formed');
    },
  };
  assert.throws(() => tok.tokenizeFrames(frames, 3, failing), (e: StreamError) => e.condition === 'not-well-formed');
  assert.equal(collect(Buffer.from('<x/>'), tok), [[0, 'x']]);
});

test('the instance is recreated when its memory grows past maxMemory', () => {
  const tok = new Tokenizer();
  tok.maxMemory = tok.memoryBytes; // any growth triggers a new instance
  const n = tok.stats.instances;
  // Deep nesting makes sax-wasm allocate (its tag stack); with only OpenTagStart subscribed,
  // long names, values and text do not.
  const deep = Buffer.from('<a>'.repeat(20000) + '</a>'.repeat(20000));
  assert.is(collect(deep, tok).length, 20000);
  assert.ok(tok.stats.instances > n);
  assert.ok(tok.memoryBytes <= 2 * 1024 * 1024);
  assert.equal(collect(Buffer.from('<y/>'), tok), [[0, 'y']]);
});

test.run();
