/**
 * Property tests: random stanzas serialized with `serialize()` and fed to the stream parser
 * under any chunking parse to elements equal to the original and to the unsplit parse, with
 * either tokenizer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { NS } from '../../../src/core/namespaces.ts';
import { XmlElement, type XmlNode } from '../../../src/core/xml/element.ts';
import { parseElement } from '../../../src/core/xml/parse-element.ts';
import { serialize, serializeStandalone } from '../../../src/core/xml/serialize.ts';
import { StreamParser } from '../../../src/core/xml/stream-parser.ts';
import type { TokenizerKind } from '../../../src/core/xml/tokenizer.ts';

const HEADER = `<stream:stream xmlns="jabber:client" xmlns:stream="${NS.STREAMS}" to="example.com" version="1.0">`;
const PREFIXES = new Map([[NS.STREAMS, 'stream']]);

// Only XML 1.0 characters: the serializer replaces others with U+FFFD by design.
const XML_CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const namePart = fc.constantFrom('a', 'b', 'body', 'message', 'x', 'é', 'ü', '中', '𝒜', '_', 'q1', 'n-m', 'z.y', 'longername', 'Ω');
const name = fc
  .array(namePart, { minLength: 1, maxLength: 3 })
  .map((p) => p.join(''))
  .filter((n) => !/^[0-9.-]/.test(n) && !n.toLowerCase().startsWith('xml') && n !== '__proto__');
const special = fc.constantFrom('&', '<', '>', '"', "'", '\n', '\r\n', '\r', '\t', ' ', '   ', '😀', 'ü', '€', '中', '𝄞', '&amp;', '&lt;', ']]>', ']]', 'x', 'hello world', '\n    ');
const randomChars = fc.string({ unit: 'binary', maxLength: 6 }).filter((s) => XML_CHAR.test(s));
const text = fc.array(fc.oneof(special, randomChars), { maxLength: 8 }).map((p) => p.join(''));
const uri = fc.constantFrom('urn:a', 'urn:b', 'jabber:client', 'http://jabber.org/protocol/x?a&b', 'urn:"q"', 'urn:x}y');
const elementUri = fc.oneof({ weight: 8, arbitrary: uri }, { weight: 1, arbitrary: fc.constant(NS.XML) });
const ns = fc.option(elementUri, { nil: undefined, freq: 2 });

const attrs = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: name },
        { weight: 1, arbitrary: fc.tuple(uri, name).map(([u, n]) => `{${u}}${n}`) },
        { weight: 1, arbitrary: fc.constantFrom('xml:lang', 'xml:space') },
      ),
      text,
    ),
    { maxLength: 4 },
  )
  .map((pairs) => {
    const o: Record<string, string> = {};
    for (const [k, v] of pairs) o[k] = v;
    return o;
  });

const { element } = fc.letrec<{ element: XmlElement; node: XmlNode }>((tie) => ({
  element: fc
    .tuple(name, ns, attrs, fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'el' }))
    .map(([n, u, a, c]) => new XmlElement(n, u, a, c)),
  node: fc.oneof({ depthSize: 'small', depthIdentifier: 'el', withCrossShrink: true }, text, tie('element')),
}));

/** Cut `bytes` into chunks of the given sizes (cycled). */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let k = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = sizes[k++ % sizes.length]!;
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

function parseStream(chunks: Buffer[], tokenizer: TokenizerKind = 'sax-wasm'): XmlElement[] {
  const p = new StreamParser({ maxStanzaSize: 1 << 20, tokenizer });
  const out: XmlElement[] = [];
  for (const c of chunks) for (const e of p.push(c)) if (e.type === 'element') out.push(e.element);
  return out;
}

test('serialize → stream-parse under any chunking equals the original and the unsplit parse', () => {
  fc.assert(
    fc.property(fc.array(element, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }), (els, sizes) => {
      const wire = Buffer.from(HEADER + els.map((e) => serialize(e, { defaultNs: NS.CLIENT, prefixes: PREFIXES }) + (e.children.length % 2 ? '\n ' : '')).join('') + '</stream:stream>');
      const whole = parseStream([wire]);
      const split = parseStream(cut(wire, sizes));
      const bytewise = parseStream(cut(wire, [1]));
      const builtin = parseStream(cut(wire, sizes), 'builtin');
      assert.is(whole.length, els.length);
      assert.is(builtin.length, els.length);
      for (let i = 0; i < els.length; i++) {
        assert.ok(whole[i]!.equals(els[i]!, undefined, NS.CLIENT), `whole #${i}: ${serialize(whole[i]!)} vs ${serialize(els[i]!)}`);
        assert.ok(split[i]!.equals(whole[i]!), `split #${i}`);
        assert.ok(bytewise[i]!.equals(whole[i]!), `1-byte #${i}`);
        assert.ok(builtin[i]!.equals(whole[i]!), `builtin tokenizer #${i}`);
      }
    }),
    { numRuns: 250 },
  );
});

test('serializeStandalone → parseElement round-trips; parse → serialize → parse is stable', () => {
  fc.assert(
    fc.property(element, (el) => {
      const parsed = parseElement(serializeStandalone(el, 'jabber:client'), { defaultNs: 'jabber:client' });
      assert.ok(parsed.equals(el, undefined, 'jabber:client'));
      const again = parseElement(serializeStandalone(parsed, 'jabber:client'), { defaultNs: 'jabber:client' });
      assert.ok(again.equals(parsed));
    }),
    { numRuns: 500 },
  );
});

test('round trip of corner cases found by the fuzzer: `}` in a namespace URI, an element in the xml namespace', () => {
  const a = parseElement('<a xmlns:p="urn:x}y" p:k="v"/>', { defaultNs: 'jabber:client' });
  assert.equal({ ...a.attrs }, { '{urn:x}y}k': 'v' });
  assert.ok(parseElement(serializeStandalone(a, 'jabber:client'), { defaultNs: 'jabber:client' }).equals(a));
  const b = parseElement('<r><xml:c/></r>', { defaultNs: 'jabber:client' });
  assert.is(b.getChild('c')!.ns, NS.XML);
  assert.ok(parseElement(serializeStandalone(b, 'jabber:client'), { defaultNs: 'jabber:client' }).equals(b));
});

test('hand-written stanzas with indentation and entities under every 1- and 2-byte cut', () => {
  const stanza = `<message to="bob@example.com/ü" id='a"b'>\n  <body xml:lang="en">Hello &amp; welcome 😀 — ça va?\n\tLine 2 &lt;br/&gt; &#x1F600;&#10;</body>\n  <x xmlns="urn:x" xmlns:p="urn:p" p:k="v&apos;"><y/></x>\n</message>`;
  const wire = Buffer.from(`${HEADER}${stanza}</stream:stream>`);
  const ref = parseStream([wire]);
  assert.is(ref.length, 1);
  assert.is(ref[0]!.getChildText('body'), 'Hello & welcome 😀 — ça va?\n\tLine 2 <br/> 😀\n');
  assert.is(ref[0]!.getChild('x')!.attr('{urn:p}k'), "v'");
  for (let a = 1; a < wire.length; a++) {
    const two = parseStream([wire.subarray(0, a), wire.subarray(a)]);
    assert.ok(two[0]!.equals(ref[0]!), `cut at ${a}`);
  }
});

test.run();
