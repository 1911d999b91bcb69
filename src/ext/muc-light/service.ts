/**
 * The MUC Light service of one host type: everything addressed to its service domains
 * (`muclight.<domain>`) and to the rooms on them, and the removal of accounts and domains.
 *
 * Rooms live in the {@link MucLightStore}; every operation on a room runs after the previous
 * one on that room (in this process), and every write names the version it was based on, so a
 * change made meanwhile by another server instance makes the operation start over.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { KeyedQueue } from '../../core/keyed-queue.ts';
import { Acc } from '../../core/acc.ts';
import { HOST_PLACEHOLDER } from '../../core/domains.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc, resultAcc } from '../../core/iq-handlers.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import type { MucLightAffiliation, MucLightAffiliationChange, MucLightMember, MucLightRoom, MucLightRoomRef } from '../../core/storage/muc-light-store.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import type { ModuleEnv } from '../../c2s/module.ts';
import { applyAffiliationChanges, type Members } from './affiliations.ts';
import { BlockingLists, type BlockingChange } from './blocking.ts';
import { ConfigSchema } from './config.ts';
import { checkOptions, type MucLightOptions } from './options.ts';
import {
  NS_AFFILIATIONS, NS_BLOCKING, NS_CONFIGURATION, NS_CREATE, NS_DESTROY, NS_INFO, NS_MUC_LIGHT,
  fieldEls, parseConfigFields, parseUsers, requestedVersion, roomMessage, userEl, userJid, versionEl, xEl,
  type AffiliationItem,
} from './stanzas.ts';

/** What an IQ handler answers: a result payload, an empty result (`null`) or an error. */
type Reply = XmlElement | null | StanzaError;

/** A room write lost against a concurrent change: start the operation over. */
const RETRY = Symbol('retry');
const ATTEMPTS = 3;

const bad = (text: string) => new StanzaError('bad-request', text);
const notFound = () => new StanzaError('item-not-found');

function membersOf(room: MucLightRoom): Map<string, MucLightAffiliation> {
  return new Map(room.members.map((m) => [`${m.user}@${m.domain}`, m.affiliation]));
}

function storedMembers(members: Members): MucLightMember[] {
  return [...members].map(([jid, affiliation]) => {
    const j = Jid.parse(jid);
    return { user: j.local, domain: j.domain, affiliation };
  });
}

function storedChange(c: AffiliationItem): MucLightAffiliationChange {
  const j = Jid.parse(c.jid);
  return { user: j.local, domain: j.domain, affiliation: c.aff };
}

const byJid = (a: AffiliationItem, b: AffiliationItem) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0);

/** The MUC Light service of one host type (one instance per started module). */
export class MucLightService {
  readonly #env: ModuleEnv;
  readonly #opts: MucLightOptions;
  readonly #schema: ConfigSchema;
  readonly #blocking: BlockingLists;
  readonly #pattern: string;
  /** One room (or user) at a time: the store is async; no lost updates, ordered broadcasts. */
  readonly #queue = new KeyedQueue();

  constructor(env: ModuleEnv, opts: MucLightOptions) {
    checkOptions(opts);
    this.#env = env;
    this.#opts = opts;
    this.#schema = new ConfigSchema(opts.configSchema);
    this.#blocking = new BlockingLists(env.storage.privacy, env.hostType);
    this.#pattern = opts.host.split(HOST_PLACEHOLDER).map((p) => p.toLowerCase()).join(HOST_PLACEHOLDER);
  }

  get #store() {
    return this.#env.storage.mucLight;
  }

  get #hostType() {
    return this.#env.hostType;
  }

  /** The service domain of a served domain. */
  serviceFor(domain: string): string {
    return this.#pattern.split(HOST_PLACEHOLDER).join(domain);
  }

  /** The stanza is addressed to one of this service's domains (the router set `lserver` to the parent domain). */
  serves(acc: Acc): boolean {
    const domain = acc.to.domain;
    return domain !== acc.lserver && this.serviceFor(acc.lserver) === domain;
  }

  // ---------------------------------------------------------------- stanzas in

  /** Handle a stanza addressed to the service or to a room. Never throws. */
  async handle(acc: Acc): Promise<void> {
    const type = acc.type;
    // §7.2: presences are ignored; RFC 6120 §8.3.1: errors are never answered.
    if (acc.name === 'presence' || type === 'error') return;
    try {
      if (acc.name === 'iq') {
        if (type === 'get' || type === 'set') this.#answer(acc, await this.#iq(acc, type));
      } else if (acc.name === 'message') {
        const err = await this.#message(acc);
        if (err !== undefined) this.#env.router.route(errorAcc(acc, err));
      }
    } catch (err) {
      this.#env.logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), to: acc.to.toString() }, 'MUC Light request failed');
      this.#env.router.route(errorAcc(acc, new StanzaError('internal-server-error')));
    }
  }

  #iq(acc: Acc, type: 'get' | 'set'): Promise<Reply> | Reply {
    const payload = acc.element.elements()[0];
    if (payload === undefined) return bad('an IQ needs a payload');
    // MUC Light has no occupant JIDs (§4.1: nicks are the members' bare JIDs).
    if (acc.to.resource !== '') return bad('rooms have no occupant JIDs');
    const ns = payload.ns ?? '';
    const key = `${type} ${ns}`;
    if (acc.to.local === '') {
      switch (key) {
        case `get ${NS.DISCO_INFO}`:
          return this.#serviceInfo();
        case `get ${NS.DISCO_ITEMS}`:
          return this.#rooms(acc, payload);
        case `set ${NS_CREATE}`:
          return this.#create(acc, payload);
        case `get ${NS_BLOCKING}`:
        case `set ${NS_BLOCKING}`:
          if (!this.#opts.blocking) return new StanzaError('service-unavailable', 'blocking is disabled');
          return type === 'get' ? this.#blockingList(acc) : this.#block(acc, payload);
        default:
          return new StanzaError('service-unavailable');
      }
    }
    if (key === `set ${NS_CREATE}`) return this.#create(acc, payload);
    return this.#inRoom(acc, async (room, aff) => {
      switch (key) {
        case `get ${NS.DISCO_INFO}`:
          return this.#roomInfo(room);
        case `get ${NS_CONFIGURATION}`:
        case `get ${NS_AFFILIATIONS}`:
        case `get ${NS_INFO}`:
          return this.#get(room, ns, payload);
        case `set ${NS_CONFIGURATION}`:
          return this.#configure(acc, room, aff, payload);
        case `set ${NS_AFFILIATIONS}`:
          return this.#affiliate(acc, room, aff, payload);
        case `set ${NS_DESTROY}`:
          return this.#destroy(acc, room, aff);
        default:
          return ns.startsWith(NS_MUC_LIGHT) ? bad(`no ${type} for ${ns}`) : new StanzaError('service-unavailable');
      }
    });
  }

  /** §4.1 / §7: a groupchat message from a member is sent to every member, from `room/sender-bare-JID`. */
  async #message(acc: Acc): Promise<StanzaError | undefined> {
    const el = acc.element;
    // §7.3: only groupchat messages, only to a room's bare JID.
    if (acc.type !== 'groupchat' || acc.to.local === '' || acc.to.resource !== '') return bad('only groupchat messages to a room are accepted');
    const roomJid = acc.to.bare();
    return this.#queue.run(roomJid.toString(), async () => {
      const room = await this.#store.get(this.#hostType, roomJid.domain, roomJid.local);
      const sender = acc.from.toBareString();
      if (room === undefined || !membersOf(room).has(sender)) return notFound();
      const from = roomJid.withResource(sender).toString();
      const id = el.attrs.id ?? this.#token();
      const lang = el.attrs['xml:lang'];
      for (const m of membersOf(room).keys()) {
        this.#send(xml('message', { 'xml:lang': lang, from, to: m, type: 'groupchat', id }, ...el.children));
      }
      return undefined;
    });
  }

  // ---------------------------------------------------------------- service IQs

  #serviceInfo(): XmlElement {
    return xml(
      'query',
      { xmlns: NS.DISCO_INFO },
      xml('identity', { category: 'conference', type: 'text', name: this.#opts.serviceName }),
      [NS.DISCO_INFO, NS.DISCO_ITEMS, NS_MUC_LIGHT].map((v) => xml('feature', { var: v })),
    );
  }

  /** §3.3: the rooms the requester is in, with name and version, paged with RSM. */
  async #rooms(acc: Acc, payload: XmlElement): Promise<Reply> {
    const user = acc.from;
    const service = acc.to.domain;
    const refs = (await this.#store.roomsOfUser(this.#hostType, user.domain, user.local)).filter((r) => r.domain === service);
    const page = paginate(
      refs.map((r) => `${r.name}@${service}`),
      payload.getChild('set', NS.RSM),
      this.#opts.roomsPerPage,
    );
    if (page instanceof StanzaError) return page;
    const items: XmlElement[] = [];
    for (const jid of page.jids) {
      const j = Jid.parse(jid);
      const room = await this.#store.get(this.#hostType, service, j.local);
      if (room !== undefined) items.push(xml('item', { jid, name: room.config.roomname ?? j.local, version: room.version }));
    }
    return xml('query', { xmlns: NS.DISCO_ITEMS }, items, page.set);
  }

  /** §5.1: a new room, named by the client (the room JID) or by us (the service JID, §5.1.1). */
  async #create(acc: Acc, payload: XmlElement): Promise<Reply> {
    const creator = acc.from.toBareString();
    const service = acc.to.domain;
    const fields = parseConfigFields(payload.getChild('configuration'));
    if (fields instanceof StanzaError) return fields;
    const invalid = this.#schema.check(fields);
    if (invalid !== undefined) return invalid;
    const occupants = parseUsers(payload.getChild('occupants'));
    if (occupants instanceof StanzaError) return occupants;
    if (occupants.some((o) => o.jid === creator || o.aff === 'none')) return bad('the occupant list must not name the creator nor affiliation none');
    if (await this.#roomLimitReached(acc.from)) return bad('room limit reached');
    const named = acc.to.local !== '' ? acc.to.bare() : undefined;
    const admitted = await this.#admit(occupants, new Map(), creator, service, named?.toString());
    const start = new Map<string, MucLightAffiliation>([[creator, this.#opts.equalOccupants ? 'member' : 'owner']]);
    const outcome = applyAffiliationChanges(start, admitted);
    if (outcome instanceof StanzaError) return outcome;
    if (outcome.members.size > this.#opts.maxOccupants) return bad('occupant limit exceeded');
    const config = this.#schema.initial(fields);
    const version = this.#token();
    for (let i = 0; i < ATTEMPTS; i++) {
      const roomJid = named ?? Jid.of(this.#token(), service);
      const r = await this.#store.create(this.#hostType, { domain: service, name: roomJid.local, config, members: storedMembers(outcome.members), version });
      if (r === 'exists') {
        if (named !== undefined) return new StanzaError('conflict', 'Room already exists');
        continue;
      }
      this.#announceAffiliations(roomJid, this.#idOf(acc), new Map(), outcome.members, [], '', version);
      // The result comes from where the request went: the service for a generated name.
      return null;
    }
    return new StanzaError('internal-server-error', 'no free room name found');
  }

  async #blockingList(acc: Acc): Promise<Reply> {
    const items = await this.#blocking.list(acc.from.bare(), acc.to.domain);
    return xml('query', { xmlns: NS_BLOCKING }, items.map((i) => xml(i.what, { action: 'deny' }, i.jid)));
  }

  /** §4.5.2–4.5.4: block or allow rooms and users (mixed, any number, at least one). */
  async #block(acc: Acc, payload: XmlElement): Promise<Reply> {
    const changes: BlockingChange[] = [];
    for (const el of payload.elements()) {
      const action = el.attrs.action;
      const jid = userJid(el.text());
      if ((el.name !== 'room' && el.name !== 'user') || (action !== 'allow' && action !== 'deny') || jid === undefined) {
        return bad(`invalid blocking item <${el.name}/>`);
      }
      changes.push({ what: el.name, action, jid: jid.toString() });
    }
    if (changes.length === 0) return bad('nothing to block or allow');
    const user = acc.from.bare();
    await this.#queue.run(`blocking ${user.toString()}`, () => this.#blocking.change(user, acc.to.domain, changes));
    return null;
  }

  // ---------------------------------------------------------------- room IQs

  /**
   * Run `op` on the addressed room for a member (§7.1: anyone else gets `item-not-found`),
   * after the previous operation on the room; start over when a write lost a race.
   */
  #inRoom(acc: Acc, op: (room: MucLightRoom, aff: MucLightAffiliation) => Promise<Reply | typeof RETRY>): Promise<Reply> {
    const roomJid = acc.to.bare();
    const member = acc.from.toBareString();
    return this.#queue.run(roomJid.toString(), async () => {
      for (let i = 0; i < ATTEMPTS; i++) {
        const room = await this.#store.get(this.#hostType, roomJid.domain, roomJid.local);
        const aff = room && membersOf(room).get(member);
        if (room === undefined || aff === undefined) return notFound();
        const r = await op(room, aff);
        if (r !== RETRY) return r;
      }
      return new StanzaError('resource-constraint', 'the room kept changing, try again');
    });
  }

  #roomInfo(room: MucLightRoom): XmlElement {
    return xml(
      'query',
      { xmlns: NS.DISCO_INFO },
      xml('identity', { category: 'conference', type: 'text', name: room.config.roomname ?? room.name }),
      xml('feature', { var: NS.DISCO_INFO }),
      xml('feature', { var: NS_MUC_LIGHT }),
    );
  }

  /** §4.3: configuration, occupants or both; an empty result when the client's version is current. */
  #get(room: MucLightRoom, ns: string, payload: XmlElement): Reply {
    if (requestedVersion(payload) === room.version) return null;
    const version = versionEl('version', room.version);
    const config = fieldEls(Object.entries(room.config));
    const users = room.members.map((m) => userEl(`${m.user}@${m.domain}`, m.affiliation));
    if (ns === NS_CONFIGURATION) return xml('query', { xmlns: ns }, version, config);
    if (ns === NS_AFFILIATIONS) return xml('query', { xmlns: ns }, version, users);
    return xml('query', { xmlns: ns }, version, xml('configuration', null, config), xml('occupants', null, users));
  }

  /** §5.3 (and §4.2, the subject): owners, every member with `allCanConfigure`, anyone for the subject alone. */
  async #configure(acc: Acc, room: MucLightRoom, aff: MucLightAffiliation, payload: XmlElement): Promise<Reply | typeof RETRY> {
    const fields = parseConfigFields(payload);
    if (fields instanceof StanzaError) return fields;
    if (fields.size === 0) return bad('nothing to configure');
    const invalid = this.#schema.check(fields);
    if (invalid !== undefined) return invalid;
    const allowed =
      aff === 'owner' ||
      (this.#schema.override(room.config, 'all_can_configure') ?? this.#opts.allCanConfigure) ||
      (fields.size === 1 && fields.has('subject'));
    if (!allowed) return new StanzaError('not-allowed');
    const version = this.#token();
    const r = await this.#store.setConfig(this.#hostType, room.domain, room.name, Object.fromEntries(fields), version, room.version);
    if (!r.ok) return r.error === 'version-mismatch' ? RETRY : notFound();
    const roomJid = acc.to.bare();
    const id = this.#idOf(acc);
    for (const m of membersOf(r.room).keys()) {
      const x = xEl(NS_CONFIGURATION, versionEl('prev-version', room.version), versionEl('version', version), fieldEls(fields));
      this.#send(roomMessage(roomJid, m, id, x));
    }
    return null;
  }

  /** §5.4 (and §4.4, leaving): the owner changes anything; a member may leave, or invite with `allCanInvite`. */
  async #affiliate(acc: Acc, room: MucLightRoom, aff: MucLightAffiliation, payload: XmlElement): Promise<Reply | typeof RETRY> {
    const requested = parseUsers(payload);
    if (requested instanceof StanzaError) return requested;
    if (requested.length === 0) return bad('no affiliation to change');
    const actor = acc.from.toBareString();
    const current = membersOf(room);
    if (aff === 'member') {
      const canInvite = this.#schema.override(room.config, 'all_can_invite') ?? this.#opts.allCanInvite;
      for (const c of requested) {
        const leaving = c.jid === actor && c.aff === 'none';
        const inviting = canInvite && c.aff === 'member' && current.get(c.jid) !== 'owner';
        if (!leaving && !inviting) return new StanzaError('not-allowed');
      }
    }
    // §4.5: users who block the room or the actor are skipped, no error.
    const admitted = await this.#admit(requested, current, actor, room.domain, `${room.name}@${room.domain}`);
    if (admitted.length === 0) return null;
    const outcome = applyAffiliationChanges(current, admitted);
    if (outcome instanceof StanzaError) return outcome;
    if (outcome.changes.length === 0) return null;
    if (outcome.members.size > current.size && outcome.members.size > this.#opts.maxOccupants) return bad('occupant limit exceeded');
    const version = this.#token();
    const r = await this.#store.setAffiliations(this.#hostType, room.domain, room.name, outcome.changes.map(storedChange), version, room.version);
    if (!r.ok) return r.error === 'version-mismatch' ? RETRY : notFound();
    // Requirement 11: a room left empty is destroyed.
    if (outcome.members.size === 0) await this.#store.destroy(this.#hostType, room.domain, room.name);
    this.#announceAffiliations(acc.to.bare(), this.#idOf(acc), current, outcome.members, outcome.changes, room.version, version);
    return null;
  }

  /** §5.2: owner only; every member is told its affiliation is gone, with `<x #destroy/>`. */
  async #destroy(acc: Acc, room: MucLightRoom, aff: MucLightAffiliation): Promise<Reply> {
    if (aff !== 'owner') return new StanzaError('not-allowed');
    if (!(await this.#store.destroy(this.#hostType, room.domain, room.name))) return notFound();
    const roomJid = acc.to.bare();
    const id = this.#idOf(acc);
    for (const m of membersOf(room).keys()) this.#send(roomMessage(roomJid, m, id, xEl(NS_AFFILIATIONS, userEl(m, 'none')), xEl(NS_DESTROY)));
    return null;
  }

  // ---------------------------------------------------------------- removal

  /** An account is deleted: out of every room; the others are told, rooms left empty destroyed. */
  async removeUser(jid: Jid): Promise<void> {
    const user = jid.bare();
    const rooms = await this.#store.removeUser(this.#hostType, user.domain, user.local);
    for (const ref of rooms) await this.#queue.run(`${ref.name}@${ref.domain}`, () => this.#afterRemoval(ref, user.toString()));
  }

  /** A domain is deleted: the rooms of a service domain, the memberships of a user domain. */
  removeDomain(domain: string): Promise<void> {
    return this.#store.removeDomain(this.#hostType, domain);
  }

  async #afterRemoval(ref: MucLightRoomRef, gone: string): Promise<void> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const room = await this.#store.get(this.#hostType, ref.domain, ref.name);
      if (room === undefined) return;
      if (room.members.length === 0) {
        await this.#store.destroy(this.#hostType, ref.domain, ref.name);
        return;
      }
      const remaining = membersOf(room);
      // The gone user may have been the owner: someone takes over, as when an owner leaves.
      const heir = !this.#opts.equalOccupants && ![...remaining.values()].includes('owner') ? [...remaining.keys()].sort()[0] : undefined;
      const promotions: AffiliationItem[] = heir === undefined ? [] : [{ jid: heir, aff: 'owner' }];
      const version = this.#token();
      const r = await this.#store.setAffiliations(this.#hostType, ref.domain, ref.name, promotions.map(storedChange), version, room.version);
      if (!r.ok) {
        if (r.error === 'version-mismatch') continue;
        return;
      }
      const changes: AffiliationItem[] = [{ jid: gone, aff: 'none' }, ...promotions];
      this.#announceAffiliations(Jid.of(ref.name, ref.domain), this.#token(), remaining, membersOf(r.room), changes, room.version, version);
      return;
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * §5.4: members who stay get the changes with both versions; newcomers only their own
   * affiliation and the version; those who left only their own `none`.
   */
  #announceAffiliations(room: Jid, id: string, before: Members, after: Members, changes: readonly AffiliationItem[], prevVersion: string, version: string): void {
    const users = changes.slice().sort(byJid).map((c) => userEl(c.jid, c.aff));
    for (const jid of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const now = after.get(jid);
      const x =
        now === undefined
          ? xEl(NS_AFFILIATIONS, userEl(jid, 'none'))
          : !before.has(jid)
            ? xEl(NS_AFFILIATIONS, versionEl('version', version), userEl(jid, now))
            : xEl(NS_AFFILIATIONS, versionEl('prev-version', prevVersion), versionEl('version', version), users);
      this.#send(roomMessage(room, jid, id, x));
    }
  }

  /**
   * The requested changes minus additions the added user refuses (blocking) or cannot take
   * (`roomsPerUser`). Changes to current members always pass.
   */
  async #admit(requested: readonly AffiliationItem[], current: Members, actor: string, service: string, room: string | undefined): Promise<AffiliationItem[]> {
    const out: AffiliationItem[] = [];
    for (const c of requested) {
      if (c.aff !== 'none' && !current.has(c.jid) && c.jid !== actor) {
        const user = Jid.parse(c.jid);
        if (this.#opts.blocking && (await this.#blocking.refuses(user, service, room, actor))) continue;
        if (await this.#roomLimitReached(user)) continue;
      }
      out.push(c);
    }
    return out;
  }

  async #roomLimitReached(user: Jid): Promise<boolean> {
    if (this.#opts.roomsPerUser === Infinity) return false;
    return (await this.#store.roomsOfUser(this.#hostType, user.domain, user.local)).length >= this.#opts.roomsPerUser;
  }

  /** Notifications carry the request's id (§5.1.1), or a fresh one. */
  #idOf(acc: Acc): string {
    return acc.element.attrs.id ?? this.#token();
  }

  /** Room versions, generated room names and ids: time-ordered, unique by chance. */
  #token(): string {
    return this.#env.clock.now().toString(36) + randomBytes(5).toString('hex');
  }

  /** Route a stanza the service sends (`from`/`to` attributes set). */
  #send(el: XmlElement): void {
    const from = Jid.parse(el.attrs.from!);
    this.#env.router.route(
      Acc.fromElement(el, { from, hostType: this.#hostType, lserver: this.#env.domains.parentDomainOf(from.domain) ?? from.domain, origin: 'server', clock: this.#env.clock }),
    );
  }

  #answer(acc: Acc, reply: Reply): void {
    if (reply instanceof StanzaError) {
      this.#env.router.route(errorAcc(acc, reply));
      return;
    }
    this.#env.router.route(resultAcc(acc, reply === null ? [] : [reply], this.#env.clock));
  }

}

/** One RSM page (XEP-0059) of `jids`, in order; without `<set/>` and within the page size, all of them. */
function paginate(jids: readonly string[], set: XmlElement | undefined, perPage: number): { jids: string[]; set: XmlElement | undefined } | StanzaError {
  const count = jids.length;
  let max = perPage;
  const maxText = set?.getChildText('max');
  if (maxText !== undefined) {
    const n = Number(maxText);
    if (!Number.isInteger(n) || n < 0) return bad('invalid RSM <max/>');
    max = Math.min(n, perPage);
  }
  if (set === undefined && count <= max) return { jids: [...jids], set: undefined };
  const after = set?.getChildText('after');
  const before = set?.getChildText('before');
  const index = set?.getChildText('index');
  let start = 0;
  let end: number;
  if (after !== undefined) {
    const i = jids.indexOf(after);
    if (i < 0) return notFound();
    start = i + 1;
    end = start + max;
  } else if (before !== undefined) {
    end = before === '' ? count : jids.indexOf(before);
    if (end < 0) return notFound();
    start = Math.max(0, end - max);
  } else {
    if (index !== undefined) {
      start = Number(index);
      if (!Number.isInteger(start) || start < 0) return bad('invalid RSM <index/>');
    }
    end = start + max;
  }
  const page = jids.slice(start, end);
  const rsm = xml(
    'set',
    { xmlns: NS.RSM },
    page.length > 0 && xml('first', { index: start }, page[0]!),
    page.length > 0 && xml('last', null, page[page.length - 1]!),
    xml('count', null, count),
  );
  return { jids: page, set: rsm };
}
