// XEP-0092 software version of the server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createTestServer } from '../../src/testing/index.ts';
import { version } from '../../src/ext/version/index.ts';
import { NS } from '../../src/core/namespaces.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('the server answers name and package version, no os unless configured', async () => {
  const server = await createTestServer({ users: { 'alice@localhost': 'a' }, modules: [version] });
  const alice = server.connect();
  await alice.login('alice@localhost/r', 'a');
  alice.send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`);
  await alice.settle();
  const r = alice.expect((e) => e.attrs.id === 'v1');
  assert.is(r.attrs.type, 'result');
  const q = r.getChild('query', NS.VERSION)!;
  assert.is(q.getChildText('name'), 'xmpp-blocks');
  assert.is(q.getChildText('version'), pkg.version);
  assert.is(q.getChild('os'), undefined);
  // To a user's bare JID it is not the server's business: service-unavailable.
  alice.send(`<iq type='get' id='v2' to='alice@localhost'><query xmlns='jabber:iq:version'/></iq>`);
  await alice.settle();
  assert.is(alice.expect((e) => e.attrs.id === 'v2').attrs.type, 'error');
});

test('options: name, version and os', async () => {
  const server = await createTestServer({ users: { 'alice@localhost': 'a' }, modules: [{ module: version, options: { name: 'chat.example', version: '9.9', os: 'Linux' } }] });
  const alice = server.connect();
  await alice.login('alice@localhost/r', 'a');
  alice.send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`);
  await alice.settle();
  const q = alice.expect((e) => e.attrs.id === 'v1').getChild('query', NS.VERSION)!;
  assert.equal([q.getChildText('name'), q.getChildText('version'), q.getChildText('os')], ['chat.example', '9.9', 'Linux']);
});

test.run();
