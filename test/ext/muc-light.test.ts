// MUC Light (MongooseIM's urn:xmpp:muclight:0) as stanza conversations between three users and
// the muclight.localhost service: service disco, room creation (named, generated, conflict) and
// the creation notifications, versioned gets, configuration and affiliation changes with their
// notifications (owner hand-over, leaving, all_can_invite/all_can_configure), groupchat
// broadcast, destruction, blocking, account removal, and rooms surviving a restart on SQLite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NS } from '../../src/core/namespaces.ts';
import { Jid } from '../../src/core/jid.ts';
import { removeDomain, removeUser } from '../../src/core/server-hooks.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';
import type { Storage } from '../../src/core/storage/storage.ts';
import { mucLight, type MucLightOptions } from '../../src/ext/muc-light/index.ts';
import { disco } from '../../src/ext/disco/index.ts';
import { sqliteStorage } from '../../src/storage/sqlite/index.ts';
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';

const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const MUC = 'muclight.localhost';
const NS_ML = 'urn:xmpp:muclight:0';
const COVEN = `coven@${MUC}`;

interface World {
  server: TestServer;
  alice: TestClient;
  bob: TestClient;
  carol: TestClient;
}

async function world(options: Partial<MucLightOptions> = {}, storage?: Storage): Promise<World> {
  const server = await createTestServer({ users: USERS, modules: [disco, { module: mucLight, options }], storage });
  const login = async (jid: string, pw: string) => {
    const c = server.connect();
    await c.login(jid, pw);
    return c;
  };
  return { server, alice: await login('alice@localhost/phone', 'a'), bob: await login('bob@localhost/pc', 'b'), carol: await login('carol@localhost/tab', 'c') };
}

async function done(w: World): Promise<void> {
  assert.equal(w.server.hookErrors, []);
  await w.server.stop();
}

/** Send an IQ (its `id` attribute is required) and return the answer; the inbox keeps the rest. */
async function iq(c: TestClient, stanza: string): Promise<XmlElement> {
  const id = /id='([^']+)'/.exec(stanza)![1];
  c.send(stanza);
  await c.settle();
  return c.expect((e) => e.name === 'iq' && e.attrs.id === id, `answer to ${id}`);
}

function errorOf(el: XmlElement): string | undefined {
  if (el.attrs.type !== 'error') return undefined;
  return el.getChild('error')?.elements().find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;
}

const users = (parent: XmlElement | undefined) => (parent?.getChildren('user') ?? []).map((u) => `${u.text()}:${u.attrs.affiliation}`);

interface Notice {
  from: string;
  to: string;
  id: string;
  prev: string | undefined;
  version: string | undefined;
  users: string[];
  destroy: boolean;
}

/** Affiliation notifications received (removed from the inbox). */
function affNotices(c: TestClient): Notice[] {
  const out: Notice[] = [];
  const is = (e: XmlElement) => e.name === 'message' && e.getChild('x', `${NS_ML}#affiliations`) !== undefined;
  for (let e = c.nextElement(is); e; e = c.nextElement(is)) {
    assert.is(e.attrs.type, 'groupchat');
    assert.ok(e.getChild('body'), 'notifications carry an empty <body/>');
    const x = e.getChild('x', `${NS_ML}#affiliations`)!;
    out.push({
      from: e.attrs.from!,
      to: e.attrs.to!,
      id: e.attrs.id!,
      prev: x.getChildText('prev-version'),
      version: x.getChildText('version'),
      users: users(x),
      destroy: e.getChild('x', `${NS_ML}#destroy`) !== undefined,
    });
  }
  return out;
}

/** Configuration notifications received, as `field=value` lists with versions. */
function configNotices(c: TestClient): { prev?: string; version?: string; fields: string[] }[] {
  const out: { prev?: string; version?: string; fields: string[] }[] = [];
  const is = (e: XmlElement) => e.name === 'message' && e.getChild('x', `${NS_ML}#configuration`) !== undefined;
  for (let e = c.nextElement(is); e; e = c.nextElement(is)) {
    const x = e.getChild('x', `${NS_ML}#configuration`)!;
    out.push({
      prev: x.getChildText('prev-version'),
      version: x.getChildText('version'),
      fields: x.elements().filter((f) => f.name !== 'version' && f.name !== 'prev-version').map((f) => `${f.name}=${f.text()}`),
    });
  }
  return out;
}

/** Groupchat messages with a body, as `from>to:id:body`. */
function chats(c: TestClient): string[] {
  const out: string[] = [];
  const is = (e: XmlElement) => e.name === 'message' && e.attrs.type === 'groupchat' && e.getChildText('body') !== undefined && e.getChildText('body') !== '';
  for (let e = c.nextElement(is); e; e = c.nextElement(is)) out.push(`${e.attrs.from}>${e.attrs.to}:${e.attrs.id}:${e.getChildText('body')}`);
  return out;
}

let seq = 0;
async function create(c: TestClient, to: string, occupants: Record<string, string> = {}, config = `<roomname>A Dark Cave</roomname>`): Promise<XmlElement> {
  const occ = Object.entries(occupants).map(([j, a]) => `<user affiliation='${a}'>${j}</user>`).join('');
  return iq(c, `<iq type='set' id='create-${++seq}' to='${to}'><query xmlns='${NS_ML}#create'><configuration>${config}</configuration><occupants>${occ}</occupants></query></iq>`);
}

async function affiliate(c: TestClient, room: string, changes: Record<string, string>, id = `aff-${++seq}`): Promise<XmlElement> {
  const items = Object.entries(changes).map(([j, a]) => `<user affiliation='${a}'>${j}</user>`).join('');
  return iq(c, `<iq type='set' id='${id}' to='${room}'><query xmlns='${NS_ML}#affiliations'>${items}</query></iq>`);
}

async function info(c: TestClient, room: string, version = ''): Promise<XmlElement> {
  return iq(c, `<iq type='get' id='info-${++seq}' to='${room}'><query xmlns='${NS_ML}#info'><version>${version}</version></query></iq>`);
}

async function occupantsOf(c: TestClient, room: string): Promise<string[]> {
  return users((await info(c, room)).getChild('query')!.getChild('occupants'));
}

/** Alice creates coven with bob and carol as members; everybody's inbox is emptied. */
async function coven(w: World, occupants: Record<string, string> = { 'bob@localhost': 'member', 'carol@localhost': 'member' }): Promise<void> {
  const r = await create(w.alice, COVEN, occupants);
  assert.is(r.attrs.type, 'result');
  for (const c of [w.alice, w.bob, w.carol]) c.received();
}

test('service discovery: the server lists the service; disco#info of the service; disco#items lists my rooms with versions, paged by RSM', async () => {
  const w = await world();
  const items = await iq(w.alice, `<iq type='get' id='d1' to='localhost'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
  assert.ok(items.getChild('query')!.getChildren('item').some((i) => i.attrs.jid === MUC), 'server disco#items has the MUC Light service');

  const infoRes = await iq(w.alice, `<iq type='get' id='d2' to='${MUC}'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
  assert.is(infoRes.attrs.from, MUC);
  const q = infoRes.getChild('query', NS.DISCO_INFO)!;
  const id = q.getChild('identity')!;
  assert.equal([id.attrs.category, id.attrs.type], ['conference', 'text']);
  assert.ok(q.getChildren('feature').some((f) => f.attrs.var === NS_ML));

  const empty = await iq(w.alice, `<iq type='get' id='d3' to='${MUC}'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
  assert.equal(empty.getChild('query')!.getChildren('item'), []);

  await create(w.alice, `heath@${MUC}`, {}, '<roomname>A Lonely Heath</roomname>');
  await create(w.alice, COVEN, { 'bob@localhost': 'member' });
  await create(w.bob, `forres@${MUC}`, {});
  const mine = await iq(w.alice, `<iq type='get' id='d4' to='${MUC}'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
  const list = mine.getChild('query')!.getChildren('item');
  assert.equal(list.map((i) => `${i.attrs.jid}|${i.attrs.name}`), [`${COVEN}|A Dark Cave`, `heath@${MUC}|A Lonely Heath`]);
  const covenVersion = (await info(w.alice, COVEN)).getChild('query')!.getChildText('version');
  assert.is(list[0]!.attrs.version, covenVersion);

  const page = await iq(w.alice, `<iq type='get' id='d5' to='${MUC}'><query xmlns='${NS.DISCO_ITEMS}'><set xmlns='${NS.RSM}'><max>1</max></set></query></iq>`);
  const pq = page.getChild('query')!;
  assert.equal(pq.getChildren('item').map((i) => i.attrs.jid), [COVEN]);
  const set = pq.getChild('set', NS.RSM)!;
  assert.equal([set.getChildText('first'), set.getChild('first')!.attrs.index, set.getChildText('last'), set.getChildText('count')], [COVEN, '0', COVEN, '2']);
  const page2 = await iq(w.alice, `<iq type='get' id='d6' to='${MUC}'><query xmlns='${NS.DISCO_ITEMS}'><set xmlns='${NS.RSM}'><max>1</max><after>${COVEN}</after></set></query></iq>`);
  assert.equal(page2.getChild('query')!.getChildren('item').map((i) => i.attrs.jid), [`heath@${MUC}`]);
  await done(w);
});

test('create: every occupant is told its own affiliation and the version before the result; the name is then taken (conflict)', async () => {
  const w = await world();
  w.alice.send(`<iq type='set' id='create1' to='${COVEN}'><query xmlns='${NS_ML}#create'><configuration><roomname>A Dark Cave</roomname></configuration><occupants><user affiliation='member'>bob@localhost</user><user affiliation='member'>carol@localhost</user></occupants></query></iq>`);
  await w.alice.settle();
  const all = w.alice.received();
  const noteAt = all.findIndex((e) => e.name === 'message');
  const resultAt = all.findIndex((e) => e.name === 'iq' && e.attrs.id === 'create1');
  assert.ok(noteAt >= 0 && resultAt > noteAt, 'notification first, then the result (§5.1)');
  const result = all[resultAt]!;
  assert.equal([result.attrs.type, result.attrs.from], ['result', COVEN]);
  const note = all[noteAt]!.getChild('x', `${NS_ML}#affiliations`)!;
  assert.equal([all[noteAt]!.attrs.from, all[noteAt]!.attrs.to, all[noteAt]!.attrs.id], [COVEN, 'alice@localhost', 'create1']);
  assert.equal(users(note), ['alice@localhost:owner']);
  assert.is(note.getChild('prev-version'), undefined, 'no prev-version on creation');
  const version = note.getChildText('version')!;
  assert.ok(version);

  for (const [c, me] of [[w.bob, 'bob@localhost'], [w.carol, 'carol@localhost']] as const) {
    assert.equal(affNotices(c), [{ from: COVEN, to: me, id: 'create1', prev: undefined, version, users: [`${me}:member`], destroy: false }]);
  }
  const conf = await create(w.bob, COVEN, {});
  assert.is(errorOf(conf), 'conflict');
  assert.is(conf.attrs.from, COVEN);
  assert.equal(affNotices(w.alice), []);
  // The creator must not be in the list, nor anyone with affiliation none.
  assert.is(errorOf(await create(w.bob, `other@${MUC}`, { 'bob@localhost': 'member' })), 'bad-request');
  assert.is(errorOf(await create(w.bob, `other@${MUC}`, { 'carol@localhost': 'none' })), 'bad-request');
  // Unknown configuration fields are refused.
  assert.is(errorOf(await create(w.bob, `other@${MUC}`, {}, '<colour>red</colour>')), 'bad-request');
  await done(w);
});

test('create with a generated name: the request goes to the service, the room JID arrives in the notification, the result comes from the service', async () => {
  const w = await world();
  w.alice.send(`<iq type='set' id='createrandom' to='${MUC}'><query xmlns='${NS_ML}#create'><configuration><roomname>Random Cave</roomname></configuration><occupants><user affiliation='owner'>bob@localhost</user></occupants></query></iq>`);
  await w.alice.settle();
  const res = w.alice.expect((e) => e.name === 'iq' && e.attrs.id === 'createrandom');
  assert.equal([res.attrs.type, res.attrs.from], ['result', MUC]);
  const [mine] = affNotices(w.alice);
  const room = Jid.parse(mine!.from);
  assert.is(room.domain, MUC);
  assert.ok(room.local.length > 0 && room.resource === '');
  assert.is(mine!.id, 'createrandom');
  // bob was made owner in the request: alice, the creator, is then a member.
  assert.equal(mine!.users, ['alice@localhost:member']);
  assert.equal(affNotices(w.bob).map((n) => [n.from, n.users]), [[mine!.from, ['bob@localhost:owner']]]);
  // A second one gets another name.
  await create(w.alice, MUC, {});
  const [second] = affNotices(w.alice);
  assert.ok(second!.from !== mine!.from);
  await done(w);
});

test('info, configuration and affiliations gets: members only; the current version gets an empty result', async () => {
  const w = await world();
  await coven(w, { 'bob@localhost': 'member' });
  const full = await info(w.bob, COVEN);
  const q = full.getChild('query', `${NS_ML}#info`)!;
  const version = q.getChildText('version')!;
  assert.ok(version);
  assert.equal(q.getChild('configuration')!.elements().map((e) => `${e.name}=${e.text()}`), ['roomname=A Dark Cave', 'subject=']);
  assert.equal(users(q.getChild('occupants')), ['alice@localhost:owner', 'bob@localhost:member']);

  const same = await info(w.bob, COVEN, version);
  assert.is(same.attrs.type, 'result');
  assert.equal(same.elements(), [], 'same version: nothing changed, nothing sent');

  const cfg = await iq(w.bob, `<iq type='get' id='c1' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><version>stale</version></query></iq>`);
  const cq = cfg.getChild('query', `${NS_ML}#configuration`)!;
  assert.equal(cq.elements().map((e) => `${e.name}=${e.text()}`), [`version=${version}`, 'roomname=A Dark Cave', 'subject=']);
  const cfgSame = await iq(w.bob, `<iq type='get' id='c2' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><version>${version}</version></query></iq>`);
  assert.equal(cfgSame.elements(), []);

  const affs = await iq(w.alice, `<iq type='get' id='a1' to='${COVEN}'><query xmlns='${NS_ML}#affiliations'/></iq>`);
  const aq = affs.getChild('query', `${NS_ML}#affiliations`)!;
  assert.is(aq.getChildText('version'), version);
  assert.equal(users(aq), ['alice@localhost:owner', 'bob@localhost:member']);
  const affsSame = await iq(w.alice, `<iq type='get' id='a2' to='${COVEN}'><query xmlns='${NS_ML}#affiliations'><version>${version}</version></query></iq>`);
  assert.equal(affsSame.elements(), []);

  // §7.1: carol is not in the room; a room that does not exist looks the same.
  assert.is(errorOf(await info(w.carol, COVEN)), 'item-not-found');
  assert.is(errorOf(await info(w.alice, `nowhere@${MUC}`)), 'item-not-found');
  // Room disco#info for a member.
  const disco = await iq(w.bob, `<iq type='get' id='rd' to='${COVEN}'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
  assert.is(disco.getChild('query')!.getChild('identity')!.attrs.name, 'A Dark Cave');
  // Presences are ignored (§7.2); unknown IQs are not served.
  w.bob.send(`<presence to='${COVEN}'/>`);
  await w.bob.settle();
  assert.equal(w.bob.received(), []);
  assert.is(errorOf(await iq(w.bob, `<iq type='get' id='u1' to='${COVEN}'><query xmlns='jabber:iq:version'/></iq>`)), 'service-unavailable');
  await done(w);
});

test('configuration set: the owner changes it and everybody is told (both versions); a member may change only the subject', async () => {
  const w = await world();
  await coven(w);
  const before = (await info(w.alice, COVEN)).getChild('query')!.getChildText('version')!;
  w.alice.send(`<iq type='set' id='conf2' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><roomname>A Darker Cave</roomname></query></iq>`);
  await w.alice.settle();
  const all = w.alice.received();
  const noteAt = all.findIndex((e) => e.name === 'message');
  const resAt = all.findIndex((e) => e.attrs.id === 'conf2' && e.name === 'iq');
  assert.ok(noteAt >= 0 && resAt > noteAt, 'notification, then the result');
  assert.is(all[resAt]!.attrs.type, 'result');
  assert.is(all[noteAt]!.attrs.id, 'conf2');
  const after = (await info(w.alice, COVEN)).getChild('query')!.getChildText('version')!;
  assert.ok(after !== before);
  for (const c of [w.bob, w.carol]) assert.equal(configNotices(c), [{ prev: before, version: after, fields: ['roomname=A Darker Cave'] }]);

  assert.is(errorOf(await iq(w.bob, `<iq type='set' id='conf3' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><roomname>Mine</roomname></query></iq>`)), 'not-allowed');
  assert.is(errorOf(await iq(w.bob, `<iq type='set' id='conf4' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><roomname>Mine</roomname><subject>x</subject></query></iq>`)), 'not-allowed');
  assert.equal(configNotices(w.carol), []);
  const subj = await iq(w.bob, `<iq type='set' id='subject1' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><subject>To be or not to be?</subject></query></iq>`);
  assert.is(subj.attrs.type, 'result');
  assert.equal(configNotices(w.carol).map((n) => n.fields), [['subject=To be or not to be?']]);
  assert.equal(configNotices(w.alice).map((n) => [n.prev, n.fields]), [[after, ['subject=To be or not to be?']]]);
  // version is reserved; non-members are refused.
  assert.is(errorOf(await iq(w.alice, `<iq type='set' id='conf5' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><version>1</version></query></iq>`)), 'bad-request');
  await done(w);
});

test('all_can_configure: a member may change every field', async () => {
  const w = await world({ allCanConfigure: true });
  await coven(w);
  const r = await iq(w.bob, `<iq type='set' id='conf' to='${COVEN}'><query xmlns='${NS_ML}#configuration'><roomname>Bob's</roomname></query></iq>`);
  assert.is(r.attrs.type, 'result');
  assert.equal(configNotices(w.carol).map((n) => n.fields), [["roomname=Bob's"]]);
  await done(w);
});

test('affiliations: the owner adds (newcomer gets only itself), promotes (the old owner is demoted), a member leaves, the last owner leaving hands over, the last member destroys the room', async () => {
  const w = await world();
  await coven(w, { 'bob@localhost': 'member' });
  const v1 = (await info(w.alice, COVEN)).getChild('query')!.getChildText('version')!;

  // Add carol.
  const add = await affiliate(w.alice, COVEN, { 'carol@localhost': 'member' }, 'member1');
  assert.is(add.attrs.type, 'result');
  const [carolNote] = affNotices(w.carol);
  const v2 = carolNote!.version!;
  assert.equal(carolNote, { from: COVEN, to: 'carol@localhost', id: 'member1', prev: undefined, version: v2, users: ['carol@localhost:member'], destroy: false });
  for (const [c, me] of [[w.alice, 'alice@localhost'], [w.bob, 'bob@localhost']] as const) {
    assert.equal(affNotices(c), [{ from: COVEN, to: me, id: 'member1', prev: v1, version: v2, users: ['carol@localhost:member'], destroy: false }]);
  }

  // Meaningless and duplicate changes are bad requests.
  assert.is(errorOf(await affiliate(w.alice, COVEN, { 'carol@localhost': 'member' })), 'bad-request');
  assert.is(errorOf(await affiliate(w.alice, COVEN, { 'nobody@localhost': 'none' })), 'bad-request');
  assert.is(errorOf(await iq(w.alice, `<iq type='set' id='bad1' to='${COVEN}'><query xmlns='${NS_ML}#affiliations'><item role='participant'>bob@localhost</item></query></iq>`)), 'bad-request');

  // A member may neither kick nor invite (all_can_invite is off), nor make anyone owner.
  assert.is(errorOf(await affiliate(w.carol, COVEN, { 'bob@localhost': 'none' })), 'not-allowed');
  assert.is(errorOf(await affiliate(w.carol, COVEN, { 'dave@localhost': 'member' })), 'not-allowed');
  assert.is(errorOf(await affiliate(w.carol, COVEN, { 'carol@localhost': 'owner' })), 'not-allowed');
  assert.equal([...affNotices(w.alice), ...affNotices(w.bob)], []);

  // Promote bob: alice is demoted to member in the same change.
  await affiliate(w.alice, COVEN, { 'bob@localhost': 'owner' }, 'promote');
  for (const c of [w.alice, w.bob, w.carol]) {
    assert.equal(affNotices(c).map((n) => [n.prev, n.users]), [[v2, ['alice@localhost:member', 'bob@localhost:owner']]]);
  }
  assert.equal(await occupantsOf(w.carol, COVEN), ['alice@localhost:member', 'bob@localhost:owner', 'carol@localhost:member']);

  // bob, the owner, leaves: he only hears his own "none"; an untouched member becomes owner.
  await affiliate(w.bob, COVEN, { 'bob@localhost': 'none' }, 'leave1');
  assert.equal(affNotices(w.bob), [{ from: COVEN, to: 'bob@localhost', id: 'leave1', prev: undefined, version: undefined, users: ['bob@localhost:none'], destroy: false }]);
  const stay = affNotices(w.carol);
  assert.equal(stay.map((n) => n.users), [['alice@localhost:owner', 'bob@localhost:none']]);
  assert.ok(stay[0]!.prev && stay[0]!.version);
  assert.equal(affNotices(w.alice).map((n) => n.users), [['alice@localhost:owner', 'bob@localhost:none']]);
  assert.is(errorOf(await info(w.bob, COVEN)), 'item-not-found', 'bob is out');
  assert.equal(await occupantsOf(w.carol, COVEN), ['alice@localhost:owner', 'carol@localhost:member']);

  // The owner stepping down alone changes nothing (there is nobody else to take over)…
  await affiliate(w.carol, COVEN, { 'carol@localhost': 'none' });
  affNotices(w.alice);
  affNotices(w.carol);
  const vAlone = (await info(w.alice, COVEN)).getChild('query')!.getChildText('version');
  const down = await affiliate(w.alice, COVEN, { 'alice@localhost': 'member' });
  assert.is(down.attrs.type, 'result');
  assert.equal(affNotices(w.alice), []);
  assert.is((await info(w.alice, COVEN)).getChild('query')!.getChildText('version'), vAlone);
  // …and the last one leaving destroys the room.
  await affiliate(w.alice, COVEN, { 'alice@localhost': 'none' });
  assert.equal(affNotices(w.alice).map((n) => n.users), [['alice@localhost:none']]);
  const items = await iq(w.alice, `<iq type='get' id='it' to='${MUC}'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
  assert.equal(items.getChild('query')!.getChildren('item'), []);
  assert.is(await w.server.storage.mucLight.get('localhost', MUC, 'coven'), undefined);
  // The name is free again.
  assert.is((await create(w.bob, COVEN, {})).attrs.type, 'result');
  await done(w);
});

test('an owner may add, kick and promote in one request (§5.4 example)', async () => {
  const w = await world();
  await coven(w, { 'bob@localhost': 'member' });
  const v1 = (await info(w.alice, COVEN)).getChild('query')!.getChildText('version')!;
  await affiliate(w.alice, COVEN, { 'carol@localhost': 'member', 'bob@localhost': 'none' }, 'mix');
  assert.equal(affNotices(w.alice).map((n) => [n.prev, n.users]), [[v1, ['bob@localhost:none', 'carol@localhost:member']]]);
  assert.equal(affNotices(w.bob).map((n) => [n.prev, n.version, n.users]), [[undefined, undefined, ['bob@localhost:none']]]);
  assert.equal(affNotices(w.carol).map((n) => [n.prev, n.users]), [[undefined, ['carol@localhost:member']]]);
  // Two owners at once are refused.
  assert.is(errorOf(await affiliate(w.alice, COVEN, { 'carol@localhost': 'owner', 'bob@localhost': 'owner' })), 'bad-request');
  await done(w);
});

test('all_can_invite: members add members, but still cannot make owners nor remove others', async () => {
  const w = await world({ allCanInvite: true });
  await coven(w, { 'bob@localhost': 'member' });
  assert.is((await affiliate(w.bob, COVEN, { 'carol@localhost': 'member' })).attrs.type, 'result');
  assert.equal(affNotices(w.carol).map((n) => n.users), [['carol@localhost:member']]);
  assert.equal(affNotices(w.alice).map((n) => n.users), [['carol@localhost:member']]);
  assert.is(errorOf(await affiliate(w.bob, COVEN, { 'carol@localhost': 'none' })), 'not-allowed');
  assert.is(errorOf(await affiliate(w.bob, COVEN, { 'carol@localhost': 'owner' })), 'not-allowed');
  assert.is(errorOf(await affiliate(w.bob, COVEN, { 'alice@localhost': 'member' })), 'not-allowed');
  await done(w);
});

test('equal_occupants: the creator is a member and nobody can be made owner; max_occupants caps a room', async () => {
  const w = await world({ equalOccupants: true, maxOccupants: 2 });
  await create(w.alice, COVEN, { 'bob@localhost': 'member' });
  assert.equal(affNotices(w.alice).map((n) => n.users), [['alice@localhost:member']]);
  assert.is(errorOf(await create(w.alice, `other@${MUC}`, { 'bob@localhost': 'owner' })), 'bad-request');
  assert.is(errorOf(await create(w.alice, `big@${MUC}`, { 'bob@localhost': 'member', 'carol@localhost': 'member' })), 'bad-request');
  // Nobody may destroy an ownerless room; it goes away when the last member leaves.
  assert.is(errorOf(await iq(w.alice, `<iq type='set' id='x' to='${COVEN}'><query xmlns='${NS_ML}#destroy'/></iq>`)), 'not-allowed');
  await done(w);
});

test('groupchat: a member\'s message reaches every member (the sender too) from room/sender-bare-JID with its id; others are refused', async () => {
  const w = await world();
  await coven(w, { 'bob@localhost': 'member' });
  w.alice.send(`<message id='msg111' to='${COVEN}' type='groupchat'><body>Harpier cries: 'tis time, 'tis time.</body></message>`);
  await w.alice.settle();
  const from = `${COVEN}/alice@localhost`;
  assert.equal(chats(w.alice), [`${from}>alice@localhost:msg111:Harpier cries: 'tis time, 'tis time.`]);
  assert.equal(chats(w.bob), [`${from}>bob@localhost:msg111:Harpier cries: 'tis time, 'tis time.`]);
  assert.equal(w.carol.received(), []);

  // A non-member (§7.1) and a message that is not groupchat (§7.3).
  w.carol.send(`<message id='unauth2' to='${COVEN}' type='groupchat'><body>let me in</body></message>`);
  w.bob.send(`<message id='bad2' to='${COVEN}' type='chat'><body>psst</body></message>`);
  w.bob.send(`<message id='bad3' to='${COVEN}/alice@localhost' type='groupchat'><body>private?</body></message>`);
  await w.carol.settle();
  const refused = w.carol.expect((e) => e.attrs.id === 'unauth2');
  assert.equal([refused.attrs.type, refused.attrs.from, errorOf(refused)], ['error', COVEN, 'item-not-found']);
  assert.is(errorOf(w.bob.expect((e) => e.attrs.id === 'bad2')), 'bad-request');
  assert.is(errorOf(w.bob.expect((e) => e.attrs.id === 'bad3')), 'bad-request');
  assert.equal([...chats(w.alice), ...chats(w.bob), ...chats(w.carol)], []);
  await done(w);
});

test('destroy: owner only; every member is told its affiliation is none with <x #destroy/>, then the result', async () => {
  const w = await world();
  await coven(w);
  assert.is(errorOf(await iq(w.bob, `<iq type='set' id='d0' to='${COVEN}'><query xmlns='${NS_ML}#destroy'/></iq>`)), 'not-allowed');
  w.alice.send(`<iq type='set' id='destroy1' to='${COVEN}'><query xmlns='${NS_ML}#destroy'/></iq>`);
  await w.alice.settle();
  const all = w.alice.received();
  const noteAt = all.findIndex((e) => e.name === 'message');
  const resAt = all.findIndex((e) => e.name === 'iq' && e.attrs.id === 'destroy1');
  assert.ok(noteAt >= 0 && resAt > noteAt);
  assert.is(all[resAt]!.attrs.type, 'result');
  for (const [c, me] of [[w.bob, 'bob@localhost'], [w.carol, 'carol@localhost']] as const) {
    assert.equal(affNotices(c), [{ from: COVEN, to: me, id: 'destroy1', prev: undefined, version: undefined, users: [`${me}:none`], destroy: true }]);
  }
  assert.is(errorOf(await info(w.alice, COVEN)), 'item-not-found');
  await done(w);
});

test('blocking: users and rooms a user blocks cannot add them (silently skipped); list, unblock; disabled → service-unavailable', async () => {
  const w = await world();
  const blk = (c: TestClient, id: string, items: string, type = 'set') => iq(c, `<iq type='${type}' id='${id}' to='${MUC}'><query xmlns='${NS_ML}#blocking'>${items}</query></iq>`);
  assert.is((await blk(w.carol, 'b1', `<user action='deny'>alice@localhost</user><room action='deny'>heath@${MUC}</room>`)).attrs.type, 'result');
  const list = await blk(w.carol, 'b2', '', 'get');
  assert.equal(
    list.getChild('query', `${NS_ML}#blocking`)!.elements().map((e) => `${e.name}:${e.attrs.action}:${e.text()}`).sort(),
    [`room:deny:heath@${MUC}`, 'user:deny:alice@localhost'],
  );

  // alice may not add carol; bob still may, except to the blocked room.
  await create(w.alice, COVEN, { 'bob@localhost': 'member', 'carol@localhost': 'member' });
  assert.equal(affNotices(w.carol), []);
  assert.equal(await occupantsOf(w.alice, COVEN), ['alice@localhost:owner', 'bob@localhost:member']);
  const skipped = await affiliate(w.alice, COVEN, { 'carol@localhost': 'member' });
  assert.is(skipped.attrs.type, 'result', 'no error: the blocked user is just skipped');
  assert.equal(affNotices(w.carol), []);
  await create(w.bob, `heath@${MUC}`, { 'carol@localhost': 'member' });
  await create(w.bob, `forres@${MUC}`, { 'carol@localhost': 'member' });
  assert.equal(affNotices(w.carol).map((n) => n.from), [`forres@${MUC}`]);

  // Unblocking alice (and something never blocked) lets her add carol.
  assert.is((await blk(w.carol, 'b3', `<user action='allow'>alice@localhost</user><user action='allow'>dave@localhost</user>`)).attrs.type, 'result');
  await affiliate(w.alice, COVEN, { 'carol@localhost': 'member' });
  assert.equal(affNotices(w.carol).map((n) => n.users), [['carol@localhost:member']]);
  assert.is(errorOf(await blk(w.carol, 'b4', `<item action='deny'>x@localhost</item>`)), 'bad-request');
  await done(w);

  const off = await world({ blocking: false });
  assert.is(errorOf(await blk(off.carol, 'b5', `<user action='deny'>alice@localhost</user>`)), 'service-unavailable');
  await done(off);
});

test('removing an account: the user leaves every room, the others are told, an owner is chosen, rooms left empty are destroyed; removing the service domain drops its rooms', async () => {
  const w = await world();
  await coven(w);
  await create(w.alice, `heath@${MUC}`, {});
  w.alice.received();
  const v1 = (await info(w.bob, COVEN)).getChild('query')!.getChildText('version')!;
  const r = await w.server.hooks.run(removeUser, 'localhost', { failed: [] }, { jid: Jid.parse('alice@localhost') });
  await w.server.settle();
  assert.equal(r.acc.failed, []);
  for (const c of [w.bob, w.carol]) {
    const notes = affNotices(c);
    assert.equal(notes.map((n) => [n.from, n.prev, n.users]), [[COVEN, v1, ['alice@localhost:none', 'bob@localhost:owner']]]);
    assert.ok(notes[0]!.version && notes[0]!.version !== v1);
  }
  assert.equal(await occupantsOf(w.bob, COVEN), ['bob@localhost:owner', 'carol@localhost:member']);
  assert.is(await w.server.storage.mucLight.get('localhost', MUC, 'heath'), undefined, 'alice was alone in heath');
  // Deleting the service domain's data (dynamic domain removal runs it for muclight.<domain>).
  const d = await w.server.hooks.run(removeDomain, 'localhost', { failed: [] }, { domain: MUC });
  assert.equal(d.acc.failed, []);
  assert.is(errorOf(await info(w.bob, COVEN)), 'item-not-found');
  await done(w);
});

test('server.users.remove runs the removeUser hook: the rooms of the removed account are told and get a new owner', async () => {
  const w = await world();
  await coven(w);
  await w.server.server.users.remove('alice@localhost');
  await w.server.settle();
  for (const c of [w.bob, w.carol]) {
    const notes = affNotices(c);
    assert.equal(notes.map((n) => [n.from, n.users]), [[COVEN, ['alice@localhost:none', 'bob@localhost:owner']]]);
  }
  assert.equal(await occupantsOf(w.bob, COVEN), ['bob@localhost:owner', 'carol@localhost:member']);
  await done(w);
});

test('SQLite: a room created before a restart keeps its members and carries messages after it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'xb-muclight-'));
  try {
    const path = join(dir, 'xmpp.sqlite');
    let storage = sqliteStorage({ path });
    let w = await world({}, storage);
    await create(w.alice, COVEN, { 'bob@localhost': 'member' });
    await done(w);
    await storage.close();

    storage = sqliteStorage({ path });
    w = await world({}, storage);
    w.bob.send(`<message id='m1' to='${COVEN}' type='groupchat'><body>still here</body></message>`);
    await w.bob.settle();
    assert.equal(chats(w.alice), [`${COVEN}/bob@localhost>alice@localhost:m1:still here`]);
    assert.equal(chats(w.bob), [`${COVEN}/bob@localhost>bob@localhost:m1:still here`]);
    assert.equal(await occupantsOf(w.alice, COVEN), ['alice@localhost:owner', 'bob@localhost:member']);
    await done(w);
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
