import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamError } from '../../../src/core/errors.ts';
import { NS } from '../../../src/core/namespaces.ts';
import { XmlElement, xml } from '../../../src/core/xml/element.ts';
import { ElementBuilder, rootScope } from '../../../src/core/xml/element-builder.ts';
import { parseElement } from '../../../src/core/xml/parse-element.ts';
import { sharedTokenizer } from '../../../src/core/xml/tokenizer.ts';

function fails(input: string | Uint8Array, condition: string): void {
  try {
    parseElement(input);
  } catch (e) {
    assert.instance(e, StreamError, String(e));
    assert.is((e as StreamError).condition, condition, `${JSON.stringify(String(input))}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(String(input))}`);
}

test('builder used directly with the tokenizer', () => {
  const b = new ElementBuilder();
  const bytes = Buffer.from('<a x="1"><b/>t</a>');
  b.begin(bytes, rootScope('jabber:client'));
  sharedTokenizer().tokenize(bytes, b);
  const el = b.finish();
  assert.ok(el.equals(xml('a', { xmlns: 'jabber:client', x: '1' }, xml('b'), 't')));
  assert.is(el.getChild('b')!.ns, 'jabber:client');
});

test('dependencies.md §1.4 malformed-input table, each rejected', () => {
  fails('<a><b></a>', 'not-well-formed');
  fails('<a><b></a></b>', 'not-well-formed');
  fails('<a>x</A>', 'not-well-formed');
  fails('<a></b></a>', 'not-well-formed');
  fails('</x>', 'not-well-formed');
  fails('<<a>>', 'not-well-formed');
  fails('<a>1<2</a>', 'not-well-formed');
  fails('<1a/>', 'not-well-formed');
  fails('<a b=x c>', 'not-well-formed');
  fails('<a b=x/>', 'not-well-formed');
  fails('<a c/>', 'not-well-formed');
  fails('<a b="1" b="2"/>', 'not-well-formed');
  fails('<a b="<"/>', 'not-well-formed');
  fails(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]), 'not-well-formed');
  fails(Buffer.from('<a\u0000b/>'), 'not-well-formed');
  fails('<a\u0001/>', 'not-well-formed');
});

test('more well-formedness checks sax-wasm does not do', () => {
  fails('<a b="1"c="2"/>', 'not-well-formed');
  fails('<a b"1"/>', 'not-well-formed');
  fails('<a "x"/>', 'not-well-formed');
  fails('<a b="1" / >', 'not-well-formed');
  fails('<a>]]></a>', 'not-well-formed');
  fails('<a></a >x', 'not-well-formed');
  fails('<a/><b/>', 'not-well-formed');
  fails('x<a/>', 'not-well-formed');
  fails('<a:b:c/>', 'not-well-formed');
  fails('<a: xmlns:a="x"/>', 'not-well-formed');
  fails('<:a/>', 'not-well-formed');
  fails('<a b:="1"/>', 'not-well-formed');
  fails('<a -b="1"/>', 'not-well-formed');
  fails('<a>\u{FFFE}</a>', 'not-well-formed');
  fails('<a b="\u{FFFF}"/>', 'not-well-formed');
  fails('<a>', 'not-well-formed');
  fails('', 'not-well-formed');
  fails('   ', 'not-well-formed');
  fails('<a/>x', 'not-well-formed');
  fails(Buffer.from([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e]), 'not-well-formed'); // surrogate
  fails(Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x3c, 0x2f, 0x61, 0x3e]), 'not-well-formed'); // truncated
  assert.is(parseElement('<a></a >').name, 'a');
  assert.is(parseElement(' \n<a/>\n ').name, 'a');
  assert.is(parseElement('<é-ü.1 ö="1"/>').name, 'é-ü.1');
  fails('<a×/>', 'not-well-formed');
  fails('<a:·b xmlns:a="urn:a"/>', 'not-well-formed');
  fails('<·a/>', 'not-well-formed');
  assert.is(parseElement('<a·b/>').name, 'a·b');
});

test('restricted XML inside an element', () => {
  fails('<a><!-- c --></a>', 'restricted-xml');
  fails('<a><![CDATA[x]]></a>', 'restricted-xml');
  fails('<a><?pi?></a>', 'restricted-xml');
  fails('<!DOCTYPE a><a/>', 'restricted-xml');
  fails('<?xml version="1.0"?><a/>', 'restricted-xml');
});

test('entities and character references', () => {
  const el = parseElement('<a v="&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;">&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#128512;&#9;</a>');
  assert.is(el.attr('v'), `<>&"'AB😀`);
  assert.is(el.text(), `<>&"'AB😀\t`);
  fails('<a>&foo;</a>', 'restricted-xml');
  fails('<a v="&lol2;"/>', 'restricted-xml');
  fails('<a>&</a>', 'not-well-formed');
  fails('<a>& amp;</a>', 'not-well-formed');
  fails('<a>&amp</a>', 'not-well-formed');
  fails('<a v="&"/>', 'not-well-formed');
  fails('<a>&#;</a>', 'not-well-formed');
  fails('<a>&#x;</a>', 'not-well-formed');
  fails('<a>&#xZZ;</a>', 'not-well-formed');
  fails('<a>&#65</a>', 'not-well-formed');
  fails('<a>&#0;</a>', 'not-well-formed');
  fails('<a>&#x1;</a>', 'not-well-formed');
  fails('<a>&#xD800;</a>', 'not-well-formed');
  fails('<a>&#xFFFE;</a>', 'not-well-formed');
  fails('<a>&#x110000;</a>', 'not-well-formed');
  fails('<a>&#99999999999999999999;</a>', 'not-well-formed');
});

test('text keeps newlines and indentation; CRLF and CR become LF (XML §2.11)', () => {
  const el = parseElement('<body>line1\n  line2\n\n\t  indented\r\nwin\rmac\n</body>');
  assert.is(el.text(), 'line1\n  line2\n\n\t  indented\nwin\nmac\n');
  const nested = parseElement('<a>\n  <b>x</b>\n  <c/>\n</a>');
  assert.equal(nested.children, ['\n  ', nested.getChild('b'), '\n  ', nested.getChild('c'), '\n']);
  assert.is(parseElement('<a> </a>').text(), ' ');
  assert.is(parseElement('<a>&#13;&#10;</a>').text(), '\r\n');
});

test('attribute-value normalisation (XML §3.3.3): literal TAB/LF/CR → space, references kept', () => {
  const el = parseElement('<a v="x\ty\nz\r\nw\rq" r="&#9;&#10;&#13;" s=\'"\' t="\'"/>');
  assert.is(el.attr('v'), 'x y z w q');
  assert.is(el.attr('r'), '\t\n\r');
  assert.is(el.attr('s'), '"');
  assert.is(el.attr('t'), "'");
  assert.is(parseElement('<a v="a>b"/>').attr('v'), 'a>b');
});

test('namespaces: default, prefixes, inheritance, xmlns="" and resolution of attributes', () => {
  const el = parseElement(
    '<stream:features xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><required/></bind><x:y xmlns:x="urn:x" x:a="1" b="2" xml:lang="en"><z/><x:w xmlns=""><v/></x:w></x:y></stream:features>',
  );
  assert.is(el.name, 'features');
  assert.is(el.ns, NS.STREAMS);
  const bind = el.getChild('bind')!;
  assert.is(bind.ns, NS.BIND);
  assert.is(bind.getChild('required')!.ns, NS.BIND);
  const y = el.getChild('y')!;
  assert.is(y.ns, 'urn:x');
  assert.equal({ ...y.attrs }, { '{urn:x}a': '1', b: '2', 'xml:lang': 'en' });
  assert.is(y.getChild('z')!.ns, 'jabber:client');
  const w = y.getChild('w')!;
  assert.is(w.ns, 'urn:x');
  assert.is(w.getChild('v')!.ns, '');
});

test('namespaces: declarations after use on the same tag, defaultNs option, no default', () => {
  const el = parseElement('<p:a p:x="1" xmlns:p="urn:p"/>');
  assert.is(el.ns, 'urn:p');
  assert.equal({ ...el.attrs }, { '{urn:p}x': '1' });
  assert.is(parseElement('<a><b/></a>').ns, undefined);
  assert.is(parseElement('<a><b/></a>').getChild('b')!.ns, undefined);
  const c = parseElement('<a><b/></a>', { defaultNs: 'jabber:client' });
  assert.is(c.ns, 'jabber:client');
  assert.is(c.getChild('b')!.ns, 'jabber:client');
  assert.is(parseElement('<a xmlns="urn:a"/>', { defaultNs: 'jabber:client' }).ns, 'urn:a');
});

test('namespaces: errors', () => {
  fails('<p:a/>', 'bad-namespace-prefix');
  fails('<a p:x="1"/>', 'bad-namespace-prefix');
  fails('<a xmlns:p="urn:p"><p:b/></a><p:c/>', 'not-well-formed');
  fails('<a><b xmlns:p="urn:p"/><p:c/></a>', 'bad-namespace-prefix');
  fails('<xmlns:a/>', 'bad-namespace-prefix');
  fails('<a xmlns:p=""/>', 'not-well-formed');
  fails('<a xmlns:xml="urn:other"/>', 'not-well-formed');
  fails('<a xmlns:xmlns="urn:other"/>', 'not-well-formed');
  fails('<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>', 'not-well-formed');
  fails('<a xmlns="http://www.w3.org/2000/xmlns/"/>', 'not-well-formed');
  fails('<a xmlns:p="urn:x" xmlns:q="urn:x" p:v="1" q:v="2"/>', 'not-well-formed');
  fails('<a xmlns="urn:a" xmlns="urn:b"/>', 'not-well-formed');
  assert.is(parseElement('<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:space="preserve"/>').attr('xml:space'), 'preserve');
  assert.is(parseElement('<xml:a/>').ns, NS.XML);
});

test('non-ASCII names and values: offsets map correctly, prefixed attributes decoded after the others', () => {
  const el = parseElement('<ü:é xmlns:ü="urn:ü" ü:x="é1" y="ü2" ü:z="😀3" w="4"><ñ>𝄞 text ü</ñ><ü:b ü:c="ç"/></ü:é>');
  assert.is(el.name, 'é');
  assert.is(el.ns, 'urn:ü');
  assert.equal({ ...el.attrs }, { y: 'ü2', w: '4', '{urn:ü}x': 'é1', '{urn:ü}z': '😀3' });
  assert.is(el.getChildText('ñ'), '𝄞 text ü');
  assert.is(el.getChild('b')!.attr('{urn:ü}c'), 'ç');
});

test('`__proto__` and `constructor` are ordinary attribute names', () => {
  const el = parseElement('<a __proto__="x" constructor="y" toString="z"/>');
  assert.is(el.attr('__proto__'), 'x');
  assert.is(el.attr('constructor'), 'y');
  assert.equal(Object.keys(el.attrs), ['__proto__', 'constructor', 'toString']);
  assert.ok(el instanceof XmlElement);
  fails('<a __proto__="x" __proto__="y"/>', 'not-well-formed');
  const many = Array.from({ length: 40 }, (_, i) => `a${i}="${i}"`).join(' ');
  assert.is(Object.keys(parseElement(`<a ${many}/>`).attrs).length, 40);
  fails(`<a ${many} a3="x"/>`, 'not-well-formed');
  fails(`<a ${many} a39="x"/>`, 'not-well-formed');
});

test('parseElement: maxSize, multiple elements, string and bytes input', () => {
  fails('<a/><b/>', 'not-well-formed');
  assert.throws(() => parseElement(`<a>${'x'.repeat(100)}</a>`, { maxSize: 50 }), (e: StreamError) => e.condition === 'policy-violation');
  assert.is(parseElement(Buffer.from('<a>ü</a>')).text(), 'ü');
  assert.is(parseElement(new Uint8Array(Buffer.from('<a>ü</a>'))).text(), 'ü');
});

test('large elements beyond one tokenizer write (text and attributes without `>`)', () => {
  const big = 'é'.repeat(70000) + '\n' + 'x'.repeat(50000);
  const el = parseElement(`<a v="${'y'.repeat(70000)}"><b>${big}</b><c>${'z&amp;'.repeat(20000)}</c></a>`, { maxSize: 1 << 20 });
  assert.is(el.attr('v'), 'y'.repeat(70000));
  assert.is(el.getChildText('b'), big);
  assert.is(el.getChildText('c'), 'z&'.repeat(20000));
  const many = xml('r', {}, ...Array.from({ length: 3000 }, (_, i) => xml('item', { n: String(i) }, 'v>' + i)));
  const parsed = parseElement(`<r>${many.children.map((c) => `<item n="${(c as XmlElement).attr('n')}">v&gt;${(c as XmlElement).attr('n')}</item>`).join('')}</r>`, { maxSize: 1 << 20 });
  assert.ok(parsed.equals(many));
});

test.run();
