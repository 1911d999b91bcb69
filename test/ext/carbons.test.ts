// XEP-0280 message carbons as stanza conversations: enable/disable, sent and received copies to
// the other carbon-enabled resources, bare-JID delivery with priorities, <private/> (stripped)
// and <no-copy/>, carbons never copied, errors to a full JID copied, type filtering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestClient } from '../../src/testing/index.ts';
import { iq, startKit } from '../helpers/test-kit.ts';
import { carbons } from '../../src/ext/carbons/index.ts';
import { blocking } from '../../src/ext/blocking/index.ts';
import { Jid } from '../../src/core/jid.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const C = 'urn:xmpp:carbons:2';
const F = 'urn:xmpp:forward:0';

const setup = (modules: any[] = [carbons]) => startKit({ users: USERS, modules });

const enable = async (c: TestClient, to?: string) => assert.is((await iq(c, 'set', `<enable xmlns='${C}'/>`, to)).attrs.type, 'result');

/** What a client got: plain messages as `body`, carbons as `sent|received:from>to:body` (outer from checked). */
function got(c: TestClient, me: string): string[] {
  return c.received()
    .filter((e) => e.name === 'message')
    .map((e) => {
      for (const dir of ['sent', 'received'] as const) {
        const w = e.getChild(dir, C);
        if (w) {
          assert.is(e.attrs.from, Jid.parse(me).toBareString(), 'a carbon comes from the bare JID');
          assert.is(e.attrs.to, me);
          const m = w.getChild('forwarded', F)!.getChild('message')!;
          return `${dir}:${m.attrs.from}>${m.attrs.to}:${m.getChildText('body') ?? m.attrs.type}`;
        }
      }
      return e.getChildText('body') ?? `(${e.attrs.type})`;
    });
}

test('enable/disable: result, bad-request for get; sent and received copies only to enabled resources', async () => {
  const { server, login } = await setup();
  const phone = await login('alice@localhost/phone');
  const pc = await login('alice@localhost/pc');
  const tab = await login('alice@localhost/tab');
  const bob = await login('bob@localhost/pc');
  const e = await iq(pc, 'get', `<enable xmlns='${C}'/>`);
  assert.is(e.attrs.type, 'error');
  await enable(pc);
  await enable(phone, 'localhost'); // addressed to the server works too
  // phone sends → pc (enabled) gets a sent carbon, tab (not enabled) nothing.
  phone.send(`<message to='bob@localhost/pc' type='chat'><body>hello bob</body></message>`);
  await server.settle();
  assert.equal(got(bob, 'bob@localhost/pc'), ['hello bob']);
  assert.equal(got(pc, 'alice@localhost/pc'), ['sent:alice@localhost/phone>bob@localhost/pc:hello bob']);
  assert.equal(got(phone, 'alice@localhost/phone'), []);
  assert.equal(got(tab, 'alice@localhost/tab'), []);
  // bob answers phone's full JID → pc gets a received carbon.
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>hi alice</body></message>`);
  await server.settle();
  assert.equal(got(phone, 'alice@localhost/phone'), ['hi alice']);
  assert.equal(got(pc, 'alice@localhost/pc'), ['received:bob@localhost/pc>alice@localhost/phone:hi alice']);
  assert.equal(got(tab, 'alice@localhost/tab'), []);
  // disable on pc
  assert.is((await iq(pc, 'set', `<disable xmlns='${C}'/>`)).attrs.type, 'result');
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>again</body></message>`);
  phone.send(`<message to='bob@localhost/pc' type='chat'><body>me too</body></message>`);
  await server.settle();
  assert.equal(got(pc, 'alice@localhost/pc'), []);
  assert.equal(server.hookErrors, []);
});

test('bare-JID messages: resources at the top priority get the original, the other enabled ones one received copy', async () => {
  const { server, login } = await setup();
  const phone = await login('alice@localhost/phone');
  const pc = await login('alice@localhost/pc');
  const tab = await login('alice@localhost/tab');
  const bob = await login('bob@localhost/pc');
  for (const c of [phone, pc, tab]) await enable(c);
  // phone and pc at priority 5, tab at 1 (the presence module would set these).
  server.sessions.setPriority(server.sessions.get('alice@localhost/phone')!, 5);
  server.sessions.setPriority(server.sessions.get('alice@localhost/pc')!, 5);
  server.sessions.setPriority(server.sessions.get('alice@localhost/tab')!, 1);
  bob.send(`<message to='alice@localhost' type='chat'><body>to bare</body></message>`);
  await server.settle();
  assert.equal(got(phone, 'alice@localhost/phone'), ['to bare']);
  assert.equal(got(pc, 'alice@localhost/pc'), ['to bare']);
  assert.equal(got(tab, 'alice@localhost/tab'), ['received:bob@localhost/pc>alice@localhost:to bare']);
  // normal with a body is eligible; normal without body, headline and groupchat are not.
  bob.send(`<message to='alice@localhost/phone'><body>normal</body></message>`);
  bob.send(`<message to='alice@localhost/phone'><subject>no body</subject></message>`);
  bob.send(`<message to='alice@localhost/phone' type='headline'><body>news</body></message>`);
  bob.send(`<message to='alice@localhost/phone' type='groupchat'><body>gc</body></message>`);
  await server.settle();
  assert.equal(got(pc, 'alice@localhost/pc'), ['received:bob@localhost/pc>alice@localhost/phone:normal']);
  assert.equal(got(tab, 'alice@localhost/tab'), ['received:bob@localhost/pc>alice@localhost/phone:normal']);
  assert.equal(server.hookErrors, []);
});

test('<private/>: no copies either way, and the element is stripped before delivery; <no-copy/> hint respected', async () => {
  const { server, login } = await setup();
  const phone = await login('alice@localhost/phone');
  const pc = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  const bob2 = await login('bob@localhost/tab');
  for (const c of [phone, pc, bob, bob2]) await enable(c);
  phone.send(`<message to='bob@localhost/pc' type='chat'><body>secret</body><private xmlns='${C}'/></message>`);
  await server.settle();
  const delivered = bob.expect((e) => e.name === 'message');
  assert.is(delivered.getChildText('body'), 'secret');
  assert.is(delivered.getChild('private', C), undefined, '<private/> stripped');
  assert.equal(got(pc, 'alice@localhost/pc'), [], 'no sent carbon');
  assert.equal(got(bob2, 'bob@localhost/tab'), [], 'no received carbon');
  phone.send(`<message to='bob@localhost/pc' type='chat'><body>hint</body><no-copy xmlns='urn:xmpp:hints'/></message>`);
  await server.settle();
  assert.equal(got(bob, 'bob@localhost/pc'), ['hint']);
  assert.equal(got(pc, 'alice@localhost/pc'), []);
  assert.equal(got(bob2, 'bob@localhost/tab'), []);
  assert.equal(server.hookErrors, []);
});

test('carbons are never carbon-copied; errors to a full JID are copied; three users talk', async () => {
  const { server, login } = await setup();
  const phone = await login('alice@localhost/phone');
  const pc = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  const carol = await login('carol@localhost/pc');
  const carol2 = await login('carol@localhost/tab');
  for (const c of [phone, pc, carol, carol2]) await enable(c);
  // A client forging a carbon is not copied again.
  phone.send(`<message to='bob@localhost/pc' type='chat'><received xmlns='${C}'><forwarded xmlns='${F}'><message xmlns='jabber:client' from='x@y' to='alice@localhost' type='chat'><body>fake</body></message></forwarded></received></message>`);
  await server.settle();
  assert.equal(got(pc, 'alice@localhost/pc'), []);
  bob.received();
  // An error to a full JID is copied.
  bob.send(`<message to='alice@localhost/phone' type='error' id='e1'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
  await server.settle();
  assert.equal(got(pc, 'alice@localhost/pc'), ['received:bob@localhost/pc>alice@localhost/phone:error']);
  phone.received();
  // alice ↔ carol with both sides carbon-enabled.
  phone.send(`<message to='carol@localhost/pc' type='chat'><body>hi carol</body></message>`);
  await server.settle();
  assert.equal(got(carol, 'carol@localhost/pc'), ['hi carol']);
  assert.equal(got(carol2, 'carol@localhost/tab'), ['received:alice@localhost/phone>carol@localhost/pc:hi carol']);
  assert.equal(got(pc, 'alice@localhost/pc'), ['sent:alice@localhost/phone>carol@localhost/pc:hi carol']);
  assert.equal(got(bob, 'bob@localhost/pc'), []);
  assert.equal(server.hookErrors, []);
});

test('a message blocked by the blocking module produces no carbons', async () => {
  const { server, login } = await setup([blocking, carbons]);
  const phone = await login('alice@localhost/phone');
  const pc = await login('alice@localhost/pc');
  const bob = await login('bob@localhost/pc');
  for (const c of [phone, pc]) await enable(c);
  await iq(phone, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block>`);
  await server.settle();
  phone.received();
  pc.received();
  phone.send(`<message id='m' to='bob@localhost/pc' type='chat'><body>x</body></message>`);
  bob.send(`<message to='alice@localhost/phone' type='chat'><body>y</body></message>`);
  await server.settle();
  assert.equal(got(pc, 'alice@localhost/pc'), []);
  assert.equal(bob.received().map((e) => `${e.attrs.type}:${e.getChild('error')?.elements()[0]?.name}`), ['error:service-unavailable'], 'x never reached bob; y bounced');
  assert.equal(server.hookErrors, []);
});

test.run();
