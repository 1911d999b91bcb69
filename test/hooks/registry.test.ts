import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GLOBAL,
  HookRegistry,
  defineHook,
  isPromise,
  next,
  registration,
  stop,
  type HandlerExtra,
  type HookErrorInfo,
  type RunResult,
} from '../../src/hooks/index.ts';

interface Params {
  readonly n: number;
}
const listHook = defineHook<string[], Params>('listHook', 'test fold over a list');
const countHook = defineHook<number, Params>('countHook');

function quiet(): { hooks: HookRegistry; errors: [unknown, HookErrorInfo][] } {
  const errors: [unknown, HookErrorInfo][] = [];
  return { hooks: new HookRegistry({ onError: (e, i) => errors.push([e, i]) }), errors };
}

function syncRun<A>(r: RunResult<A> | Promise<RunResult<A>>): RunResult<A> {
  assert.not.ok(isPromise(r), 'run() returned a Promise on the synchronous path');
  return r as RunResult<A>;
}

const push = (tag: string) => (acc: string[]) => next([...acc, tag]);

test('no handlers: acc back untouched, not stopped, synchronous', () => {
  const { hooks } = quiet();
  const acc = ['x'];
  const r = syncRun(hooks.run(listHook, 'ht', acc, { n: 1 }));
  assert.is(r.acc, acc);
  assert.is(r.stopped, false);
});

test('ascending priority, ties in insertion order', () => {
  const { hooks } = quiet();
  hooks.add(listHook, 'ht', push('c50'), 50);
  hooks.add(listHook, 'ht', push('a10'), 10);
  hooks.add(listHook, 'ht', push('d50'), 50);
  hooks.add(listHook, 'ht', push('e90'), 90);
  hooks.add(listHook, 'ht', push('b10'), 10);
  hooks.add(listHook, 'ht', push('e50'), 50);
  hooks.add(listHook, 'ht', push('f-default')); // DEFAULT_PRIORITY = 50
  hooks.add(listHook, 'ht', push('z-neg'), -1);
  const r = syncRun(hooks.run(listHook, 'ht', [], { n: 0 }));
  assert.equal(r.acc, ['z-neg', 'a10', 'b10', 'c50', 'd50', 'e50', 'f-default', 'e90']);
});

test('per-tag handlers merge with global ones; other tags do not run', () => {
  const { hooks } = quiet();
  hooks.add(listHook, GLOBAL, push('g20'), 20);
  hooks.add(listHook, 'ht1', push('t10'), 10);
  hooks.add(listHook, 'ht1', push('t20'), 20);
  hooks.add(listHook, 'ht2', push('other'), 15);
  hooks.add(listHook, GLOBAL, push('g5'), 5);
  assert.equal(syncRun(hooks.run(listHook, 'ht1', [], { n: 0 })).acc, ['g5', 't10', 'g20', 't20']);
  assert.equal(syncRun(hooks.run(listHook, 'ht3', [], { n: 0 })).acc, ['g5', 'g20']);
  assert.equal(syncRun(hooks.run(listHook, GLOBAL, [], { n: 0 })).acc, ['g5', 'g20']);
  assert.is(hooks.count(listHook, 'ht1'), 4);
  // The merged snapshot is rebuilt when a global handler changes.
  const off = hooks.add(listHook, GLOBAL, push('g15'), 15);
  assert.equal(syncRun(hooks.run(listHook, 'ht1', [], { n: 0 })).acc, ['g5', 't10', 'g15', 'g20', 't20']);
  off();
  assert.equal(syncRun(hooks.run(listHook, 'ht1', [], { n: 0 })).acc, ['g5', 't10', 'g20', 't20']);
});

test('stop ends the fold and is reported', () => {
  const { hooks } = quiet();
  hooks.add(listHook, 'ht', push('a'), 10);
  hooks.add(listHook, 'ht', (acc) => stop([...acc, 'stopper']), 20);
  hooks.add(listHook, 'ht', push('never'), 30);
  const r = syncRun(hooks.run(listHook, 'ht', [], { n: 0 }));
  assert.is(r.stopped, true);
  assert.equal(r.acc, ['a', 'stopper']);
});

test('a handler returning nothing continues with the same (mutable) acc', () => {
  const { hooks } = quiet();
  hooks.add(listHook, 'ht', (acc) => {
    acc.push('mutated');
  });
  hooks.add(listHook, 'ht', push('after'), 60);
  const acc: string[] = [];
  const r = syncRun(hooks.run(listHook, 'ht', acc, { n: 0 }));
  assert.equal(r.acc, ['mutated', 'after']);
  assert.equal(acc, ['mutated']);
});

test('params and extra reach the handler', () => {
  const { hooks } = quiet();
  const seen: [Params, HandlerExtra][] = [];
  hooks.add(countHook, 'ht', (acc, p, extra) => void seen.push([p, extra]), 50, { module: 'mod_x' });
  hooks.add(countHook, GLOBAL, (acc, p, extra) => void seen.push([p, extra]), 60);
  syncRun(hooks.run(countHook, 'ht', 0, { n: 7 }));
  assert.equal(seen[0]![0], { n: 7 });
  assert.is(seen[0]![1].hookName, 'countHook');
  assert.is(seen[0]![1].tag, 'ht');
  assert.is(seen[0]![1].hostType, 'ht');
  assert.is(seen[0]![1].module, 'mod_x');
  assert.is(seen[1]![1].tag, GLOBAL);
  assert.is(seen[1]![1].hostType, undefined);
});

test('a throwing handler is reported and skipped; the fold continues with the previous acc', () => {
  const { hooks, errors } = quiet();
  hooks.add(countHook, 'ht', (acc) => next(acc + 1), 10);
  hooks.add(countHook, 'ht', () => {
    throw new Error('boom');
  }, 20);
  hooks.add(countHook, 'ht', (acc) => next(acc * 10), 30);
  const r = syncRun(hooks.run(countHook, 'ht', 1, { n: 0 }));
  assert.equal(r, { stopped: false, acc: 20 });
  assert.is(errors.length, 1);
  assert.is((errors[0]![0] as Error).message, 'boom');
  assert.is(errors[0]![1].hookName, 'countHook');
  assert.is(errors[0]![1].priority, 20);
  assert.is(errors[0]![1].handlerTag, 'ht');
});

test('the default error reporter writes to stderr and the fold goes on', () => {
  const hooks = new HookRegistry();
  hooks.add(countHook, 'ht', () => {
    throw new Error('default reporter');
  });
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((s: string) => ((out += s), true)) as typeof process.stderr.write;
  try {
    assert.equal(syncRun(hooks.run(countHook, 'ht', 3, { n: 0 })), { stopped: false, acc: 3 });
  } finally {
    process.stderr.write = write;
  }
  assert.match(out, 'default reporter');
  assert.match(out, 'countHook');
});

test('an async handler makes run() async and keeps the order', async () => {
  const { hooks } = quiet();
  const order: string[] = [];
  hooks.add(listHook, 'ht', (acc) => (order.push('sync1'), next([...acc, 'sync1'])), 10);
  hooks.add(listHook, 'ht', async (acc) => (order.push('async'), next([...acc, 'async'])), 20);
  hooks.add(listHook, 'ht', (acc) => (order.push('sync2'), next([...acc, 'sync2'])), 30);
  hooks.add(listHook, 'ht', async (acc) => {
    acc.push('void-async');
  }, 40);
  hooks.add(listHook, 'ht', (acc) => (order.push('sync3'), next([...acc, 'sync3'])), 50);
  const r = hooks.run(listHook, 'ht', [], { n: 0 });
  assert.ok(isPromise(r));
  assert.equal(order, ['sync1', 'async'], 'handlers after the async one wait for it');
  const res = await r;
  assert.equal(res.acc, ['sync1', 'async', 'sync2', 'void-async', 'sync3']);
  assert.is(res.stopped, false);
});

test('async stop and async rejection', async () => {
  const { hooks, errors } = quiet();
  hooks.add(countHook, 'ht', async () => {
    throw new Error('rejected');
  }, 10);
  hooks.add(countHook, 'ht', async (acc) => stop(acc + 5), 20);
  hooks.add(countHook, 'ht', (acc) => next(acc * 100), 30);
  const res = await hooks.run(countHook, 'ht', 1, { n: 0 });
  assert.equal(res, { stopped: true, acc: 6 });
  assert.is(errors.length, 1);
  assert.is((errors[0]![0] as Error).message, 'rejected');
  assert.equal(await hooks.runAsync(countHook, 'none', 2, { n: 0 }), { stopped: false, acc: 2 });
});

test('remover removes exactly its registration, once', () => {
  const { hooks } = quiet();
  const h = push('h');
  const off1 = hooks.add(listHook, 'ht', h, 10);
  hooks.add(listHook, 'ht', h, 10);
  off1();
  off1();
  assert.equal(syncRun(hooks.run(listHook, 'ht', [], { n: 0 })).acc, ['h']);
  assert.ok(hooks.remove(listHook, 'ht', h));
  assert.not.ok(hooks.remove(listHook, 'ht', h));
  assert.is(hooks.count(listHook, 'ht'), 0);
  assert.equal(syncRun(hooks.run(listHook, 'ht', [], { n: 0 })).acc, []);
});

test('remove with a priority only matches that priority', () => {
  const { hooks } = quiet();
  const h = push('h');
  hooks.add(listHook, 'ht', h, 10);
  assert.not.ok(hooks.remove(listHook, 'ht', h, 20));
  assert.ok(hooks.remove(listHook, 'ht', h, 10));
});

test('a run uses the snapshot it started with', () => {
  const { hooks } = quiet();
  hooks.add(listHook, 'ht', (acc) => {
    hooks.add(listHook, 'ht', push('late'), 5);
    return next([...acc, 'first']);
  }, 10);
  hooks.add(listHook, 'ht', push('second'), 20);
  assert.equal(syncRun(hooks.run(listHook, 'ht', [], { n: 0 })).acc, ['first', 'second']);
  assert.equal(syncRun(hooks.run(listHook, 'ht', [], { n: 0 })).acc.slice(0, 2), ['late', 'first']);
});

test('batch registration is removed with one call (module stop per host type)', () => {
  const { hooks } = quiet();
  hooks.add(listHook, 'ht', push('other-module'), 50);
  const offAll = hooks.addAll([
    registration(listHook, 'ht', push('m1'), 10),
    registration(countHook, 'ht', (n) => next(n + 1)),
    registration(listHook, GLOBAL, push('m-global'), 60),
  ]);
  assert.equal(syncRun(hooks.run(listHook, 'ht', [], { n: 0 })).acc, ['m1', 'other-module', 'm-global']);
  assert.is(syncRun(hooks.run(countHook, 'ht', 0, { n: 0 })).acc, 1);
  offAll();
  assert.equal(syncRun(hooks.run(listHook, 'ht', [], { n: 0 })).acc, ['other-module']);
  assert.is(syncRun(hooks.run(countHook, 'ht', 0, { n: 0 })).acc, 0);
});

test('addAll is all-or-nothing', () => {
  const { hooks } = quiet();
  assert.throws(() =>
    hooks.addAll([registration(listHook, 'ht', push('ok')), { spec: listHook, tag: 'ht', handler: 'nope' as never }]),
  );
  assert.is(hooks.count(listHook, 'ht'), 0);
});

test('a group removes everything added through it', () => {
  const { hooks } = quiet();
  const g = hooks.group();
  g.add(listHook, 'ht1', push('a'));
  g.add(listHook, 'ht2', push('b'));
  g.addAll([registration(countHook, 'ht1', (n) => next(n + 1))]);
  hooks.add(listHook, 'ht1', push('keep'));
  assert.is(g.size, 3);
  g.removeAll();
  assert.is(g.size, 0);
  assert.equal(syncRun(hooks.run(listHook, 'ht1', [], { n: 0 })).acc, ['keep']);
  assert.is(hooks.count(listHook, 'ht2'), 0);
  assert.is(hooks.count(countHook, 'ht1'), 0);
});

test('specs are identities: same name, different spec, different handlers', () => {
  const { hooks } = quiet();
  const a = defineHook<number, undefined>('same');
  const b = defineHook<number, undefined>('same');
  hooks.add(a, 'ht', (n) => next(n + 1));
  assert.is(syncRun(hooks.run(b, 'ht', 0, undefined)).acc, 0);
  assert.is(syncRun(hooks.run(a, 'ht', 0, undefined)).acc, 1);
  assert.is(a.name, 'same');
});

test('invalid registrations are rejected', () => {
  const { hooks } = quiet();
  assert.throws(() => hooks.add(countHook, 'ht', (n) => next(n), Number.NaN), /priority/);
});

test('types: a wrong param, acc or return is a compile error', () => {
  const { hooks } = quiet();
  // @ts-expect-error params must be Params
  void hooks.run(countHook, 'ht', 0, { wrong: 1 });
  // @ts-expect-error acc must be a number
  void hooks.run(countHook, 'ht', 'zero', { n: 1 });
  // @ts-expect-error a handler must return a number acc
  hooks.add(countHook, 'ht', () => next('x'));
  // @ts-expect-error a handler cannot expect other params
  hooks.add(countHook, 'ht', (acc: number, p: { other: string }) => next(acc + p.other.length));
  // @ts-expect-error the tag is a string
  hooks.add(countHook, 42, () => undefined);
  // @ts-expect-error registration() checks the handler against the spec
  registration(listHook, 'ht', (n: number) => next(n + 1));
  assert.ok(true);
});

test.run();
