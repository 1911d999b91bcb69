// Interop: Debian's python3-slixmpp 1.8 with its xep_0198 plugin (run with /usr/bin/python3)
// over plain TCP on loopback: stream management enabled with resumption, the server's <r/>
// answered, the client's own <r/> answered (stanza_acked), then the TCP connection aborted
// by the client, the session resumed and the message queued meanwhile delivered once.
// Skipped with a message when python3-slixmpp is not installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { streamManagement, smSlot } from '../../src/ext/stream-management/index.ts';
import type { C2sContext } from '../../src/c2s/context.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp } from '../helpers/slixmpp.ts';
import { RawXmppClient } from '../helpers/raw-client.ts';
import { startTestServer, trackConnections, type TestServer } from '../helpers/test-server.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

interface SlixReport {
  event: string;
  jid?: string;
  id?: string;
  resume?: boolean;
  h?: number;
  from?: string;
  body?: string;
}

if (await haveSlixmpp('sm-slixmpp.test.ts', 'slixmpp stream management interop')) {
  let ts: TestServer | undefined;
  let conns: Map<string, C2sContext>;

  test.before(async () => {
    ts = await startTestServer({
      listeners: [{ kind: 'tcp', tls: 'none' }],
      users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' },
      modules: [{ module: streamManagement, options: { resumeTimeout: 30_000 } }],
    });
    conns = trackConnections(ts.server);
  });

  test.after(async () => {
    await ts?.stop();
  });

  test('slixmpp xep_0198: enable with resume, acks both ways, abort the TCP connection, resume; queued message once', async () => {
    const { host, port } = ts!.address(0);
    const bob = await RawXmppClient.connect({ host, port });
    let alice: ChildHandle | undefined;
    try {
      await bob.login({ user: 'bob', password: 'bob-secret', resource: 'raw' });
      alice = startSlixmpp('sm_slixmpp_client.py', ['--jid', 'alice@localhost/slix', '--password', 'alice-secret', '--host', host, '--port', String(port), '--timeout', '20'], 25_000);
      const enabled = await alice.waitForJson<SlixReport>((r) => r.event === 'sm_enabled', 10_000, 'sm_enabled');
      assert.ok(enabled.id && enabled.id.length > 20, 'an SM id');
      assert.is(enabled.resume, true);
      const ctx = () => conns.get('alice@localhost/slix')!;
      await waitFor(() => ctx(), { what: 'server context' });

      // Server → slixmpp: three messages, each followed by <r/>; slixmpp's <a/> empties the buffer.
      for (const n of [1, 2, 3]) bob.send(`<message to='alice@localhost/slix' type='chat' id='b${n}'><body>m${n}</body></message>`);
      await alice.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'b3', 5000, 'three messages');
      const first = ctx();
      await waitFor(() => first.getModState(smSlot)?.buffer.length === 0 && first.getModState(smSlot)?.counterOut === 3, {
        what: () => `server buffer acked: ${JSON.stringify({ out: first.getModState(smSlot)?.counterOut, buf: first.getModState(smSlot)?.buffer.length })}`,
      });

      // slixmpp → server: a message, then its own <r/>; the server's <a h/> acks it.
      // (slixmpp writes <r/> raw, ahead of its stanza send queue: ask once the message is out.)
      alice.writeLine(JSON.stringify({ cmd: 'send', to: 'bob@localhost/raw', body: 'from slixmpp', id: 's1' }));
      await bob.waitForElement((el) => el.is('message') && el.attr('id') === 's1', 5000, "slixmpp's message");
      alice.writeLine(JSON.stringify({ cmd: 'request_ack' }));
      await alice.waitForJson<SlixReport>((r) => r.event === 'stanza_acked' && r.id === 's1', 5000, 'stanza_acked s1');

      // Abort the TCP connection; the server keeps the session dormant; slixmpp reconnects and resumes.
      alice.writeLine(JSON.stringify({ cmd: 'drop' }));
      await waitFor(() => first.state === 'external.resumable', { what: 'server: dormant' });
      bob.send(`<message to='alice@localhost/slix' type='chat' id='b4'><body>while away</body></message>`);
      await alice.waitForJson<SlixReport>((r) => r.event === 'session_resumed', 10_000, 'session_resumed');
      await alice.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'b4', 5000, 'queued message');
      await sleep(300);
      const got = alice.jsonLines<SlixReport>().filter((r) => r.event === 'message').map((r) => r.id);
      assert.equal(got, ['b1', 'b2', 'b3', 'b4'], 'each message exactly once');
      assert.is(first.state, 'closed');
      assert.is(ctx().state, 'established');
      assert.ok(ctx() !== first);
      alice.writeLine(JSON.stringify({ cmd: 'quit' }));
      assert.is((await alice.exited).code, 0, `slixmpp exit; stderr:\n${alice.stderr}`);
    } finally {
      await alice?.stop();
      await bob.close();
    }
  });
}

test.run();
