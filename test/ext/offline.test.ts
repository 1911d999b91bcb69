// XEP-0160 offline storage: what is stored (chat/normal; not headline, error, groupchat,
// no-store, chat-state-only unless <store/>), the per-user limit, delivery on initial presence
// with priority ≥ 0 with a XEP-0203 delay stamp, resendOfflineMessages, cleanup, and the
// privacy hook point. Presence is a test stub here (sets the priority, runs userAvailable /
// resendOfflineMessages); offline-presence.test.ts runs the same flow with the real module.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { offline, xepStamp, type OfflineOptions } from '../../src/ext/offline/index.ts';
import { defineModule, hook } from '../../src/c2s/module.ts';
import { userSendPresence } from '../../src/c2s/hooks.ts';
import { defineModSlot } from '../../src/c2s/effects.ts';
import { offlineMessage, removeDomain, removeUser, userAvailable } from '../../src/core/server-hooks.ts';
import { resendOfflineMessages } from '../../src/core/hooks/offline.ts';
import { stop } from '../../src/hooks/index.ts';
import { StanzaError } from '../../src/core/errors.ts';
import { errorAcc } from '../../src/core/iq-handlers.ts';
import { Jid } from '../../src/core/jid.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

/** Minimal presence for the test: broadcast presence sets the priority and signals availability. */
const prioSlot = defineModSlot<number>('stub.prio');
const presenceStub = defineModule({
  name: 'presenceStub',
  defaults: {},
  hooks: (hostType, _o, env) => [
    hook(userSendPresence, (ef, { conn, acc }) => {
      if (acc.element.attrs.to !== undefined) return stop(ef);
      const session = env.sessions.get(conn.jid!)!;
      if (acc.type === 'unavailable') {
        env.sessions.setPriority(session, null);
        return stop(ef.setModState(prioSlot, undefined));
      }
      const prio = Number(acc.element.getChildText('priority') ?? '0');
      const prev = conn.getModState(prioSlot);
      env.sessions.setPriority(session, prio);
      if (prev === undefined) env.hooks.run(userAvailable, hostType, undefined, { jid: conn.jid!, sid: conn.sid });
      else if (prev < 0 && prio >= 0) env.hooks.run(resendOfflineMessages, hostType, undefined, { jid: conn.jid!, sid: conn.sid });
      return stop(ef.setModState(prioSlot, prio));
    }),
  ],
});

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };

async function setup(options?: Partial<OfflineOptions>, extra: Parameters<typeof createTestServer>[0] = {}) {
  const server = await createTestServer({
    users: USERS,
    modules: [options ? { module: offline, options } : offline, presenceStub],
    sessionManager: { availableOnBind: false },
    ...extra,
  });
  const alice = server.connect();
  await alice.login('alice@localhost/phone', 'a');
  alice.send('<presence/>');
  await alice.settle();
  return { server, alice };
}

async function online(server: TestServer, jid: string, pw: string, presence = '<presence/>'): Promise<TestClient> {
  const c = server.connect();
  await c.login(jid, pw);
  c.send(presence);
  await c.settle();
  await server.settle();
  return c;
}

const messages = (c: TestClient) => c.received().filter((e) => e.name === 'message');
const bodies = (c: TestClient) => messages(c).map((e) => e.getChildText('body'));
const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;
const count = (s: TestServer, user: string) => s.storage.offline.count('localhost', 'localhost', user);

test('chat and normal messages to an offline user are stored and delivered on initial presence with a delay stamp', async () => {
  const { server, alice } = await setup();
  const t0 = server.clock.now();
  alice.send(`<message to='bob@localhost' type='chat' id='m1'><body>one</body></message>`);
  await alice.settle();
  await server.settle();
  server.clock.advance(5000);
  alice.send(`<message to='bob@localhost' id='m2'><body>two</body></message>`);
  alice.send(`<message to='bob@localhost/gone' type='normal' id='m3'><body>three</body></message>`);
  await alice.settle();
  await server.settle();
  assert.is(await count(server, 'bob'), 3);
  assert.equal(alice.received(), [], 'stored silently: no bounce');

  server.clock.advance(60_000);
  const bob = server.connect();
  await bob.login('bob@localhost/pc', 'b');
  await server.settle();
  assert.equal(messages(bob), [], 'nothing before initial presence');
  bob.send('<presence/>');
  await bob.settle();
  await server.settle();
  const got = messages(bob);
  assert.equal(got.map((e) => e.attrs.id), ['m1', 'm2', 'm3'], 'in storage order');
  for (const m of got) {
    assert.is(m.attrs.from, 'alice@localhost/phone');
    assert.is(m.attrs.to, 'bob@localhost/pc');
    const d = m.getChild('delay', NS.DELAY)!;
    assert.ok(d, 'XEP-0203 delay');
    assert.is(d.attrs.from, 'localhost');
  }
  assert.is(got[0]!.getChild('delay', NS.DELAY)!.attrs.stamp, xepStamp(t0));
  assert.is(got[1]!.getChild('delay', NS.DELAY)!.attrs.stamp, xepStamp(t0 + 5000));
  assert.is(got[0]!.attrs.type, 'chat');
  assert.is(await count(server, 'bob'), 0, 'popped');
  // A second login gets nothing again.
  const bob2 = await online(server, 'bob@localhost/tablet', 'b');
  assert.equal(messages(bob2), []);
  assert.equal(server.hookErrors, []);
});

test('not stored: headline (bounced), error (dropped), groupchat (dropped), <no-store/>, chat states only; <store/> forces', async () => {
  const { server, alice } = await setup();
  alice.send(`<message to='bob@localhost' type='headline' id='h'><body>news</body></message>`);
  alice.send(`<message to='bob@localhost' type='error' id='e'><body>err</body></message>`);
  alice.send(`<message to='bob@localhost' type='groupchat' id='g'><body>room</body></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='ns'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='cs'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='cs2'><paused xmlns='http://jabber.org/protocol/chatstates'/><store xmlns='urn:xmpp:hints'/></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='body'><active xmlns='http://jabber.org/protocol/chatstates'/><body>kept</body></message>`);
  await alice.settle();
  await server.settle();
  const back = alice.received();
  const byId = new Map(back.map((e) => [e.attrs.id, e]));
  assert.is(errorOf(byId.get('h')!), 'service-unavailable', 'headline bounced by the session manager');
  assert.is(byId.get('e'), undefined, 'an error is never answered');
  assert.is(byId.get('g'), undefined, 'groupchat to an offline user is dropped');
  assert.is(errorOf(byId.get('ns')!), 'service-unavailable', 'no-store: not stored → bounced');
  assert.is(errorOf(byId.get('cs')!), 'service-unavailable', 'chat-state-only: not stored');
  assert.is(byId.get('cs2'), undefined, 'forced by <store/>');
  assert.is(byId.get('body'), undefined);
  const bob = await online(server, 'bob@localhost/pc', 'b');
  assert.equal(messages(bob).map((e) => e.attrs.id), ['cs2', 'body']);
});

test('per-user limit: when full the sender gets service-unavailable and nothing more is stored', async () => {
  const { server, alice } = await setup({ maxMessagesPerUser: 3 });
  const carol = await online(server, 'carol@localhost/x', 'c');
  for (let i = 1; i <= 3; i++) alice.send(`<message to='bob@localhost' type='chat' id='a${i}'><body>${i}</body></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='a4'><body>4</body></message>`);
  carol.send(`<message to='bob@localhost' type='chat' id='c1'><body>from carol</body></message>`);
  await alice.settle();
  await server.settle();
  assert.is(await count(server, 'bob'), 3);
  const err = alice.expect((e) => e.attrs.id === 'a4', 'error for the 4th');
  assert.is(err.attrs.type, 'error');
  assert.is(errorOf(err), 'service-unavailable');
  assert.is(err.attrs.from, 'bob@localhost');
  assert.is(errorOf(carol.expect((e) => e.attrs.id === 'c1')), 'service-unavailable', 'the limit is per recipient, whoever sends');
  assert.equal(alice.received(), [], 'exactly one error');
  const bob = await online(server, 'bob@localhost/pc', 'b');
  assert.equal(bodies(bob), ['1', '2', '3']);
});

test('online users get messages directly; negative priority stores bare-JID messages until priority ≥ 0 (resendOfflineMessages)', async () => {
  const { server, alice } = await setup();
  const bob = await online(server, 'bob@localhost/pc', 'b', '<presence><priority>-1</priority></presence>');
  alice.send(`<message to='bob@localhost' type='chat' id='n1'><body>to bare</body></message>`);
  alice.send(`<message to='bob@localhost/pc' type='chat' id='n2'><body>to full</body></message>`);
  await alice.settle();
  await server.settle();
  assert.equal(messages(bob).map((e) => e.attrs.id), ['n2'], 'full JID delivered despite negative priority; bare stored');
  assert.is(await count(server, 'bob'), 1);
  bob.send('<presence><priority>5</priority></presence>');
  await bob.settle();
  await server.settle();
  const got = messages(bob);
  assert.equal(got.map((e) => e.attrs.id), ['n1']);
  assert.ok(got[0]!.getChild('delay', NS.DELAY));
  alice.send(`<message to='bob@localhost' type='chat' id='n3'><body>live</body></message>`);
  await alice.settle();
  const live = messages(bob);
  assert.equal(live.map((e) => e.attrs.id), ['n3']);
  assert.is(live[0]!.getChild('delay', NS.DELAY), undefined, 'live messages have no delay');
});

test('three users, several resources: delivered to the resource that became available', async () => {
  const { server, alice } = await setup();
  const carol = await online(server, 'carol@localhost/a', 'c');
  alice.send(`<message to='bob@localhost' type='chat' id='x1'><body>from alice</body></message>`);
  carol.send(`<message to='bob@localhost' type='chat' id='x2'><body>from carol</body></message>`);
  await server.settle();
  // bob binds two resources; only the one sending initial presence ≥ 0 gets them, once.
  const pc = server.connect();
  await pc.login('bob@localhost/pc', 'b');
  const phone = await online(server, 'bob@localhost/phone', 'b');
  const got = messages(phone);
  assert.equal(got.map((e) => `${e.attrs.from}:${e.attrs.id}`), ['alice@localhost/phone:x1', 'carol@localhost/a:x2']);
  assert.equal(messages(pc), []);
  pc.send('<presence/>');
  await pc.settle();
  await server.settle();
  assert.equal(messages(pc), [], 'already popped');
  assert.equal(messages(phone), []);
});

test('privacy hook point: a handler on offlineMessage below priority 50 that stops prevents storage', async () => {
  const blocker = defineModule({
    name: 'blockerStub',
    defaults: {},
    hooks: (_ht, _o, env) => [
      hook(offlineMessage, (acc, p) => {
        if (p.from.toBareString() !== 'carol@localhost') return;
        env.router.route(errorAcc(acc, new StanzaError('service-unavailable')));
        return stop(acc);
      }, 40),
    ],
  });
  const server = await createTestServer({ users: USERS, modules: [offline, presenceStub, blocker], sessionManager: { availableOnBind: false } });
  const carol = await online(server, 'carol@localhost/a', 'c');
  const alice = await online(server, 'alice@localhost/a', 'a');
  carol.send(`<message to='bob@localhost' type='chat' id='blocked'><body>x</body></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='ok'><body>y</body></message>`);
  await server.settle();
  assert.is(errorOf(carol.expect((e) => e.attrs.id === 'blocked')), 'service-unavailable');
  assert.equal(carol.received(), [], 'one error, not two');
  assert.is(await count(server, 'bob'), 1);
});

test('expired messages (XEP-0023 jabber:x:expire) are not delivered', async () => {
  const { server, alice } = await setup();
  alice.send(`<message to='bob@localhost' type='chat' id='exp'><body>soon gone</body><x xmlns='jabber:x:expire' seconds='10'/></message>`);
  alice.send(`<message to='bob@localhost' type='chat' id='keep'><body>stays</body></message>`);
  await server.settle();
  server.clock.advance(11_000);
  const bob = await online(server, 'bob@localhost/pc', 'b');
  assert.equal(messages(bob).map((e) => e.attrs.id), ['keep']);
});

test('removeUser / removeDomain hooks delete stored messages', async () => {
  const { server, alice } = await setup();
  alice.send(`<message to='bob@localhost' type='chat'><body>1</body></message>`);
  alice.send(`<message to='carol@localhost' type='chat'><body>2</body></message>`);
  await server.settle();
  assert.is(await count(server, 'bob'), 1);
  const r1 = await server.hooks.runAsync(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('bob@localhost') });
  assert.equal(r1.acc.failed, []);
  assert.is(await count(server, 'bob'), 0);
  assert.is(await count(server, 'carol'), 1);
  const r2 = await server.hooks.runAsync(removeDomain, 'localhost', { failed: [] }, { domain: 'localhost' });
  assert.equal(r2.acc.failed, []);
  assert.is(await count(server, 'carol'), 0);
});

test('a message to a user that does not exist is bounced, not stored', async () => {
  const { server, alice } = await setup();
  alice.send(`<message to='nobody@localhost' type='chat' id='nb'><body>?</body></message>`);
  await server.settle();
  assert.is(errorOf(alice.expect((e) => e.attrs.id === 'nb')), 'service-unavailable');
  assert.is(await server.storage.offline.count('localhost', 'localhost', 'nobody'), 0);
});

test.run();
