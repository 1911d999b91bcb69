// Every module of issue 6 can be disabled per host type, and a disabled module runs no code:
// two host types, the modules enabled on `a` only. Each module is wrapped so that every hook
// handler, IQ handler and start() it registers counts its calls per host type; the same
// traffic on both domains makes them run on `a` and never on `b`, where the IQs get
// service-unavailable, messages to offline users are bounced, and no ping timer is armed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient } from '../../src/testing/index.ts';
import { defineModule, type ModuleEnv, type XmppModule } from '../../src/c2s/module.ts';
import { offline } from '../../src/ext/offline/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { version } from '../../src/ext/version/index.ts';
import { last } from '../../src/ext/last/index.ts';
import { time } from '../../src/ext/time/index.ts';
import { ping } from '../../src/ext/ping/index.ts';
import { vcard } from '../../src/ext/vcard/index.ts';
import { privateStorage } from '../../src/ext/private/index.ts';
import { c2sHooks } from '../../src/c2s/hooks.ts';
import * as serverHooks from '../../src/core/server-hooks.ts';
import { resendOfflineMessages } from '../../src/core/hooks/offline.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

/** calls[`${hostType} ${module} ${what}`] */
const calls = new Map<string, number>();
const bump = (k: string) => calls.set(k, (calls.get(k) ?? 0) + 1);
const callsOn = (hostType: string) => [...calls].filter(([k]) => k.startsWith(hostType + ' '));

/** The same module with every registration wrapped in a call counter. */
function counted<O extends object>(m: XmppModule<O>): XmppModule<O> {
  return defineModule<O>({
    ...m,
    hooks: m.hooks && ((ht: string, opts: O, env: ModuleEnv) => {
      bump(`${ht} ${m.name} hooks()`);
      return m.hooks!(ht, opts, env).map((h) => ({
        ...h,
        handler: (...args: Parameters<typeof h.handler>) => {
          bump(`${ht} ${m.name} hook:${h.spec.name}`);
          return h.handler(...args);
        },
      }));
    }),
    iqHandlers: m.iqHandlers && ((ht: string, opts: O, env: ModuleEnv) => {
      bump(`${ht} ${m.name} iqHandlers()`);
      return m.iqHandlers!(ht, opts, env).map((q) => ({
        ...q,
        handler: (...args: Parameters<typeof q.handler>) => {
          bump(`${ht} ${m.name} iq:${q.key.ns}`);
          return q.handler(...args);
        },
      }));
    }),
    start: (env: ModuleEnv, opts: O) => {
      bump(`${env.hostType} ${m.name} start()`);
      return m.start?.(env, opts);
    },
  });
}

const MODULES = [
  counted(offline),
  counted(disco),
  counted(version),
  counted(last),
  counted(time),
  { module: counted(ping), options: { sendPings: true, pingInterval: 10_000 } },
  counted(vcard),
  counted(privateStorage),
];

const errorOf = (e: XmlElement) => e.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;

async function iq(c: TestClient, to: string | undefined, type: string, payload: string): Promise<XmlElement> {
  const id = `q${Math.random().toString(36).slice(2)}`;
  c.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}>${payload}</iq>`);
  await c.settle();
  return c.expect((e) => e.attrs.id === id, `answer to ${payload}`);
}

const IQS: readonly [string, 'server' | 'self' | 'peer', string, string][] = [
  ['ping server', 'server', 'get', `<ping xmlns='urn:xmpp:ping'/>`],
  ['ping bare', 'peer', 'get', `<ping xmlns='urn:xmpp:ping'/>`],
  ['disco#info', 'server', 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`],
  ['disco#items', 'server', 'get', `<query xmlns='http://jabber.org/protocol/disco#items'/>`],
  ['user disco', 'self', 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`],
  ['version', 'server', 'get', `<query xmlns='jabber:iq:version'/>`],
  ['time', 'server', 'get', `<time xmlns='urn:xmpp:time'/>`],
  ['uptime', 'server', 'get', `<query xmlns='jabber:iq:last'/>`],
  ['last', 'self', 'get', `<query xmlns='jabber:iq:last'/>`],
  ['vcard set', 'self', 'set', `<vCard xmlns='vcard-temp'><FN>x</FN></vCard>`],
  ['vcard get', 'peer', 'get', `<vCard xmlns='vcard-temp'/>`],
  ['private set', 'self', 'set', `<query xmlns='jabber:iq:private'><p xmlns='urn:p'/></query>`],
  ['private get', 'self', 'get', `<query xmlns='jabber:iq:private'><p xmlns='urn:p'/></query>`],
];

test('modules enabled on host type a only: they run on a, and run no code on b', async () => {
  calls.clear();
  const server = await createTestServer({
    users: { 'alice@a.test': 'a', 'bob@a.test': 'b', 'carol@b.test': 'c', 'dave@b.test': 'd' },
    domains: { 'a.test': 'a', 'b.test': 'b' },
    hostTypes: { a: { modules: MODULES }, b: { modules: [] } },
  });
  const startedOnA = callsOn('a').length;
  assert.ok(startedOnA >= 8, 'every module started on a');
  assert.equal(callsOn('b'), [], 'nothing started on b');

  // Nothing of ours is registered for host type b, on any hook we know of.
  for (const spec of [...Object.values(c2sHooks), ...Object.values(serverHooks).filter((v) => typeof v === 'object' && v !== null && 'name' in v), resendOfflineMessages]) {
    assert.is(server.hooks.count(spec as never, 'b'), 0, `no ${(spec as { name: string }).name} handler on b`);
  }

  for (const [domain, me, peer, pw] of [['a.test', 'alice', 'bob', 'a'], ['b.test', 'carol', 'dave', 'c']] as const) {
    const c = server.connect();
    await c.login(`${me}@${domain}/r`, pw);
    const answers: Record<string, string> = {};
    for (const [name, target, type, payload] of IQS) {
      const to = target === 'server' ? domain : target === 'peer' ? `${peer}@${domain}` : undefined;
      const r = await iq(c, to, type, payload);
      answers[name] = r.attrs.type === 'result' ? 'result' : `error:${errorOf(r)}`;
    }
    // A message to the offline peer: stored on a, bounced on b.
    c.send(`<message to='${peer}@${domain}' type='chat' id='off'><body>later</body></message>`);
    await c.settle();
    await server.settle();
    const bounced = c.nextElement((e) => e.attrs.id === 'off');
    const stored = await server.storage.offline.count(domain === 'a.test' ? 'a' : 'b', domain, peer);
    // Idle for longer than the ping interval.
    server.clock.advance(10_000);
    await c.settle();
    const pinged = c.nextElement((e) => e.name === 'iq' && e.getChild('ping', 'urn:xmpp:ping') !== undefined);
    c.send(`<presence type='unavailable'/>`);
    c.send('</stream:stream>');
    await c.settle();
    await server.settle();
    const lastRec = await server.storage.last.get(domain === 'a.test' ? 'a' : 'b', domain, me);

    if (domain === 'a.test') {
      // The peer has no vCard: item-not-found comes from the vcard module itself.
      for (const [name, a] of Object.entries(answers)) assert.is(a, name === 'vcard get' ? 'error:item-not-found' : 'result', `${name} answered on a`);
      assert.is(bounced, undefined, 'stored, not bounced, on a');
      assert.is(stored, 1);
      assert.ok(pinged, 'server ping on a');
      assert.ok(lastRec, 'last activity recorded on a');
    } else {
      for (const [name, a] of Object.entries(answers)) assert.is(a, 'error:service-unavailable', `${name} on b`);
      assert.is(errorOf(bounced!), 'service-unavailable', 'bounced by the session manager on b');
      assert.is(stored, 0);
      assert.is(pinged, undefined, 'no server ping on b');
      assert.is(lastRec, undefined, 'no last activity on b');
    }
  }

  const onA = new Set(callsOn('a').map(([k]) => k.split(' ').slice(1).join(' ')));
  for (const k of ['offline hook:offlineMessage', 'ping hook:userSendPacket', 'ping hook:userOpenSession', 'last hook:userTerminate', 'last hook:userSendPresence', 'disco iq:http://jabber.org/protocol/disco#info', 'vcard iq:vcard-temp', 'private iq:jabber:iq:private', 'version iq:jabber:iq:version', 'time iq:urn:xmpp:time', 'ping iq:urn:xmpp:ping', 'last iq:jabber:iq:last']) {
    assert.ok(onA.has(k), `${k} ran on a`);
  }
  assert.equal(callsOn('b'), [], 'no handler of any module ever ran for host type b');
  assert.equal(server.hookErrors, []);
});

test.run();
