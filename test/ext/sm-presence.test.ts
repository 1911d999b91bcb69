// Stream management with the real roster and presence modules: a resumed session keeps its
// presence (no unavailable to contacts, the presence state and priority move over, presences
// received while dormant are delivered after <resumed/>); a resume timeout broadcasts
// unavailable like any other disconnection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { roster } from '../../src/ext/roster/index.ts';
import { presence, presenceSlot } from '../../src/ext/presence/index.ts';
import { streamManagement, NS_SM } from '../../src/ext/stream-management/index.ts';
import { createTestServer } from '../../src/testing/index.ts';
import { USERS, befriend, login, presences, send } from './roster-helpers.ts';
import { resumeOn } from '../helpers/test-kit.ts';

async function setup() {
  const server = await createTestServer({ users: USERS, modules: [roster, presence, streamManagement] });
  const alice = await login(server, 'alice@localhost/phone', { presence: '<presence><priority>5</priority></presence>' });
  const bob = await login(server, 'bob@localhost/pc');
  await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
  await send(alice, `<enable xmlns='${NS_SM}' resume='true'/>`);
  const id = alice.expect((e) => e.name === 'enabled').attrs.id!;
  alice.received();
  bob.received();
  return { server, alice, bob, id };
}

test('resume keeps the presence: no unavailable to contacts, state and priority move over, dormant-time presences delivered', async () => {
  const { server, alice, bob, id } = await setup();
  alice.closeSocket();
  await alice.settle();
  assert.is(alice.connection.state, 'external.resumable');
  assert.equal(presences(bob), [], 'going dormant is not going offline');
  await send(bob, `<presence><show>dnd</show></presence>`);

  const { c: a2, answer } = await resumeOn(server, 'alice', 'a', id);
  assert.is(answer.name, 'resumed');
  const got = a2.received().filter((e) => e.name === 'presence');
  assert.equal(got.map((e) => `${e.attrs.from}:${e.getChildText('show')}`), ['bob@localhost/pc:dnd']);
  assert.ok(alice.connection.closed);
  assert.equal(presences(bob).filter((p) => p.startsWith('alice')), [], 'no unavailable on hand-over');
  assert.ok(a2.connection.getModState(presenceSlot)?.last, 'the presence state moved to the new connection');
  assert.is(server.sessions.entry(a2.connection.sid)?.priority, 5);
  // The resumed session still broadcasts as before.
  await send(a2, `<presence><show>away</show><priority>5</priority></presence>`);
  await bob.settle();
  const b = bob.received().filter((e) => e.name === 'presence' && e.attrs.from?.startsWith('alice'));
  assert.equal(b.map((e) => `${e.attrs.from}:${e.getChildText('show')}`), ['alice@localhost/phone:away']);
  assert.equal(server.hookErrors, []);
});

test('resume timeout: contacts get unavailable', async () => {
  const { server, alice, bob } = await setup();
  alice.closeSocket();
  await alice.settle();
  assert.equal(presences(bob), []);
  server.clock.advance(600_000);
  await server.settle();
  assert.ok(alice.connection.closed);
  assert.equal(presences(bob), ['alice@localhost/phone:unavailable']);
});

test.run();
