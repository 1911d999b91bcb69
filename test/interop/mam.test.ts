// Interop: Debian's python3-slixmpp 1.8 with its xep_0313 plugin (run with /usr/bin/python3)
// against a real createServer with the mam module, over plain TCP on loopback. Messages are
// exchanged with a raw-socket client, slixmpp sees our XEP-0359 stanza-id on what it receives,
// then queries its archive (one page with a `with` filter, then RSM paging through the
// plugin's iterator) and gets the archived messages with the same ids.
// Skipped with a message when python3-slixmpp is not installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type XmppServer } from '../../src/server.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { createLogger } from '../../src/core/logger.ts';
import { mam } from '../../src/ext/mam/index.ts';
import { userSendIq } from '../../src/c2s/hooks.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp } from '../helpers/slixmpp.ts';
import { RawXmppClient } from '../helpers/raw-client.ts';

interface MamRow {
  id: string;
  queryid: string;
  from: string;
  to: string;
  body: string;
  stamp: string | null;
}

interface SlixReport {
  event: string;
  jid?: string;
  from?: string;
  id?: string;
  body?: string;
  stanza_id?: string | null;
  stanza_id_by?: string | null;
  results?: MamRow[];
  first?: string;
  last?: string;
  count?: string | number;
  complete?: string | null;
  condition?: string;
}

if (await haveSlixmpp('mam.test.ts', 'slixmpp MAM interop')) {
  let server: XmppServer;
  /** RSM `<after/>` values of alice's MAM queries, in order ('' = none). */
  const queries: string[] = [];

  test.before(async () => {
    server = createServer({
      domains: ['localhost'],
      listeners: [{ kind: 'tcp', tls: 'none', port: 0, host: '127.0.0.1' }],
      modules: [mam],
      storage: memoryStorage(),
      logger: createLogger((process.env.XMPP_BLOCKS_LOG as 'debug' | undefined) ?? 'silent'),
    });
    await server.start();
    await server.users.add('alice@localhost', 'alice-secret');
    await server.users.add('bob@localhost', 'bob-secret');
    await server.users.add('carol@localhost', 'carol-secret');
    server.hooks.add(userSendIq, 'localhost', (_ef, p) => {
      const q = p.acc.element.getChild('query', 'urn:xmpp:mam:2');
      if (q !== undefined && p.acc.type === 'set') queries.push(q.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('after') ?? '');
    });
  });

  test.after(async () => {
    await server?.stop();
  });

  test('slixmpp xep_0313: stanza-ids on received messages, a filtered query, RSM paging through the iterator', async () => {
    const { host, port } = server.addresses()[0]!;
    const bob = await RawXmppClient.connect({ host, port });
    const carol = await RawXmppClient.connect({ host, port });
    let alice: ChildHandle | undefined;
    try {
      await bob.login({ user: 'bob', password: 'bob-secret', resource: 'raw' });
      await carol.login({ user: 'carol', password: 'carol-secret', resource: 'raw' });
      alice = startSlixmpp('slixmpp_mam.py', ['--jid', 'alice@localhost/slix', '--password', 'alice-secret', '--host', host, '--port', String(port), '--timeout', '25'], 30_000);
      const started = await alice.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'session_start');
      assert.is(started.jid, 'alice@localhost/slix');

      // alice → bob, bob → alice, carol → alice, alice → bob.
      alice.writeLine(JSON.stringify({ cmd: 'send', to: 'bob@localhost', body: 'one', id: 'a1' }));
      await bob.waitForElement((e) => e.is('message') && e.attr('id') === 'a1', 5000, 'a1 at bob');
      bob.send(`<message to='alice@localhost' type='chat' id='b1'><body>two</body></message>`);
      const b1 = await alice.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'b1', 5000, 'b1 at slixmpp');
      assert.is(b1.stanza_id_by, 'alice@localhost', 'our stanza-id, by the recipient');
      assert.ok(b1.stanza_id);
      carol.send(`<message to='alice@localhost/slix' type='chat' id='c1'><body>three</body></message>`);
      const c1 = await alice.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'c1', 5000, 'c1 at slixmpp');
      alice.writeLine(JSON.stringify({ cmd: 'send', to: 'bob@localhost', body: 'four', id: 'a2' }));
      await bob.waitForElement((e) => e.is('message') && e.attr('id') === 'a2', 5000, 'a2 at bob');

      // One page, filtered by with.
      alice.writeLine(JSON.stringify({ cmd: 'retrieve', with: 'bob@localhost', max: 10 }));
      const page = await alice.waitForJson<SlixReport>((r) => r.event === 'mam_page' || r.event === 'mam_error', 10_000, 'mam_page');
      assert.is(page.event, 'mam_page', JSON.stringify(page));
      assert.equal(
        page.results!.map((r) => [r.body, r.from, r.to.split('/')[0]]),
        [
          ['one', 'alice@localhost/slix', 'bob@localhost'],
          ['two', 'bob@localhost/raw', 'alice@localhost'],
          ['four', 'alice@localhost/slix', 'bob@localhost'],
        ],
      );
      assert.is(page.results![1]!.id, b1.stanza_id, 'the result id is the stanza-id alice received');
      assert.is(page.complete, 'true');
      assert.is(String(page.count), '3');
      assert.is(page.first, page.results![0]!.id);
      assert.is(page.last, page.results![2]!.id);
      assert.ok(page.results!.every((r) => r.stamp), 'delay stamps parsed by slixmpp');

      // The whole archive, two per page (RSM <after/>), through the plugin's iterator.
      queries.length = 0;
      alice.writeLine(JSON.stringify({ cmd: 'iterate', page: 2 }));
      const all = await alice.waitForJson<SlixReport>((r) => r.event === 'mam_iterated' || r.event === 'mam_error', 15_000, 'mam_iterated');
      assert.is(all.event, 'mam_iterated', JSON.stringify(all));
      assert.equal(all.results!.map((r) => r.body), ['one', 'two', 'three', 'four']);
      assert.is(all.results![2]!.id, c1.stanza_id);
      assert.ok(queries.length >= 2, `paged: ${JSON.stringify(queries)}`);
      assert.is(queries[0], '');
      assert.is(queries[1], all.results![1]!.id, 'the second page starts after the last id of the first');

      alice.writeLine(JSON.stringify({ cmd: 'quit' }));
      const exit = await alice.exited;
      assert.is(exit.code, 0, `slixmpp exit; stderr:\n${alice.stderr}`);
    } finally {
      await alice?.stop();
      await bob.close();
      await carol.close();
    }
  });
}

test.run();
