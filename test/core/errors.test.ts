import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XmlElement, xml } from '../../src/core/xml/element.ts';
import { NS } from '../../src/core/namespaces.ts';
import { STANZA_ERROR_DEFAULT_TYPE, StanzaError, StreamError } from '../../src/core/errors.ts';
import { serialize } from '../../src/core/xml/serialize.ts';
import { errorReply, iqResult, isErrorStanza, parseStanzaError, stanzaKind } from '../../src/core/stanza.ts';

const same = (actual: XmlElement, expected: XmlElement, msg?: string) =>
  assert.ok(actual.equals(expected), msg ?? `${JSON.stringify(actual)}\n!=\n${JSON.stringify(expected)}`);

test('StreamError.toElement: RFC 6120 §4.9 shape', () => {
  // RFC 6120 §4.9.2 example: <stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>
  same(new StreamError('not-well-formed').toElement(), xml('error', { xmlns: NS.STREAMS }, xml('not-well-formed', { xmlns: NS.STREAM_ERRORS })));
  const app = xml('escape-your-data', { xmlns: 'application-ns' });
  const e = new StreamError('not-well-formed', { text: 'Some special application diagnostic information!', lang: 'en', appCondition: app });
  same(
    e.toElement(),
    xml(
      'error',
      { xmlns: NS.STREAMS },
      xml('not-well-formed', { xmlns: NS.STREAM_ERRORS }),
      xml('text', { xmlns: NS.STREAM_ERRORS, 'xml:lang': 'en' }, 'Some special application diagnostic information!'),
      app,
    ),
  );
  assert.is(e.message, 'not-well-formed: Some special application diagnostic information!');
  assert.is(e.name, 'StreamError');
  assert.instance(e, Error);
});

test('StreamError string details are the text', () => {
  const e = new StreamError('host-unknown', 'no such host');
  assert.is(e.text, 'no such host');
  assert.is(e.toElement().getChildText('text', NS.STREAM_ERRORS), 'no such host');
});

test('StreamError.fromElement round trip and unknown conditions', () => {
  const app = xml('x', { xmlns: 'urn:app' });
  for (const orig of [new StreamError('conflict'), new StreamError('see-other-host', { text: 'go away', lang: 'fr', appCondition: app })]) {
    const back = StreamError.fromElement(orig.toElement());
    assert.is(back.condition, orig.condition);
    assert.is(back.text, orig.text);
    assert.is(back.lang, orig.text === undefined ? undefined : orig.lang);
    assert.is(back.appCondition?.name, orig.appCondition?.name);
  }
  const unknown = xml('error', { xmlns: NS.STREAMS }, xml('made-up', { xmlns: NS.STREAM_ERRORS }));
  assert.is(StreamError.fromElement(unknown).condition, 'undefined-condition');
  assert.is(StreamError.fromElement(xml('error', { xmlns: NS.STREAMS })).condition, 'undefined-condition');
});

test('StanzaError.toElement: RFC 6120 §8.3.2 shape, default types', () => {
  // RFC 6120 §8.3.2 example: <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
  same(new StanzaError('service-unavailable').toElement(), xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: NS.STANZA_ERRORS })));
  for (const [cond, type] of Object.entries(STANZA_ERROR_DEFAULT_TYPE)) {
    const e = new StanzaError(cond as keyof typeof STANZA_ERROR_DEFAULT_TYPE);
    assert.is(e.type, type, cond);
    assert.is(e.toElement().attr('type'), type);
    assert.ok(e.toElement().getChild(cond, NS.STANZA_ERRORS), cond);
  }
  const e = new StanzaError('bad-request', { type: 'cancel', by: 'example.net', text: 'oops' });
  same(
    e.toElement(),
    xml('error', { type: 'cancel', by: 'example.net' }, xml('bad-request', { xmlns: NS.STANZA_ERRORS }), xml('text', { xmlns: NS.STANZA_ERRORS, 'xml:lang': 'en' }, 'oops')),
  );
  assert.is(new StanzaError('forbidden', 'nope').text, 'nope');
});

test('parseStanzaError: from the stanza or the <error/>, round trip, app condition', () => {
  const app = xml('unsupported', { xmlns: 'http://jabber.org/protocol/pubsub#errors', feature: 'retrieve-items' });
  const orig = new StanzaError('feature-not-implemented', { text: 'no', lang: 'de', appCondition: app, by: 'pubsub.example' });
  const stanza = xml('iq', { type: 'error', id: '1' }, orig.toElement());
  for (const el of [stanza, orig.toElement()]) {
    const back = parseStanzaError(el)!;
    assert.instance(back, StanzaError);
    assert.is(back.condition, 'feature-not-implemented');
    assert.is(back.type, 'cancel');
    assert.is(back.text, 'no');
    assert.is(back.lang, 'de');
    assert.is(back.by, 'pubsub.example');
    assert.is(back.appCondition?.attr('feature'), 'retrieve-items');
  }
  assert.is(parseStanzaError(xml('message', {}, xml('body', {}, 'x'))), undefined);
  const odd = parseStanzaError(xml('error', { type: 'bogus' }, xml('made-up', { xmlns: NS.STANZA_ERRORS })))!;
  assert.is(odd.condition, 'undefined-condition');
  assert.is(odd.type, 'cancel');
  assert.is(parseStanzaError(xml('error', { type: 'wait' }, xml('forbidden', { xmlns: NS.STANZA_ERRORS })))!.type, 'wait');
});

test('stanzaKind and isErrorStanza', () => {
  assert.is(stanzaKind(xml('message')), 'message');
  assert.is(stanzaKind(xml('presence', { xmlns: NS.CLIENT })), 'presence');
  assert.is(stanzaKind(xml('iq', { xmlns: NS.SERVER })), 'iq');
  assert.is(stanzaKind(xml('iq', { xmlns: NS.COMPONENT })), 'iq');
  assert.is(stanzaKind(xml('r', { xmlns: NS.SM })), undefined);
  assert.is(stanzaKind(xml('message', { xmlns: 'urn:other' })), undefined);
  assert.ok(isErrorStanza(xml('message', { type: 'error' })));
  assert.not.ok(isErrorStanza(xml('message', { type: 'chat' })));
});

test('errorReply to an IQ: swap addresses, keep id, include payload (RFC 6120 §8.3.1 example)', () => {
  const query = xml('query', { xmlns: NS.ROSTER });
  const iq = xml('iq', { from: 'juliet@im.example.com/balcony', to: 'romeo@example.net', id: 'hu2bac18', type: 'get' }, query);
  const reply = errorReply(iq, new StanzaError('service-unavailable'));
  same(
    reply,
    xml(
      'iq',
      { from: 'romeo@example.net', to: 'juliet@im.example.com/balcony', id: 'hu2bac18', type: 'error' },
      query,
      xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: NS.STANZA_ERRORS })),
    ),
  );
});

test('errorReply to a message keeps the payload and other attributes; absent addresses stay absent', () => {
  const msg = xml('message', { to: 'romeo@example.net', id: 'm1', type: 'chat', 'xml:lang': 'en' }, '\n', xml('body', {}, 'hi'));
  const reply = errorReply(msg, new StanzaError('recipient-unavailable'));
  assert.is(reply.attr('from'), 'romeo@example.net');
  assert.is(reply.attr('to'), undefined);
  assert.is(reply.attr('id'), 'm1');
  assert.is(reply.attr('type'), 'error');
  assert.is(reply.attr('xml:lang'), 'en');
  assert.is(reply.getChildText('body'), 'hi');
  assert.is(reply.elements().at(-1)!.name, 'error');
  assert.is(reply.getChild('error')!.attr('type'), 'wait');
});

test('errorReply to a presence carries no payload', () => {
  const p = xml('presence', { from: 'a@x/r', to: 'b@y', type: 'subscribe', id: 'p1' }, xml('status', {}, 'let me in'));
  const reply = errorReply(p, new StanzaError('forbidden'));
  assert.equal(reply.elements().map((e) => e.name), ['error']);
  assert.is(reply.attr('to'), 'a@x/r');
  assert.is(reply.attr('from'), 'b@y');
});

test('errorReply keeps the stanza namespace', () => {
  const iq = new XmlElement('iq', NS.CLIENT, { id: '1', type: 'set' }, []);
  assert.is(errorReply(iq, new StanzaError('bad-request')).ns, NS.CLIENT);
});

test('wire shape: error reply as written on a jabber:client stream (RFC 6120 §8.3.1)', () => {
  const iq = new XmlElement('iq', NS.CLIENT, { from: 'romeo@example.net/orchard', id: 'ku6e51v3', to: 'juliet@example.com/balcony', type: 'get' }, [
    new XmlElement('query', 'jabber:iq:version', {}, []),
  ]);
  const out = serialize(errorReply(iq, new StanzaError('service-unavailable')), { defaultNs: NS.CLIENT });
  assert.is(
    out.replace(/"/g, "'"),
    "<iq id='ku6e51v3' type='error' from='juliet@example.com/balcony' to='romeo@example.net/orchard'>" +
      "<query xmlns='jabber:iq:version'/>" +
      "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
  );
  const streamErr = serialize(new StreamError('host-unknown').toElement(), { defaultNs: NS.CLIENT, prefixes: new Map([[NS.STREAMS, 'stream']]) });
  assert.is(streamErr.replace(/"/g, "'"), "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
});

test('never reply to an error stanza', () => {
  const err = xml('message', { type: 'error', from: 'a@x' }, new StanzaError('gone').toElement());
  assert.throws(() => errorReply(err, new StanzaError('bad-request')), /never reply/);
});

test('iqResult', () => {
  const iq = xml('iq', { from: 'juliet@example.com/balcony', to: 'example.com', id: 'bind_1', type: 'set' }, xml('bind', { xmlns: NS.BIND }));
  same(
    iqResult(iq, xml('bind', { xmlns: NS.BIND }, xml('jid', {}, 'juliet@example.com/balcony'))),
    xml('iq', { from: 'example.com', to: 'juliet@example.com/balcony', id: 'bind_1', type: 'result' }, xml('bind', { xmlns: NS.BIND }, xml('jid', {}, 'juliet@example.com/balcony'))),
  );
  const bare = iqResult(xml('iq', { id: 'x', type: 'get' }));
  assert.equal(bare.attrs, { id: 'x', type: 'result' });
  assert.equal(bare.children, []);
});

test.run();
