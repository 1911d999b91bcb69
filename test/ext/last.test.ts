// XEP-0012 last activity: server uptime, a user's idle time since logout (with the status of
// the last unavailable presence), 0 while online, only for the user and his subscribers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { last } from '../../src/ext/last/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import { Jid } from '../../src/core/jid.ts';
import { removeUser } from '../../src/core/server-hooks.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };

async function ask(c: TestClient, to: string): Promise<XmlElement> {
  const id = `l${Math.random().toString(36).slice(2)}`;
  c.send(`<iq type='get' id='${id}' to='${to}'><query xmlns='jabber:iq:last'/></iq>`);
  await c.settle();
  return c.expect((e) => e.attrs.id === id);
}
const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;
const seconds = (e: XmlElement) => e.getChild('query', NS.LAST)?.attrs.seconds;

test('server uptime', async () => {
  const server = await createTestServer({ users: USERS, modules: [last] });
  server.clock.advance(42_500);
  const alice = server.connect();
  await alice.login('alice@localhost/r', 'a');
  const r = await ask(alice, 'localhost');
  assert.is(r.attrs.type, 'result');
  assert.is(seconds(r), '42');
});

test('user last activity: 0 online; seconds since logout and status; subscribers only', async () => {
  const server = await createTestServer({ users: USERS, modules: [last] });
  await server.storage.roster.upsertItem('localhost', 'localhost', 'bob', { jid: 'alice@localhost', subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: [] });
  await server.storage.roster.upsertItem('localhost', 'localhost', 'bob', { jid: 'carol@localhost', subscription: 'to', ask: 'none', pendingIn: false, approved: false, groups: [] });
  const alice = server.connect();
  await alice.login('alice@localhost/r', 'a');
  const carol = server.connect();
  await carol.login('carol@localhost/r', 'c');
  assert.is(errorOf(await ask(alice, 'bob@localhost')), 'item-not-found', 'never logged in');

  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  const bob2 = server.connect();
  await bob2.login('bob@localhost/phone', 'b');
  assert.is(seconds(await ask(alice, 'bob@localhost')), '0', 'online → 0');
  bob.send(`<presence type='unavailable'><status>gone fishing</status></presence>`);
  bob.send('</stream:stream>');
  await bob.settle();
  bob2.send('</stream:stream>');
  await bob2.settle();
  server.clock.advance(90_000);
  await server.settle();
  const r = await ask(alice, 'bob@localhost');
  assert.is(seconds(r), '90');
  // bob2 closed later without status: the last logout wins, its status is empty.
  assert.is(r.getChild('query', NS.LAST)!.text(), '');
  // carol only has a `to` subscription in bob's roster: she does not see his presence.
  assert.is(errorOf(await ask(carol, 'bob@localhost')), 'forbidden');
  assert.equal(server.hookErrors, []);
});

test('status of the last unavailable presence is returned', async () => {
  const server = await createTestServer({ users: USERS, modules: [last] });
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  bob.send(`<presence type='unavailable'><status>gone fishing</status></presence>`);
  bob.send('</stream:stream>');
  await bob.settle();
  server.clock.advance(5000);
  const bob2 = server.connect();
  await bob2.login('bob@localhost/other', 'b');
  // Asking oneself is always allowed; but bob is online now → 0.
  assert.is(seconds(await ask(bob2, 'bob@localhost')), '0');
  bob2.send(`<presence type='unavailable'><status>bye</status></presence>`);
  await bob2.settle();
  await server.settle();
  server.clock.advance(3000);
  // Without a presence module bob2 stays available (bound at priority 0): close it, then ask as a subscriber.
  const alice = server.connect();
  await alice.login('alice@localhost/r', 'a');
  await server.storage.roster.upsertItem('localhost', 'localhost', 'bob', { jid: 'alice@localhost', subscription: 'from', ask: 'none', pendingIn: false, approved: false, groups: [] });
  bob2.send('</stream:stream>');
  await bob2.settle();
  server.clock.advance(2000);
  const r = await ask(alice, 'bob@localhost');
  assert.is(seconds(r), '2');
  assert.is(r.getChild('query', NS.LAST)!.text(), 'bye');
  await server.hooks.runAsync(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('bob@localhost') });
  assert.is(await server.storage.last.get('localhost', 'localhost', 'bob'), undefined, 'removeUser cleans up');
});

test.run();
