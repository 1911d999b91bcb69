import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { TokenBucketShaper } from '../../../src/c2s/transports/shaper.ts';
import { XmppListener } from '../../../src/c2s/transports/listener.ts';
import type { TcpTransport } from '../../../src/c2s/transports/tcp.ts';
import { Accepted, FakeClock, HEADER, Recorder } from './helpers.ts';

test('shaper: token bucket, rate = burst, starts full, debt is paid back', () => {
  const clock = new FakeClock();
  const s = new TokenBucketShaper(1000, clock);
  assert.is(s.update(600), 0);
  assert.is(s.update(400), 0);
  assert.is(s.update(500), 500, '500 bytes of debt at 1000 B/s');
  clock.advance(500);
  assert.is(s.update(0), 0);
  clock.advance(10_000);
  assert.is(s.update(1000), 0, 'refill is capped at the burst size');
  assert.is(s.update(1), 1);
  assert.throws(() => new TokenBucketShaper(0, clock));
});

test('shaper: a listener pauses reading for the computed delay (fake clock)', async () => {
  const clock = new FakeClock();
  const accepted = new Accepted();
  const listener = new XmppListener({ port: 0, shaper: { bytesPerSecond: 100 }, clock });
  await listener.start(accepted.push);
  const client = await new Promise<Socket>((r) => {
    const s = connect(listener.address().port, '127.0.0.1', () => r(s));
  });
  const t = (await accepted.next()) as TcpTransport;
  const rec = new Recorder();
  t.attach(rec);
  client.write(HEADER); // > 100 bytes: over budget
  assert.is((await rec.next()).type, 'streamStart');
  assert.ok(clock.pending > 0, 'a resume timer is armed');
  assert.ok(t.readPaused);
  client.write("<message id='later'/>");
  // Reading is paused: the next event can only come after the fake clock is advanced.
  const nextEvent = rec.next();
  let arrived = false;
  void nextEvent.then(() => (arrived = true));
  await new Promise<void>((r) => setImmediate(r));
  assert.not.ok(arrived);
  clock.advance(10_000);
  assert.not.ok(t.readPaused);
  const m = await nextEvent;
  assert.ok(m.type === 'element' && m.element.attrs.id === 'later');
  t.close();
  client.end();
  await rec.nextOf('close');
  await listener.stop();
});

test.run();
