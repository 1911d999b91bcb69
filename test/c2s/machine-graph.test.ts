// Walks every state and every transition of the c2s machine with @xstate/graph: the events
// are read from the machine itself, so a transition added later without being reachable
// fails this test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import type { StateValue } from 'xstate';
import { buildC2sMachine, stateNameOf, type C2sMachine, type C2sMachineEvent } from '../../src/c2s/machine.ts';

interface NodeLike {
  id: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, { target?: readonly { id: string }[] | undefined; guard?: unknown }[]>;
}

function allNodes(n: NodeLike, out: NodeLike[] = []): NodeLike[] {
  out.push(n);
  for (const c of Object.values(n.states)) allNodes(c, out);
  return out;
}

function activeIds(value: StateValue, prefix = 'c2s'): string[] {
  if (typeof value === 'string') return [prefix, `${prefix}.${value}`];
  const out = [prefix];
  for (const [k, v] of Object.entries(value)) out.push(...activeIds(v as StateValue, `${prefix}.${k}`));
  return out;
}

function walk(machine: C2sMachine, input: { legacySession: boolean }) {
  const nodes = allNodes(machine.root as unknown as NodeLike);
  const eventTypes = [...new Set(nodes.flatMap((n) => [...n.transitions.keys()]))];
  const events = eventTypes.map((type) => (type === 'CLOSE' ? { type, reason: 'test' } : { type })) as C2sMachineEvent[];
  const adj = getAdjacencyMap(machine, { events, input: { authRetries: 1, bindRetries: 1, ...input } });
  return { nodes, eventTypes, edges: adjacencyMapToArray(adj) };
}

test('every state and every transition is reachable (both session modes, both kinds of external state)', () => {
  const machine = buildC2sMachine([
    { name: 'resumable', socketless: true },
    { name: 'sasl2', preSession: true },
  ]);
  const runs = [walk(machine, { legacySession: false }), walk(machine, { legacySession: true })];
  const nodes = runs[0]!.nodes;

  const reached = new Set<string>();
  for (const { edges } of runs) for (const e of edges) for (const id of [...activeIds(e.state.value), ...activeIds(e.nextState.value)]) reached.add(id);
  for (const n of nodes) assert.ok(reached.has(n.id), `state ${n.id} reached`);

  const missing: string[] = [];
  let total = 0;
  for (const n of nodes) {
    for (const [type, defs] of n.transitions) {
      for (const def of defs) {
        total++;
        const targets = def.target?.map((t) => t.id) ?? [];
        const covered = runs.some(({ edges }) =>
          edges.some((e) => {
            if (e.event.type !== type || !activeIds(e.state.value).includes(n.id)) return false;
            if (targets.length === 0) return JSON.stringify(e.state.value) === JSON.stringify(e.nextState.value);
            const next = activeIds(e.nextState.value);
            return targets.every((t) => next.includes(t));
          }),
        );
        if (!covered) missing.push(`${n.id} --${type}--> ${targets.join(',') || '(self)'}`);
      }
    }
  }
  assert.equal(missing, [], `uncovered transitions of ${total}`);
  assert.ok(total >= 20, `the machine has ${total} transitions`);
});

test('shortest paths: established is 5 lifecycle events away; the state timeout closes from negotiation only', () => {
  const machine = buildC2sMachine();
  const events: C2sMachineEvent[] = ['CONNECT', 'STREAM_OK', 'TLS_STARTED', 'SASL_CHALLENGE', 'SASL_SUCCESS', 'SASL_FAILURE', 'BIND_FAILURE', 'SESSION_OPENED'].map(
    (type) => ({ type }) as C2sMachineEvent,
  );
  const paths = getShortestPaths(machine, { events, input: {}, toState: (s) => stateNameOf(s.value) === 'established' });
  // One path per distinct context (retries left…) in `established`; the shortest is the happy path.
  const shortest = paths.reduce((a, b) => (b.steps.length < a.steps.length ? b : a));
  assert.equal(shortest.steps.map((s) => s.event.type).slice(1), ['CONNECT', 'STREAM_OK', 'SASL_SUCCESS', 'STREAM_OK', 'SESSION_OPENED']);
  const timeoutEvent = [...(machine.root.states.preSession!.transitions.keys() as Iterable<string>)].find((k) => k.startsWith('xstate.after'))!;
  assert.ok(timeoutEvent, 'preSession has an after transition');
  assert.not.ok(machine.root.states.established!.transitions.has(timeoutEvent));
});

test('external state names are validated and unique', () => {
  assert.throws(() => buildC2sMachine([{ name: 'a.b' }]), /identifier/);
  assert.throws(() => buildC2sMachine([{ name: 'x' }, { name: 'x', preSession: true }]), /twice/);
  assert.is(stateNameOf({ preSession: { external: 'sasl2' } }), 'external.sasl2');
  assert.is(stateNameOf({ external: 'resumable' }), 'external.resumable');
});

test.run();
