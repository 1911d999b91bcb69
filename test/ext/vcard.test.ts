// XEP-0054 vcard-temp: set own, get own/other's, forbidden for others' cards, size limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestClient } from '../../src/testing/index.ts';
import { startKit } from '../helpers/test-kit.ts';
import { vcard } from '../../src/ext/vcard/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { Jid } from '../../src/core/jid.ts';
import { removeUser } from '../../src/core/server-hooks.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;

async function iq(c: TestClient, body: string): Promise<XmlElement> {
  const id = `v${Math.random().toString(36).slice(2)}`;
  c.send(body.replace('<iq ', `<iq id='${id}' `));
  await c.settle();
  return c.expect((e) => e.attrs.id === id);
}

async function setup(options?: { maxSize: number }) {
  const { server, login } = await startKit({ users: USERS, modules: [options ? { module: vcard, options } : vcard] });
  return { server, alice: await login('alice@localhost/phone'), alice2: await login('alice@localhost/pc'), bob: await login('bob@localhost/pc') };
}

test('set own vCard, read it back from another resource and from another user', async () => {
  const { server, alice, alice2, bob } = await setup();
  const empty = await iq(alice, `<iq type='get'><vCard xmlns='vcard-temp'/></iq>`);
  assert.is(empty.attrs.type, 'result');
  assert.equal(empty.getChild('vCard', NS.VCARD)!.elements(), [], 'no vCard yet: empty vCard for the owner');
  const set = await iq(alice, `<iq type='set'><vCard xmlns='vcard-temp'><FN>Alice A.</FN><NICKNAME>al</NICKNAME></vCard></iq>`);
  assert.is(set.attrs.type, 'result');
  assert.equal(set.elements(), []);
  const own = await iq(alice2, `<iq type='get'><vCard xmlns='vcard-temp'/></iq>`);
  assert.is(own.getChild('vCard', NS.VCARD)!.getChildText('FN'), 'Alice A.');
  const other = await iq(bob, `<iq type='get' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`);
  assert.is(other.attrs.from, 'alice@localhost');
  assert.is(other.getChild('vCard', NS.VCARD)!.getChildText('NICKNAME'), 'al');
  assert.equal(server.hookErrors, []);
});

test("another user's missing vCard → item-not-found; setting someone else's → forbidden", async () => {
  const { alice, bob } = await setup();
  assert.is(errorOf(await iq(bob, `<iq type='get' to='carol@localhost'><vCard xmlns='vcard-temp'/></iq>`)), 'item-not-found');
  assert.is(errorOf(await iq(bob, `<iq type='set' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>evil</FN></vCard></iq>`)), 'forbidden');
  const still = await iq(alice, `<iq type='get'><vCard xmlns='vcard-temp'/></iq>`);
  assert.equal(still.getChild('vCard', NS.VCARD)!.elements(), []);
});

test('size limit → not-acceptable and the old vCard is kept', async () => {
  const { alice } = await setup({ maxSize: 200 });
  assert.is((await iq(alice, `<iq type='set'><vCard xmlns='vcard-temp'><FN>small</FN></vCard></iq>`)).attrs.type, 'result');
  const big = 'x'.repeat(300);
  const r = await iq(alice, `<iq type='set'><vCard xmlns='vcard-temp'><DESC>${big}</DESC></vCard></iq>`);
  assert.is(errorOf(r), 'not-acceptable');
  assert.is((await iq(alice, `<iq type='get'><vCard xmlns='vcard-temp'/></iq>`)).getChild('vCard', NS.VCARD)!.getChildText('FN'), 'small');
});

test("server vCard; removeUser deletes the user's card", async () => {
  const { server, alice } = await setup();
  const s = await iq(alice, `<iq type='get' to='localhost'><vCard xmlns='vcard-temp'/></iq>`);
  assert.is(s.getChild('vCard', NS.VCARD)!.getChildText('FN'), 'xmpp-blocks');
  await iq(alice, `<iq type='set'><vCard xmlns='vcard-temp'><FN>A</FN></vCard></iq>`);
  const r = await server.hooks.runAsync(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('alice@localhost') });
  assert.equal(r.acc.failed, []);
  assert.is(await server.storage.vcard.get('localhost', 'localhost', 'alice'), undefined);
});

test.run();
