// Interop with Debian's python3-slixmpp 1.8 (run with /usr/bin/python3), using slixmpp's own
// XEP-0280 and XEP-0191 plugins against the carbons and blocking modules: two slixmpp
// resources of alice enable carbons and see received/sent copies of a chat with bob (a raw
// client); then alice blocks bob: the blocklist, the push to the other resource, the
// not-acceptable + <blocked/> error slixmpp parses, and bob's messages bounced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blocking } from '../../src/ext/blocking/index.ts';
import { carbons } from '../../src/ext/carbons/index.ts';
import type { ChildHandle } from '../helpers/spawn.ts';
import { haveSlixmpp, startSlixmpp, useStartTlsServer } from '../helpers/slixmpp.ts';
import { RawXmppClient } from '../helpers/raw-client.ts';

interface SlixReport {
  event: string;
  jid?: string;
  jids?: string[];
  from?: string;
  to?: string;
  id?: string;
  body?: string;
  condition?: string;
  blocked?: boolean;
}

if (await haveSlixmpp('blocking-carbons-slixmpp.test.ts', 'slixmpp blocking/carbons interop')) {
  const server = useStartTlsServer({ users: { 'alice@localhost': 'alice-secret', 'bob@localhost': 'bob-secret' }, modules: [blocking, carbons] }, 'slixmpp-blocking-');

  test('carbons and blocking with slixmpp plugins', async () => {
    const { ts, caFile } = server();
    const { host, port } = ts.address(0);
    const cert = ts.certificate.cert;
    const slix = (resource: string) =>
      startSlixmpp('slixmpp_blocking_carbons.py', ['--jid', `alice@localhost/${resource}`, '--password', 'alice-secret', '--host', host, '--port', String(port), '--cafile', caFile, '--timeout', '20'], 23_000);
    const bob = await RawXmppClient.connect({ host, port });
    let a1: ChildHandle | undefined;
    let a2: ChildHandle | undefined;
    const cmd = (c: ChildHandle, v: object) => c.writeLine(JSON.stringify(v));
    try {
      await bob.login({ user: 'bob', password: 'bob-secret', resource: 'raw', starttls: { ca: cert } });
      a1 = slix('one');
      a2 = slix('two');
      for (const a of [a1, a2]) {
        await a.waitForJson<SlixReport>((r) => r.event === 'session_start', 10_000, 'slixmpp session_start');
        cmd(a, { cmd: 'enable_carbons' });
        await a.waitForJson<SlixReport>((r) => r.event === 'carbons_enabled', 5000, 'carbons enabled');
      }

      // bob → alice/one: alice/two gets a received carbon.
      bob.send(`<message to='alice@localhost/one' type='chat' id='b1'><body>hi one</body></message>`);
      const m = await a1.waitForJson<SlixReport>((r) => r.event === 'message' && r.id === 'b1', 5000, 'the message on alice/one');
      assert.is(m.from, 'bob@localhost/raw');
      const rc = await a2.waitForJson<SlixReport>((r) => r.event === 'carbon_received', 5000, 'received carbon on alice/two');
      assert.equal([rc.from, rc.to, rc.body], ['bob@localhost/raw', 'alice@localhost/one', 'hi one']);

      // alice/one → bob: alice/two gets a sent carbon.
      cmd(a1, { cmd: 'send', to: 'bob@localhost/raw', body: 'hello bob', id: 'a1' });
      await bob.waitForElement((el) => el.is('message') && el.attr('id') === 'a1', 5000, "alice's message");
      const sc = await a2.waitForJson<SlixReport>((r) => r.event === 'carbon_sent', 5000, 'sent carbon on alice/two');
      assert.equal([sc.from, sc.to, sc.body], ['alice@localhost/one', 'bob@localhost/raw', 'hello bob']);

      // alice/two asks for the blocklist (so it gets pushes); alice/one blocks bob.
      cmd(a2, { cmd: 'get_blocklist' });
      assert.equal((await a2.waitForJson<SlixReport>((r) => r.event === 'blocklist', 5000, 'empty blocklist')).jids, []);
      cmd(a1, { cmd: 'block', jids: ['bob@localhost'] });
      await a1.waitForJson<SlixReport>((r) => r.event === 'block_done', 5000, 'block result');
      assert.equal((await a2.waitForJson<SlixReport>((r) => r.event === 'blocked_push', 5000, 'block push on alice/two')).jids, ['bob@localhost']);
      cmd(a1, { cmd: 'get_blocklist' });
      assert.equal((await a1.waitForJson<SlixReport>((r) => r.event === 'blocklist', 5000, 'blocklist')).jids, ['bob@localhost']);

      cmd(a1, { cmd: 'send', to: 'bob@localhost/raw', body: 'are you there', id: 'a2' });
      const err = await a1.waitForJson<SlixReport>((r) => r.event === 'message_error' && r.id === 'a2', 5000, 'blocked error');
      assert.is(err.condition, 'not-acceptable');
      assert.is(err.blocked, true);

      bob.send(`<message to='alice@localhost/one' type='chat' id='b2'><body>let me in</body></message>`);
      const bounce = await bob.waitForElement((el) => el.is('message') && el.attr('id') === 'b2', 5000, 'the bounce');
      assert.is(bounce.attr('type'), 'error');
      assert.ok(bounce.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
      for (const a of [a1, a2]) {
        cmd(a, { cmd: 'quit' });
        await a.waitForJson<SlixReport>((r) => r.event === 'exit', 5000, 'slixmpp exit');
      }
      assert.not.ok(a1.jsonLines<SlixReport>().some((r) => r.event === 'message' && r.id === 'b2'), 'nothing from bob after the block');
      assert.not.ok(bob.log.some((ev) => ev.type === 'element' && ev.element.attr('id') === 'a2'), 'a2 never reached bob');
    } finally {
      await a1?.stop();
      await a2?.stop();
      await bob.close().catch(() => bob.destroy());
    }
  });
}

test.run();
