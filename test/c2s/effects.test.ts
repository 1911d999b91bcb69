// applyEffects: one fixed order (reference §3.1, §10.2), hardStop alone; modules as values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyEffects, defineModSlot, Effects, type EffectsTarget } from '../../src/c2s/effects.ts';
import { createServer } from '../../src/server.ts';
import { defineModule, externalStatesOf, hook, startModule } from '../../src/c2s/module.ts';
import { userSendMessage } from '../../src/c2s/hooks.ts';
import { HookRegistry } from '../../src/hooks/index.ts';
import { xml } from '../../src/core/xml/element.ts';
import { createTestServer } from '../../src/testing/index.ts';
import type { Acc } from '../../src/core/acc.ts';

function recorder(): { log: string[]; target: EffectsTarget } {
  const log: string[] = [];
  const target: EffectsTarget = {
    hardStop: (r) => void log.push(`hardStop:${r}`),
    gotoState: (s) => void log.push(`state:${s}`),
    setModState: (slot, v) => void log.push(`mod:${slot.name}=${v}`),
    setInfo: (info) => void log.push(`info:${[...info.keys()].join(',')}`),
    writeElement: (el) => void log.push(`write:${el.name}`),
    setTimer: (n, ms) => void log.push(`timer:${n}:${ms}`),
    cancelTimer: (n) => void log.push(`cancel:${n}`),
    reply: (ref, v) => void log.push(`reply:${ref.id}:${v}`),
    enqueueInternal: (ev) => void log.push(`queue:${ev.kind}`),
  };
  return { log, target };
}

const slot = defineModSlot<number>('counter');
const fakeAcc = {} as Acc;

test('applyEffects applies in the documented order, whatever the insertion order', () => {
  const { log, target } = recorder();
  const ef = new Effects()
    .stop('bye')
    .route(fakeAcc)
    .socketSend(xml('a'))
    .reply({ id: 7 }, 'ok')
    .setTimeout('t', 10, () => undefined)
    .cancelTimeout('u')
    .socketSendFirst(xml('first'))
    .setInfo('k', 1)
    .setModState(slot, 3)
    .flush(fakeAcc)
    .socketSend(xml('b'))
    .nextState('external.x');
  applyEffects(target, ef);
  assert.equal(log, [
    'state:external.x',
    'mod:counter=3',
    'info:k',
    'write:first',
    'write:a',
    'write:b',
    'timer:t:10',
    'cancel:u',
    'reply:7:ok',
    'queue:stop',
    'queue:route',
    'queue:flush',
  ]);
});

test('hardStop is applied alone: queued writes and everything else are dropped', () => {
  const { log, target } = recorder();
  applyEffects(target, new Effects().socketSend(xml('a')).nextState('established').hardStop('now').route(fakeAcc));
  assert.equal(log, ['hardStop:now']);
});

test('an empty Effects is empty and applies nothing', () => {
  const { log, target } = recorder();
  const ef = new Effects();
  assert.ok(ef.isEmpty);
  applyEffects(target, ef);
  assert.equal(log, []);
  assert.not.ok(ef.socketSend(xml('x')).isEmpty);
});

test('defineModule/startModule: hooks registered per host type as one batch, removed together', () => {
  const server = createServer({ domains: ['ht1', 'ht2'] });
  const hooks = server.hooks;
  const m = defineModule({
    name: 'counter',
    defaults: { step: 1 },
    externalStates: [{ name: 'parked', socketless: true }],
    hooks: (_ht, opts) => [hook(userSendMessage, (ef) => void ef.setModState(slot, opts.step)), hook(userSendMessage, () => undefined, 90)],
  });
  const off = startModule(server.moduleHost, m, 'ht1', { step: 5 });
  assert.is(hooks.count(userSendMessage, 'ht1'), 2);
  assert.is(hooks.count(userSendMessage, 'ht2'), 0, 'a disabled host type runs no code');
  off();
  assert.is(hooks.count(userSendMessage, 'ht1'), 0);
  assert.equal(externalStatesOf([m]), [{ name: 'parked', socketless: true }]);
  const clash = defineModule({ name: 'other', defaults: {}, externalStates: [{ name: 'parked' }] });
  assert.throws(() => externalStatesOf([m, clash]), /both/);
  assert.throws(() => defineModule({ name: 'bad name', defaults: {} }), /identifier/);
});

test('the machine is inspectable: the listener inspect option reaches every actor', async () => {
  const seen = new Set<string>();
  let events = 0;
  const server = await createTestServer({
    users: { 'alice@localhost': 'a' },
    listener: {
      inspect: (ev) => {
        if (ev.type !== '@xstate.event') return;
        events++;
        seen.add((ev.event as { type: string }).type);
      },
    },
  });
  const c = server.connect();
  await c.login('alice@localhost/r', 'a');
  for (const t of ['CONNECT', 'STREAM_OK', 'SASL_SUCCESS', 'SESSION_OPENED']) assert.ok(seen.has(t), t);
  const before = events;
  for (let i = 0; i < 10; i++) c.send(`<message to='alice@localhost'><body>no machine event per stanza</body></message>`);
  await c.settle();
  assert.is(events, before, 'stanzas in established send the machine nothing');
});

test.run();
