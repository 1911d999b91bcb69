// Interop with Debian's python3-slixmpp 1.8 (run with /usr/bin/python3): SCRAM-SHA-256 over
// STARTTLS with the certificate verified, a message each way with a second account, and
// `not-authorized` for a wrong password. `.ci/run` installs python3-slixmpp; on a machine
// without it the file is skipped with a message saying so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, useStartTlsServer } from '../helpers/slixmpp.ts';
import { RawXmppClient } from '../helpers/raw-client.ts';
import { sleep } from '../helpers/wait.ts';

interface SlixReport {
  event: string;
  jid?: string;
  tls?: boolean;
  tls_version?: string | null;
  mechanism?: string | null;
  from?: string;
  type?: string;
  id?: string;
  body?: string;
  condition?: string;
  text?: string;
}

if (await haveSlixmpp('slixmpp.test.ts', 'slixmpp interop')) {
  const server = useStartTlsServer({ users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' } }, 'slixmpp-interop-');

  const slixmpp = (jid: string, password: string, ...extra: string[]): ChildHandle => {
    const { ts, caFile } = server();
    const { host, port } = ts.address(0);
    return startSlixmpp(
      'slixmpp_client.py',
      ['--jid', jid, '--password', password, '--host', host, '--port', String(port), '--cafile', caFile, '--mechanism', 'SCRAM-SHA-256', '--timeout', '15', ...extra],
      18_000,
    );
  };

  test('SCRAM-SHA-256 over STARTTLS: log in, then a message each way with a second account', async () => {
    const { ts } = server();
    const bob = await RawXmppClient.connect(ts.address(0));
    const alice = slixmpp('alice@localhost/slix', 'alice-secret');
    try {
      const bobJid = await bob.login({ user: 'bob', password: 'bob-secret', resource: 'raw', starttls: { ca: ts.certificate.cert } });
      const started = await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'slixmpp session_start');
      assert.is(started.jid, 'alice@localhost/slix');
      assert.is(started.tls, true, 'slixmpp negotiated STARTTLS');
      assert.is(started.mechanism, 'SCRAM-SHA-256');

      // slixmpp → bob's bare JID.
      alice.writeLine(JSON.stringify({ cmd: 'send', to: 'bob@localhost', body: 'hello bob from slixmpp', id: 's2b' }));
      const got = await bob.waitForElement((el) => el.is('message') && el.attr('id') === 's2b', 5000, "slixmpp's message");
      assert.is(got.attr('from'), 'alice@localhost/slix');
      assert.is(got.attr('to')?.split('/')[0], 'bob@localhost');
      assert.is(got.getChildText('body'), 'hello bob from slixmpp');

      // bob → slixmpp's full JID.
      bob.send(`<message to='alice@localhost/slix' type='chat' id='b2s'><body>hello slixmpp from bob</body></message>`);
      const back = await alice.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'b2s', 5000, "bob's message at slixmpp");
      assert.is(back.from, bobJid);
      assert.is(back.body, 'hello slixmpp from bob');
      assert.is(back.type, 'chat');

      // Exactly once, both ways.
      const late = await bob.drain(300);
      assert.not.ok(
        late.some((e) => e.type === 'element' && e.element.attr('id') === 's2b'),
        'bob got the slixmpp message twice',
      );
      assert.is(alice.jsonLines<SlixReport>().filter((r) => r.event === 'message' && r.id === 'b2s').length, 1, 'slixmpp got bob’s message once');

      alice.writeLine(JSON.stringify({ cmd: 'quit' }));
      const exit = await alice.exited;
      assert.is(exit.code, 0, `slixmpp exit; stderr:\n${alice.stderr}`);
      const reports = alice.jsonLines<SlixReport>();
      assert.ok(reports.some((r) => r.event === 'disconnected'), 'slixmpp closed its stream');
      assert.not.ok(reports.some((r) => r.event === 'stream_error' || r.event === 'failed_auth'), JSON.stringify(reports));
    } finally {
      await alice.stop();
      await bob.close();
    }
  });

  test('a wrong password gets SASL not-authorized (RFC 6120 §6.5.10)', async () => {
    const alice = slixmpp('alice@localhost/slix', 'not-the-password');
    try {
      const failed = await alice.waitForJson<SlixReport>((r) => r.event === 'failed_auth', 10_000, 'slixmpp failed_auth');
      assert.is(failed.condition, 'not-authorized');
      // With its only mechanism spent, slixmpp gives up and disconnects by itself.
      const exit = await alice.exited;
      assert.is(exit.timedOut, false);
      assert.is(exit.code, 0, `slixmpp exit; stderr:\n${alice.stderr}`);
      const reports = alice.jsonLines<SlixReport>();
      assert.not.ok(reports.some((r) => r.event === 'session_start'), 'no session with a wrong password');
    } finally {
      await alice.stop();
    }
  });

  // slixmpp as shipped sends the GS2 flag 'y' on TLS (it has tls-unique data but was limited to
  // a non-PLUS mechanism); `--no-channel-binding` makes it send 'n'. Both must log in: on TLS 1.3
  // the server offers no tls-unique, so 'y' is no sign of a stripped -PLUS (scram.ts, strictYFlag).
  test("two slixmpp clients (GS2 flags 'y' and 'n') exchange messages", async () => {
    const alice = slixmpp('alice@localhost/one', 'alice-secret');
    const bob = slixmpp('bob@localhost/two', 'bob-secret', '--no-channel-binding');
    try {
      await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'alice session_start');
      await bob.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'bob session_start');
      alice.writeLine(JSON.stringify({ cmd: 'send', to: 'bob@localhost/two', body: 'one to two', id: 'm1' }));
      const m1 = await bob.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'm1', 5000, 'm1 at bob');
      assert.is(m1.from, 'alice@localhost/one');
      assert.is(m1.body, 'one to two');
      bob.writeLine(JSON.stringify({ cmd: 'send', to: 'alice@localhost', body: 'two to one', id: 'm2' }));
      const m2 = await alice.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'm2', 5000, 'm2 at alice');
      assert.is(m2.from, 'bob@localhost/two');
      assert.is(m2.body, 'two to one');
      await sleep(300);
      assert.is(bob.jsonLines<SlixReport>().filter((r) => r.event === 'message').length, 1, 'bob: exactly one message');
      assert.is(alice.jsonLines<SlixReport>().filter((r) => r.event === 'message').length, 1, 'alice: exactly one message');
      alice.writeLine(JSON.stringify({ cmd: 'quit' }));
      bob.writeLine(JSON.stringify({ cmd: 'quit' }));
      assert.is((await alice.exited).code, 0);
      assert.is((await bob.exited).code, 0);
    } finally {
      await Promise.all([alice.stop(), bob.stop()]);
    }
  });
}

test.run();
