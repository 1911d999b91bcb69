// Interop of the MUC module with Debian's python3-slixmpp 1.8 (run with /usr/bin/python3) over
// TCP + STARTTLS on 127.0.0.1, with slixmpp's own XEP-0045 plugin: alice creates a room by
// joining it (201), bob joins under another nick and both see each other's presence; alice's
// groupchat message reaches both exactly once; alice changes the subject, which both see; bob
// leaves and alice sees him go. On a machine without slixmpp the test is skipped with a message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { presence } from '../../src/ext/presence/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { muc } from '../../src/ext/muc/index.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, useStartTlsServer } from '../helpers/slixmpp.ts';

interface SlixReport {
  event: string;
  nick?: string;
  codes?: number[];
  occupants?: string[];
  subject?: string;
  body?: string;
  delayed?: boolean;
  condition?: string;
}

const ROOM = 'coven@conference.localhost';

if (await haveSlixmpp('muc.test.ts', 'slixmpp MUC interop')) {
  const server = useStartTlsServer(
    { users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' }, modules: [presence, disco, muc] },
    'slixmpp-muc-',
  );

  test('slixmpp: two clients join one room, see each other, exchange a message once each, change the subject, one leaves', async () => {
    const { ts, caFile } = server();
    const { host, port } = ts.address(0);
    const slix = (jid: string, password: string): ChildHandle =>
      startSlixmpp('slixmpp_muc.py', ['--jid', jid, '--password', password, '--host', host, '--port', String(port), '--cafile', caFile, '--timeout', '25'], 28_000);
    const cmd = (c: ChildHandle, o: object) => c.writeLine(JSON.stringify(o));
    const count = (c: ChildHandle, pred: (r: SlixReport) => boolean) => c.jsonLines<SlixReport>().filter(pred).length;
    let alice: ChildHandle | undefined;
    let bob: ChildHandle | undefined;
    try {
      alice = slix('alice@localhost/slix', 'alice-secret');
      bob = slix('bob@localhost/slix', 'bob-secret');
      await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'alice session_start');
      await bob.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'bob session_start');

      cmd(alice, { cmd: 'join', room: ROOM, nick: 'Alice' });
      // slixmpp counts its own presence among the occupants.
      const aJoined = await alice.waitForJson<SlixReport>((r) => r.event.startsWith('join'), 8000, 'alice joined');
      assert.equal([aJoined.event, aJoined.nick, aJoined.codes, aJoined.occupants, aJoined.subject], ['joined', 'Alice', [110, 201], ['Alice'], '']);

      cmd(bob, { cmd: 'join', room: ROOM, nick: 'Bob' });
      const bJoined = await bob.waitForJson<SlixReport>((r) => r.event.startsWith('join'), 8000, 'bob joined');
      assert.equal([bJoined.event, bJoined.nick, bJoined.codes, bJoined.occupants], ['joined', 'Bob', [110], ['Alice', 'Bob']]);
      await alice.waitForJson<SlixReport>((r) => r.event === 'online' && r.nick === 'Bob', 5000, 'alice sees Bob');

      cmd(alice, { cmd: 'say', room: ROOM, body: 'When shall we three meet again?' });
      const isHello = (r: SlixReport) => r.event === 'message' && r.body === 'When shall we three meet again?';
      for (const c of [alice, bob]) {
        const m = await c.waitForJson<SlixReport>(isHello, 5000, 'the groupchat message');
        assert.equal([m.nick, m.delayed], ['Alice', false]);
      }

      // The owner (a moderator) may; bob, a participant, may not by default.
      cmd(alice, { cmd: 'subject', room: ROOM, subject: 'Fire burn' });
      for (const c of [alice, bob]) {
        const s = await c.waitForJson<SlixReport>((r) => r.event === 'subject' && r.subject === 'Fire burn', 5000, 'the new subject');
        assert.is(s.nick, 'Alice');
      }
      // The room handles stanzas in order: a second copy of the message would have come before the subject.
      for (const c of [alice, bob]) assert.is(count(c, isHello), 1, 'the message arrived once');

      cmd(bob, { cmd: 'leave', room: ROOM, nick: 'Bob' });
      await alice.waitForJson<SlixReport>((r) => r.event === 'offline' && r.nick === 'Bob', 5000, 'alice sees Bob leave');
      const own = await bob.waitForJson<SlixReport>((r) => r.event === 'unavailable' && r.nick === 'Bob', 5000, "bob's own unavailable");
      assert.ok(own.codes?.includes(110));

      for (const c of [alice, bob]) cmd(c, { cmd: 'quit' });
      for (const c of [alice, bob]) assert.is((await c.exited).code, 0, `exit; stderr:\n${c.stderr}`);
      for (const c of [alice, bob]) {
        const bad = c.jsonLines<SlixReport>().filter((r) => ['stream_error', 'failed_auth', 'timeout', 'join_error', 'join_timeout'].includes(r.event));
        assert.equal(bad, []);
      }
    } finally {
      await Promise.all([alice?.stop(), bob?.stop()]);
    }
  });
}

test.run();
