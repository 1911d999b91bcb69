/**
 * Fuzz: 100k+ random and mutated inputs (bit flips, truncations, insertions of XML
 * metacharacters, random bytes) under random chunking. The only thing that may ever escape
 * the parser is a StreamError with one of the conditions the parser documents.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { NS } from '../../../src/core/namespaces.ts';
import type { XmlElement } from '../../../src/core/xml/element.ts';
import { ElementBuilder, rootScope } from '../../../src/core/xml/element-builder.ts';
import { parseElement } from '../../../src/core/xml/parse-element.ts';
import { sharedTokenizer } from '../../../src/core/xml/tokenizer.ts';
import { serializeStandalone } from '../../../src/core/xml/serialize.ts';
import { StreamParser } from '../../../src/core/xml/stream-parser.ts';

const ALLOWED = new Set(['not-well-formed', 'restricted-xml', 'policy-violation', 'bad-namespace-prefix', 'unsupported-encoding', 'invalid-namespace', 'invalid-xml']);

let seed = 0x5eed;
function rnd(n: number): number {
  // xorshift32: deterministic, so a failure is reproducible.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

const SEEDS = [
  `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="${NS.STREAMS}" to="example.com" version="1.0" xml:lang="en">`,
  `<message to="a@b/c" type='chat' id="x&amp;y"><body>hi &lt;3 ü😀\n  next</body><active xmlns="http://jabber.org/protocol/chatstates"/></message>`,
  `<presence><show>away</show><status xml:lang="en">brb &#x1F600;</status><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="v="/></presence>`,
  `<iq type="set" id="1"><p:query xmlns:p="jabber:iq:roster" p:ver="3"><p:item jid="x@y" name="X"><p:group>G</p:group></p:item></p:query></iq>`,
  `<stream:features><starttls xmlns="${NS.TLS}"><required/></starttls></stream:features>`,
  `<a xmlns="urn:x" b='"' c="'" d="&#9;&#10;">\r\n\t<e/></a>`,
  ' \n ',
  '</stream:stream>',
];
const TOKENS = ['<', '>', '/', '</', '/>', '<!', '<?', '<![CDATA[', '<!--', '-->', '&', '&amp;', '&#', '&#x', ';', '"', "'", '=', ':', 'xmlns', 'xmlns:p', 'xml:', ']]>', '\u0000', '\r', '\n', '\uFFFE', '😀', 'ü', '\t', ' ', 'p:', '<p:a>', '</a>', '<a>', '&lol;'];
const TOKEN_BYTES = TOKENS.map((t) => Buffer.from(t));

function mutate(input: Buffer): Buffer {
  const b = Buffer.from(input);
  const ops = 1 + rnd(4);
  let out: Buffer = b;
  for (let k = 0; k < ops; k++) {
    const pos = rnd(out.length + 1);
    switch (rnd(7)) {
      case 0: // bit flip
        if (out.length) out[Math.min(pos, out.length - 1)]! ^= 1 << rnd(8);
        break;
      case 1: // random byte
        if (out.length) out[Math.min(pos, out.length - 1)] = rnd(256);
        break;
      case 2: // truncate
        out = out.subarray(0, pos);
        break;
      case 3: // insert a metacharacter token
        out = Buffer.concat([out.subarray(0, pos), TOKEN_BYTES[rnd(TOKEN_BYTES.length)]!, out.subarray(pos)]);
        break;
      case 4: // delete a range
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + rnd(8))]);
        break;
      case 5: // duplicate a range
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + 1 + rnd(16)), out.subarray(pos)]);
        break;
      default: // random bytes
        out = Buffer.concat([out.subarray(0, pos), Buffer.from(Array.from({ length: 1 + rnd(6) }, () => rnd(256))), out.subarray(pos)]);
    }
  }
  return out;
}

function streamInput(): Buffer {
  const parts: Buffer[] = [Buffer.from(SEEDS[0]!)];
  const n = rnd(5);
  for (let i = 0; i < n; i++) parts.push(Buffer.from(SEEDS[1 + rnd(SEEDS.length - 1)]!));
  const whole = Buffer.concat(parts);
  return rnd(10) === 0 ? Buffer.from(Array.from({ length: rnd(200) }, () => rnd(256))) : mutate(whole);
}

function check(e: unknown, input: Buffer): void {
  if (!(e instanceof StreamError) || !ALLOWED.has(e.condition)) {
    assert.unreachable(`unexpected ${String(e)} for ${JSON.stringify(input.toString('latin1'))}`);
  }
}

test('100k+ mutated streams under random chunking: only StreamErrors escape', () => {
  let inputs = 0;
  let accepted = 0;
  for (let i = 0; i < 60000; i++) {
    const input = streamInput();
    const p = new StreamParser({ maxStanzaSize: rnd(4) === 0 ? 64 + rnd(200) : 65536 });
    inputs++;
    try {
      const max = rnd(3) === 0 ? 1 : 1 + rnd(64);
      for (let pos = 0; pos < input.length; ) {
        const n = 1 + rnd(max);
        p.push(input.subarray(pos, pos + n));
        pos += n;
      }
      // The last chunk may have returned events completed before its fault.
      if (p.error) throw p.error;
      accepted++;
    } catch (e) {
      check(e, input);
      // A failed parser keeps failing with the same error.
      try {
        p.push(Buffer.from('<a/>'));
        assert.unreachable('failed parser accepted input');
      } catch (e2) {
        assert.is(e2, e);
      }
    }
  }
  for (let i = 0; i < 40000; i++) {
    const input = mutate(Buffer.from(SEEDS[1 + rnd(5)]!));
    inputs++;
    let el: XmlElement;
    try {
      el = parseElement(input, { defaultNs: 'jabber:client' });
      accepted++;
    } catch (e) {
      check(e, input);
      continue;
    }
    // Whatever we accept must survive serialize → parse unchanged.
    let again: XmlElement;
    try {
      again = parseElement(serializeStandalone(el, 'jabber:client'), { defaultNs: 'jabber:client', maxSize: 1 << 20 });
    } catch (e) {
      throw new Error(`${String(e)}: ${JSON.stringify(input.toString())} → ${serializeStandalone(el, 'jabber:client')}`);
    }
    assert.ok(again.equals(el), `round trip of ${JSON.stringify(input.toString('latin1'))}`);
  }
  assert.ok(inputs >= 100000);
  // Sanity: the mutations are not all fatal (some accepted), nor all harmless.
  assert.ok(accepted > 1000 && accepted < inputs - 1000, `accepted ${accepted} of ${inputs}`);
});

// The framer's early checks and the builder are two views of the same bytes: whatever the
// framer lets through must build exactly as the builder alone builds it.
test('an element accepted through the framer equals the builder’s own parse of it', () => {
  const full = new ElementBuilder();
  let compared = 0;
  for (let i = 0; i < 30000; i++) {
    const input = mutate(Buffer.from(SEEDS[1 + rnd(5)]!));
    let el: XmlElement;
    try {
      el = parseElement(input, { defaultNs: 'jabber:client' });
    } catch {
      continue;
    }
    let ref: XmlElement;
    try {
      const bytes = input.subarray(input.indexOf(0x3c), input.lastIndexOf(0x3e) + 1);
      full.begin(bytes, rootScope('jabber:client'));
      sharedTokenizer().tokenize(bytes, full);
      ref = full.finish();
    } catch (e) {
      throw new Error(`framer path accepted what the builder alone rejects (${String(e)}): ${JSON.stringify(input.toString('latin1'))}`);
    }
    assert.ok(el.equals(ref), `differs: ${JSON.stringify(input.toString('latin1'))}`);
    compared++;
  }
  assert.ok(compared > 1000, `only ${compared} accepted inputs compared`);
});

test.run();
