import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { Framer, FrameKind, checkXmlDecl } from '../../../src/core/xml/framer.ts';

const HEADER = `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to='a.b' version="1.0">`;

type Frame = [FrameKind, string];

/** Feed `input` cut at `cuts` (or byte by byte) and collect the frames. */
function frames(input: string | Uint8Array, chunkSizes: number[] | 'bytes' | 'whole' = 'whole', opts = {}): Frame[] {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const out: Frame[] = [];
  const f = new Framer((k, b) => out.push([k, Buffer.from(b).toString()]), opts);
  if (chunkSizes === 'whole') f.push(bytes);
  else if (chunkSizes === 'bytes') for (let i = 0; i < bytes.length; i++) f.push(bytes.subarray(i, i + 1));
  else {
    let i = 0;
    let k = 0;
    while (i < bytes.length) {
      const n = chunkSizes[k++ % chunkSizes.length]!;
      f.push(bytes.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

function fails(input: string | Uint8Array, condition: string, opts = {}, chunking: 'bytes' | 'whole' = 'whole'): void {
  try {
    frames(input, chunking, opts);
  } catch (e) {
    assert.instance(e, StreamError);
    assert.is((e as StreamError).condition, condition, `${JSON.stringify(String(input))}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(String(input))}`);
}

const STREAM = `<?xml version='1.0' encoding="UTF-8"?>\n${HEADER}\n  <message to="x@y"><body a='>' b="'">1 &gt; 0 ü😀</body></message> \r\n<presence/><iq type="get"><q xmlns="u"/></iq></stream:stream>  `;
const EXPECTED: Frame[] = [
  [FrameKind.Header, HEADER],
  [FrameKind.Stanza, `<message to="x@y"><body a='>' b="'">1 &gt; 0 ü😀</body></message>`],
  [FrameKind.Stanza, '<presence/>'],
  [FrameKind.Stanza, '<iq type="get"><q xmlns="u"/></iq>'],
  [FrameKind.End, '</stream:stream>'],
];

test('frames the declaration, header, stanzas and end; whitespace keepalives are ignored', () => {
  assert.equal(frames(STREAM), EXPECTED);
});

test('identical frames under any chunking (1-byte, 2, 3, 7 and mixed)', () => {
  assert.equal(frames(STREAM, 'bytes'), EXPECTED);
  for (const sizes of [[2], [3], [7], [1, 5, 2, 11], [64]]) assert.equal(frames(STREAM, sizes), EXPECTED, String(sizes));
});

test('a UTF-8 BOM before the declaration is skipped', () => {
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(STREAM)]);
  assert.equal(frames(withBom, 'bytes'), EXPECTED);
});

test('self-closing stream header gives a header and an empty end frame', () => {
  assert.equal(frames('<stream:stream xmlns:stream="s"/>'), [
    [FrameKind.Header, '<stream:stream xmlns:stream="s"/>'],
    [FrameKind.End, ''],
  ]);
});

test('XML declaration: only one, only first, UTF-8 only', () => {
  fails(`<?xml version="1.0" encoding="ISO-8859-1"?>${HEADER}`, 'unsupported-encoding');
  fails(`<?xml version="1.0" encoding='utf-16'?>${HEADER}`, 'unsupported-encoding');
  assert.not.throws(() => frames(`<?xml version="1.0" encoding='utf-8'?>${HEADER}`));
  fails(`<?xml version="1.0"?><?xml version="1.0"?>${HEADER}`, 'restricted-xml');
  fails(` <?xml version="1.0"?>${HEADER}`, 'restricted-xml');
  fails(`${HEADER}<?xml version="1.0"?>`, 'restricted-xml');
  fails(`<?xml versio="1.0"?>${HEADER}`, 'not-well-formed');
  fails(`<?XML version="1.0"?>${HEADER}`, 'not-well-formed');
  fails(`<?xml-stylesheet href="a"?>${HEADER}`, 'restricted-xml');
});

test('checkXmlDecl', () => {
  checkXmlDecl(Buffer.from(`<?xml version='1.0' standalone="yes" ?>`));
  assert.throws(() => checkXmlDecl(Buffer.from(`<?xml version='1.0' encoding="latin1"?>`)), (e: StreamError) => e.condition === 'unsupported-encoding');
});

test('restricted XML: DOCTYPE, comments, CDATA, PIs → restricted-xml', () => {
  const lolz = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`;
  fails(lolz, 'restricted-xml');
  fails(lolz, 'restricted-xml', {}, 'bytes');
  fails(`${HEADER}<!-- hi --><message/>`, 'restricted-xml');
  fails(`${HEADER}<message><!-- hi --></message>`, 'restricted-xml');
  fails(`${HEADER}<message><![CDATA[x]]></message>`, 'restricted-xml');
  fails(`${HEADER}<message><?pi x?></message>`, 'restricted-xml');
  fails(`${HEADER}<?pi x?>`, 'restricted-xml');
  fails(`<!-- before -->${HEADER}`, 'restricted-xml');
});

test('character data between stanzas other than whitespace → not-well-formed', () => {
  fails(`${HEADER}hello<message/>`, 'not-well-formed');
  fails(`${HEADER}<message/>&amp;`, 'not-well-formed');
  fails(`junk${HEADER}`, 'not-well-formed');
  fails(`${HEADER}</stream:stream><message/>`, 'not-well-formed');
  assert.equal(frames(`${HEADER} \n\t\r <a/>  </stream:stream> \n`).length, 3);
});

test('malformed markup the framer sees itself → not-well-formed', () => {
  fails(`${HEADER}< message/>`, 'not-well-formed');
  fails(`${HEADER}<message><</message>`, 'not-well-formed');
  fails(`${HEADER}<message a="<"/>`, 'not-well-formed');
  fails(`${HEADER}<message / >`, 'not-well-formed');
  fails(`${HEADER}<message>\u0001</message>`, 'not-well-formed');
  fails(`${HEADER}<mes\u0000sage/>`, 'not-well-formed');
  fails(`${HEADER}<>`, 'not-well-formed');
});

test('maxSize applies to stanzas, the header, the declaration and unfinished frames', () => {
  const opts = { maxSize: 100 };
  assert.equal(frames(`${HEADER}<a>${'x'.repeat(90)}</a>`, 'whole', { maxSize: 200 }).length, 2);
  fails(`<stream:stream xmlns:stream="s" a="${'x'.repeat(100)}">`, 'policy-violation', opts);
  fails(`<?xml version="1.0"        ${' '.repeat(100)}?>`, 'policy-violation', opts);
  fails(`<stream:stream xmlns:stream="s"><a>${'x'.repeat(100)}</a>`, 'policy-violation', opts);
  // Never finished: detected at the end of the chunk, byte by byte too.
  fails(`<stream:stream xmlns:stream="s"><a>${'x'.repeat(100)}`, 'policy-violation', opts);
  fails(`<stream:stream xmlns:stream="s"><a>${'x'.repeat(100)}`, 'policy-violation', opts, 'bytes');
  // Exactly at the limit is fine.
  const st = `<a>${'x'.repeat(93)}</a>`;
  assert.is(Buffer.byteLength(st), 100);
  assert.equal(frames(`<stream:stream xmlns:stream="s">${st}`, 'bytes', opts)[1], [FrameKind.Stanza, st]);
});

test('whitespace keepalives are never buffered', () => {
  const out: Frame[] = [];
  const f = new Framer((k, b) => out.push([k, Buffer.from(b).toString()]), { maxSize: 100 });
  f.push(Buffer.from(HEADER.replace(' to=\'a.b\' version="1.0"', '')));
  for (let i = 0; i < 1000; i++) f.push(Buffer.from(' \n'));
  assert.is(out.length, 1);
  assert.ok(f.idle);
});

test('a failed framer stays failed', () => {
  const f = new Framer(() => {});
  assert.throws(() => f.push(Buffer.from('x')));
  let first: unknown;
  try {
    f.push(Buffer.from(HEADER));
  } catch (e) {
    first = e;
  }
  assert.instance(first, StreamError);
  f.reset();
  f.push(Buffer.from(HEADER));
});

test('reset() expects a fresh header (and allows a declaration again)', () => {
  const out: Frame[] = [];
  const f = new Framer((k, b) => out.push([k, Buffer.from(b).toString()]));
  f.push(Buffer.from(`${HEADER}<a/>`));
  f.reset();
  f.push(Buffer.from(`<?xml version="1.0"?>${HEADER}<b/>`));
  assert.equal(out.map((x) => x[0]), [FrameKind.Header, FrameKind.Stanza, FrameKind.Header, FrameKind.Stanza]);
});

test('fragment mode: top-level elements without a header', () => {
  assert.equal(frames(' <a x="1"/>\n<b><c/></b> ', 'bytes', { fragment: true }), [
    [FrameKind.Stanza, '<a x="1"/>'],
    [FrameKind.Stanza, '<b><c/></b>'],
  ]);
  fails('</a>', 'not-well-formed', { fragment: true });
});

test('sink errors propagate and fail the framer', () => {
  const f = new Framer(() => {
    throw new StreamError('bad-namespace-prefix');
  });
  assert.throws(() => f.push(Buffer.from(HEADER)), (e: StreamError) => e.condition === 'bad-namespace-prefix');
  assert.throws(() => f.push(Buffer.from(' ')), (e: StreamError) => e.condition === 'bad-namespace-prefix');
});

test('a top-level start tag with the root qname is a header frame, at once, under any chunking', () => {
  const second = `<stream:stream xmlns:stream="http://etherx.jabber.org/streams" to='c.d'>`;
  const input = `${HEADER}<a/>${second}<b/></stream:stream>`;
  const expected: Frame[] = [
    [FrameKind.Header, HEADER],
    [FrameKind.Stanza, '<a/>'],
    [FrameKind.Header, second],
    [FrameKind.Stanza, '<b/>'],
    [FrameKind.End, '</stream:stream>'],
  ];
  for (const c of ['whole', 'bytes', [3], [7, 1, 2]] as const) assert.equal(frames(input, c as 'whole'), expected, String(c));
  // Reported with no further input (the peer now waits for our answer).
  assert.equal(frames(`${HEADER}${second}`, 'bytes').map((x) => x[0]), [FrameKind.Header, FrameKind.Header]);
  // Self-closing second header: the header, then the end of the (empty) stream.
  assert.equal(frames(`${HEADER}<stream:stream/>`).map((x) => x[0]), [FrameKind.Header, FrameKind.Header, FrameKind.End]);
  // Only the exact qname, only at stanza level.
  assert.equal(frames(`${HEADER}<stream:streamx/><stream:stream2 a='1'></stream:stream2><b><stream:stream/></b>`).map((x) => x[0]), [
    FrameKind.Header,
    FrameKind.Stanza,
    FrameKind.Stanza,
    FrameKind.Stanza,
  ]);
  // Fragment mode has no root: nothing is a header.
  assert.equal(frames('<stream:stream/>', 'whole', { fragment: true }), [[FrameKind.Stanza, '<stream:stream/>']]);
});

test.run();
