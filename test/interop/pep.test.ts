// Interop of the PEP module with Debian's python3-slixmpp 1.8 (run with /usr/bin/python3) over
// TCP + STARTTLS on 127.0.0.1, with slixmpp's own XEP-0115, XEP-0163 and XEP-0172 plugins.
// alice and bob have a mutual subscription (written to the roster store before they log in):
// alice publishes her nick; bob logs in afterwards with `nick+notify` in his caps, so the
// server queries his caps, verifies the hash and sends him the last published nick (XEP-0163
// §6.2); alice publishes again and bob gets the live event; bob retrieves alice's nick node.
// On a machine without slixmpp the test is skipped with a message saying so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RosterItem } from '../../src/core/storage/roster-store.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { pep } from '../../src/ext/pep/index.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, useStartTlsServer } from '../helpers/slixmpp.ts';

interface SlixReport {
  event: string;
  jid?: string;
  ver?: string;
  from?: string;
  nick?: string;
  id?: string;
  delayed?: boolean;
  items?: { id: string; nick: string }[];
  condition?: string;
}

const NICK = 'http://jabber.org/protocol/nick';

if (await haveSlixmpp('pep.test.ts', 'slixmpp PEP nick interop')) {
  const server = useStartTlsServer(
    { users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' }, modules: [roster, presence, disco, pep] },
    'slixmpp-pep-',
  );

  test('slixmpp: last published nick at login, the live nick event, and items retrieval', async () => {
    const { ts, caFile } = server();
    const { host, port } = ts.address(0);
    const store = ts.server.storage.roster;
    const both = (jid: string): RosterItem => ({ jid, subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: [] });
    await store.upsertItem('localhost', 'localhost', 'alice', both('bob@localhost'));
    await store.upsertItem('localhost', 'localhost', 'bob', both('alice@localhost'));

    const slix = (jid: string, password: string): ChildHandle =>
      startSlixmpp('slixmpp_pep.py', ['--jid', jid, '--password', password, '--host', host, '--port', String(port), '--cafile', caFile, '--timeout', '20'], 23_000);
    const cmd = (c: ChildHandle, o: object) => c.writeLine(JSON.stringify(o));
    let alice: ChildHandle | undefined;
    let bob: ChildHandle | undefined;
    try {
      alice = slix('alice@localhost/slix', 'alice-secret');
      await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'alice session_start');
      cmd(alice, { cmd: 'publish_nick', nick: 'Alice' });
      const published = await alice.waitForJson<SlixReport>((r) => r.event === 'published' || r.event === 'iq_error', 5000, 'alice published');
      assert.is(published.event, 'published', JSON.stringify(published));
      assert.is(published.id, 'current');

      bob = slix('bob@localhost/slix', 'bob-secret');
      const started = await bob.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'bob session_start');
      assert.ok(started.ver, 'bob announces a caps ver');
      // §6.2: the last item, once the server knows bob's caps (its query, bob's answer, the hash checked).
      const last = await bob.waitForJson<SlixReport>((r) => r.event === 'nick' && r.from === 'alice@localhost', 5000, "alice's last nick at bob");
      assert.equal([last.nick, last.id, last.delayed], ['Alice', 'current', true]);

      cmd(alice, { cmd: 'publish_nick', nick: 'Alice in Wonderland' });
      const publishedCount = () => alice!.jsonLines<SlixReport>().filter((r) => r.event === 'published').length;
      await alice.waitForJson<SlixReport>((r) => r.event === 'published' && publishedCount() === 2, 5000, 'alice published again');
      const live = await bob.waitForJson<SlixReport>((r) => r.event === 'nick' && r.nick === 'Alice in Wonderland', 5000, 'the live nick event at bob');
      assert.equal([live.from, live.delayed], ['alice@localhost', false]);

      cmd(bob, { cmd: 'get_nick_items', jid: 'alice@localhost' });
      const items = await bob.waitForJson<SlixReport>((r) => r.event === 'items' || r.event === 'iq_error', 5000, "bob's items request");
      assert.equal(items.items, [{ id: 'current', nick: 'Alice in Wonderland' }], JSON.stringify(items));

      // The server stored it as slixmpp published it.
      const stored = await ts.server.storage.pep.getItems('localhost', 'localhost', 'alice', NICK);
      assert.equal(stored?.map((i) => i.id), ['current']);

      for (const c of [alice, bob]) cmd(c, { cmd: 'quit' });
      for (const c of [alice, bob]) assert.is((await c.exited).code, 0, `exit; stderr:\n${c.stderr}`);
      for (const c of [alice, bob]) {
        const bad = c.jsonLines<SlixReport>().filter((r) => r.event === 'stream_error' || r.event === 'failed_auth' || r.event === 'timeout' || r.event === 'iq_error' || r.event === 'iq_timeout');
        assert.equal(bad, []);
      }
    } finally {
      await Promise.all([alice?.stop(), bob?.stop()]);
    }
  });
}

test.run();
