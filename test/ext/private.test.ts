// XEP-0049 private XML storage: per-namespace get/set for one's own account only, reserved
// namespaces and malformed queries refused with not-acceptable, size limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestClient } from '../../src/testing/index.ts';
import { startKit } from '../helpers/test-kit.ts';
import { privateStorage } from '../../src/ext/private/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b' };
const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;

async function iq(c: TestClient, body: string): Promise<XmlElement> {
  const id = `p${Math.random().toString(36).slice(2)}`;
  c.send(body.replace('<iq ', `<iq id='${id}' `));
  await c.settle();
  return c.expect((e) => e.attrs.id === id);
}

async function setup(maxSize?: number) {
  const { server, login } = await startKit({ users: USERS, modules: [maxSize ? { module: privateStorage, options: { maxSize } } : privateStorage] });
  return { server, alice: await login('alice@localhost/phone'), alice2: await login('alice@localhost/pc'), bob: await login('bob@localhost/pc') };
}

test('set and get per namespace, across resources; unknown namespace returns the empty element', async () => {
  const { server, alice, alice2 } = await setup();
  const set = await iq(alice, `<iq type='set'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'><theme>dark</theme></prefs><storage xmlns='storage:bookmarks'><conference jid='room@muc.localhost' autojoin='true'/></storage></query></iq>`);
  assert.is(set.attrs.type, 'result');
  const prefs = await iq(alice2, `<iq type='get'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`);
  assert.is(prefs.attrs.type, 'result');
  const p = prefs.getChild('query', NS.PRIVATE)!.getChild('prefs', 'urn:example:prefs')!;
  assert.is(p.getChildText('theme'), 'dark');
  const bm = await iq(alice2, `<iq type='get' to='alice@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`);
  assert.is(bm.getChild('query', NS.PRIVATE)!.getChild('storage', 'storage:bookmarks')!.getChild('conference')!.attrs.jid, 'room@muc.localhost');
  const none = await iq(alice, `<iq type='get'><query xmlns='jabber:iq:private'><other xmlns='urn:example:other'/></query></iq>`);
  const o = none.getChild('query', NS.PRIVATE)!.getChild('other', 'urn:example:other')!;
  assert.equal(o.elements(), []);
  assert.equal(server.hookErrors, []);
});

test("another user's storage → forbidden (get and set)", async () => {
  const { alice, bob } = await setup();
  await iq(alice, `<iq type='set'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'>mine</prefs></query></iq>`);
  assert.is(errorOf(await iq(bob, `<iq type='get' to='alice@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`)), 'forbidden');
  assert.is(errorOf(await iq(bob, `<iq type='set' to='alice@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'>x</prefs></query></iq>`)), 'forbidden');
});

test('not-acceptable: reserved namespaces, no child, child without its own namespace, several children in a get, too large', async () => {
  const { alice } = await setup(300);
  for (const q of [
    `<iq type='set'><query xmlns='jabber:iq:private'><roster xmlns='jabber:iq:roster'/></query></iq>`,
    `<iq type='get'><query xmlns='jabber:iq:private'><x xmlns='http://jabber.org/protocol/muc'/></query></iq>`,
    `<iq type='set'><query xmlns='jabber:iq:private'/></iq>`,
    `<iq type='get'><query xmlns='jabber:iq:private'/></iq>`,
    `<iq type='set'><query xmlns='jabber:iq:private'><plain>no ns</plain></query></iq>`,
    `<iq type='get'><query xmlns='jabber:iq:private'><a xmlns='urn:a'/><b xmlns='urn:b'/></query></iq>`,
    `<iq type='set'><query xmlns='jabber:iq:private'><big xmlns='urn:big'>${'x'.repeat(400)}</big></query></iq>`,
  ]) {
    assert.is(errorOf(await iq(alice, q)), 'not-acceptable', q);
  }
  // A failed multi-fragment set stores nothing.
  assert.is(errorOf(await iq(alice, `<iq type='set'><query xmlns='jabber:iq:private'><ok xmlns='urn:ok'>v</ok><roster xmlns='jabber:iq:roster'/></query></iq>`)), 'not-acceptable');
  const r = await iq(alice, `<iq type='get'><query xmlns='jabber:iq:private'><ok xmlns='urn:ok'/></query></iq>`);
  assert.is(r.getChild('query', NS.PRIVATE)!.getChild('ok', 'urn:ok')!.text(), '', 'nothing stored');
});

test.run();
