import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { NS } from '../../../src/core/namespaces.ts';
import { xml } from '../../../src/core/xml/element.ts';
import { StreamParser, type StreamEvent } from '../../../src/core/xml/stream-parser.ts';
import { sharedTokenizer } from '../../../src/core/xml/tokenizer.ts';

const HEADER = `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="example.com" version="1.0" xml:lang="en">`;

function feed(p: StreamParser, s: string | Uint8Array, chunk = Infinity): StreamEvent[] {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const out: StreamEvent[] = [];
  for (let i = 0; i < b.length; i += chunk) out.push(...p.push(b.subarray(i, Math.min(b.length, i + chunk))));
  return out;
}

function fails(input: string, condition: string, opts = {}): StreamError {
  const p = new StreamParser(opts);
  try {
    feed(p, input);
    // Events completed before the fault were returned; the error is then on `error`.
    if (p.error) throw p.error;
  } catch (e) {
    assert.instance(e, StreamError, String(e));
    assert.is((e as StreamError).condition, condition, `${JSON.stringify(input)}: ${(e as Error).message}`);
    return e as StreamError;
  }
  assert.unreachable(`accepted ${JSON.stringify(input)}`);
  throw new Error('unreachable');
}

test('client opens a stream, sends stanzas, closes it', () => {
  const p = new StreamParser();
  const ev = feed(p, `<?xml version='1.0'?>\n${HEADER}\n<message to="bob@example.com" type="chat"><body>hi</body></message>\n`);
  assert.is(ev.length, 2);
  const start = ev[0]!;
  assert.is(start.type, 'streamStart');
  if (start.type !== 'streamStart') return;
  assert.is(start.header.name, 'stream');
  assert.is(start.header.ns, NS.STREAMS);
  assert.is(start.contentNs, NS.CLIENT);
  assert.equal({ ...start.header.attrs }, { to: 'example.com', version: '1.0', 'xml:lang': 'en' });
  const msg = ev[1]!;
  assert.is(msg.type, 'element');
  if (msg.type !== 'element') return;
  assert.ok(msg.element.equals(xml('message', { xmlns: NS.CLIENT, to: 'bob@example.com', type: 'chat' }, xml('body', {}, 'hi'))));
  assert.is(msg.element.ns, NS.CLIENT);
  assert.is(msg.element.getChild('body')!.ns, NS.CLIENT);
  assert.is(msg.size, Buffer.byteLength('<message to="bob@example.com" type="chat"><body>hi</body></message>'));
  assert.equal(feed(p, ' '), []);
  assert.equal(feed(p, '</stream:stream>'), [{ type: 'streamEnd' }]);
});

test('stream: prefix is bound for stanzas; content namespace from the header', () => {
  const p = new StreamParser();
  const ev = feed(p, `${HEADER}<stream:features><starttls xmlns="${NS.TLS}"><required/></starttls></stream:features><stream:error><conflict xmlns="${NS.STREAM_ERRORS}"/></stream:error>`);
  const f = ev[1]!;
  if (f.type !== 'element') throw new Error('expected element');
  assert.is(f.element.name, 'features');
  assert.is(f.element.ns, NS.STREAMS);
  assert.is(f.element.getChild('starttls')!.ns, NS.TLS);
  assert.is(f.element.getChild('starttls')!.getChild('required')!.ns, NS.TLS);
  assert.is((ev[2] as { element: { ns: string } }).element.ns, NS.STREAMS);
});

test('wrong root or content namespace is reported, not rejected (the c2s answers first)', () => {
  const ev = feed(new StreamParser(), `<stream:stream xmlns="jabber:bogus" xmlns:stream="urn:wrong"><a/>`);
  assert.is(ev[0]!.type, 'streamStart');
  if (ev[0]!.type !== 'streamStart') return;
  assert.is(ev[0]!.header.ns, 'urn:wrong');
  assert.is(ev[0]!.contentNs, 'jabber:bogus');
  const noDefault = feed(new StreamParser(), `<stream:stream xmlns:stream="${NS.STREAMS}"><a/>`);
  if (noDefault[0]!.type !== 'streamStart' || noDefault[1]!.type !== 'element') throw new Error('events');
  assert.is(noDefault[0]!.contentNs, undefined);
  assert.is(noDefault[1]!.element.ns, undefined);
  const unprefixed = feed(new StreamParser(), `<stream xmlns="${NS.STREAMS}"></stream>`);
  assert.equal(unprefixed.map((e) => e.type), ['streamStart', 'streamEnd']);
});

test('XML-level errors in the header throw', () => {
  fails(`<stream:stream xmlns="jabber:client">`, 'bad-namespace-prefix');
  fails(`<stream:stream xmlns:stream="${NS.STREAMS}" to=x>`, 'not-well-formed');
  fails(`<stream:stream xmlns:stream="${NS.STREAMS}" to="a" to="b">`, 'not-well-formed');
  fails(`<stream:stream xmlns:stream="${NS.STREAMS}" to="&foo;">`, 'restricted-xml');
});

test('stream end must match the header qname', () => {
  fails(`${HEADER}</stream>`, 'not-well-formed');
  fails(`${HEADER}</stream:streamx>`, 'not-well-formed');
  fails(`${HEADER}</stream:stream x>`, 'not-well-formed');
  assert.equal(feed(new StreamParser(), `${HEADER}</stream:stream \n>`).map((e) => e.type), ['streamStart', 'streamEnd']);
  assert.equal(feed(new StreamParser(), `<stream:stream xmlns:stream="${NS.STREAMS}"/>`).map((e) => e.type), ['streamStart', 'streamEnd']);
});

test('billion laughs → restricted-xml, nothing expanded', () => {
  let lol = '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n';
  for (let i = 2; i <= 9; i++) lol += ` <!ENTITY lol${i} "${`&lol${i === 2 ? '' : i - 1};`.repeat(10)}">\n`;
  lol += ']>\n<lolz>&lol9;</lolz>';
  fails(lol, 'restricted-xml');
  fails(`${HEADER}<message><body>&lol9;</body></message>`, 'restricted-xml');
});

test('oversized stanza and header → policy-violation without ever being written to wasm', () => {
  const tok = sharedTokenizer();
  const p = new StreamParser({ maxStanzaSize: 1000 });
  feed(p, HEADER);
  const before = { ...tok.stats };
  const big = `<message><body>${'x'.repeat(5000)}</body></message>`;
  assert.throws(() => feed(p, big, 100), (e: StreamError) => e.condition === 'policy-violation');
  assert.is(tok.stats.writes, before.writes);
  assert.is(tok.stats.bytes, before.bytes);
  // In one chunk too: the limit is checked when the frame completes, before tokenizing.
  const p2 = new StreamParser({ maxStanzaSize: 1000 });
  feed(p2, HEADER);
  const before2 = tok.stats.writes;
  assert.throws(() => feed(p2, big), (e: StreamError) => e.condition === 'policy-violation');
  assert.is(tok.stats.writes, before2);
  // The header is limited too, finished or not.
  const before3 = tok.stats.writes;
  fails(`<stream:stream xmlns:stream="${NS.STREAMS}" x="${'y'.repeat(2000)}">`, 'policy-violation', { maxStanzaSize: 1000 });
  fails(`<stream:stream xmlns:stream="${NS.STREAMS}" x="${'y'.repeat(2000)}`, 'policy-violation', { maxStanzaSize: 1000 });
  assert.is(tok.stats.writes, before3);
  // Default limit 65536.
  fails(`${HEADER}<a>${'x'.repeat(65536)}</a>`, 'policy-violation');
});

test('invalid UTF-8 → not-well-formed (RFC 6120 §11.6: unsupported-encoding only for declarations)', () => {
  const p = new StreamParser();
  feed(p, HEADER);
  assert.throws(() => p.push(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])), (e: StreamError) => e.condition === 'not-well-formed');
  fails(`<?xml version="1.0" encoding="ISO-8859-1"?>${HEADER}`, 'unsupported-encoding');
});

test('after a throw the parser stays failed and rethrows the same error, until reset()', () => {
  const p = new StreamParser();
  feed(p, HEADER);
  let first: unknown;
  try {
    p.push(Buffer.from('<a b=c/>'));
  } catch (e) {
    first = e;
  }
  assert.instance(first, StreamError);
  try {
    p.push(Buffer.from('<a/>'));
    assert.unreachable();
  } catch (e) {
    assert.is(e, first);
  }
  assert.is(p.error, first);
  // reset() starts a new stream: the old stream's failure is forgotten with its bytes.
  p.reset();
  assert.is(p.error, undefined);
  assert.equal(feed(p, HEADER).map((e) => e.type), ['streamStart']);
});

test('reset(): a fresh header after STARTTLS / SASL success', () => {
  const p = new StreamParser();
  feed(p, `${HEADER}<auth xmlns="${NS.SASL}" mechanism="PLAIN">AGEAYg==</auth>`);
  p.reset();
  const ev = feed(p, `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="${NS.STREAMS}" version="1.0"><iq type="set" id="b"><bind xmlns="${NS.BIND}"/></iq>`, 3);
  assert.equal(ev.map((e) => e.type), ['streamStart', 'element']);
});

test('a second header without reset() is reported as soon as its start tag is complete', () => {
  // RFC 6120 allows a new header only after STARTTLS / SASL success; the c2s decides what an
  // unexpected one means (policy-violation), so the parser must report it, not wait for a
  // close tag that never comes.
  for (const chunk of [Infinity, 1, 5]) {
    const p = new StreamParser();
    const ev = feed(p, `${HEADER}<message id="1"/><stream:stream xmlns="jabber:client" xmlns:stream="${NS.STREAMS}" to="other.example" version="1.0">`, chunk);
    assert.equal(ev.map((e) => e.type), ['streamStart', 'element', 'streamStart'], `chunk ${chunk}`);
    const second = ev[2]!;
    if (second.type !== 'streamStart') return;
    assert.is(second.header.ns, NS.STREAMS);
    assert.is(second.header.attrs.to, 'other.example');
    assert.is(second.contentNs, NS.CLIENT);
    // The parser stays usable: the second header opens a new stream, like one after reset().
    assert.equal(feed(p, '<presence/></stream:stream>', chunk).map((e) => e.type), ['element', 'streamEnd'], `chunk ${chunk}`);
  }
  // Self-closing: a header and the end of that (empty) stream.
  assert.equal(feed(new StreamParser(), `${HEADER}<stream:stream xmlns:stream="${NS.STREAMS}"/>`).map((e) => e.type), ['streamStart', 'streamStart', 'streamEnd']);
  // The root's qualified name, exactly: other prefixes or longer names are ordinary stanzas.
  const p = new StreamParser();
  const ev = feed(p, `${HEADER}<stream:streams xmlns:stream="${NS.STREAMS}"/><x:stream xmlns:x="${NS.STREAMS}"/><stream/><a><stream:stream/></a>`);
  assert.equal(ev.map((e) => e.type), ['streamStart', 'element', 'element', 'element', 'element']);
  // A header whose root is unprefixed: `<stream>` is then the header's name.
  const q = new StreamParser();
  assert.equal(feed(q, `<stream xmlns="${NS.STREAMS}"><stream xmlns="${NS.STREAMS}">`).map((e) => e.type), ['streamStart', 'streamStart']);
});

test('events completed before a fault in the same chunk are returned; the error follows', () => {
  const p = new StreamParser();
  // A header and a malformed stanza in one TCP read: the c2s must see the header first.
  const ev = p.push(Buffer.from(`${HEADER}<message id="1"/><message><body>x</bodyy></message><presence/>`));
  assert.equal(ev.map((e) => e.type), ['streamStart', 'element']);
  const err = p.error;
  assert.instance(err, StreamError);
  assert.is(err!.condition, 'not-well-formed');
  // The parser stays failed: the next push throws that same error.
  assert.throws(() => p.push(Buffer.from('<presence/>')), (e: unknown) => e === err);
  // A chunk that fails before completing any event throws at once, as before.
  const q = new StreamParser();
  assert.throws(() => q.push(Buffer.from('<!DOCTYPE x>')), (e: unknown) => e instanceof StreamError && e.condition === 'restricted-xml');
  assert.is(q.error?.condition, 'restricted-xml');
  // Size limit and builder errors behave alike.
  const r = new StreamParser({ maxStanzaSize: 200 });
  assert.equal(r.push(Buffer.from(`${HEADER}<a/><b>${'x'.repeat(300)}</b>`)).map((e) => e.type), ['streamStart', 'element']);
  assert.is(r.error?.condition, 'policy-violation');
  const u = new StreamParser();
  assert.equal(u.push(Buffer.from(`${HEADER}<p:a/>`)).map((e) => e.type), ['streamStart']);
  assert.is(u.error?.condition, 'bad-namespace-prefix');
});

test('events from one chunk come in order; text with newlines/indentation is preserved', () => {
  const p = new StreamParser();
  const body = 'line 1\n    indented\n\n  &lt;tag&gt; &amp; 😀 ü\r\nend';
  const ev = feed(p, `${HEADER}<message><body>${body}</body></message><presence/><iq id="1"/>`, 1);
  assert.equal(ev.map((e) => e.type), ['streamStart', 'element', 'element', 'element']);
  if (ev[1]!.type !== 'element') return;
  assert.is(ev[1]!.element.getChildText('body'), 'line 1\n    indented\n\n  <tag> & 😀 ü\nend');
});

test.run();
