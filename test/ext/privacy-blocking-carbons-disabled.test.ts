// A module disabled for a host type runs no code: privacy, blocking and carbons enabled on one
// host type only; on the other their IQs are unknown (service-unavailable), traffic is never
// filtered or copied, and none of their hooks is registered there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { errorCondition, iq, loginWith } from '../helpers/test-kit.ts';
import { privacy } from '../../src/ext/privacy/index.ts';
import { blocking } from '../../src/ext/blocking/index.ts';
import { carbons } from '../../src/ext/carbons/index.ts';
import * as c2s from '../../src/c2s/hooks.ts';
import { offlineMessage, discoLocalFeatures } from '../../src/core/server-hooks.ts';
import { privacyCheckPacket } from '../../src/core/hooks/privacy.ts';
import { Jid } from '../../src/core/jid.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@on.test': 'a', 'bob@on.test': 'b', 'alice@off.test': 'a', 'bob@off.test': 'b' };


test('enabled on one host type only: the other has no hooks, no IQs, no features, no filtering, no copies', async () => {
  const server = await createTestServer({
    users: USERS,
    domains: { 'on.test': 'on', 'off.test': 'off' },
    hostTypes: { on: { modules: [privacy, blocking, carbons] }, off: { modules: [] } },
  });
  for (const spec of [c2s.userSendMessage, c2s.userSendIq, c2s.userSendPresence, c2s.userReceiveMessage, c2s.userReceiveIq, c2s.userReceivePresence, c2s.userOpenSession, c2s.foreignEvent, offlineMessage, privacyCheckPacket]) {
    assert.is(server.hooks.count(spec, 'off'), 0, `${spec.name} on 'off'`);
    assert.ok(server.hooks.count(spec, 'on') > 0, `${spec.name} on 'on'`);
  }
  const features = async (ht: string, d: string) => (await server.hooks.run(discoLocalFeatures, ht, [], { from: Jid.parse(`alice@${d}`), to: Jid.parse(d), node: undefined, lang: undefined })).acc;
  assert.equal((await features('off', 'off.test')).filter((f) => ['jabber:iq:privacy', 'urn:xmpp:blocking', 'urn:xmpp:carbons:2'].includes(f)), []);
  assert.equal((await features('on', 'on.test')).filter((f) => ['jabber:iq:privacy', 'urn:xmpp:blocking', 'urn:xmpp:carbons:2'].includes(f)).sort(), ['jabber:iq:privacy', 'urn:xmpp:blocking', 'urn:xmpp:carbons:2']);

  const login = loginWith(server, USERS);
  const off1 = await login('alice@off.test/1');
  const off2 = await login('alice@off.test/2');
  const offBob = await login('bob@off.test/pc');
  assert.is(errorCondition(await iq(off1, 'get', `<query xmlns='jabber:iq:privacy'/>`)), 'service-unavailable');
  assert.is(errorCondition(await iq(off1, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='bob@off.test'/></block>`)), 'service-unavailable');
  assert.is(errorCondition(await iq(off2, 'set', `<enable xmlns='urn:xmpp:carbons:2'/>`)), 'service-unavailable');
  off1.send(`<message to='bob@off.test/pc' type='chat'><body>plain</body></message>`);
  await server.settle();
  assert.equal(offBob.received().map((e) => e.getChildText('body')), ['plain']);
  assert.equal(off2.received(), []);

  // The same conversation on the enabled host type is filtered.
  const on1 = await login('alice@on.test/1');
  const onBob = await login('bob@on.test/pc');
  assert.is((await iq(on1, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='bob@on.test'/></block>`)).attrs.type, 'result');
  on1.send(`<message id='m' to='bob@on.test/pc' type='chat'><body>blocked</body></message>`);
  await server.settle();
  assert.is(errorCondition(on1.expect((e) => e.attrs.id === 'm')), 'not-acceptable');
  assert.equal(onBob.received(), []);
  assert.equal(server.hookErrors, []);
});

test.run();
