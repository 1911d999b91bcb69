import { test, suite } from 'uvu';
import * as assert from 'uvu/assert';
import { setup, msg, pres, iq, tick, FakeSession } from './routing-fixture.ts';
import { offlineMessage, offlineGroupchatMessage, smFilterOfflineMessage, rosterInSubscription, doesUserExist, smRegisterConnection, smRemoveConnection } from '../../src/core/server-hooks.ts';
import { stop, next } from '../../src/hooks/index.ts';
import { xml } from '../../src/core/xml/element.ts';
import { StanzaError } from '../../src/core/errors.ts';
import type { SessionRow, SessionStore } from '../../src/core/storage/session-store.ts';

const exists = () => true;

// ------------------------------------------------------------ full JID
const full = suite('session manager: to a full JID');

full('session exists: any stanza is delivered, even at negative priority or unavailable', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  const bob = connect('bob@example.com/b', -1);
  const bob2 = connect('bob@example.com/c', null);
  send(msg('alice@example.com/a', 'bob@example.com/b', 'chat'));
  send(iq('alice@example.com/a', 'bob@example.com/c', 'get', xml('query', { xmlns: 'jabber:iq:version' })));
  send(pres('alice@example.com/a', 'bob@example.com/c', 'probe'));
  assert.is(bob.received.length, 1);
  assert.is(bob.received[0]!.element.getChildText('body'), 'hi');
  assert.equal(bob2.received.map((a) => a.name), ['iq', 'presence']);
  assert.is(alice.received.length, 0);
});

full('no session, message: handled as bare (delivered to the available resource)', () => {
  const { connect, send } = setup({ userExists: exists });
  connect('alice@example.com/a');
  const bob = connect('bob@example.com/b');
  send(msg('alice@example.com/a', 'bob@example.com/gone', 'chat'));
  assert.is(bob.received.length, 1);
  assert.is(bob.received[0]!.to.toString(), 'bob@example.com/gone');
});

full('no session, message: smFilterOfflineMessage true drops it', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  const bob = connect('bob@example.com/b');
  hooks.add(smFilterOfflineMessage, 'ht', () => stop(true));
  send(msg('alice@example.com/a', 'bob@example.com/gone', 'chat'));
  assert.is(bob.received.length, 0);
  assert.is(alice.received.length, 0);
});

full('no session, message, user offline: offline fallback bounces service-unavailable', () => {
  const { connect, send } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  send(msg('alice@example.com/a', 'bob@example.com/gone', 'chat'));
  assert.equal(alice.errors(), ['service-unavailable']);
});

full('no session, iq get/set: service-unavailable; result/error dropped', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  connect('bob@example.com/b');
  send(iq('alice@example.com/a', 'bob@example.com/gone', 'get', xml('ping', { xmlns: 'urn:xmpp:ping' })));
  send(iq('alice@example.com/a', 'bob@example.com/gone', 'set', xml('x', { xmlns: 'urn:x' })));
  send(iq('alice@example.com/a', 'bob@example.com/gone', 'result'));
  send(iq('alice@example.com/a', 'bob@example.com/gone', 'error'));
  assert.equal(alice.errors(), ['service-unavailable', 'service-unavailable']);
  assert.is(alice.received[0]!.element.attrs.id, 'q1');
  assert.is(alice.received[0]!.from.toString(), 'bob@example.com/gone');
});

full('no session, presence: dropped', () => {
  const { connect, send } = setup();
  const alice = connect('alice@example.com/a');
  const bob = connect('bob@example.com/b');
  send(pres('alice@example.com/a', 'bob@example.com/gone'));
  send(pres('alice@example.com/a', 'bob@example.com/gone', 'subscribe'));
  assert.is(alice.received.length + bob.received.length, 0);
});

full.run();

// ------------------------------------------------------------ bare JID, message
const bare = suite('session manager: message to a bare JID');

bare('delivered to every session at the highest priority', () => {
  const { connect, send } = setup();
  const b1 = connect('bob@example.com/1', 5);
  const b2 = connect('bob@example.com/2', 5);
  const b3 = connect('bob@example.com/3', 1);
  send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  assert.is(b1.received.length, 1);
  assert.is(b2.received.length, 1);
  assert.is(b3.received.length, 0);
  assert.ok(b1.received[0] !== b2.received[0], 'each recipient has its own acc');
  assert.is(b1.received[0]!.to.toString(), 'bob@example.com');
});

bare('bound session without presence counts as priority 0 (availableOnBind default)', () => {
  const { connect, send, sm } = setup();
  const b = new FakeSession('bob@example.com/1');
  sm.open(b);
  send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  assert.is(b.received.length, 1);
  void connect;
});

bare('availableOnBind: false → bound session without presence gets nothing', () => {
  const { sm, send } = setup({ userExists: exists });
  const b = new FakeSession('bob@example.com/1');
  sm.open(b);
  send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  assert.is(b.received.length, 1, 'default policy');
  const s2 = setup({ userExists: exists, availableOnBind: false });
  const alice = s2.connect('alice@example.com/a');
  const c = new FakeSession('bob@example.com/1');
  s2.sm.open(c);
  s2.send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  assert.is(c.received.length, 0);
  assert.equal(alice.errors(), ['service-unavailable']);
});

bare('negative priority only (RFC 6121 §8.5.2): not delivered; offline path', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const b = connect('bob@example.com/1', -1);
  const stored: string[] = [];
  hooks.add(offlineMessage, 'ht', (acc) => {
    stored.push(acc.element.getChildText('body')!);
    return stop(acc);
  });
  send(msg('alice@example.com/a', 'bob@example.com', 'chat', 'later'));
  assert.is(b.received.length, 0);
  assert.equal(stored, ['later']);
});

bare('negative and non-negative: only the max non-negative gets it', () => {
  const { connect, send } = setup();
  const b1 = connect('bob@example.com/1', -5);
  const b2 = connect('bob@example.com/2', 0);
  send(msg('alice@example.com/a', 'bob@example.com'));
  assert.is(b1.received.length, 0);
  assert.is(b2.received.length, 1);
});

bare('fallback: error message dropped', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  let called = false;
  hooks.add(offlineMessage, 'ht', () => {
    called = true;
  });
  send(msg('alice@example.com/a', 'bob@example.com', 'error'));
  assert.is(alice.received.length, 0);
  assert.not.ok(called);
});

bare('fallback: groupchat → offlineGroupchatMessage, default drop', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  send(msg('room@example.com/nick', 'bob@example.com', 'groupchat'));
  let seen = 0;
  hooks.add(offlineGroupchatMessage, 'ht', () => {
    seen++;
  });
  send(msg('alice@example.com/a', 'bob@example.com', 'groupchat'));
  assert.is(seen, 1);
  assert.is(alice.received.length, 0);
});

bare('fallback: headline → service-unavailable bounce', () => {
  const { connect, send } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  send(msg('alice@example.com/a', 'bob@example.com', 'headline'));
  assert.equal(alice.errors(), ['service-unavailable']);
});

bare('fallback: chat/normal to an existing user → offlineMessage; stop = stored, no bounce', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  const stored: (string | undefined)[] = [];
  hooks.add(offlineMessage, 'ht', (acc, p) => {
    stored.push(acc.type);
    assert.is(p.to.toString(), 'bob@example.com');
    return stop(acc);
  });
  send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  send(msg('alice@example.com/a', 'bob@example.com'));
  send(msg('alice@example.com/a', 'bob@example.com', 'normal'));
  assert.equal(stored, ['chat', undefined, 'normal']);
  assert.is(alice.received.length, 0);
});

bare('fallback: chat to an existing user, nobody stores → bounce service-unavailable', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const alice = connect('alice@example.com/a');
  hooks.add(offlineMessage, 'ht', (acc) => next(acc));
  send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  assert.equal(alice.errors(), ['service-unavailable']);
  assert.is(alice.received[0]!.element.getChild('error')!.getChildText('text'), 'Bounce offline message');
});

bare('fallback: unknown user → service-unavailable "User not found", offline hook not run', () => {
  const { connect, send, hooks } = setup({ userExists: () => false });
  const alice = connect('alice@example.com/a');
  let called = false;
  hooks.add(offlineMessage, 'ht', (acc) => {
    called = true;
    return stop(acc);
  });
  send(msg('alice@example.com/a', 'nobody@example.com', 'chat'));
  assert.equal(alice.errors(), ['service-unavailable']);
  assert.is(alice.received[0]!.element.getChild('error')!.getChildText('text'), 'User not found');
  assert.not.ok(called);
});

bare('fallback: existence from the doesUserExist hook (async) when no check is injected', async () => {
  const { connect, send, hooks } = setup();
  const alice = connect('alice@example.com/a');
  hooks.add(doesUserExist, 'ht', async (acc, p) => stop(p.jid.local === 'bob' ? true : acc));
  const stored: string[] = [];
  hooks.add(offlineMessage, 'ht', (acc) => {
    stored.push(acc.to.toString());
    return stop(acc);
  });
  send(msg('alice@example.com/a', 'bob@example.com', 'chat'));
  send(msg('alice@example.com/a', 'carol@example.com', 'chat'));
  await tick();
  assert.equal(stored, ['bob@example.com']);
  assert.equal(alice.errors(), ['service-unavailable']);
});

bare.run();

// ------------------------------------------------------------ bare JID, presence and iq
const bp = suite('session manager: presence and iq to a bare JID');

bp('subscription presence: rosterInSubscription, then every available resource with `to` rewritten', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const b1 = connect('bob@example.com/1', 1);
  const b2 = connect('bob@example.com/2', -1);
  const b3 = connect('bob@example.com/3', null);
  const seen: string[] = [];
  hooks.add(rosterInSubscription, 'ht', (acc, p) => {
    seen.push(`${p.type} ${p.from} → ${p.to}`);
    return next(acc);
  });
  send(pres('alice@example.com/a', 'bob@example.com', 'subscribe'));
  assert.equal(seen, ['subscribe alice@example.com → bob@example.com']);
  assert.is(b1.received[0]!.element.attrs.to, 'bob@example.com/1');
  assert.is(b1.received[0]!.to.toString(), 'bob@example.com/1');
  assert.is(b2.received[0]!.element.attrs.to, 'bob@example.com/2');
  assert.is(b3.received.length, 0);
});

bp('subscription presence: rosterInSubscription false → not delivered', () => {
  const { connect, send, hooks } = setup({ userExists: exists });
  const b1 = connect('bob@example.com/1');
  hooks.add(rosterInSubscription, 'ht', () => stop(false));
  for (const t of ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']) send(pres('alice@example.com/a', 'bob@example.com', t));
  assert.is(b1.received.length, 0);
});

bp('subscription presence to an unknown user: ignored', () => {
  const { connect, send, hooks } = setup({ userExists: () => false });
  const alice = connect('alice@example.com/a');
  let called = false;
  hooks.add(rosterInSubscription, 'ht', (acc) => {
    called = true;
    return next(acc);
  });
  send(pres('alice@example.com/a', 'nobody@example.com', 'subscribe'));
  assert.not.ok(called);
  assert.is(alice.received.length, 0);
});

bp('other presence: every available resource (negative too), `to` kept bare', () => {
  const { connect, send } = setup();
  const b1 = connect('bob@example.com/1', 1);
  const b2 = connect('bob@example.com/2', -1);
  const b3 = connect('bob@example.com/3', null);
  send(pres('alice@example.com/a', 'bob@example.com'));
  send(pres('alice@example.com/a', 'bob@example.com', 'unavailable'));
  assert.is(b1.received.length, 2);
  assert.is(b2.received.length, 2);
  assert.is(b3.received.length, 0);
  assert.is(b1.received[0]!.element.attrs.to, 'bob@example.com');
});

bp('iq get/set to a bare JID: user handler answers; unhandled → service-unavailable; result/error dropped', () => {
  const { connect, send, iqHandlers } = setup();
  const alice = connect('alice@example.com/a');
  const bob = connect('bob@example.com/b');
  iqHandlers.register({ hostType: 'ht', target: 'user', type: 'get', ns: 'vcard-temp', name: 'vCard' }, (acc) => xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, acc.to.local)));
  send(iq('alice@example.com/a', 'bob@example.com', 'get', xml('vCard', { xmlns: 'vcard-temp' })));
  send(iq('alice@example.com/a', 'bob@example.com', 'set', xml('vCard', { xmlns: 'vcard-temp' })));
  send(iq('alice@example.com/a', 'bob@example.com', 'result'));
  send(iq('alice@example.com/a', 'bob@example.com', 'error'));
  assert.is(bob.received.length, 0);
  assert.is(alice.received.length, 2);
  const r = alice.received[0]!.element;
  assert.is(r.attrs.type, 'result');
  assert.is(r.attrs.from, 'bob@example.com');
  assert.is(r.attrs.to, 'alice@example.com/a');
  assert.is(r.getChild('vCard', 'vcard-temp')!.getChildText('FN'), 'bob');
  assert.equal(alice.errors(), ['service-unavailable']);
});

bp.run();

// ------------------------------------------------------------ open / close / replace
const table = suite('session manager: open, close, replace');

table('same resource: the older session is replaced with conflict', () => {
  const { sm, send } = setup();
  const old = new FakeSession('bob@example.com/r');
  const neu = new FakeSession('bob@example.com/r');
  sm.open(old);
  const res = sm.open(neu);
  assert.equal(res.replaced, [old]);
  assert.equal(old.exits, [{ reason: 'replaced', condition: 'conflict', text: 'Replaced by new connection' }]);
  assert.is(sm.get('bob@example.com/r'), neu);
  assert.is(sm.count(), 1);
  send(msg('alice@example.com/a', 'bob@example.com/r'));
  assert.is(neu.received.length, 1);
  assert.is(old.received.length, 0);
  sm.close(old, 'replaced'); // the replaced connection closing later changes nothing
  assert.is(sm.get('bob@example.com/r'), neu);
  assert.is(sm.count(), 1);
});

table('maxSessionsPerUser: the oldest session is replaced', () => {
  const { sm } = setup({ maxSessionsPerUser: 2 });
  const a = new FakeSession('bob@example.com/1');
  const b = new FakeSession('bob@example.com/2');
  const c = new FakeSession('bob@example.com/3');
  sm.open(a);
  sm.open(b);
  const res = sm.open(c);
  assert.equal(res.replaced, [a]);
  assert.is(a.exits[0]!.condition, 'conflict');
  assert.equal(sm.sessionsOf('bob@example.com'), [b, c]);
});

table('default limit is 100', () => {
  const { sm } = setup();
  const list = Array.from({ length: 101 }, (_, i) => new FakeSession(`bob@example.com/${i}`));
  for (const s of list) sm.open(s);
  assert.is(sm.count(), 100);
  assert.is(list[0]!.exits.length, 1);
  assert.is(list[1]!.exits.length, 0);
});

table('close removes the session; idempotent; hooks run', () => {
  const { sm, hooks } = setup();
  const log: string[] = [];
  hooks.add(smRegisterConnection, 'ht', (acc, p) => {
    log.push('open ' + p.jid);
  });
  hooks.add(smRemoveConnection, 'ht', (acc, p) => {
    log.push(`close ${p.jid} ${p.reason}`);
  });
  const s = new FakeSession('bob@example.com/1');
  sm.open(s);
  sm.setPriority(s, null);
  sm.setPriority(s, 3);
  sm.setPriority(s, 4);
  sm.close(s, 'normal');
  sm.close(s, 'normal');
  assert.equal(log, ['open bob@example.com/1', 'close bob@example.com/1 normal']);
  assert.is(sm.count(), 0);
  assert.equal(sm.sessionsOf('bob@example.com'), []);
  assert.is(sm.get('bob@example.com/1'), undefined);
});

table('presentSessionsOf, setInfo, closeAll', () => {
  const { sm } = setup();
  const a = new FakeSession('bob@example.com/1');
  const b = new FakeSession('bob@example.com/2');
  sm.open(a, { ip: '127.0.0.1' });
  sm.open(b);
  sm.setPriority(b, null);
  sm.setInfo(a, { csi: 'inactive' });
  assert.equal(sm.presentSessionsOf('bob@example.com'), [a]);
  assert.equal(sm.entry(a.sid)!.info, { ip: '127.0.0.1', csi: 'inactive' });
  sm.closeAll('shutdown');
  assert.equal(a.exits, [{ reason: 'shutdown', condition: 'system-shutdown', text: undefined }]);
  assert.is(b.exits.length, 1);
});

table('the session store mirrors the table asynchronously, in order', async () => {
  const rows = new Map<string, SessionRow>();
  const ops: string[] = [];
  const store = {
    async set(row: SessionRow) {
      await tick();
      ops.push(`set ${row.sid} ${row.priority}`);
      rows.set(row.sid, row);
    },
    async delete(sid: string) {
      ops.push(`delete ${sid}`);
      return rows.delete(sid);
    },
  } as unknown as SessionStore;
  const { sm } = setup({ store, node: 'n1' });
  const a = new FakeSession('bob@example.com/1');
  sm.open(a, { ip: '::1' });
  sm.setPriority(a, 7);
  const b = new FakeSession('bob@example.com/2');
  sm.open(b);
  await sm.flushStore();
  assert.equal(rows.get(a.sid), { sid: a.sid, user: 'bob', domain: 'example.com', resource: '1', priority: 7, info: { ip: '::1' }, node: 'n1' });
  sm.close(a, 'normal');
  await sm.flushStore();
  assert.equal([...rows.keys()], [b.sid]);
  assert.equal(ops.filter((o) => o.includes(a.sid)), [`set ${a.sid} 0`, `set ${a.sid} 7`, `delete ${a.sid}`]);
});

table('a failing store does not affect delivery', async () => {
  const store = { set: () => Promise.reject(new Error('down')), delete: () => Promise.reject(new Error('down')) } as unknown as SessionStore;
  const { sm, send } = setup({ store });
  const a = new FakeSession('bob@example.com/1');
  sm.open(a);
  send(msg('alice@example.com/a', 'bob@example.com/1'));
  assert.is(a.received.length, 1);
  sm.close(a, 'x');
  await sm.flushStore();
});

table('a throwing session does not break delivery to the others', () => {
  const { sm, send } = setup();
  const a = new FakeSession('bob@example.com/1');
  a.deliver = () => {
    throw new Error('boom');
  };
  const b = new FakeSession('bob@example.com/2');
  sm.open(a);
  sm.open(b);
  send(msg('alice@example.com/a', 'bob@example.com'));
  assert.is(b.received.length, 1);
  void StanzaError;
});

table.run();
