/**
 * The two tokenizer kinds ('sax-wasm' and 'builtin', see TokenizerKind) drive the same element
 * builder: on any input, under any chunking, they must produce the same events and fail with
 * the same condition at the same point. Also the batching of the sax-wasm path: many stanzas
 * per read, a bad one among them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { NS } from '../../../src/core/namespaces.ts';
import { serialize } from '../../../src/core/xml/serialize.ts';
import { parseElement } from '../../../src/core/xml/parse-element.ts';
import { StreamParser, type StreamEvent } from '../../../src/core/xml/stream-parser.ts';
import type { TokenizerKind } from '../../../src/core/xml/tokenizer.ts';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="${NS.STREAMS}" to="example.com" version="1.0">`;

let seed = 0xbeef;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

const STANZAS = [
  `<message to="a@b/c" type='chat' id="x&amp;y"><body>hi &lt;3 ü😀\n  next</body><active xmlns="http://jabber.org/protocol/chatstates"/></message>`,
  `<presence><show>away</show><status xml:lang="en">brb &#x1F600;</status><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="v="/></presence>`,
  `<iq type="set" id="1"><p:query xmlns:p="jabber:iq:roster" p:ver="3"><p:item jid="x@y" name="X"><p:group>G</p:group></p:item></p:query></iq>`,
  `<éa xmlns="urn:x" b='"' c="'" d="&#9;&#10;">\r\n\t<e/><ü:f xmlns:ü="urn:u" ü:g="1"/></éa>`,
  ' \n ',
  '<r/>',
];
const TOKENS = ['<', '>', '/', '</', '/>', '<!', '<?', '<!--', '&', '&amp;', '&#', ';', '"', "'", '=', ':', 'xmlns', 'xmlns:p', ']]>', '\u0000', '\r', '😀', 'ü', ' ', 'p:', '<p:a>', '</a>', '<a>', '&lol;', '\uFFFE', '<stream:stream>'];

function mutate(s: string): Buffer {
  let b = Buffer.from(s);
  for (let k = 1 + rnd(3); k > 0; k--) {
    const pos = rnd(b.length + 1);
    switch (rnd(5)) {
      case 0:
        if (b.length) b[Math.min(pos, b.length - 1)]! ^= 1 << rnd(8);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from(TOKENS[rnd(TOKENS.length)]!), b.subarray(pos)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + rnd(6))]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos, pos + 1 + rnd(12)), b.subarray(pos)]);
        break;
      default:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from([rnd(256)]), b.subarray(pos)]);
    }
  }
  return b;
}

function describe(e: StreamEvent): string {
  if (e.type === 'element') return `E${e.size}:${serialize(e.element, { defaultNs: NS.CLIENT })}`;
  if (e.type === 'streamStart') return `S:${serialize(e.header)}:${String(e.contentNs)}`;
  return 'END';
}

/** Feed `chunks` to a parser of `kind`: the events (per push) and the final error condition. */
function run(kind: TokenizerKind, chunks: Buffer[], maxStanzaSize: number): string[] {
  const p = new StreamParser({ tokenizer: kind, maxStanzaSize });
  const out: string[] = [];
  try {
    for (const c of chunks) {
      out.push(p.push(c).map(describe).join('|'));
      if (p.error) throw p.error;
    }
  } catch (e) {
    if (!(e instanceof StreamError)) throw e;
    out.push(`ERROR ${e.condition}`);
  }
  return out;
}

test('sax-wasm and builtin: same events and the same error at the same point, 20k mutated streams', () => {
  let failed = 0;
  for (let i = 0; i < 20000; i++) {
    let text = HEADER;
    for (let n = rnd(12); n > 0; n--) text += STANZAS[rnd(STANZAS.length)];
    if (rnd(4) === 0) text += '</stream:stream>';
    const input = rnd(8) === 0 ? Buffer.from(text) : mutate(text);
    const chunks: Buffer[] = [];
    const max = rnd(3) === 0 ? input.length : 1 + rnd(80);
    for (let pos = 0; pos < input.length; ) {
      const n = 1 + rnd(max);
      chunks.push(input.subarray(pos, pos + n));
      pos += n;
    }
    const limit = rnd(6) === 0 ? 100 + rnd(200) : 65536;
    const a = run('sax-wasm', chunks, limit);
    const b = run('builtin', chunks, limit);
    assert.equal(b, a, JSON.stringify(input.toString('latin1')));
    if (a[a.length - 1]!.startsWith('ERROR')) failed++;
  }
  // Both accept and reject plenty: the comparison is not vacuous.
  assert.ok(failed > 5000 && failed < 19000, `${failed} failed`);
});

test('parseElement: the same result or the same condition with either tokenizer', () => {
  for (let i = 0; i < 10000; i++) {
    const input = mutate(STANZAS[rnd(4)]!);
    const results = (['sax-wasm', 'builtin'] as const).map((tokenizer) => {
      try {
        return serialize(parseElement(input, { tokenizer, defaultNs: NS.CLIENT }), { defaultNs: NS.CLIENT });
      } catch (e) {
        if (!(e instanceof StreamError)) throw e;
        return `ERROR ${e.condition}`;
      }
    });
    assert.is(results[1], results[0], JSON.stringify(input.toString('latin1')));
  }
});

test('many stanzas in one read are built in order; a bad one in the middle keeps those before it', () => {
  for (const tokenizer of ['sax-wasm', 'builtin'] as const) {
    const good = Array.from({ length: 3000 }, (_, i) => `<message id="m${i}"><body>${'é'.repeat(i % 5)}${i}</body></message>`);
    const p = new StreamParser({ tokenizer });
    p.push(Buffer.from(HEADER));
    // More than one tokenizer batch (1024 stanzas) and more than one 64 KiB write.
    const events = p.push(Buffer.from(good.join('') + '<message><body>x</body></massage>' + '<message id="never"/>'));
    assert.is(events.length, 3000, tokenizer);
    events.forEach((e, i) => {
      assert.is(e.type, 'element');
      if (e.type === 'element') assert.is(e.element.attr('id'), `m${i}`);
    });
    assert.is(p.error?.condition, 'not-well-formed');
    assert.throws(() => p.push(Buffer.from('<a/>')), (e: StreamError) => e.condition === 'not-well-formed');
  }
});

test('a stanza that began in an earlier read is built from a stable copy', () => {
  const p = new StreamParser();
  p.push(Buffer.from(HEADER + '<message id="a"><body>first ha'));
  // This read completes the pending stanza, holds two more and starts a long fourth one,
  // whose bytes go into the framer's buffer while the batch is still waiting.
  const events = p.push(Buffer.from('lf</body></message><message id="b"/><message id="c"/><message id="d"><body>' + 'z'.repeat(3000)));
  assert.equal(
    events.map((e) => (e.type === 'element' ? `${e.element.attr('id')}:${e.element.getChildText('body') ?? ''}` : e.type)),
    ['a:first half', 'b:', 'c:'],
  );
  const rest = p.push(Buffer.from('</body></message>'));
  assert.is(rest.length, 1);
  assert.is(rest[0]!.type === 'element' && rest[0]!.element.getChildText('body'), 'z'.repeat(3000));
});

test.run();
