// Stream errors a client library hides, seen on a raw TCP socket (RFC 6120 §4.9): the server
// must answer with its stream header (when it has not sent one yet), `<stream:error/>` with the
// defined condition, the closing `</stream:stream>`, and then close the TCP connection. A few
// cases also on a raw WebSocket (RFC 7395 §3.6: the error, `<close/>`, the WebSocket close).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { RawWsClient, type WsEvent } from '../helpers/raw-ws-client.ts';
import { RawXmppClient, streamHeader, streamErrorCondition, describeEvent, type RawEvent } from '../helpers/raw-client.ts';
import { sleep } from '../helpers/wait.ts';
import { NS } from '../../src/core/namespaces.ts';

// Listener indices of the server started below.
const DEFAULTS = 0; // STARTTLS offered, default limits
const SMALL = 1; // maxStanzaSize 1024
const QUICK = 2; // stateTimeoutMs 300
const SLOW = 3; // stateTimeoutMs 10000: a stream error that arrives is not the timer's
const WEBSOCKET = 4; // RFC 7395, stateTimeoutMs 10000, maxStanzaSize 1024
const QUICK_TIMEOUT_MS = 300;

let ts: TestServer;
const clients: RawXmppClient[] = [];

test.before(async () => {
  ts = await startTestServer({
    listeners: [
      { kind: 'tcp', tls: 'optional' },
      { kind: 'tcp', tls: 'optional', maxStanzaSize: 1024 },
      { kind: 'tcp', tls: 'optional', stateTimeoutMs: QUICK_TIMEOUT_MS },
      { kind: 'tcp', tls: 'optional', stateTimeoutMs: 10_000 },
      { kind: 'websocket', stateTimeoutMs: 10_000, maxStanzaSize: 1024 },
    ],
    users: { 'alice@localhost': 'secret' },
  });
});

test.after.each(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(500)));
});

test.after(async () => {
  await ts?.stop();
});

async function connect(listener = DEFAULTS): Promise<RawXmppClient> {
  const c = await RawXmppClient.connect(ts.address(listener));
  clients.push(c);
  return c;
}

/**
 * `events` (from {@link RawXmppClient.readUntilClose}) are, in order: the server's stream header
 * when `headerFirst`, then `<stream:error>` with `condition`, the trailer and the close — nothing
 * else (RFC 6120 §4.9.1.1, §4.9.1.2).
 */
function assertStreamErrorAndClose(events: RawEvent[], condition: string, headerFirst: boolean): void {
  const shown = events.map(describeEvent).join('\n  ');
  const rest = [...events];
  if (headerFirst) {
    const h = rest.shift();
    assert.is(h?.type, 'streamStart', `the server's stream header comes first (RFC 6120 §4.9.1.2); got:\n  ${shown}`);
    if (h?.type === 'streamStart') assert.is(h.header.ns, NS.STREAMS, 'the server header is in the streams namespace');
  }
  const err = rest.shift();
  assert.ok(err?.type === 'element', `a <stream:error/> element; got:\n  ${shown}`);
  if (err?.type !== 'element') return;
  assert.is(streamErrorCondition(err.element), condition, `stream error condition; got:\n  ${shown}`);
  assert.is(rest.shift()?.type, 'streamEnd', `the closing </stream:stream> follows the error; got:\n  ${shown}`);
  assert.is(rest.shift()?.type, 'close', `then the TCP connection closes; got:\n  ${shown}`);
  assert.is(rest.length, 0, `nothing after the close; got:\n  ${shown}`);
}

/** Open a stream and read the features, so later bytes hit a stream in progress. */
async function openedStream(listener = DEFAULTS): Promise<RawXmppClient> {
  const c = await connect(listener);
  const { features } = await c.openStream();
  assert.ok(features.getChild('mechanisms', NS.SASL), 'SASL is offered before authentication');
  return c;
}

// ---------------------------------------------------------------- stream header errors

test('a stream header in the wrong stream namespace gets invalid-namespace (RFC 6120 §4.8.1)', async () => {
  const c = await connect();
  c.send(streamHeader({ streamNs: 'urn:example:not-streams' }));
  assertStreamErrorAndClose(await c.readUntilClose(), 'invalid-namespace', true);
});

test('a c2s stream with a foreign content namespace gets invalid-namespace (RFC 6120 §4.8.2, §4.9.3.10)', async () => {
  const c = await connect();
  c.send(streamHeader({ xmlns: 'urn:example:not-client' }));
  assertStreamErrorAndClose(await c.readUntilClose(), 'invalid-namespace', true);
});

test('a stream to a domain the server does not serve gets host-unknown (RFC 6120 §4.9.3.6)', async () => {
  const c = await connect();
  c.send(streamHeader({ to: 'example.org' }));
  assertStreamErrorAndClose(await c.readUntilClose(), 'host-unknown', true);
});

test('a stream without `to` gets host-unknown (RFC 6120 §4.7.2: the server cannot pick a domain)', async () => {
  const c = await connect();
  c.send(streamHeader({ to: undefined }));
  assertStreamErrorAndClose(await c.readUntilClose(), 'host-unknown', true);
});

test('a stream without version (= 0.9, RFC 6120 §4.7.5) gets unsupported-version', async () => {
  const c = await connect();
  c.send(streamHeader({ version: undefined }));
  assertStreamErrorAndClose(await c.readUntilClose(), 'unsupported-version', true);
});

test('version 0.9 gets unsupported-version (RFC 6120 §4.9.3.25)', async () => {
  const c = await connect();
  c.send(streamHeader({ version: '0.9' }));
  assertStreamErrorAndClose(await c.readUntilClose(), 'unsupported-version', true);
});

test('a higher minor version is answered with version 1.0, not an error (RFC 6120 §4.7.5)', async () => {
  const c = await connect();
  const { header, features } = await c.openStream({ version: '1.5' });
  assert.is(header.attr('version'), '1.0');
  assert.ok(features.is('features', NS.STREAMS));
});

// ---------------------------------------------------------------- bad XML

const NOT_WELL_FORMED: Record<string, string> = {
  'mismatched end tag': "<message to='alice@localhost'><body>hi</bdy></message>",
  'unquoted attribute value': '<message to=alice@localhost><body>hi</body></message>',
  '`<` inside a start tag': "<message to='alice@localhost' <body/>",
  'character data between stanzas': 'hello',
};

for (const [what, bytes] of Object.entries(NOT_WELL_FORMED)) {
  test(`not-well-formed before authentication: ${what} (RFC 6120 §4.9.3.13)`, async () => {
    const c = await openedStream();
    c.send(bytes);
    assertStreamErrorAndClose(await c.readUntilClose(), 'not-well-formed', false);
  });
}

// RFC 6120 §11.1: no comments, processing instructions, DTDs or entity references other than
// the five predefined ones; the condition is restricted-xml (§4.9.3.18).
const RESTRICTED: Record<string, string> = {
  comment: '<!-- a comment -->',
  'processing instruction': "<?foo bar='baz'?>",
  DOCTYPE: '<!DOCTYPE message [<!ENTITY x "y">]>',
  'entity reference other than the predefined five': '<message><body>&nosuch;</body></message>',
};

for (const [what, bytes] of Object.entries(RESTRICTED)) {
  test(`restricted-xml before authentication: ${what} (RFC 6120 §11.1)`, async () => {
    const c = await openedStream();
    c.send(bytes);
    assertStreamErrorAndClose(await c.readUntilClose(), 'restricted-xml', false);
  });
}

test('predefined entities and character references are ordinary XML (RFC 6120 §11.1)', async () => {
  const c = await connect();
  const jid = await c.login({ user: 'alice', password: 'secret', resource: 'entities' });
  c.send(`<message to='${jid}' id='ent'><body>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</body></message>`);
  const echoed = await c.waitForElement((el) => el.attr('id') === 'ent', 3000, 'our own message');
  assert.is(echoed.getChildText('body'), `<&>"'AB`);
});

test('not-well-formed in an established session closes it with not-well-formed', async () => {
  const c = await connect();
  await c.login({ user: 'alice', password: 'secret', resource: 'nwf' });
  c.send("<message to='alice@localhost'><body>hi</bdy></message>");
  assertStreamErrorAndClose(await c.readUntilClose(), 'not-well-formed', false);
});

test('bytes before the stream header get a header, then not-well-formed', async () => {
  const c = await connect();
  c.send('junk before the header');
  assertStreamErrorAndClose(await c.readUntilClose(), 'not-well-formed', true);
});

// ---------------------------------------------------------------- size limit

test('a stanza up to maxStanzaSize is accepted and routed', async () => {
  const c = await connect(SMALL);
  const jid = await c.login({ user: 'alice', password: 'secret', resource: 'small' });
  const body = 'x'.repeat(800);
  const stanza = `<message to='${jid}' type='chat' id='fits'><body>${body}</body></message>`;
  assert.ok(Buffer.byteLength(stanza) < 1024);
  c.send(stanza);
  const echoed = await c.waitForElement((el) => el.is('message') && el.attr('id') === 'fits', 3000, 'the message to our own full JID');
  assert.is(echoed.getChildText('body'), body);
});

test('a complete stanza over maxStanzaSize gets policy-violation (RFC 6120 §4.9.3.14)', async () => {
  const c = await connect(SMALL);
  const jid = await c.login({ user: 'alice', password: 'secret', resource: 'big' });
  c.send(`<message to='${jid}' type='chat' id='big'><body>${'x'.repeat(2000)}</body></message>`);
  const events = await c.readUntilClose();
  assert.not.ok(
    events.some((e) => e.type === 'element' && e.element.attr('id') === 'big'),
    'the oversized message must not be delivered',
  );
  assertStreamErrorAndClose(events, 'policy-violation', false);
});

test('an unfinished stanza growing past maxStanzaSize is refused without waiting for its end', async () => {
  const c = await openedStream(SMALL);
  // Never closed: the server must count what it buffers, not wait for `</message>`.
  c.send(`<message to='alice@localhost'><body>${'x'.repeat(2000)}`);
  assertStreamErrorAndClose(await c.readUntilClose(), 'policy-violation', false);
});

// ---------------------------------------------------------------- unexpected stream header

// RFC 6120 only restarts a stream after STARTTLS (§5.4.3.3) and SASL success (§6.4.6); no
// §4.9.3 condition names a header sent at any other time. The closest is `policy-violation`
// (§4.9.3.14, "a local service policy"), which is what this server documents
// (connection.ts "a second one is a protocol violation"). The listener's state timeout is
// 10 s, so an error within 3 s is the server's reaction to the header, not its timer.
test('a second stream header after the features gets policy-violation', async () => {
  const c = await openedStream(SLOW);
  c.send(streamHeader({ declaration: false }));
  assertStreamErrorAndClose(await c.readUntilClose(3000), 'policy-violation', false);
});

async function openedWebSocket(): Promise<RawWsClient> {
  const a = ts.address(WEBSOCKET);
  const ws = await RawWsClient.connect(`ws://${a.host}:${a.port}${a.path ?? '/xmpp-websocket'}`);
  try {
    assert.is(ws.protocol, 'xmpp', 'subprotocol xmpp (RFC 7395 §3.2)');
    ws.send(WS_OPEN);
    const answer = await ws.expectElement();
    assert.ok(answer.is('open', NS.FRAMING), `the server answers <open/>: ${ws.transcript()}`);
    const features = await ws.expectElement();
    assert.ok(features.is('features', NS.STREAMS), `then <stream:features/>: ${ws.transcript()}`);
    return ws;
  } catch (err) {
    await ws.close();
    throw err;
  }
}

const WS_OPEN = `<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`;

/** RFC 7395 §3.6: `<stream:error/>`, then `<close/>`, then the WebSocket closes. */
function assertWsStreamErrorAndClose(events: WsEvent[], condition: string, shown: string): void {
  const [err, close, end] = events;
  assert.ok(err?.type === 'element' && streamErrorCondition(err.element) === condition, `${condition}: ${shown}`);
  assert.ok(close?.type === 'element' && close.element.is('close', NS.FRAMING), `<close/> after the error: ${shown}`);
  assert.is(end?.type, 'close', `then the WebSocket closes: ${shown}`);
}

// Over WebSocket every `<open/>` is a complete message, so a second one is unambiguous.
test('a second <open/> on a WebSocket gets policy-violation, then <close/> (RFC 7395 §3.6)', async () => {
  const ws = await openedWebSocket();
  try {
    ws.send(WS_OPEN);
    assertWsStreamErrorAndClose(await ws.readUntilClose(3000), 'policy-violation', ws.transcript());
  } finally {
    await ws.close();
  }
});

test('a WebSocket message over maxStanzaSize gets policy-violation, then <close/>', async () => {
  const ws = await openedWebSocket();
  try {
    ws.send(`<message xmlns='jabber:client' to='alice@localhost'><body>${'x'.repeat(1500)}</body></message>`);
    assertWsStreamErrorAndClose(await ws.readUntilClose(3000), 'policy-violation', ws.transcript());
  } finally {
    await ws.close();
  }
});

test('not-well-formed XML in a WebSocket message gets not-well-formed, then <close/>', async () => {
  const ws = await openedWebSocket();
  try {
    ws.send(`<message xmlns='jabber:client' to='alice@localhost'><body>hi</bdy></message>`);
    assertWsStreamErrorAndClose(await ws.readUntilClose(3000), 'not-well-formed', ws.transcript());
  } finally {
    await ws.close();
  }
});

// ---------------------------------------------------------------- pre-session state timeout

test('an idle connection that never sends a header is closed after the state timeout', async () => {
  const c = await connect(QUICK);
  const t0 = performance.now();
  const events = await c.readUntilClose(5000);
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= QUICK_TIMEOUT_MS - 10, `closed after ${elapsed.toFixed(0)} ms, before the ${QUICK_TIMEOUT_MS} ms timeout`);
  // Whatever the server says before closing (a header and an error, or nothing), the only
  // acceptable condition is connection-timeout.
  for (const e of events) {
    if (e.type === 'element') assert.is(streamErrorCondition(e.element), 'connection-timeout', describeEvent(e));
    assert.is.not(e.type, 'parseError', describeEvent(e));
  }
});

test('an idle pre-auth stream is closed with connection-timeout after stateTimeoutMs', async () => {
  const c = await connect(QUICK);
  const t0 = performance.now();
  await c.openStream();
  const events = await c.readUntilClose(5000);
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= QUICK_TIMEOUT_MS - 10, `closed after ${elapsed.toFixed(0)} ms, before the ${QUICK_TIMEOUT_MS} ms timeout`);
  assertStreamErrorAndClose(events, 'connection-timeout', false);
});

test('whitespace keepalives before authentication do not extend the state timeout', async () => {
  const c = await connect(QUICK);
  const t0 = performance.now();
  await c.openStream();
  // Keep talking for 10× the timeout; the close must come while we still are.
  for (let i = 0; i < 60 && !c.hasClosed; i++) {
    c.send(' ');
    await sleep(50);
  }
  const elapsed = performance.now() - t0;
  assert.ok(c.hasClosed, `still open after ${elapsed.toFixed(0)} ms of keepalives (state timeout ${QUICK_TIMEOUT_MS} ms)`);
  const events = await c.readUntilClose(1000);
  assert.ok(elapsed >= QUICK_TIMEOUT_MS - 10, `closed after ${elapsed.toFixed(0)} ms`);
  assertStreamErrorAndClose(events, 'connection-timeout', false);
});

test('unknown elements before authentication do not extend the state timeout', async () => {
  const c = await connect(QUICK);
  const t0 = performance.now();
  await c.openStream();
  for (let i = 0; i < 60 && !c.hasClosed; i++) {
    c.send("<junk xmlns='urn:example:junk'/>");
    await sleep(50);
  }
  const elapsed = performance.now() - t0;
  assert.ok(c.hasClosed, `still open after ${elapsed.toFixed(0)} ms of junk (state timeout ${QUICK_TIMEOUT_MS} ms)`);
  const events = await c.readUntilClose(1000);
  const errorEvent = events.find((e) => e.type === 'element');
  const condition = errorEvent?.type === 'element' ? streamErrorCondition(errorEvent.element) : undefined;
  // Either the timer fires, or the server refuses the first-level element outright (§4.9.3.20).
  if (condition === 'unsupported-stanza-type') assertStreamErrorAndClose(events, 'unsupported-stanza-type', false);
  else {
    assert.ok(elapsed >= QUICK_TIMEOUT_MS - 10, `closed after ${elapsed.toFixed(0)} ms`);
    assertStreamErrorAndClose(events, 'connection-timeout', false);
  }
});

test('an established session is not subject to the state timeout', async () => {
  const c = await connect(QUICK);
  const jid = await c.login({ user: 'alice', password: 'secret', resource: 'lives' });
  await sleep(QUICK_TIMEOUT_MS * 2);
  assert.not.ok(c.hasClosed, `closed: ${c.transcript()}`);
  c.send(`<message to='${jid}' id='still-here'><body>ping</body></message>`);
  await c.waitForElement((el) => el.attr('id') === 'still-here', 3000, 'our own message');
});

// ---------------------------------------------------------------- graceful shutdown

test('server.stop() sends system-shutdown and the trailer to a logged-in client (RFC 6120 §4.9.3.22)', async () => {
  const own = await startTestServer({ listeners: [{ kind: 'tcp', tls: 'optional' }], users: { 'carol@localhost': 'pw' } });
  const c = await RawXmppClient.connect(own.address(0));
  try {
    await c.login({ user: 'carol', password: 'pw', resource: 'shutdown' });
    const stopping = own.stop();
    assertStreamErrorAndClose(await c.readUntilClose(5000), 'system-shutdown', false);
    await stopping;
  } finally {
    c.destroy();
    await own.stop();
  }
});

test.run();
