import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { ATTR_FIELDS, MAX_WRITE, Tokenizer, sharedTokenizer, type TokenSink } from '../../../src/core/xml/tokenizer.ts';

interface Tag {
  start: number;
  end: number;
  name: string;
  selfClosing: boolean;
  attrs: [number, string, string][];
}

function collect(bytes: Buffer, tok: Tokenizer = sharedTokenizer()): Tag[] {
  const tags: Tag[] = [];
  const sink: TokenSink = {
    openTag(start, end, nameLen, selfClosing, count, attrs) {
      const a: [number, string, string][] = [];
      for (let k = 0; k < count * ATTR_FIELDS; k += ATTR_FIELDS) {
        a.push([attrs[k]!, bytes.toString('utf8', attrs[k + 1]!, attrs[k + 2]!), bytes.toString('utf8', attrs[k + 3]!, attrs[k + 4]!)]);
      }
      tags.push({ start, end, name: bytes.toString('utf8', start + 1, start + 1 + nameLen), selfClosing, attrs: a });
    },
  };
  tok.tokenize(bytes, sink);
  return tags;
}

test('one shared instance per process', () => {
  assert.is(sharedTokenizer(), sharedTokenizer());
});

test('start tags with byte offsets into the frame; values raw (entities undecoded)', () => {
  const b = Buffer.from(`<message to='a@b' id="1"><body>x &amp; y\nz</body><c xmlns="u"/></message>`);
  const tags = collect(b);
  assert.equal(tags, [
    { start: 0, end: 25, name: 'message', selfClosing: false, attrs: [[4, 'to', 'a@b'], [8, 'id', '1']] },
    { start: 25, end: 31, name: 'body', selfClosing: false, attrs: [] },
    { start: 49, end: 63, name: 'c', selfClosing: true, attrs: [[8, 'xmlns', 'u']] },
  ]);
});

test('an unclosed start tag (the stream header) still fires OpenTag', () => {
  const b = Buffer.from(`<stream:stream xmlns:stream="http://etherx.jabber.org/streams" to="x">`);
  const tags = collect(b);
  assert.is(tags.length, 1);
  assert.is(tags[0]!.name, 'stream:stream');
  assert.is(tags[0]!.end, b.length);
});

test('each frame is independent: end() resets offsets', () => {
  const a = collect(Buffer.from('<a x="1"/>'));
  const b = collect(Buffer.from('<b y="2"/>'));
  assert.is(a[0]!.start, 0);
  assert.is(b[0]!.start, 0);
  assert.is(b[0]!.attrs[0]![1], 'y');
});

test('unquoted and valueless attributes are reported with their types (the builder rejects them)', () => {
  const tags = collect(Buffer.from('<a b=x c>'));
  assert.equal(tags[0]!.attrs.map((x) => x[0]), [2, 0]);
});

test('frames larger than one write are split after `>` with correct offsets', () => {
  const parts: string[] = ['<r>'];
  for (let i = 0; i < 4000; i++) parts.push(`<item n="${i}" v="${'é'.repeat(i % 7)}">t${i}</item>`);
  parts.push('</r>');
  const b = Buffer.from(parts.join(''));
  assert.ok(b.length > 2 * MAX_WRITE);
  const tok = new Tokenizer();
  const writes = tok.stats.writes;
  const tags = collect(b, tok);
  assert.ok(tok.stats.writes - writes >= 3);
  assert.is(tags.length, 4001);
  for (const t of tags) assert.is(b[t.start], 0x3c);
  assert.equal(tags[4000]!.attrs[0], [8, 'n', '3999']);
});

test('restricted constructs reaching the tokenizer → restricted-xml; the instance stays usable', () => {
  for (const s of ['<a><!-- c --></a>', '<a><![CDATA[x]]></a>', '<?pi x?><a/>', '<!DOCTYPE a><a/>', '<?xml version="1.0"?><a/>']) {
    assert.throws(() => collect(Buffer.from(s)), (e: unknown) => e instanceof StreamError && e.condition === 'restricted-xml', s);
  }
  assert.is(collect(Buffer.from('<ok/>'))[0]!.name, 'ok');
});

test('errors thrown by the sink are rethrown after the frame, never through wasm', () => {
  const tok = new Tokenizer();
  let calls = 0;
  const sink: TokenSink = {
    openTag() {
      calls++;
      throw new StreamError('bad-namespace-prefix');
    },
  };
  assert.throws(() => tok.tokenize(Buffer.from('<a><b/><c/></a>'), sink), (e: StreamError) => e.condition === 'bad-namespace-prefix');
  assert.is(calls, 1);
  assert.is(collect(Buffer.from('<x/>'), tok)[0]!.name, 'x');
});

test('the instance is recreated when its memory grows past maxMemory', () => {
  const tok = new Tokenizer();
  tok.maxMemory = tok.memoryBytes; // any growth triggers a new instance
  const n = tok.stats.instances;
  // Many attributes make sax-wasm allocate.
  const attrs = Array.from({ length: 5000 }, (_, i) => `a${i}="${i}"`).join(' ');
  const tags = collect(Buffer.from(`<a ${attrs}/>`), tok);
  assert.is(tags[0]!.attrs.length, 5000);
  assert.ok(tok.stats.instances > n);
  assert.ok(tok.memoryBytes <= 2 * 1024 * 1024);
  assert.is(collect(Buffer.from('<y/>'), tok)[0]!.name, 'y');
});

test.run();
