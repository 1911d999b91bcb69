// XEP-0045 Multi-User Chat as stanza conversations between users (alice on two resources, bob,
// carol) and the conference.localhost service: discovery, entering (creation, status codes, the
// order of presences/history/subject, every refusal), several sessions on one nick, nick
// changes, leaving and session end, groupchat with history replay (fake clock), subject,
// private messages, owner configuration and destruction, persistence through the MucStore
// across a restart (memory store shared by two servers, and SQLite), admin role and affiliation
// changes (kick, voice, ban, members-only), invitations, account/domain removal and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NS } from '../../src/core/namespaces.ts';
import { Jid } from '../../src/core/jid.ts';
import { removeDomain, removeUser, smRemoveConnection } from '../../src/core/server-hooks.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import type { Storage } from '../../src/core/storage/storage.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { memoryStorage } from '../../src/storage/memory/index.ts';
import { sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { muc, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER, type MucOptions } from '../../src/ext/muc/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c', 'dave@localhost': 'd' };
const MUC = 'conference.localhost';
const ROOM = `coven@${MUC}`;
const NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';

interface World {
  server: TestServer;
  alice: TestClient;
  bob: TestClient;
  carol: TestClient;
}

async function world(options: Partial<MucOptions> = {}, storage?: Storage): Promise<World> {
  const server = await createTestServer({ users: USERS, modules: [presence, disco, { module: muc, options }], storage });
  return { server, alice: await login(server, 'alice@localhost/phone'), bob: await login(server, 'bob@localhost/pc'), carol: await login(server, 'carol@localhost/tab') };
}

async function login(server: TestServer, jid: string): Promise<TestClient> {
  const c = server.connect();
  await c.login(jid, USERS[Jid.parse(jid).toBareString() as keyof typeof USERS]);
  return c;
}

async function done(w: World): Promise<void> {
  assert.equal(w.server.hookErrors, []);
  await w.server.stop();
}

let seq = 0;
async function iq(c: TestClient, type: 'get' | 'set', to: string, payload: string): Promise<XmlElement> {
  const id = `iq${++seq}`;
  c.send(`<iq type='${type}' id='${id}' to='${to}'>${payload}</iq>`);
  await c.settle();
  return c.expect((e) => e.name === 'iq' && e.attrs.id === id, `answer to ${id}`);
}

function errorOf(el: XmlElement | undefined): string | undefined {
  if (el?.attrs.type !== 'error') return undefined;
  return el.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;
}

/** Send a presence to `room/nick` (joining with `<x xmlns=muc>` + `inner`) and return everything received. */
async function join(c: TestClient, occupantJid: string, inner = ''): Promise<XmlElement[]> {
  c.send(`<presence to='${occupantJid}'><x xmlns='${NS_MUC}'>${inner}</x></presence>`);
  await c.settle();
  return c.received();
}

/** A presence from a room as a short string: `nick:type:affiliation/role:jid:codes`. */
function pres(e: XmlElement): string {
  const x = e.getChild('x', NS_MUC_USER);
  const item = x?.getChild('item');
  const codes = (x?.getChildren('status') ?? []).map((s) => s.attrs.code).join(',');
  return `${Jid.parse(e.attrs.from!).resource}:${e.attrs.type ?? 'available'}:${item?.attrs.affiliation}/${item?.attrs.role}:${item?.attrs.jid ?? '-'}:${codes}`;
}

const presences = (els: XmlElement[]) => els.filter((e) => e.name === 'presence').map(pres);
const isSubject = (e: XmlElement) => e.name === 'message' && e.getChild('subject') !== undefined && e.getChild('body') === undefined;
/** Groupchat bodies as `nick:body`, with `(delayed)` for history. */
const chats = (els: XmlElement[]) =>
  els.filter((e) => e.name === 'message' && e.attrs.type === 'groupchat' && e.getChildText('body') !== undefined).map((e) => `${Jid.parse(e.attrs.from!).resource}:${e.getChildText('body')}${e.getChild('delay', NS.DELAY) ? ' (delayed)' : ''}`);

async function say(c: TestClient, body: string, to = ROOM, type = 'groupchat'): Promise<void> {
  c.send(`<message to='${to}' type='${type}' id='m${++seq}'><body>${body}</body></message>`);
  await c.settle();
}

function formFields(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('');
}

async function configure(c: TestClient, fields: Record<string, string>, room = ROOM): Promise<XmlElement> {
  return iq(c, 'set', room, `<query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${NS_ROOMCONFIG}</value></field>${formFields(fields)}</x></query>`);
}

async function admin(c: TestClient, item: string, room = ROOM): Promise<XmlElement> {
  return iq(c, 'set', room, `<query xmlns='${NS_MUC_ADMIN}'>${item}</query>`);
}

/** alice creates coven as 'Alice'; bob joins as 'Bob'; all inboxes emptied. */
async function coven(w: World): Promise<void> {
  await join(w.alice, `${ROOM}/Alice`);
  await join(w.bob, `${ROOM}/Bob`);
  for (const c of [w.alice, w.bob, w.carol]) c.received();
}

test('discovery: the server lists the service; service info; public rooms listed (hidden and locked ones not), paged with RSM; room info has the muc_* features and the roominfo form', async () => {
  const w = await world();
  const items = await iq(w.alice, 'get', 'localhost', `<query xmlns='${NS.DISCO_ITEMS}'/>`);
  assert.ok(items.getChild('query')!.getChildren('item').some((i) => i.attrs.jid === MUC), 'the server lists conference.localhost');
  const info = (await iq(w.alice, 'get', MUC, `<query xmlns='${NS.DISCO_INFO}'/>`)).getChild('query')!;
  assert.equal([info.getChild('identity')!.attrs.category, info.getChild('identity')!.attrs.type], ['conference', 'text']);
  assert.ok(info.getChildren('feature').some((f) => f.attrs.var === NS_MUC));

  await join(w.alice, `${ROOM}/Alice`);
  await configure(w.alice, { 'muc#roomconfig_roomname': 'A Dark Cave', 'muc#roomconfig_roomdesc': 'Witches only' });
  await join(w.bob, `heath@${MUC}/Bob`);
  await join(w.carol, `secret@${MUC}/Carol`);
  await configure(w.carol, { 'muc#roomconfig_publicroom': '0' }, `secret@${MUC}`);
  const list = (await iq(w.alice, 'get', MUC, `<query xmlns='${NS.DISCO_ITEMS}'/>`)).getChild('query')!;
  assert.equal(list.getChildren('item').map((i) => `${i.attrs.jid}|${i.attrs.name}`), [`${ROOM}|A Dark Cave`, `heath@${MUC}|heath`]);
  const page = (await iq(w.alice, 'get', MUC, `<query xmlns='${NS.DISCO_ITEMS}'><set xmlns='${NS.RSM}'><max>1</max></set></query>`)).getChild('query')!;
  assert.equal(page.getChildren('item').map((i) => i.attrs.jid), [ROOM]);
  assert.equal([page.getChild('set', NS.RSM)!.getChildText('count'), page.getChild('set', NS.RSM)!.getChildText('last')], ['2', ROOM]);
  const page2 = (await iq(w.alice, 'get', MUC, `<query xmlns='${NS.DISCO_ITEMS}'><set xmlns='${NS.RSM}'><max>1</max><after>${ROOM}</after></set></query>`)).getChild('query')!;
  assert.equal(page2.getChildren('item').map((i) => i.attrs.jid), [`heath@${MUC}`]);

  const roomInfo = (await iq(w.bob, 'get', ROOM, `<query xmlns='${NS.DISCO_INFO}'/>`)).getChild('query')!;
  assert.is(roomInfo.getChild('identity')!.attrs.name, 'A Dark Cave');
  const features = roomInfo.getChildren('feature').map((f) => f.attrs.var);
  for (const f of [NS_MUC, 'muc_temporary', 'muc_public', 'muc_open', 'muc_unmoderated', 'muc_semianonymous', 'muc_unsecured']) assert.ok(features.includes(f), f);
  const form = roomInfo.getChild('x', 'jabber:x:data')!;
  const value = (v: string) => form.getChildren('field').find((f) => f.attrs.var === v)?.getChildText('value');
  assert.equal([value('FORM_TYPE'), value('muc#roominfo_description'), value('muc#roominfo_occupants')], ['http://jabber.org/protocol/muc#roominfo', 'Witches only', '1']);
  await configure(w.alice, { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_membersonly': '1', 'muc#roomconfig_moderatedroom': '1', 'muc#roomconfig_whois': 'anyone', 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': 'pw' });
  const f2 = (await iq(w.bob, 'get', ROOM, `<query xmlns='${NS.DISCO_INFO}'/>`)).getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
  for (const f of ['muc_persistent', 'muc_membersonly', 'muc_moderated', 'muc_nonanonymous', 'muc_passwordprotected']) assert.ok(f2.includes(f), f);
  assert.is(errorOf(await iq(w.bob, 'get', `nowhere@${MUC}`, `<query xmlns='${NS.DISCO_INFO}'/>`)), 'item-not-found');
  await done(w);
});

test('entering: creation (201, owner, moderator), then the others: existing occupants first, own presence with 110, then the empty subject; real JIDs only to moderators in a semi-anonymous room', async () => {
  const w = await world();
  const created = await join(w.alice, `${ROOM}/Alice`);
  assert.equal(presences(created), ['Alice:available:owner/moderator:alice@localhost/phone:110,201']);
  const subj = created.find(isSubject)!;
  assert.equal([subj.attrs.from, subj.attrs.type, subj.getChildText('subject')], [ROOM, 'groupchat', '']);
  assert.ok(created.indexOf(subj) > created.findIndex((e) => e.name === 'presence'), 'subject after the presences');

  const got = await join(w.bob, `${ROOM}/Bob`);
  assert.equal(presences(got), ['Alice:available:owner/moderator:-:', 'Bob:available:none/participant:-:110'], 'a participant does not see real JIDs');
  assert.ok(got.findIndex(isSubject) > got.findLastIndex((e) => e.name === 'presence'));
  assert.equal(presences(w.alice.received()), ['Bob:available:none/participant:bob@localhost/pc:'], 'the moderator sees the real JID');

  // Presence updates are broadcast, with 110 to oneself; show/status are passed on.
  w.bob.send(`<presence to='${ROOM}/Bob'><show>away</show><status>brb</status></presence>`);
  await w.bob.settle();
  const upd = w.alice.received().filter((e) => e.name === 'presence');
  assert.equal([upd.map(pres), upd[0]!.getChildText('show'), upd[0]!.getChildText('status')], [['Bob:available:none/participant:bob@localhost/pc:'], 'away', 'brb']);
  assert.equal(presences(w.bob.received()), ['Bob:available:none/participant:-:110']);
  await done(w);
});

test('non-anonymous room: status 100 and everyone sees real JIDs', async () => {
  const w = await world({ defaultRoomConfig: { whois: 'anyone' } });
  await join(w.alice, `${ROOM}/Alice`);
  const got = await join(w.bob, `${ROOM}/Bob`);
  assert.equal(presences(got), ['Alice:available:owner/moderator:alice@localhost/phone:', 'Bob:available:none/participant:bob@localhost/pc:100,110']);
  await done(w);
});

test('entering refused: no nick (jid-malformed), nick in use (conflict), members-only (registration-required), banned (forbidden), password (not-authorized), full (service-unavailable)', async () => {
  const w = await world();
  await coven(w);
  const refused = async (c: TestClient, to: string, inner = '') => {
    const els = await join(c, to, inner);
    assert.equal(presences(els.filter((e) => e.attrs.type !== 'error')), [], `nothing but the error for ${to}`);
    const e = els.find((x) => x.name === 'presence' && x.attrs.type === 'error');
    assert.ok(e, `an error presence for ${to}`);
    assert.is(e!.attrs.from, to);
    return errorOf(e);
  };
  assert.is(await refused(w.carol, ROOM), 'jid-malformed');
  assert.is(await refused(w.carol, `${ROOM}/Bob`), 'conflict');
  assert.equal(w.bob.received(), [], 'the room is not disturbed');

  await configure(w.alice, { 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': 'cauldron' });
  w.alice.received();
  w.bob.received();
  assert.is(await refused(w.carol, `${ROOM}/Carol`), 'not-authorized');
  assert.is(await refused(w.carol, `${ROOM}/Carol`, '<password>toil</password>'), 'not-authorized');
  assert.equal(presences(await join(w.carol, `${ROOM}/Carol`, '<password>cauldron</password>')).at(-1), 'Carol:available:none/participant:-:110');
  w.carol.send(`<presence to='${ROOM}/Carol' type='unavailable'/>`);
  await w.carol.settle();

  await configure(w.alice, { 'muc#roomconfig_passwordprotectedroom': '0', 'muc#roomconfig_maxusers': '2' });
  for (const c of [w.alice, w.bob, w.carol]) c.received();
  assert.is(await refused(w.carol, `${ROOM}/Carol`), 'service-unavailable');

  await configure(w.alice, { 'muc#roomconfig_maxusers': '10', 'muc#roomconfig_membersonly': '1' });
  assert.is(await refused(w.carol, `${ROOM}/Carol`), 'registration-required');
  assert.is((await admin(w.alice, `<item affiliation='member' jid='carol@localhost'/>`)).attrs.type, 'result');
  assert.equal(presences(await join(w.carol, `${ROOM}/Carol`)).at(-1), 'Carol:available:member/participant:-:110');

  assert.is((await admin(w.alice, `<item affiliation='outcast' jid='carol@localhost'><reason>toad</reason></item>`)).attrs.type, 'result');
  w.carol.received();
  assert.is(await refused(w.carol, `${ROOM}/Carol`), 'forbidden');
  await done(w);
});

test('locked new rooms (lockNewRooms): others get item-not-found until the owner accepts the instant room; cancel destroys it', async () => {
  const w = await world({ lockNewRooms: true });
  const created = await join(w.alice, `${ROOM}/Alice`);
  assert.equal(presences(created), ['Alice:available:owner/moderator:alice@localhost/phone:110,201']);
  assert.is(errorOf((await join(w.bob, `${ROOM}/Bob`)).find((e) => e.name === 'presence')), 'item-not-found');
  const list = await iq(w.bob, 'get', MUC, `<query xmlns='${NS.DISCO_ITEMS}'/>`);
  assert.equal(list.getChild('query')!.getChildren('item'), [], 'a locked room is not listed');
  // §10.1.2 instant room.
  assert.is((await iq(w.alice, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query>`)).attrs.type, 'result');
  assert.equal(presences(await join(w.bob, `${ROOM}/Bob`)).at(-1), 'Bob:available:none/participant:-:110');

  await join(w.carol, `heath@${MUC}/Carol`);
  assert.is((await iq(w.carol, 'set', `heath@${MUC}`, `<query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query>`)).attrs.type, 'result');
  assert.equal(presences(w.carol.received()), ['Carol:unavailable:none/none:-:']);
  assert.is(errorOf(await iq(w.carol, 'get', `heath@${MUC}`, `<query xmlns='${NS.DISCO_INFO}'/>`)), 'item-not-found');
  await done(w);
});

test('two sessions of one user share a nick; another nick is separate; a nick change is 303 + the new presence; leaving is 110 to oneself', async () => {
  const w = await world();
  await coven(w);
  const laptop = await login(w.server, 'alice@localhost/laptop');
  const second = await join(laptop, `${ROOM}/Alice`);
  assert.equal(presences(second), ['Bob:available:none/participant:bob@localhost/pc:', 'Alice:available:owner/moderator:alice@localhost/phone:110']);
  assert.ok(second.some(isSubject));
  assert.equal(presences(w.bob.received()), [], 'the same occupant: nobody is told again');

  // Both sessions get groupchat messages, once each.
  await say(w.bob, 'hello');
  assert.equal(chats(w.alice.received()), ['Bob:hello']);
  assert.equal(chats(laptop.received()), ['Bob:hello']);

  // One session leaves: only it hears its unavailable; the occupant stays.
  laptop.send(`<presence to='${ROOM}/Alice' type='unavailable'/>`);
  await laptop.settle();
  assert.equal(presences(laptop.received()), ['Alice:unavailable:owner/none:alice@localhost/laptop:110']);
  assert.equal([presences(w.bob.received()), presences(w.alice.received())], [[], []]);

  // Nick change (§7.6).
  w.bob.send(`<presence to='${ROOM}/Robert'/>`);
  await w.bob.settle();
  const toBob = w.bob.received();
  assert.equal(presences(toBob), ['Bob:unavailable:none/none:-:110,303', 'Robert:available:none/participant:-:110']);
  assert.is(toBob[0]!.getChild('x', NS_MUC_USER)!.getChild('item')!.attrs.nick, 'Robert');
  assert.equal(presences(w.alice.received()), ['Bob:unavailable:none/none:bob@localhost/pc:303', 'Robert:available:none/participant:bob@localhost/pc:']);
  // A nick in use cannot be taken by a change either.
  w.bob.send(`<presence to='${ROOM}/Alice'/>`);
  await w.bob.settle();
  assert.is(errorOf(w.bob.expect((e) => e.name === 'presence')), 'conflict');

  // Leaving (§7.14): unavailable with status text to the others, 110 to oneself.
  w.bob.send(`<presence to='${ROOM}/Robert' type='unavailable'><status>bye</status></presence>`);
  await w.bob.settle();
  assert.equal(presences(w.bob.received()), ['Robert:unavailable:none/none:-:110']);
  const left = w.alice.received().filter((e) => e.name === 'presence');
  assert.equal([left.map(pres), left[0]!.getChildText('status')], [['Robert:unavailable:none/none:bob@localhost/pc:'], 'bye']);
  await done(w);
});

test('a session that ends (socket lost) leaves its rooms; the last occupant leaving a temporary room ends it', async () => {
  const w = await world();
  await coven(w);
  await join(w.carol, `${ROOM}/Carol`);
  w.alice.received();
  w.bob.received();
  w.carol.closeSocket();
  await w.alice.settle();
  assert.equal(presences(w.alice.received()), ['Carol:unavailable:none/none:carol@localhost/tab:']);
  assert.equal(presences(w.bob.received()), ['Carol:unavailable:none/none:-:']);
  // Logging out also leaves (the presence module's unavailable to the directed-presence target).
  w.bob.send('</stream:stream>');
  await w.alice.settle();
  assert.equal(presences(w.alice.received()), ['Bob:unavailable:none/none:bob@localhost/pc:']);
  w.alice.send(`<presence to='${ROOM}/Alice' type='unavailable'/>`);
  await w.alice.settle();
  assert.is(errorOf(await iq(w.alice, 'get', ROOM, `<query xmlns='${NS.DISCO_INFO}'/>`)), 'item-not-found', 'the temporary room is gone');
  await done(w);
});

test('a session removed without an unavailable presence (smRemoveConnection) leaves its rooms too', async () => {
  const w = await world();
  await coven(w);
  // As when a session is dropped without its presence module saying goodbye.
  await w.server.hooks.run(smRemoveConnection, 'localhost', undefined, { sid: 'x', jid: Jid.parse('bob@localhost/pc'), info: {} });
  await w.server.settle();
  assert.equal(presences(w.alice.received()), ['Bob:unavailable:none/none:bob@localhost/pc:']);
  await say(w.bob, 'ghost');
  assert.is(errorOf(w.bob.expect((e) => e.name === 'message')), 'not-acceptable');
  await done(w);
});

test('groupchat: broadcast to every occupant once with a stanza-id, kept in history and replayed with <delay/> (maxstanzas, seconds); non-occupants not-acceptable; visitors forbidden', async () => {
  const w = await world({ historySize: 3 });
  await coven(w);
  w.alice.send(`<message to='${ROOM}' type='groupchat' id='g1'><body>When shall we three meet again?</body><stanza-id xmlns='urn:xmpp:sid:0' id='fake' by='${ROOM}'/></message>`);
  await w.alice.settle();
  const [toBob] = w.bob.received();
  assert.equal([toBob!.attrs.from, toBob!.attrs.type, toBob!.attrs.id, toBob!.getChildText('body')], [`${ROOM}/Alice`, 'groupchat', 'g1', 'When shall we three meet again?']);
  const sids = toBob!.getChildren('stanza-id', NS.STANZA_ID);
  assert.is(sids.length, 1, 'the forged stanza-id is replaced');
  assert.ok(sids[0]!.attrs.by === ROOM && sids[0]!.attrs.id !== 'fake');
  assert.equal(chats(w.alice.received()), ['Alice:When shall we three meet again?'], 'the sender gets its reflection');

  for (const n of [2, 3, 4]) {
    w.server.clock.advance(60_000);
    await say(w.bob, `m${n}`);
  }
  w.alice.received();
  w.bob.received();
  const all = await join(w.carol, `${ROOM}/Carol`);
  assert.equal(chats(all), ['Bob:m2 (delayed)', 'Bob:m3 (delayed)', 'Bob:m4 (delayed)'], 'history_size 3 keeps the last three');
  const delay = all.find((e) => e.getChild('delay', NS.DELAY))!.getChild('delay', NS.DELAY)!;
  assert.is(delay.attrs.from, ROOM);
  assert.is(delay.attrs.stamp, new Date(w.server.clock.now() - 120_000).toISOString());
  const historyAt = all.findIndex((e) => e.getChild('delay', NS.DELAY));
  assert.ok(historyAt > all.findLastIndex((e) => e.name === 'presence') && historyAt < all.findIndex(isSubject), 'presences, history, subject');
  w.carol.send(`<presence to='${ROOM}/Carol' type='unavailable'/>`);
  await w.carol.settle();
  assert.equal(chats(await join(w.carol, `${ROOM}/Carol`, `<history maxstanzas='1'/>`)), ['Bob:m4 (delayed)']);
  w.carol.send(`<presence to='${ROOM}/Carol' type='unavailable'/>`);
  await w.carol.settle();
  assert.equal(chats(await join(w.carol, `${ROOM}/Carol`, `<history seconds='90'/>`)), ['Bob:m3 (delayed)', 'Bob:m4 (delayed)']);
  w.carol.send(`<presence to='${ROOM}/Carol' type='unavailable'/>`);
  await w.carol.settle();
  assert.equal(chats(await join(w.carol, `${ROOM}/Carol`, `<history maxchars='0'/>`)), []);
  w.carol.send(`<presence to='${ROOM}/Carol' type='unavailable'/>`);
  await w.carol.settle();
  for (const c of [w.alice, w.bob, w.carol]) c.received();

  // Not an occupant (§7.4); not groupchat to the bare room.
  await say(w.carol, 'let me in');
  assert.is(errorOf(w.carol.expect((e) => e.name === 'message')), 'not-acceptable');
  await say(w.bob, 'psst', ROOM, 'chat');
  assert.is(errorOf(w.bob.expect((e) => e.name === 'message')), 'bad-request');
  assert.equal(chats(w.alice.received()), []);

  // Moderated: a newcomer without affiliation is a visitor and may not speak; voice is granted by a moderator.
  await configure(w.alice, { 'muc#roomconfig_moderatedroom': '1' });
  const joined = await join(w.carol, `${ROOM}/Carol`);
  assert.equal(presences(joined).at(-1), 'Carol:available:none/visitor:-:110');
  await say(w.carol, 'may I?');
  assert.is(errorOf(w.carol.expect((e) => e.name === 'message' && e.attrs.type === 'error')), 'forbidden');
  assert.is((await admin(w.alice, `<item nick='Carol' role='participant'/>`)).attrs.type, 'result');
  assert.equal(presences(w.carol.received()), ['Carol:available:none/participant:-:110']);
  await say(w.carol, 'thanks');
  assert.equal(chats(w.bob.received()), ['Carol:thanks']);
  await done(w);
});

test('subject: moderators change it (or anyone with changesubject); newcomers get it from its setter', async () => {
  const w = await world();
  await coven(w);
  w.bob.send(`<message to='${ROOM}' type='groupchat' id='s1'><subject>Mine</subject></message>`);
  await w.bob.settle();
  assert.is(errorOf(w.bob.expect((e) => e.attrs.id === 's1')), 'forbidden');
  w.alice.send(`<message to='${ROOM}' type='groupchat' id='s2'><subject>Fire burn</subject></message>`);
  await w.alice.settle();
  const s = w.bob.expect(isSubject);
  assert.equal([s.attrs.from, s.getChildText('subject')], [`${ROOM}/Alice`, 'Fire burn']);
  const joined = await join(w.carol, `${ROOM}/Carol`);
  const cs = joined.find(isSubject)!;
  assert.equal([cs.attrs.from, cs.getChildText('subject')], [`${ROOM}/Alice`, 'Fire burn']);
  assert.equal(chats(joined), [], 'a subject change is not history');
  await configure(w.alice, { 'muc#roomconfig_changesubject': '1' });
  for (const c of [w.alice, w.carol]) c.received();
  w.carol.send(`<message to='${ROOM}' type='groupchat' id='s3'><subject>and cauldron bubble</subject></message>`);
  await w.carol.settle();
  assert.is(w.alice.received().find(isSubject)?.getChildText('subject'), 'and cauldron bubble');
  await done(w);
});

test('private messages: from room/nick to every session of the target, type chat kept; unknown nick item-not-found; non-occupant not-acceptable; groupchat type bad-request', async () => {
  const w = await world();
  await coven(w);
  w.bob.send(`<message to='${ROOM}/Alice' type='chat' id='pm1'><body>psst</body></message>`);
  await w.bob.settle();
  const pm = w.alice.expect((e) => e.name === 'message');
  assert.equal([pm.attrs.from, pm.attrs.to, pm.attrs.type, pm.attrs.id, pm.getChildText('body')], [`${ROOM}/Bob`, 'alice@localhost/phone', 'chat', 'pm1', 'psst']);
  assert.ok(pm.getChild('x', NS_MUC_USER));
  await say(w.bob, 'x', `${ROOM}/Nobody`, 'chat');
  assert.is(errorOf(w.bob.expect((e) => e.name === 'message')), 'item-not-found');
  await say(w.carol, 'x', `${ROOM}/Alice`, 'chat');
  assert.is(errorOf(w.carol.expect((e) => e.name === 'message')), 'not-acceptable');
  await say(w.bob, 'x', `${ROOM}/Alice`, 'groupchat');
  assert.is(errorOf(w.bob.expect((e) => e.name === 'message')), 'bad-request');
  assert.equal(w.alice.received(), []);
  await done(w);
});

test('owner: the configuration form (owners only), changes announced with 104, members-only removes non-members (322), destroy with reason and alternate venue', async () => {
  const w = await world();
  await coven(w);
  assert.is(errorOf(await iq(w.bob, 'get', ROOM, `<query xmlns='${NS_MUC_OWNER}'/>`)), 'forbidden');
  assert.is(errorOf(await configure(w.bob, { 'muc#roomconfig_roomname': 'Mine' })), 'forbidden');
  const form = (await iq(w.alice, 'get', ROOM, `<query xmlns='${NS_MUC_OWNER}'/>`)).getChild('query', NS_MUC_OWNER)!.getChild('x', 'jabber:x:data')!;
  assert.is(form.attrs.type, 'form');
  const vars = form.getChildren('field').map((f) => f.attrs.var);
  for (const v of ['FORM_TYPE', 'muc#roomconfig_roomname', 'muc#roomconfig_roomdesc', 'muc#roomconfig_persistentroom', 'muc#roomconfig_publicroom', 'muc#roomconfig_membersonly', 'muc#roomconfig_moderatedroom', 'muc#roomconfig_whois', 'muc#roomconfig_passwordprotectedroom', 'muc#roomconfig_roomsecret', 'muc#roomconfig_maxusers', 'muc#roomconfig_changesubject', 'muc#roomconfig_allowinvites', 'muc#roomconfig_enablelogging']) {
    assert.ok(vars.includes(v), v);
  }
  assert.is(errorOf(await configure(w.alice, { 'muc#roomconfig_whois': 'everybody' })), 'bad-request');
  assert.is(errorOf(await configure(w.alice, { 'muc#roomconfig_maxusers': '100000' })), 'not-acceptable');
  assert.is(errorOf(await configure(w.alice, { 'muc#roomconfig_enablelogging': '1' })), 'not-acceptable');
  w.alice.received();

  assert.is((await configure(w.alice, { 'muc#roomconfig_membersonly': '1' })).attrs.type, 'result');
  assert.equal(presences(w.bob.received()), ['Bob:unavailable:none/none:-:110,322']);
  const toAlice = w.alice.received();
  assert.equal(presences(toAlice), ['Bob:unavailable:none/none:bob@localhost/pc:322']);
  assert.ok(toAlice.some((e) => e.name === 'message' && e.getChild('x', NS_MUC_USER)?.getChild('status')?.attrs.code === '104'));

  await admin(w.alice, `<item affiliation='member' jid='bob@localhost'/>`);
  await join(w.bob, `${ROOM}/Bob`);
  w.alice.received();
  assert.is(errorOf(await iq(w.bob, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'><destroy/></query>`)), 'forbidden');
  assert.is((await iq(w.alice, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'><destroy jid='heath@${MUC}'><reason>Macbeth doth come</reason></destroy></query>`)).attrs.type, 'result');
  const gone = w.bob.expect((e) => e.name === 'presence');
  assert.equal(pres(gone), 'Bob:unavailable:none/none:-:');
  const d = gone.getChild('x', NS_MUC_USER)!.getChild('destroy')!;
  assert.equal([d.attrs.jid, d.getChildText('reason')], [`heath@${MUC}`, 'Macbeth doth come']);
  assert.is(errorOf(await iq(w.alice, 'get', ROOM, `<query xmlns='${NS.DISCO_INFO}'/>`)), 'item-not-found');
  await done(w);
});

test('persistent rooms: configuration, affiliations and subject survive a restart through the MucStore; destroy deletes the stored room', async () => {
  const storage = memoryStorage();
  let w = await world({}, storage);
  await coven(w);
  await configure(w.alice, { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_roomname': 'A Dark Cave', 'muc#roomconfig_membersonly': '1' });
  await admin(w.alice, `<item affiliation='member' jid='carol@localhost'/>`);
  w.alice.send(`<message to='${ROOM}' type='groupchat' id='s'><subject>Fire burn</subject></message>`);
  await w.alice.settle();
  const stored = await storage.muc.getRoom('localhost', MUC, 'coven');
  assert.ok(stored, 'saved');
  assert.equal(stored!.affiliations.map((a) => `${a.jid}:${a.affiliation}`), ['alice@localhost:owner', 'carol@localhost:member']);
  assert.is(stored!.config['muc#roomconfig_roomname'], 'A Dark Cave');
  // Everybody leaves: a persistent room stays.
  for (const [c, n] of [[w.alice, 'Alice'], [w.bob, 'Bob']] as const) c.send(`<presence to='${ROOM}/${n}' type='unavailable'/>`);
  await w.alice.settle();
  await done(w);

  w = await world({}, storage);
  const list = await iq(w.bob, 'get', MUC, `<query xmlns='${NS.DISCO_ITEMS}'/>`);
  assert.equal(list.getChild('query')!.getChildren('item').map((i) => `${i.attrs.jid}|${i.attrs.name}`), [`${ROOM}|A Dark Cave`]);
  assert.is(errorOf((await join(w.bob, `${ROOM}/Bob`)).find((e) => e.name === 'presence')), 'registration-required', 'still members-only');
  const carol = await join(w.carol, `${ROOM}/Carol`);
  assert.equal(presences(carol), ['Carol:available:member/participant:-:110'], 'no 201: the room exists');
  assert.is(carol.find(isSubject)!.getChildText('subject'), 'Fire burn');
  assert.equal(presences(await join(w.alice, `${ROOM}/Alice`)).at(-1), 'Alice:available:owner/moderator:alice@localhost/phone:110');
  await iq(w.alice, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'><destroy/></query>`);
  assert.is(await storage.muc.getRoom('localhost', MUC, 'coven'), undefined);
  await done(w);
});

test('SQLite: a persistent room keeps its name, owner, members-only setting and subject across a restart', async () => {
  const dir = await mkdtemp(joinPath(tmpdir(), 'xb-muc-'));
  try {
    const path = joinPath(dir, 'xmpp.sqlite');
    let storage = sqliteStorage({ path });
    let w = await world({ defaultRoomConfig: { persistent: true } }, storage);
    await join(w.alice, `${ROOM}/Alice`);
    await configure(w.alice, { 'muc#roomconfig_roomname': 'A Dark Cave', 'muc#roomconfig_membersonly': '1' });
    await admin(w.alice, `<item affiliation='member' jid='bob@localhost'/>`);
    w.alice.send(`<message to='${ROOM}' type='groupchat' id='s'><subject>Fire burn</subject></message>`);
    await w.alice.settle();
    await done(w);
    await storage.close();

    storage = sqliteStorage({ path });
    w = await world({}, storage);
    assert.is(errorOf((await join(w.carol, `${ROOM}/Carol`)).find((e) => e.name === 'presence')), 'registration-required');
    const bob = await join(w.bob, `${ROOM}/Bob`);
    assert.equal(presences(bob), ['Bob:available:member/participant:-:110']);
    assert.is(bob.find(isSubject)!.getChildText('subject'), 'Fire burn');
    const info = (await iq(w.bob, 'get', ROOM, `<query xmlns='${NS.DISCO_INFO}'/>`)).getChild('query')!;
    assert.is(info.getChild('identity')!.attrs.name, 'A Dark Cave');
    assert.equal(presences(await join(w.alice, `${ROOM}/Alice`)).at(-1), 'Alice:available:owner/moderator:alice@localhost/phone:110');
    await done(w);
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('admin: kick (307, moderators only, never an admin), ban (301, jid list for admins), voice, owner lists for owners, the last owner stays', async () => {
  const w = await world();
  await coven(w);
  await join(w.carol, `${ROOM}/Carol`);
  for (const c of [w.alice, w.bob]) c.received();

  assert.is(errorOf(await admin(w.bob, `<item nick='Carol' role='none'/>`)), 'forbidden', 'a participant may not kick');
  assert.is(errorOf(await admin(w.alice, `<item nick='Nobody' role='none'/>`)), 'item-not-found');
  assert.is((await admin(w.alice, `<item nick='Carol' role='none'><reason>Avaunt!</reason></item>`)).attrs.type, 'result');
  const kicked = w.carol.expect((e) => e.name === 'presence');
  assert.is(pres(kicked), 'Carol:unavailable:none/none:-:110,307');
  const item = kicked.getChild('x', NS_MUC_USER)!.getChild('item')!;
  assert.equal([item.getChildText('reason'), item.getChild('actor')?.attrs.nick], ['Avaunt!', 'Alice']);
  assert.equal(presences(w.bob.received()), ['Carol:unavailable:none/none:-:307']);
  await say(w.carol, 'still here?');
  assert.is(errorOf(w.carol.expect((e) => e.name === 'message')), 'not-acceptable', 'kicked: not an occupant any more');

  // Ban: the occupant is removed with 301; the outcast list shows it to admins only.
  await join(w.carol, `${ROOM}/Carol`);
  for (const c of [w.alice, w.bob]) c.received();
  assert.is(errorOf(await admin(w.bob, `<item affiliation='outcast' jid='carol@localhost'/>`)), 'forbidden');
  assert.is((await admin(w.alice, `<item affiliation='outcast' jid='carol@localhost'><reason>Toad</reason></item>`)).attrs.type, 'result');
  assert.equal(presences(w.carol.received()), ['Carol:unavailable:outcast/none:-:110,301']);
  assert.equal(presences(w.bob.received()), ['Carol:unavailable:outcast/none:-:301']);
  const outcasts = (await iq(w.alice, 'get', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item affiliation='outcast'/></query>`)).getChild('query')!.getChildren('item');
  assert.equal(outcasts.map((i) => `${i.attrs.jid}:${i.attrs.affiliation}:${i.getChildText('reason')}`), ['carol@localhost:outcast:Toad']);
  assert.is(errorOf(await iq(w.bob, 'get', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item affiliation='outcast'/></query>`)), 'forbidden');

  // Admin and owner grants: by owners only; an admin is a moderator who cannot be kicked.
  assert.is((await admin(w.alice, `<item affiliation='admin' jid='bob@localhost'/>`)).attrs.type, 'result');
  assert.equal(presences(w.bob.received()), ['Bob:available:admin/moderator:bob@localhost/pc:110']);
  assert.is(errorOf(await admin(w.bob, `<item affiliation='owner' jid='bob@localhost'/>`)), 'forbidden');
  assert.is(errorOf(await admin(w.bob, `<item nick='Alice' role='none'/>`)), 'not-allowed');
  assert.is(errorOf(await iq(w.bob, 'get', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item affiliation='owner'/></query>`)), 'forbidden');
  const owners = (await iq(w.alice, 'get', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item affiliation='owner'/></query>`)).getChild('query')!.getChildren('item');
  assert.equal(owners.map((i) => i.attrs.jid), ['alice@localhost']);
  const mods = (await iq(w.bob, 'get', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item role='moderator'/></query>`)).getChild('query')!.getChildren('item');
  assert.equal(mods.map((i) => i.attrs.nick).sort(), ['Alice', 'Bob']);
  // §10.6: the only owner cannot step down.
  assert.is(errorOf(await admin(w.alice, `<item affiliation='member' jid='alice@localhost'/>`)), 'conflict');
  // Revoking admin: back to participant.
  w.alice.received();
  assert.is((await admin(w.alice, `<item affiliation='none' jid='bob@localhost'/>`)).attrs.type, 'result');
  assert.equal(presences(w.bob.received()), ['Bob:available:none/participant:-:110']);
  assert.is(errorOf(await admin(w.alice, `<item role='participant'/>`)), 'item-not-found');
  assert.is(errorOf(await admin(w.alice, `<item affiliation='member'/>`)), 'bad-request');
  assert.is(errorOf(await admin(w.alice, '')), 'bad-request');
  await done(w);
});

test('members-only: removing a member removes the occupant (321); mediated invitations make members when allowed; declines go back to the inviter', async () => {
  const w = await world();
  await coven(w);
  await configure(w.alice, { 'muc#roomconfig_membersonly': '1' });
  for (const c of [w.alice, w.bob]) c.received();
  await admin(w.alice, `<item affiliation='member' jid='bob@localhost'/>`);
  await join(w.bob, `${ROOM}/Bob`);
  w.alice.received();

  // A participant may not invite (allowinvites off); the owner may, and the invitee becomes a member.
  w.bob.send(`<message to='${ROOM}' id='inv1'><x xmlns='${NS_MUC_USER}'><invite to='carol@localhost'/></x></message>`);
  await w.bob.settle();
  assert.is(errorOf(w.bob.expect((e) => e.attrs.id === 'inv1')), 'forbidden');
  assert.equal(w.carol.received(), []);
  w.alice.send(`<message to='${ROOM}' id='inv2'><x xmlns='${NS_MUC_USER}'><invite to='carol@localhost'><reason>Hail!</reason></invite></x></message>`);
  await w.alice.settle();
  const invite = w.carol.expect((e) => e.name === 'message');
  assert.is(invite.attrs.from, ROOM);
  const inv = invite.getChild('x', NS_MUC_USER)!.getChild('invite')!;
  assert.equal([inv.attrs.from, inv.getChildText('reason')], ['alice@localhost', 'Hail!']);
  assert.equal(presences(await join(w.carol, `${ROOM}/Carol`)).at(-1), 'Carol:available:member/participant:-:110');
  for (const c of [w.alice, w.bob]) c.received();

  // Declining (carol already joined, the decline needs no occupancy).
  w.carol.send(`<message to='${ROOM}'><x xmlns='${NS_MUC_USER}'><decline to='alice@localhost'><reason>Busy</reason></decline></x></message>`);
  await w.carol.settle();
  const decline = w.alice.expect((e) => e.name === 'message').getChild('x', NS_MUC_USER)!.getChild('decline')!;
  assert.equal([decline.attrs.from, decline.getChildText('reason')], ['carol@localhost', 'Busy']);

  // Removing carol's membership takes her out.
  assert.is((await admin(w.alice, `<item affiliation='none' jid='carol@localhost'/>`)).attrs.type, 'result');
  assert.equal(presences(w.carol.received()), ['Carol:unavailable:none/none:-:110,321']);
  assert.equal(presences(w.bob.received()), ['Carol:unavailable:none/none:-:321']);
  // allowinvites lets participants invite too.
  await configure(w.alice, { 'muc#roomconfig_allowinvites': '1' });
  w.bob.send(`<message to='${ROOM}'><x xmlns='${NS_MUC_USER}'><invite to='carol@localhost'/></x></message>`);
  await w.bob.settle();
  assert.ok(w.carol.received().some((e) => e.getChild('x', NS_MUC_USER)?.getChild('invite')));
  const members = (await iq(w.alice, 'get', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item affiliation='member'/></query>`)).getChild('query')!.getChildren('item');
  assert.equal(members.map((i) => i.attrs.jid), ['bob@localhost', 'carol@localhost']);
  await done(w);
});

test('account and domain removal: affiliations dropped (stored and live); the service domain loses its rooms', async () => {
  const storage = memoryStorage();
  const w = await world({}, storage);
  await coven(w);
  await configure(w.alice, { 'muc#roomconfig_persistentroom': '1' });
  await admin(w.alice, `<item affiliation='outcast' jid='carol@localhost'/>`);
  const r = await w.server.hooks.run(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('carol@localhost') });
  assert.equal(r.acc.failed, []);
  assert.equal((await storage.muc.getRoom('localhost', MUC, 'coven'))!.affiliations.map((a) => a.jid), ['alice@localhost']);
  assert.equal(presences(await join(w.carol, `${ROOM}/Carol`)).at(-1), 'Carol:available:none/participant:-:110', 'no longer banned');
  w.bob.received();
  const d = await w.server.hooks.run(removeDomain, 'localhost', { failed: [] }, { domain: MUC });
  await w.server.settle();
  assert.equal(d.acc.failed, []);
  assert.ok(w.bob.received().some((e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.getChild('x', NS_MUC_USER)?.getChild('destroy')));
  assert.is(await storage.muc.getRoom('localhost', MUC, 'coven'), undefined);
  assert.is(errorOf(await iq(w.bob, 'get', ROOM, `<query xmlns='${NS.DISCO_INFO}'/>`)), 'item-not-found');
  await done(w);
});

test('robustness: bad input gets the right errors and the room keeps working', async () => {
  const w = await world({ maxNickLength: 5, maxRooms: 1 });
  await coven(w);
  assert.is(errorOf((await join(w.carol, `${ROOM}/Carolina`)).find((e) => e.name === 'presence')), 'not-acceptable', 'nick too long');
  assert.is(errorOf((await join(w.carol, `heath@${MUC}/Carol`)).find((e) => e.name === 'presence')), 'resource-constraint', 'maxRooms');
  assert.is(errorOf(await iq(w.bob, 'get', ROOM, `<query xmlns='jabber:iq:version'/>`)), 'service-unavailable');
  assert.is(errorOf(await iq(w.bob, 'set', MUC, `<query xmlns='jabber:iq:register'/>`)), 'service-unavailable');
  assert.is(errorOf(await iq(w.bob, 'get', ROOM, '')), 'bad-request');
  assert.is(errorOf(await iq(w.bob, 'set', ROOM, `<query xmlns='${NS_MUC_ADMIN}'><item nick='Bob' role='king'/></query>`)), 'bad-request');
  assert.is(errorOf(await iq(w.alice, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'/>`)), 'bad-request');
  assert.is(errorOf(await iq(w.alice, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x></query>`)), 'bad-request');
  assert.is(errorOf(await iq(w.alice, 'set', ROOM, `<query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_persistentroom'><value>maybe</value></field></x></query>`)), 'bad-request');
  w.alice.send(`<message to='${ROOM}' id='i'><x xmlns='${NS_MUC_USER}'><invite/></x></message>`);
  w.alice.send(`<message to='${ROOM}' type='error' id='e'><body>x</body></message>`);
  w.alice.send(`<presence to='${ROOM}/Alice' type='probe'/>`);
  w.alice.send(`<presence to='${MUC}'/>`);
  w.bob.send(`<iq type='result' id='r' to='${ROOM}'/>`);
  // XEP-0410 self-ping answered by the room; a non-occupant is told it is not in.
  w.bob.send(`<iq type='get' id='ping1' to='${ROOM}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`);
  w.carol.send(`<iq type='get' id='ping2' to='${ROOM}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await w.alice.settle();
  assert.is(errorOf(w.alice.expect((e) => e.attrs.id === 'i')), 'jid-malformed');
  assert.is(w.bob.expect((e) => e.attrs.id === 'ping1').attrs.type, 'result');
  assert.is(errorOf(w.carol.expect((e) => e.attrs.id === 'ping2')), 'not-acceptable');
  assert.equal(w.alice.received(), [], 'errors, probes and presences to the service are not answered');
  await say(w.bob, 'still fine');
  assert.equal(chats(w.alice.received()), ['Bob:still fine']);
  await done(w);
});

test.run();
