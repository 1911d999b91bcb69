// Session hand-over on resumption (the core's `handOverSession` / `adoptSession` effects used
// by stream management): other modules' slots and the presence priority move to the new
// connection, the old one keeps none of them, its userTerminate handlers after stream
// management (presence's unavailable broadcast at 90) do not run; on a resume timeout they do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer } from '../../src/testing/index.ts';
import { streamManagement, NS_SM } from '../../src/ext/stream-management/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { defineModSlot, getModState, Effects } from '../../src/c2s/effects.ts';
import * as h from '../../src/c2s/hooks.ts';
import { stop } from '../../src/hooks/index.ts';
import { Jid } from '../../src/core/jid.ts';
import { resumeOn } from '../helpers/test-kit.ts';

interface FakePresence {
  readonly show: string;
  readonly seenBy: string[];
}
const presenceSlot = defineModSlot<FakePresence>('fake-presence');
const terminated: { sid: string; reason: string; hadSlot: boolean }[] = [];
const rerouteSaw: { sid: string; hadSlot: boolean }[] = [];

// A presence-like module: a slot set on <presence/>, an "unavailable broadcast" at userTerminate 90.
const fakePresence = defineModule({
  name: 'fake-presence',
  defaults: {},
  slots: [presenceSlot],
  hooks: () => [
    hook(h.userSendPresence, (ef, p) => stop(ef.setModState(presenceSlot, { show: p.acc.element.getChildText('show') ?? 'online', seenBy: [] }))),
    hook(h.userTerminate, (_ef, p) => void terminated.push({ sid: p.conn.sid, reason: p.reason, hadSlot: getModState(p.conn, presenceSlot) !== undefined }), 90),
    hook(h.rerouteUnackedMessages, (_ef, p) => void rerouteSaw.push({ sid: p.conn.sid, hadSlot: getModState(p.conn, presenceSlot) !== undefined }), 70),
    hook(h.foreignEvent, (ef, p) => {
      if (p.tag !== 'fake-presence' || p.callRef === undefined) return;
      return stop(ef.reply(p.callRef, getModState(p.conn, presenceSlot)));
    }),
  ],
});

async function setup() {
  terminated.length = 0;
  rerouteSaw.length = 0;
  const server = await createTestServer({ users: { 'alice@localhost': 'a', 'bob@localhost': 'b' }, modules: [streamManagement, fakePresence] });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  alice.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  alice.send(`<presence><show>away</show></presence>`);
  await alice.settle();
  const id = alice.expect((e) => e.name === 'enabled').attrs.id!;
  return { server, alice, id };
}

test('slots and priority move to the resuming connection; the old one keeps none and skips the unavailable broadcast', async () => {
  const { server, alice, id } = await setup();
  server.sessions.setPriority(alice.connection.session!, 7);
  alice.closeSocket();
  await alice.settle();
  const oldSid = alice.connection.sid;
  const { c: a2, answer } = await resumeOn(server, 'alice', 'a', id);
  assert.is(answer.name, 'resumed');
  assert.equal(a2.connection.getModState(presenceSlot), { show: 'away', seenBy: [] });
  assert.is(alice.connection.getModState(presenceSlot), undefined, 'moved, not shared');
  assert.is(server.sessions.entry(a2.connection.sid)?.priority, 7);
  assert.is(await a2.connection.call('fake-presence', 'get').then((v) => (v as FakePresence).show), 'away');
  assert.ok(alice.connection.closed);
  assert.equal(terminated, [], 'userTerminate stopped by stream management before presence (90)');
  assert.equal(rerouteSaw, [{ sid: oldSid, hadSlot: false }]);
  assert.equal(server.hookErrors, []);
});

test('on a resume timeout the unavailable broadcast runs (userTerminate reaches 90)', async () => {
  const { server, alice } = await setup();
  alice.closeSocket();
  await alice.settle();
  server.clock.advance(600_000);
  await alice.settle();
  assert.equal(terminated, [{ sid: alice.connection.sid, reason: 'sm-resume-timeout', hadSlot: true }]);
});

test("adoptSession refuses another user's session (internal error, the connection closes)", async () => {
  const server = await createTestServer({
    users: { 'alice@localhost': 'a', 'bob@localhost': 'b' },
    modules: [
      defineModule({
        name: 'thief',
        defaults: {},
        hooks: () => [
          hook(h.userSendXmlel, (ef, p) => {
            if (p.acc.element.name !== 'steal') return;
            const snapshot = { sid: 'x', jid: Jid.parse('bob@localhost/pc'), hostType: 'localhost', lserver: 'localhost', info: {}, modState: new Map() };
            return stop(ef.adoptSession(snapshot));
          }),
        ],
      }),
    ],
  });
  const c = server.connect();
  await c.openStream();
  await c.authenticate('alice', 'a');
  c.send(`<steal xmlns='urn:example'/>`);
  await c.settle();
  assert.is(c.streamError, 'internal-server-error');
  assert.is(server.sessions.count(), 0);
  assert.ok(new Effects().adoptSession({ sid: 'x', jid: Jid.parse('a@b/c'), hostType: 'h', lserver: 'b', info: {}, modState: new Map() }).isEmpty === false);
});

test.run();
