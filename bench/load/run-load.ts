/**
 * The load generator on its own, against a server that is already running (for profiling one
 * server without the whole comparison):
 *
 *   npx tsx bench/load/run-load.ts --port 35222 --pid 1234 [--users 1000] [--register]
 *       [--rate 5000] [--seconds 5] [--window 10] [--domain localhost] [--host 127.0.0.1]
 *
 * Users `user0…` with password `pw-N` must exist (or pass --register for XEP-0077). `--pid` is
 * the server process for RSS and CPU figures (default: this process, which makes them moot).
 */
import { parseArgs } from 'node:util';
import { closeAll, registerUsers, runFixedRate, runLoginRamp, runSaturation, type LoadContext } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    domain: { type: 'string', default: 'localhost' },
    pid: { type: 'string' },
    users: { type: 'string', default: '1000' },
    register: { type: 'boolean', default: false },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '5' },
    window: { type: 'string', default: '10' },
  },
  strict: true,
});
if (values.port === undefined) throw new Error('--port is required');
const users = Number(values.users);
const durationMs = Number(values.seconds) * 1000;
const ctx: LoadContext = {
  endpoint: { host: values.host, port: Number(values.port), domain: values.domain },
  serverPid: values.pid === undefined ? process.pid : Number(values.pid),
  log: (line) => process.stdout.write(`${line}\n`),
};

if (values.register) ctx.log(JSON.stringify(await registerUsers(ctx, users)));
const ramp = await runLoginRamp(ctx, { steps: [users], concurrency: 200, settleMs: 1000 });
ctx.log(JSON.stringify(ramp.figures));
const pairs = ramp.connections.slice(0, ramp.connections.length & ~1);
try {
  ctx.log(JSON.stringify(await runFixedRate(ctx, pairs, { rate: Number(values.rate), durationMs, drainMs: 15_000, tickMs: 5 })));
  ctx.log(JSON.stringify(await runSaturation(ctx, pairs, { durationMs, window: Number(values.window), drainMs: 15_000 })));
} finally {
  await closeAll(ramp.connections);
}
process.exit(0);
