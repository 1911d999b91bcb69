import { test } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { Jid, prepareDomain, prepareLocalpart, prepareResource } from '../../src/core/jid.ts';
import { precisProperty } from '../../src/core/precis.ts';
import { StanzaError } from '../../src/core/errors.ts';

function malformed(s: string, why?: RegExp): void {
  try {
    Jid.parse(s);
  } catch (e) {
    assert.instance(e, StanzaError, `${JSON.stringify(s)} threw a non-StanzaError`);
    assert.is((e as StanzaError).condition, 'jid-malformed');
    if (why) assert.match((e as StanzaError).message, why);
    return;
  }
  assert.unreachable(`${JSON.stringify(s)} was accepted`);
}

const eq = (input: string, canonical: string) => assert.is(Jid.parse(input).toString(), canonical, JSON.stringify(input));

test('structure: parts, absent parts are empty strings, RFC 7622 §3.1 splitting', () => {
  const j = Jid.parse('juliet@example.com/foo@bar/baz');
  assert.is(j.local, 'juliet');
  assert.is(j.domain, 'example.com');
  assert.is(j.resource, 'foo@bar/baz');
  const d = Jid.parse('example.com');
  assert.is(d.local, '');
  assert.is(d.resource, '');
  assert.ok(d.isBare);
  const r = Jid.parse('example.com/a@b');
  assert.is(r.local, '');
  assert.is(r.resource, 'a@b');
});

test('case folding and width mapping of the localpart (UsernameCaseMapped)', () => {
  eq('Juliet@Example.COM', 'juliet@example.com');
  eq('ＪＵＬＩＥＴ@example.com', 'juliet@example.com'); // fullwidth → ASCII, then lowercase
  eq('ΣΑΣ@example.com', 'σας@example.com'); // toLowerCase (with its Final_Sigma rule), not case folding
  eq('ß@example.com', 'ß@example.com'); // not folded to "ss" (RFC 8265 uses toLowerCase)
  eq('ﾃｽﾄ@example.com', 'テスト@example.com'); // halfwidth katakana → fullwidth
  eq('ｶﾞ@example.com', 'ガ@example.com'); // halfwidth voiced mark + NFC composition
  assert.is(prepareLocalpart('ÅNGSTRÖM'), 'ångström');
});

test('NFC in localpart and resourcepart', () => {
  eq('e\u0301@example.com/e\u0301', '\u00e9@example.com/\u00e9');
  assert.is(prepareResource('A\u030A'), '\u00c5');
  assert.ok(Jid.parse('\u00e9@x.org').equals(Jid.parse('e\u0301@x.org')));
});

test('resourcepart (OpaqueString): case and width preserved, non-ASCII spaces mapped', () => {
  eq('a@example.com/Balcony', 'a@example.com/Balcony');
  eq('a@example.com/ＢＡＬ', 'a@example.com/ＢＡＬ');
  eq('a@example.com/my\u00A0phone\u2003x', 'a@example.com/my phone x');
  eq('a@example.com/ spaces ok ', 'a@example.com/ spaces ok ');
  eq('a@example.com/\u2162 ﬁ ½ ♥ €', 'a@example.com/\u2162 ﬁ ½ ♥ €'); // FREE_PVAL classes
  assert.is(prepareResource('x/y@z'), 'x/y@z');
});

test('domainpart: lowercase, trailing dot, IDNA to U-label', () => {
  eq('a@EXAMPLE.com.', 'a@example.com');
  eq('a@München.de', 'a@münchen.de');
  eq('a@xn--mnchen-3ya.de', 'a@münchen.de');
  eq('a@ＥＸＡＭＰＬＥ.com', 'a@example.com');
  eq('a@example\u3002com', 'a@example.com'); // ideographic full stop
  assert.ok(Jid.parse('a@münchen.de').equals(Jid.parse('a@XN--MNCHEN-3YA.DE')));
  assert.is(prepareDomain('localhost'), 'localhost');
  assert.is(prepareDomain('muc_light.example.com'), 'muc_light.example.com');
});

test('domainpart: IP literals', () => {
  eq('a@127.0.0.1/r', 'a@127.0.0.1/r');
  eq('a@[::1]', 'a@[::1]');
  eq('a@[0:0:0:0:0:0:0:1]', 'a@[::1]');
  eq('a@[2001:DB8::1]', 'a@[2001:db8::1]');
  malformed('a@[::1');
  malformed('a@[not-ip]');
  malformed('a@::1');
  malformed('a@1'); // WHATWG would silently turn this into 0.0.0.1
  malformed('a@0x7f.1');
  malformed('a@1.2.3.4.5');
  malformed('a@example.123');
});

test('domainpart: malformed', () => {
  malformed('a@', /empty/);
  malformed('a@.', /empty/);
  malformed('a@example..com', /empty label/);
  malformed('a@.example.com', /empty label/);
  malformed('a@example.com..');
  malformed('a@exa mple.com');
  malformed('a@-example.com');
  malformed('a@example-.com');
  malformed('a@exa!mple.com');
  malformed('a@xn--abc.com');
  malformed('a@' + 'x'.repeat(64) + '.com', /63/);
  malformed('/resource');
});

test('1023-byte limits after preparation, per part', () => {
  const l1023 = 'a'.repeat(1023);
  assert.is(Jid.parse(`${l1023}@x.org`).local.length, 1023);
  malformed(`${'a'.repeat(1024)}@x.org`, /1023/);
  assert.is(Jid.parse(`x.org/${'é'.repeat(511)}`).resource.length, 511); // 1022 bytes
  malformed(`x.org/${'é'.repeat(512)}`, /1023/); // 1024 bytes
  assert.is(prepareLocalpart('中'.repeat(341)).length, 341); // 1023 bytes
  assert.throws(() => prepareLocalpart('中'.repeat(342)), /1023/);
  assert.throws(() => prepareResource('😀'.repeat(256)), /1023/); // 1024 bytes
  const label = 'a'.repeat(63);
  const longDomain = Array(16).fill(label).join('.') + '.com'; // 1027 bytes
  malformed(`a@${longDomain}`, /1023/);
  const okDomain = Array(16).fill(label).join('.'); // 1023 bytes
  assert.is(Jid.parse(okDomain).domain, okDomain);
});

test('empty parts are malformed', () => {
  malformed('', /empty/);
  malformed('@example.com', /localpart is empty/);
  malformed('a@example.com/', /resourcepart is empty/);
  malformed('@example.com/r');
  assert.throws(() => prepareLocalpart(''), /empty/);
  assert.throws(() => prepareResource(''), /empty/);
});

test('localpart: RFC 7622 §3.3.1 extra disallowed characters', () => {
  for (const c of ['"', '&', "'", ':', '<', '>']) malformed(`a${c}b@example.com`, /localpart/);
  assert.throws(() => prepareLocalpart('a/b'), /jid-malformed/);
  assert.throws(() => prepareLocalpart('a@b'), /jid-malformed/);
  malformed('a@b@example.com');
});

test('every disallowed class produces jid-malformed', () => {
  const cases: [string, string][] = [
    ['space (Zs) in localpart', 'a b@x.org'],
    ['no-break space in localpart', 'a\u00A0b@x.org'],
    ['C0 control', 'a\u0001b@x.org'],
    ['C1 control', 'a\u0085b@x.org'],
    ['DEL', 'a\u007Fb@x.org'],
    ['control in resource', 'x.org/a\u0000b'],
    ['tab in resource', 'x.org/a\tb'],
    ['symbol in localpart (Symbols)', 'a♥b@x.org'],
    ['punctuation in localpart', 'a¡b@x.org'],
    ['currency in localpart', 'a€b@x.org'],
    ['compatibility character in localpart (HasCompat)', 'ﬁ@x.org'],
    ['superscript digit in localpart (HasCompat)', 'x²@x.org'],
    ['roman numeral in localpart (OtherLetterDigits, Nl)', '\u2162@x.org'],
    ['enclosing mark (Me)', 'a\u20DD@x.org'],
    ['titlecase digraph lowercases to a compatibility character', '\u01C5@x.org'],
    ['private use', 'a\uE000b@x.org'],
    ['private use in resource', 'x.org/\uE000'],
    ['lone surrogate', 'a\uD800b@x.org'],
    ['lone surrogate in resource', 'x.org/\uDC00'],
    ['noncharacter', 'a\uFFFEb@x.org'],
    ['noncharacter in resource', 'x.org/\uFDD0'],
    ['default ignorable (soft hyphen)', 'a\u00ADb@x.org'],
    ['default ignorable in resource (variation selector)', 'x.org/\u2764\uFE0F'],
    ['format char not ignorable (Cf U+0600)', 'x.org/\u0600'],
    ['line separator (Zl)', 'x.org/a\u2028b'],
    ['paragraph separator (Zp)', 'x.org/a\u2029b'],
    ['old hangul jamo', '\u1100@x.org'],
    ['old hangul jamo in resource', 'x.org/\u1100'],
    ['unassigned code point', 'a\u0378@x.org'],
    ['unassigned in resource', 'x.org/\u0378'],
    ['exception DISALLOWED (tatweel)', 'a\u0640@x.org'],
    ['ZWJ without virama (CONTEXTJ)', 'a\u200Db@x.org'],
    ['ZWNJ without context', 'a\u200Cb@x.org'],
    ['middle dot not between l and l (CONTEXTO)', 'a\u00B7b@x.org'],
    ['Greek numeral sign not followed by Greek', 'a\u0375b@x.org'],
    ['Hebrew geresh not after Hebrew', 'a\u05F3@x.org'],
    ['katakana middle dot without kana/han', 'a\u30FBb@x.org'],
    ['mixed Arabic-Indic digit sets', '\u0661\u06F1@x.org'],
  ];
  for (const [label, input] of cases) {
    try {
      Jid.parse(input);
      assert.unreachable(`${label}: ${JSON.stringify(input)} accepted`);
    } catch (e) {
      if (!(e instanceof StanzaError)) throw e;
      assert.is(e.condition, 'jid-malformed', label);
      assert.is(e.type, 'modify');
    }
  }
});

test('contextual rules accept their valid contexts', () => {
  eq('l\u00B7l@x.org', 'l\u00B7l@x.org'); // Catalan
  eq('\u0375\u03B1@x.org', '\u0375\u03B1@x.org'); // Greek keraia before Greek
  eq('\u05D0\u05F3@x.org', '\u05D0\u05F3@x.org'); // Hebrew geresh
  eq('\u30A2\u30FB\u30A4@x.org', '\u30A2\u30FB\u30A4@x.org'); // katakana middle dot
  eq('\u0661\u0662@x.org', '\u0661\u0662@x.org');
  eq('\u06F1\u06F2@x.org', '\u06F1\u06F2@x.org');
  eq('\u0915\u094D\u200D\u0937@x.org', '\u0915\u094D\u200D\u0937@x.org'); // ZWJ after virama
  eq('\u0915\u094D\u200C\u0937@x.org', '\u0915\u094D\u200C\u0937@x.org'); // ZWNJ after virama
  eq('\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645@x.org', '\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645@x.org'); // Persian ZWNJ
});

test('derived property table spot checks (RFC 8264 §8 order)', () => {
  assert.is(precisProperty(0x61), 'PVALID');
  assert.is(precisProperty(0x20), 'ID_DIS');
  assert.is(precisProperty(0xdf), 'PVALID'); // exception
  assert.is(precisProperty(0x0640), 'DISALLOWED'); // exception
  assert.is(precisProperty(0x00b7), 'CONTEXTO');
  assert.is(precisProperty(0x200d), 'CONTEXTJ'); // before the ignorable check
  assert.is(precisProperty(0x00ad), 'DISALLOWED');
  assert.is(precisProperty(0x0378), 'UNASSIGNED');
  assert.is(precisProperty(0xfffe), 'DISALLOWED'); // noncharacter, not "unassigned"
  assert.is(precisProperty(0xfb01), 'ID_DIS'); // HasCompat
  assert.is(precisProperty(0x4e2d), 'PVALID'); // Han
  assert.is(precisProperty(0x0301), 'PVALID'); // Mn
  assert.is(precisProperty(0x2028), 'DISALLOWED');
  assert.is(precisProperty(0xe000), 'DISALLOWED');
});

test('internationalised localparts accepted', () => {
  eq('жюльета@example.com', 'жюльета@example.com');
  eq('ДЖУЛЬЕТТА@example.com', 'джульетта@example.com');
  eq('中文@example.com', '中文@example.com');
  eq('καλημέρα@example.com', 'καλημέρα@example.com');
  eq('josé@example.com/Tablet ☕', 'josé@example.com/Tablet ☕');
});

test('round trip: toString() of a parsed JID parses to an equal JID', () => {
  const inputs = ['Juliet@Example.com/Balcony', 'ＪＵＬＩＥＴ@ＥＸＡＭＰＬＥ.com./x y', 'e\u0301@München.DE/Ré', 'a@[0::1]/r/s@t', 'example.com', 'example.com/r'];
  for (const s of inputs) {
    const j = Jid.parse(s);
    const again = Jid.parse(j.toString());
    assert.ok(again.equals(j), s);
    assert.is(again.toString(), j.toString());
    assert.is(Jid.of(j.local, j.domain, j.resource).toString(), j.toString());
  }
});

test('property: preparation is idempotent and parse(toString()) round-trips', () => {
  const part = fc.string({ unit: fc.constantFrom('a', 'Z', 'é', 'E\u0301', 'Ａ', 'ß', 'Σ', '中', 'ｶ', 'ﾞ', '\u00A0', ' ', '-', '.', '@', '/', '☕', '\u200D', '\u094D', 'क', 'ﬁ', '\u0000'), minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(part, part, part, (l, d, r) => {
      const input = `${l}@${d}/${r}`;
      let j: Jid;
      try {
        j = Jid.parse(input);
      } catch (e) {
        assert.instance(e, StanzaError);
        return;
      }
      const again = Jid.parse(j.toString());
      assert.ok(again.equals(j), input);
      if (j.local !== '') assert.is(prepareLocalpart(j.local), j.local);
      if (j.resource !== '') assert.is(prepareResource(j.resource), j.resource);
      assert.is(prepareDomain(j.domain), j.domain);
    }),
    { numRuns: 2000, seed: 7622 },
  );
});

test('Jid.of normalises each part', () => {
  const j = Jid.of('Juliet', 'Example.COM.', 'Balcony');
  assert.is(j.toString(), 'juliet@example.com/Balcony');
  assert.is(Jid.of('', 'example.com').toString(), 'example.com');
  assert.throws(() => Jid.of('a@b', 'example.com'), /jid-malformed/);
  assert.throws(() => Jid.of('a', ''), /jid-malformed/);
});

test('bare, withResource, equals, bareEquals, toString caching', () => {
  const full = Jid.parse('juliet@example.com/balcony');
  const bare = full.bare();
  assert.is(bare.toString(), 'juliet@example.com');
  assert.ok(bare.isBare);
  assert.not.ok(full.isBare);
  assert.is(full.bare(), bare, 'bare JID cached');
  assert.is(bare.bare(), bare);
  assert.is(full.toBareString(), 'juliet@example.com');
  const other = full.withResource('Chamber');
  assert.is(other.toString(), 'juliet@example.com/Chamber');
  assert.is(full.withResource('balcony'), full);
  assert.ok(full.withResource('').equals(bare));
  assert.not.ok(full.equals(other));
  assert.ok(full.bareEquals(other));
  assert.ok(full.equals(Jid.of('JULIET', 'example.com', 'balcony')));
  assert.not.ok(full.equals(undefined));
  assert.not.ok(full.bareEquals(null));
  assert.not.ok(Jid.parse('example.com').bareEquals(Jid.parse('a@example.com')));
  assert.is(full.toString(), full.toString());
  assert.is(JSON.stringify({ j: full }), '{"j":"juliet@example.com/balcony"}');
  assert.throws(() => full.withResource('\u0000'), /jid-malformed/);
});

test('parse cache returns the same value and never caches failures', () => {
  Jid.clearCache();
  const a = Jid.parse('romeo@example.net/orchard');
  assert.is(Jid.parse('romeo@example.net/orchard'), a);
  malformed('bad jid@x');
  malformed('bad jid@x');
  for (let i = 0; i < 5000; i++) Jid.parse(`u${i}@example.net`); // evicts beyond the cap
  assert.ok(Jid.parse('romeo@example.net/orchard').equals(a));
  assert.is(Jid.tryParse('bad jid@x'), undefined);
  assert.is(Jid.tryParse(undefined), undefined);
  assert.ok(Jid.tryParse('a@b')?.equals(Jid.parse('A@B')));
});

test.run();
