// A small run of bench/sm-soak.ts in the test suite: clients with stream management lose
// their sockets at random and resume; every message is delivered exactly once to its addressee.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSmSoak } from '../../bench/sm-soak.ts';

test('soak (60 clients, 3 000 messages, a third killed and resumed): delivered/sent = 1, no duplicates', async () => {
  const r = await runSmSoak({ clients: 60, messages: 3000, rounds: 30, seed: 7, ackFreq: 3, maxMs: 30_000 });
  assert.is(r.sent, 3000);
  assert.is(r.delivered, 3000);
  assert.is(r.ratio, 1);
  assert.is(r.duplicates, 0);
  assert.is(r.misdelivered, 0);
  assert.is(r.kills, 20);
  assert.is(r.resumes, 20);
  assert.ok(r.resent > 0, 'some messages were re-sent after <resumed/>');
});

test.run();
