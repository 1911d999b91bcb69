// The helpers MAM and inbox share (src/core/data-forms.ts): XEP-0082 date-times to the
// microsecond and back, XEP-0004 submitted forms, XEP-0059 RSM requests — each malformed
// input is a `bad-request` StanzaError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatXepDateTime, parseXepDateTime, readRsm, readSubmittedForm, singleValue, parseFormBoolean } from '../../src/core/data-forms.ts';
import { StanzaError } from '../../src/core/errors.ts';
import { parseElement } from '../../src/core/xml/parse-element.ts';

const badRequest = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    assert.instance(err, StanzaError);
    return (err as StanzaError).condition;
  }
  assert.unreachable('expected a StanzaError');
};

test('XEP-0082 date-times: Z, offsets, fractions to the microsecond; round trip', () => {
  assert.is(parseXepDateTime('1970-01-01T00:00:00Z'), 0);
  assert.is(parseXepDateTime('1970-01-01T00:00:01.5Z'), 1_500_000);
  assert.is(parseXepDateTime('1970-01-01T01:00:00+01:00'), 0);
  assert.is(parseXepDateTime('1969-12-31T23:30:00-00:30'), 0);
  assert.is(parseXepDateTime('2024-02-29T12:00:00.123456Z'), Date.UTC(2024, 1, 29, 12) * 1000 + 123_456);
  const us = Date.UTC(2026, 10, 22, 14, 5, 6) * 1000 + 789_012;
  assert.is(formatXepDateTime(us), '2026-11-22T14:05:06.789012Z');
  assert.is(parseXepDateTime(formatXepDateTime(us)), us);
  for (const bad of ['', 'yesterday', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00', '2024-01-01 00:00:00Z']) {
    assert.is(badRequest(() => parseXepDateTime(bad)), 'bad-request', bad);
  }
});

test('submitted forms: FORM_TYPE, values, duplicates, wrong type', () => {
  const q = parseElement(
    `<query xmlns='q'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:t</value></field><field var='a'><value>1</value></field><field var='m'><value>x</value><value>y</value></field><field var='e'/></x></query>`,
  );
  const f = readSubmittedForm(q)!;
  assert.is(f.formType, 'urn:t');
  assert.is(singleValue(f, 'a'), '1');
  assert.is(singleValue(f, 'e'), undefined);
  assert.is(singleValue(f, 'none'), undefined);
  assert.is(badRequest(() => singleValue(f, 'm')), 'bad-request');
  assert.is(readSubmittedForm(parseElement(`<query xmlns='q'/>`)), undefined);
  assert.is(badRequest(() => readSubmittedForm(parseElement(`<q xmlns='q'><x xmlns='jabber:x:data' type='result'/></q>`))), 'bad-request');
  assert.ok(readSubmittedForm(parseElement(`<q xmlns='q'><x xmlns='jabber:x:data' type='form'/></q>`), { acceptFormType: true }));
  assert.is(badRequest(() => readSubmittedForm(parseElement(`<q xmlns='q'><x xmlns='jabber:x:data'><field var='a'/><field var='a'/></x></q>`))), 'bad-request');
  assert.is(badRequest(() => readSubmittedForm(parseElement(`<q xmlns='q'><x xmlns='jabber:x:data'><field/></x></q>`))), 'bad-request');
  assert.is(parseFormBoolean('1', 'b'), true);
  assert.is(parseFormBoolean('false', 'b'), false);
  assert.is(badRequest(() => parseFormBoolean('yes', 'b')), 'bad-request');
});

test('RSM requests', () => {
  const R = 'http://jabber.org/protocol/rsm';
  assert.equal(readRsm(parseElement(`<q xmlns='q'><set xmlns='${R}'><max>10</max><after>abc</after></set></q>`)), { max: 10, after: 'abc' });
  assert.equal(readRsm(parseElement(`<q xmlns='q'><set xmlns='${R}'><before/></set></q>`)), { before: '' });
  assert.is(readRsm(parseElement(`<q xmlns='q'/>`)), undefined);
  assert.is(badRequest(() => readRsm(parseElement(`<q xmlns='q'><set xmlns='${R}'><max>ten</max></set></q>`))), 'bad-request');
  assert.is(badRequest(() => readRsm(parseElement(`<q xmlns='q'><set xmlns='${R}'><after/></set></q>`))), 'bad-request');
});

test.run();
