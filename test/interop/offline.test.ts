// Interop with Debian's python3-slixmpp 1.8 (run with /usr/bin/python3): XEP-0160 offline
// delivery on login. bob is offline; alice (raw client) sends him two messages, which are
// stored; bob logs in with slixmpp, sends initial presence, and gets both with a XEP-0203
// delay stamp from the server domain; a message sent while he is online arrives without one.
// Needs the presence module (src/ext/presence: initial presence → userAvailable).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { offline } from '../../src/ext/offline/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, useStartTlsServer } from '../helpers/slixmpp.ts';
import { RawXmppClient } from '../helpers/raw-client.ts';
import { sleep } from '../helpers/wait.ts';

interface SlixReport {
  event: string;
  jid?: string;
  from?: string;
  type?: string;
  id?: string;
  body?: string;
  delay_from?: string | null;
  delay_stamp?: string | null;
}

if (await haveSlixmpp('offline.test.ts', 'slixmpp offline delivery')) {
  const started = useStartTlsServer({ users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' }, modules: [presence, offline] }, 'slixmpp-offline-');

  test('messages to offline bob are delivered when he logs in with slixmpp, with a delay stamp', async () => {
    const { ts, caFile } = started();
    const { server } = ts;
    const { host, port } = ts.address(0);
    const cert = ts.certificate.cert;
    const alice = await RawXmppClient.connect({ host, port });
    let bob: ChildHandle | undefined;
    try {
      await alice.login({ user: 'alice', password: 'alice-secret', resource: 'raw', starttls: { ca: cert } });
      alice.send(`<presence/>`);
      const before = Date.now();
      alice.send(`<message to='bob@localhost' type='chat' id='off1'><body>first while you were away</body></message>`);
      alice.send(`<message to='bob@localhost' type='chat' id='off2'><body>second while you were away</body></message>`);
      const deadline = Date.now() + 5000;
      while ((await server.storage.offline.count('localhost', 'localhost', 'bob')) < 2 && Date.now() < deadline) await sleep(20);
      assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 2, 'both stored');

      bob = startSlixmpp('slixmpp_offline.py', ['--jid', 'bob@localhost/slix', '--password', 'bob-secret', '--host', host, '--port', String(port), '--cafile', caFile, '--timeout', '15'], 18_000);
      const started = await bob.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'slixmpp session_start');
      assert.is(started.jid, 'bob@localhost/slix');
      const m1 = await bob.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'off1', 5000, 'first offline message');
      const m2 = await bob.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'off2', 5000, 'second offline message');
      for (const m of [m1, m2]) {
        assert.is(m.from, 'alice@localhost/raw');
        assert.is(m.type, 'chat');
        assert.is(m.delay_from, 'localhost', 'XEP-0203 delay from the server domain');
        assert.ok(m.delay_stamp, 'XEP-0203 stamp');
        const stamp = Date.parse(m.delay_stamp!);
        assert.ok(stamp >= Math.floor(before / 1000) * 1000 - 1000 && stamp <= Date.now(), `stamp ${m.delay_stamp} is when it was stored`);
      }
      assert.is(m1.body, 'first while you were away');
      assert.is(await server.storage.offline.count('localhost', 'localhost', 'bob'), 0, 'popped');

      // Now online: a live message, no delay.
      alice.send(`<message to='bob@localhost' type='chat' id='live'><body>welcome back</body></message>`);
      const live = await bob.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'live', 5000, 'live message');
      assert.is(live.delay_stamp, null);
      assert.is(bob.jsonLines<SlixReport>().filter((r) => r.event === 'message').length, 3, 'each message exactly once');
      bob.writeLine(JSON.stringify({ cmd: 'quit' }));
      await bob.waitForJson<SlixReport>((r) => r.event === 'exit', 5000, 'slixmpp exit');
    } finally {
      await bob?.stop();
      await alice.close().catch(() => alice.destroy());
    }
  });
}

test.run();
