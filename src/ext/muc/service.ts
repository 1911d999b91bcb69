/**
 * The MUC service of one host type: everything addressed to its service domains
 * (`conference.<domain>`) and to the rooms and occupants on them, and the end of sessions,
 * accounts and domains.
 *
 * Rooms are loaded from the MucStore on first use and kept in memory with their occupants and
 * history; every stanza to a room is handled after the previous one to that room (storage is
 * async), so broadcasts keep the order in which the room received the stanzas.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { KeyedQueue } from '../../core/keyed-queue.ts';
import { Acc } from '../../core/acc.ts';
import { NS_DATA_FORMS, parseXepDateTime, readRsm, readSubmittedForm, rsmResult } from '../../core/data-forms.ts';
import { HOST_PLACEHOLDER } from '../../core/domains.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc, resultAcc } from '../../core/iq-handlers.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { xml, type XmlBuildChild, type XmlElement } from '../../core/xml/element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import type { ModuleEnv } from '../../c2s/module.ts';
import { applyConfigForm, BUILTIN_CONFIG, configForm, type RoomConfig } from './config.ts';
import { checkOptions, type MucOptions } from './options.ts';
import { Room, type Occupant } from './room.ts';
import {
  AFFILIATION_RANK, AFFILIATIONS, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_ROOMINFO, NS_MUC_USER, ROLES, STATUS,
  itemEl, mucUserX, presenceChildren, statusEls, type Affiliation, type Role,
} from './stanzas.ts';

/** What an IQ handler answers: a result payload, an empty result (`null`). Errors are thrown. */
type Reply = XmlElement | null;

const err = (condition: ConstructorParameters<typeof StanzaError>[0], text?: string) => new StanzaError(condition, text === undefined ? {} : { text });
const rank = (a: Affiliation) => AFFILIATION_RANK[a];

/** How an occupant's presence is shown (see {@link MucService.#presence}). */
interface PresenceShape {
  readonly unavailable?: boolean;
  readonly codes?: readonly number[];
  /** Status codes only the occupant's own sessions get (110 is always added for them). */
  readonly selfCodes?: readonly number[];
  readonly newNick?: string;
  readonly actor?: string | undefined;
  readonly reason?: string | undefined;
  readonly extra?: XmlBuildChild;
  /** The real JID shown (default: the occupant's first session) — a leaving session shows its own. */
  readonly realJid?: Jid;
}

/** One room-level change, checked before any is applied (§9, §10: a request is all or nothing). */
type AdminChange =
  | { readonly kind: 'role'; readonly target: Occupant; readonly role: Role; readonly reason: string | undefined }
  | { readonly kind: 'affiliation'; readonly jid: string; readonly affiliation: Affiliation; readonly reason: string | undefined };

/** The MUC service of one host type (one instance per started module). */
export class MucService {
  readonly #env: ModuleEnv;
  readonly #opts: MucOptions;
  readonly #pattern: string;
  readonly #defaultConfig: RoomConfig;
  /** Live rooms by bare room JID. */
  readonly #rooms = new Map<string, Room>();
  /** One room (or user) at a time: the store is async; no lost updates, ordered broadcasts. */
  readonly #queue = new KeyedQueue();

  constructor(env: ModuleEnv, opts: MucOptions) {
    checkOptions(opts);
    this.#env = env;
    this.#opts = opts;
    this.#pattern = opts.host.split(HOST_PLACEHOLDER).map((p) => p.toLowerCase()).join(HOST_PLACEHOLDER);
    this.#defaultConfig = { ...BUILTIN_CONFIG, maxUsers: Math.min(BUILTIN_CONFIG.maxUsers, opts.maxUsers), ...opts.defaultRoomConfig };
  }

  get #store() {
    return this.#env.storage.muc;
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

  /** Handle a stanza addressed to the service, a room or an occupant. Never throws. */
  async handle(acc: Acc): Promise<void> {
    try {
      if (acc.to.local === '') await this.#toService(acc);
      else await this.#queue.run(acc.to.toBareString(), () => this.#toRoom(acc));
    } catch (e) {
      // RFC 6120 §8.3.1: never answer an error; presences of types nobody answers neither.
      if (acc.type === 'error' || acc.type === 'result') return;
      if (e instanceof StanzaError) {
        this.#env.router.route(errorAcc(acc, e));
        return;
      }
      this.#env.logger.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e), to: acc.to.toString() }, 'MUC request failed');
      this.#env.router.route(errorAcc(acc, err('internal-server-error')));
    }
  }

  async #toService(acc: Acc): Promise<void> {
    if (acc.name === 'presence' || acc.type === 'error') return;
    if (acc.name !== 'iq') throw err('service-unavailable');
    if (acc.type !== 'get' && acc.type !== 'set') return;
    if (acc.to.resource !== '') throw err('item-not-found');
    const payload = acc.element.elements()[0];
    const key = `${acc.type} ${payload?.ns ?? ''} ${payload?.name ?? ''}`;
    if (key === `get ${NS.DISCO_INFO} query`) return this.#answer(acc, this.#serviceInfo());
    if (key === `get ${NS.DISCO_ITEMS} query`) return this.#answer(acc, await this.#publicRooms(acc.to.domain, payload!));
    throw err('service-unavailable');
  }

  async #toRoom(acc: Acc): Promise<void> {
    const room = await this.#load(acc.to.bare());
    switch (acc.name) {
      case 'presence':
        return this.#onPresence(acc, room);
      case 'message':
        return this.#onMessage(acc, room);
      case 'iq':
        if (acc.type !== 'get' && acc.type !== 'set') return;
        return this.#answer(acc, await this.#onIq(acc, room, acc.type));
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- presence: enter, change, leave

  async #onPresence(acc: Acc, room: Room | undefined): Promise<void> {
    const type = acc.type;
    const from = acc.from.toString();
    // §7.14 (and a session that bounced the room's stanzas): the occupant leaves, whatever nick it named.
    if (type === 'unavailable' || type === 'error') {
      if (room !== undefined) this.#leave(room, from, acc.element.getChild('status'));
      return;
    }
    if (type !== undefined) return; // probes and subscriptions mean nothing to a room
    if (acc.from.local === '' || acc.from.resource === '') throw err('not-acceptable', 'occupants are full JIDs');
    const nick = acc.to.resource;
    // §7.2.1: no nick.
    if (nick === '') throw err('jid-malformed', 'a nickname is required');
    if ([...nick].length > this.#opts.maxNickLength) throw err('not-acceptable', `nicknames have at most ${this.#opts.maxNickLength} characters`);
    const occ = room?.occupantOf(from);
    if (room === undefined || occ === undefined) return this.#enter(acc, room, nick);
    if (occ.nick !== nick) return this.#changeNick(room, occ, acc, nick);
    // A session already in the room joining again (a client that lost track): the whole entry once more.
    if (acc.element.getChild('x', NS_MUC) !== undefined) {
      occ.presence = presenceChildren(acc.element);
      return this.#welcome(room, occ, acc.from, acc.element.getChild('x', NS_MUC), []);
    }
    // §7.7: a presence update is broadcast.
    occ.presence = presenceChildren(acc.element);
    this.#broadcastPresence(room, occ, {});
  }

  /** §7.2: entering (and creating, §10.1) a room. */
  async #enter(acc: Acc, existing: Room | undefined, nick: string): Promise<void> {
    const user = acc.from;
    const bare = user.toBareString();
    const x = acc.element.getChild('x', NS_MUC);
    let room = existing;
    const created = room === undefined;
    if (room === undefined) room = await this.#create(acc.to.bare(), bare);
    const aff = room.affiliationOf(bare);
    const holder = room.occupants.get(nick);
    // §7.2.7 banned, §7.2.6 members-only, §10.1.1 locked, §7.2.9 nick conflict, §7.2.10 max users, §7.2.5 password.
    if (aff === 'outcast') throw err('forbidden', 'you are banned from this room');
    if (room.config.membersOnly && rank(aff) < rank('member')) throw err('registration-required', 'this room is members-only');
    if (room.locked && aff !== 'owner') throw err('item-not-found', 'this room is locked until its owner configures it');
    if (holder !== undefined && holder.bare !== bare) throw err('conflict', 'this nickname is in use');
    if (holder === undefined && room.occupants.size >= room.config.maxUsers && rank(aff) < rank('admin')) throw err('service-unavailable', 'this room is full');
    if (room.config.passwordProtected && aff !== 'owner' && x?.getChildText('password') !== room.config.password) throw err('not-authorized', 'a password is required');

    if (created) {
      this.#rooms.set(room.jid.toString(), room);
      if (room.config.persistent) await this.#save(room);
    }
    // §7.2 multiple sessions: another session of the same bare JID shares the occupant.
    const occ: Occupant = holder ?? { nick, bare, role: room.defaultRole(aff), sessions: new Map(), presence: [] };
    occ.sessions.set(user.toString(), user);
    occ.presence = presenceChildren(acc.element);
    room.occupants.set(nick, occ);
    room.sessions.set(user.toString(), nick);
    // §7.2.3: the newcomer's presence goes to everyone else (another session of an occupant adds nobody).
    if (holder === undefined) this.#broadcastPresence(room, occ, {}, (o) => o !== occ);
    const codes = created ? [STATUS.CREATED] : [];
    this.#welcome(room, occ, user, x, codes);
  }

  /**
   * What a session that enters gets, in §7.2.3's order: the other occupants' presences, its own
   * (status 110), the discussion history (§7.2.14), then the subject (§7.2.15).
   */
  #welcome(room: Room, occ: Occupant, session: Jid, x: XmlElement | undefined, codes: number[]): void {
    for (const other of room.occupants.values()) {
      if (other !== occ) this.#send(this.#presence(room, other, occ, session, {}));
    }
    this.#send(this.#presence(room, occ, occ, session, { selfCodes: codes }));
    for (const h of this.#historyFor(room, x?.getChild('history'))) {
      this.#send(h.el.withAttrs({ to: session.toString() }).append(xml('delay', { xmlns: NS.DELAY, from: room.jid.toString(), stamp: new Date(h.at).toISOString() })));
    }
    const subject = room.subject;
    const from = subject === undefined || subject.by === '' ? room.jid.toString() : room.jid.withResource(subject.by).toString();
    this.#send(xml('message', { from, to: session.toString(), type: 'groupchat', id: this.#token() }, xml('subject', null, subject?.text ?? '')));
  }

  async #create(jid: Jid, owner: string): Promise<Room> {
    if (this.#opts.maxRooms !== Infinity) {
      const names = new Set(await this.#store.listRooms(this.#env.hostType, jid.domain));
      for (const r of this.#rooms.values()) if (r.jid.domain === jid.domain) names.add(r.jid.local);
      if (names.size >= this.#opts.maxRooms) throw err('resource-constraint', 'this service has no room for more rooms');
    }
    const room = new Room(jid, this.#defaultConfig);
    room.setAffiliation(owner, 'owner');
    room.locked = this.#opts.lockNewRooms;
    return room;
  }

  /** §7.6: unavailable from the old nick with 303 and the new nick, then available from the new one. */
  #changeNick(room: Room, occ: Occupant, acc: Acc, nick: string): void {
    if (room.occupants.has(nick)) throw err('conflict', 'this nickname is in use');
    this.#broadcastPresence(room, occ, { unavailable: true, codes: [STATUS.NICK_CHANGED], newNick: nick });
    room.occupants.delete(occ.nick);
    occ.nick = nick;
    occ.presence = presenceChildren(acc.element);
    room.occupants.set(nick, occ);
    for (const full of occ.sessions.keys()) room.sessions.set(full, nick);
    this.#broadcastPresence(room, occ, {});
  }

  /** §7.14: a session leaves; the occupant is gone with its last session. */
  #leave(room: Room, full: string, status: XmlElement | undefined): void {
    const occ = room.occupantOf(full);
    if (occ === undefined) return;
    const session = occ.sessions.get(full)!;
    occ.sessions.delete(full);
    room.sessions.delete(full);
    const shape: PresenceShape = { unavailable: true, extra: status, realJid: session };
    if (occ.sessions.size > 0) {
      this.#send(this.#presence(room, occ, occ, session, shape));
      return;
    }
    room.occupants.delete(occ.nick);
    this.#broadcastPresence(room, occ, shape);
    this.#send(this.#presence(room, occ, occ, session, shape));
    this.#dropIfDone(room);
  }

  /** An occupant removed by someone else (kick, ban, affiliation, members-only): every session goes. */
  #remove(room: Room, occ: Occupant, codes: number[], actor: string | undefined, reason: string | undefined): void {
    room.occupants.delete(occ.nick);
    for (const full of occ.sessions.keys()) room.sessions.delete(full);
    const shape: PresenceShape = { unavailable: true, codes, actor, reason, realJid: occ.sessions.values().next().value };
    this.#broadcastPresence(room, occ, shape);
    for (const s of occ.sessions.values()) this.#send(this.#presence(room, occ, occ, s, shape));
    occ.sessions.clear();
  }

  /** A temporary room goes away with its last occupant (§10.1); a persistent one stays loaded (history). */
  #dropIfDone(room: Room): void {
    if (room.isEmpty && !room.config.persistent) this.#rooms.delete(room.jid.toString());
  }

  /**
   * `occ`'s presence as `viewer` sees it at session `to` (§7.2.3): the occupant's own presence
   * children, then `<x muc#user>` with the item (real JID when the viewer may see it) and status
   * codes; the occupant's own sessions get 110 (and 100 in a non-anonymous room).
   */
  #presence(room: Room, occ: Occupant, viewer: Occupant, to: Jid, s: PresenceShape): XmlElement {
    const self = viewer === occ;
    const codes = [...(s.codes ?? [])];
    if (self) {
      codes.push(STATUS.SELF, ...(s.selfCodes ?? []));
      if (room.config.whois === 'anyone' && !s.unavailable) codes.push(STATUS.NON_ANONYMOUS);
    }
    const real = room.showsJidsTo(viewer) ? (s.realJid ?? occ.sessions.values().next().value) : undefined;
    const item = itemEl({
      affiliation: room.affiliationOf(occ.bare),
      role: s.unavailable ? 'none' : occ.role,
      jid: real?.toString(),
      nick: s.newNick,
      actor: s.actor,
      reason: s.reason,
    });
    return xml(
      'presence',
      { from: room.jid.withResource(occ.nick).toString(), to: to.toString(), type: s.unavailable ? 'unavailable' : undefined },
      s.unavailable ? [] : occ.presence,
      s.extra,
      mucUserX(item, statusEls(codes)),
    );
  }

  /** `occ`'s presence to every session in the room that `which` accepts (default: all, `occ`'s own included). */
  #broadcastPresence(room: Room, occ: Occupant, s: PresenceShape, which: (viewer: Occupant) => boolean = () => true): void {
    for (const viewer of room.occupants.values()) {
      if (!which(viewer)) continue;
      for (const session of viewer.sessions.values()) this.#send(this.#presence(room, occ, viewer, session, s));
    }
  }

  /** §7.2.14: the history a newcomer asked for (`<history maxstanzas|maxchars|seconds|since/>`). */
  #historyFor(room: Room, h: XmlElement | undefined): Room['history'] {
    let list = room.history;
    if (h === undefined) return list;
    const int = (name: string): number | undefined => {
      const v = h.attrs[name];
      if (v === undefined) return undefined;
      const n = Number(v);
      return Number.isInteger(n) && n >= 0 ? n : undefined;
    };
    const maxstanzas = int('maxstanzas');
    if (maxstanzas !== undefined) list = maxstanzas === 0 ? [] : list.slice(-maxstanzas);
    const seconds = int('seconds');
    if (seconds !== undefined) {
      const from = this.#env.clock.now() - seconds * 1000;
      list = list.filter((e) => e.at >= from);
    }
    if (h.attrs.since !== undefined) {
      try {
        const since = parseXepDateTime(h.attrs.since, 'since') / 1000;
        list = list.filter((e) => e.at > since);
      } catch {
        // An unreadable date limits nothing.
      }
    }
    const maxchars = int('maxchars');
    if (maxchars !== undefined) {
      let total = 0;
      let i = list.length;
      while (i > 0 && total + list[i - 1]!.size <= maxchars) total += list[--i]!.size;
      list = list.slice(i);
    }
    return list;
  }

  // ---------------------------------------------------------------- messages

  async #onMessage(acc: Acc, room: Room | undefined): Promise<void> {
    if (acc.type === 'error') return;
    if (room === undefined) throw err('item-not-found', 'no such room');
    const el = acc.element;
    const occ = room.occupantOf(acc.from.toString());
    if (acc.to.resource !== '') return this.#privateMessage(room, occ, acc);
    const x = el.getChild('x', NS_MUC_USER);
    if (x !== undefined && (x.getChild('invite') !== undefined || x.getChild('decline') !== undefined)) return this.#invitations(room, occ, acc, x);
    if (acc.type !== 'groupchat') throw err('bad-request', 'messages to a room are of type groupchat');
    // §7.4: only occupants may speak, visitors not in a moderated room.
    if (occ === undefined) throw err('not-acceptable', 'only occupants may send messages to the room');
    if (occ.role === 'visitor') throw err('forbidden', 'visitors have no voice in this room');
    const subject = el.getChild('subject');
    if (subject !== undefined && el.getChild('body') === undefined) return this.#changeSubject(room, occ, acc, subject.text());
    const roomJid = room.jid.toString();
    const id = el.attrs.id ?? this.#token();
    // XEP-0359 §5: a stanza-id claiming to be the room's, sent by a client, is removed.
    const children = el.children.filter((c) => typeof c === 'string' || !(c.name === 'stanza-id' && c.ns === NS.STANZA_ID && c.attrs.by === roomJid));
    const out = xml(
      'message',
      { from: room.jid.withResource(occ.nick).toString(), type: 'groupchat', id, 'xml:lang': el.attrs['xml:lang'] },
      children,
      xml('stanza-id', { xmlns: NS.STANZA_ID, id: this.#token(), by: roomJid }),
    );
    this.#toAll(room, out);
    if (el.getChild('body') !== undefined && this.#opts.historySize > 0) {
      room.history.push({ el: out, at: this.#env.clock.now(), size: serialize(out).length });
      if (room.history.length > this.#opts.historySize) room.history = room.history.slice(-this.#opts.historySize);
    }
  }

  /** §8.1: moderators, or participants when `changesubject` allows. */
  async #changeSubject(room: Room, occ: Occupant, acc: Acc, text: string): Promise<void> {
    const allowed = occ.role === 'moderator' || (room.config.changeSubject && occ.role === 'participant');
    if (!allowed) throw err('forbidden', 'you may not change the subject');
    room.subject = { text, by: occ.nick };
    await this.#saveIfPersistent(room);
    const id = acc.element.attrs.id ?? this.#token();
    this.#toAll(room, xml('message', { from: room.jid.withResource(occ.nick).toString(), type: 'groupchat', id }, acc.element.elements()));
  }

  /** §7.5: type chat (not groupchat) between occupants, from the sender's occupant JID. */
  #privateMessage(room: Room, occ: Occupant | undefined, acc: Acc): void {
    if (occ === undefined) throw err('not-acceptable', 'only occupants may send private messages');
    if (acc.type === 'groupchat') throw err('bad-request', 'private messages are not of type groupchat');
    const target = room.occupants.get(acc.to.resource);
    if (target === undefined) throw err('item-not-found', 'no such occupant');
    const el = acc.element;
    for (const s of target.sessions.values()) {
      // XEP-0045 §7.5: <x muc#user/> marks it as a MUC private message (for carbons and archives).
      this.#send(xml('message', { ...el.attrs, from: room.jid.withResource(occ.nick).toString(), to: s.toString(), xmlns: undefined }, el.elements().filter((c) => !(c.name === 'x' && c.ns === NS_MUC_USER)), mucUserX()));
    }
  }

  /** §7.8.2 mediated invitations and their declines. */
  async #invitations(room: Room, occ: Occupant | undefined, acc: Acc, x: XmlElement): Promise<void> {
    const sender = acc.from.toBareString();
    const invites = x.getChildren('invite');
    if (invites.length > 0) {
      if (occ === undefined) throw err('not-acceptable', 'only occupants may invite');
      const aff = room.affiliationOf(sender);
      if (!room.config.allowInvites && occ.role !== 'moderator' && rank(aff) < rank('admin')) throw err('forbidden', 'occupants may not invite in this room');
      const targets = invites.map((i) => {
        const to = Jid.tryParse(i.attrs.to);
        if (to === undefined) throw err('jid-malformed', 'an invitation needs a to');
        return { to: to.bare(), reason: i.getChildText('reason') };
      });
      let changed = false;
      for (const t of targets) {
        // §9.3: in a members-only room, an invitation by someone allowed to invite makes a member.
        if (room.config.membersOnly && room.affiliationOf(t.to.toString()) === 'none') {
          room.setAffiliation(t.to.toString(), 'member');
          changed = true;
        }
        this.#send(
          xml(
            'message',
            { from: room.jid.toString(), to: t.to.toString(), id: this.#token() },
            mucUserX(xml('invite', { from: sender }, t.reason !== undefined && xml('reason', null, t.reason)), room.config.passwordProtected && xml('password', null, room.config.password)),
            xml('body', null, `${sender} invites you to the room ${room.jid.toString()}${t.reason ? `: ${t.reason}` : ''}`),
          ),
        );
      }
      if (changed) await this.#saveIfPersistent(room);
    }
    for (const d of x.getChildren('decline')) {
      const to = Jid.tryParse(d.attrs.to);
      if (to === undefined) throw err('jid-malformed', 'a decline needs a to');
      const reason = d.getChildText('reason');
      this.#send(xml('message', { from: room.jid.toString(), to: to.toString(), id: this.#token() }, mucUserX(xml('decline', { from: sender }, reason !== undefined && xml('reason', null, reason)))));
    }
  }

  // ---------------------------------------------------------------- IQs

  async #onIq(acc: Acc, room: Room | undefined, type: 'get' | 'set'): Promise<Reply> {
    const payload = acc.element.elements()[0];
    if (room === undefined) throw err('item-not-found', 'no such room');
    const from = acc.from.toString();
    if (acc.to.resource !== '') {
      // XEP-0410 §3.2: a self-ping is answered by the room; other IQs to occupants are not relayed.
      const occ = room.occupantOf(from);
      if (occ === undefined) throw err('not-acceptable', 'you are not in this room');
      if (payload?.name === 'ping' && payload.ns === NS.PING && occ.nick === acc.to.resource) return null;
      throw err('feature-not-implemented', 'IQs are not relayed to occupants');
    }
    if (payload === undefined) throw err('bad-request', 'an IQ needs a payload');
    const ns = payload.ns ?? '';
    switch (`${type} ${ns}`) {
      case `get ${NS.DISCO_INFO}`:
        if (payload.attrs.node !== undefined) throw err('item-not-found');
        return this.#roomInfo(room);
      case `get ${NS.DISCO_ITEMS}`:
        return xml('query', { xmlns: NS.DISCO_ITEMS });
      case `get ${NS_MUC_OWNER}`:
        this.#requireOwner(room, acc);
        return xml('query', { xmlns: NS_MUC_OWNER }, configForm(room.config, this.#opts.maxUsers));
      case `set ${NS_MUC_OWNER}`:
        this.#requireOwner(room, acc);
        return this.#ownerSet(room, acc, payload);
      case `get ${NS_MUC_ADMIN}`:
        return this.#adminGet(room, acc, payload);
      case `set ${NS_MUC_ADMIN}`:
        return this.#adminSet(room, acc, payload);
      default:
        throw err('service-unavailable');
    }
  }

  #requireOwner(room: Room, acc: Acc): void {
    if (room.affiliationOf(acc.from.toBareString()) !== 'owner') throw err('forbidden', 'only owners may do this');
  }

  /** §10.1.2 instant room, §10.1.3 cancel, §10.2 configuration, §10.9 destroy. */
  async #ownerSet(room: Room, acc: Acc, payload: XmlElement): Promise<Reply> {
    const destroy = payload.getChild('destroy');
    if (destroy !== undefined) {
      await this.#destroy(room, destroy.attrs.jid, destroy.getChildText('reason'));
      return null;
    }
    const x = payload.getChild('x', NS_DATA_FORMS);
    if (x === undefined) throw err('bad-request', 'a configuration form or <destroy/> is expected');
    if (x.attrs.type === 'cancel') {
      // §10.1.3: cancelling the initial configuration destroys the still locked room.
      if (room.locked) await this.#destroy(room, undefined, undefined);
      return null;
    }
    const form = readSubmittedForm(payload)!;
    const before = room.config;
    const after = applyConfigForm(before, form, this.#opts.maxUsers);
    room.config = after;
    room.locked = false;
    if (after.persistent) await this.#save(room);
    else if (room.stored) {
      await this.#store.deleteRoom(this.#env.hostType, room.jid.domain, room.jid.local);
      room.stored = false;
    }
    // §10.2: occupants are told with 104; becoming members-only removes non-members (322).
    const changed = JSON.stringify(before) !== JSON.stringify(after);
    if (after.membersOnly && !before.membersOnly) {
      for (const o of [...room.occupants.values()]) {
        if (rank(room.affiliationOf(o.bare)) < rank('member')) this.#remove(room, o, [STATUS.MEMBERS_ONLY], undefined, undefined);
      }
    }
    if (changed) this.#toAll(room, xml('message', { from: room.jid.toString(), type: 'groupchat', id: this.#token() }, mucUserX(statusEls([STATUS.CONFIG_CHANGED]))));
    this.#dropIfDone(room);
    return null;
  }

  /** §10.9: everyone leaves with `<destroy/>` (and the alternate venue); the stored room is deleted. */
  async #destroy(room: Room, venue: string | undefined, reason: string | undefined): Promise<void> {
    const destroyEl = xml('destroy', { jid: venue }, reason !== undefined && xml('reason', null, reason));
    for (const occ of room.occupants.values()) {
      for (const s of occ.sessions.values()) {
        this.#send(
          xml('presence', { from: room.jid.withResource(occ.nick).toString(), to: s.toString(), type: 'unavailable' }, mucUserX(itemEl({ affiliation: 'none', role: 'none' }), destroyEl)),
        );
      }
    }
    room.occupants.clear();
    room.sessions.clear();
    this.#rooms.delete(room.jid.toString());
    if (room.stored) await this.#store.deleteRoom(this.#env.hostType, room.jid.domain, room.jid.local);
    room.stored = false;
  }

  /** §8.5, §9.1, §9.5, §9.8, §10.5, §10.8: role lists for moderators, member/outcast lists for admins, owner/admin lists for owners. */
  #adminGet(room: Room, acc: Acc, payload: XmlElement): Reply {
    const item = payload.getChild('item');
    const bare = acc.from.toBareString();
    const aff = room.affiliationOf(bare);
    const me = room.occupantOf(acc.from.toString());
    const wantAff = item?.attrs.affiliation;
    const wantRole = item?.attrs.role;
    if (wantAff !== undefined) {
      if (!AFFILIATIONS.has(wantAff) || wantAff === 'none') throw err('bad-request', `no list of affiliation ${wantAff}`);
      const needed: Affiliation = wantAff === 'owner' || wantAff === 'admin' ? 'owner' : 'admin';
      if (rank(aff) < rank(needed)) throw err('forbidden', `only ${needed}s may see this list`);
      const items = [...room.affiliations]
        .filter(([, a]) => a.affiliation === wantAff)
        .map(([jid, a]) => itemEl({ affiliation: a.affiliation, jid, reason: a.reason }));
      return xml('query', { xmlns: NS_MUC_ADMIN }, items);
    }
    if (wantRole !== undefined) {
      if (!ROLES.has(wantRole) || wantRole === 'none') throw err('bad-request', `no list of role ${wantRole}`);
      if (me?.role !== 'moderator' && rank(aff) < rank('admin')) throw err('forbidden', 'only moderators may see this list');
      const items = [...room.occupants.values()]
        .filter((o) => o.role === wantRole)
        .map((o) => itemEl({ affiliation: room.affiliationOf(o.bare), role: o.role, nick: o.nick, jid: o.sessions.values().next().value?.toString() }));
      return xml('query', { xmlns: NS_MUC_ADMIN }, items);
    }
    throw err('bad-request', 'an <item/> with an affiliation or a role is expected');
  }

  /** §8 role changes (kick, voice, moderator) and §9/§10 affiliation changes (ban, member, admin, owner), all or nothing. */
  async #adminSet(room: Room, acc: Acc, payload: XmlElement): Promise<Reply> {
    const bare = acc.from.toBareString();
    const actorAff = room.affiliationOf(bare);
    const actor = room.occupantOf(acc.from.toString());
    const items = payload.getChildren('item');
    if (items.length === 0) throw err('bad-request', 'no <item/>');
    const changes: AdminChange[] = items.map((i) => this.#checkAdminItem(room, i, actor, actorAff));
    // §10.6: a room always keeps an owner.
    const owners = new Set([...room.affiliations].filter(([, a]) => a.affiliation === 'owner').map(([j]) => j));
    for (const c of changes) {
      if (c.kind !== 'affiliation') continue;
      if (c.affiliation === 'owner') owners.add(c.jid);
      else owners.delete(c.jid);
    }
    if (owners.size === 0) throw err('conflict', 'the room needs an owner');

    let stored = false;
    for (const c of changes) {
      if (c.kind === 'role') {
        if (!room.occupants.has(c.target.nick)) continue;
        if (c.role === 'none') this.#remove(room, c.target, [STATUS.KICKED], actor?.nick, c.reason);
        else {
          c.target.role = c.role;
          this.#broadcastPresence(room, c.target, { reason: c.reason, actor: actor?.nick });
        }
        continue;
      }
      room.setAffiliation(c.jid, c.affiliation, c.reason);
      stored = true;
      for (const o of room.occupantsOf(c.jid)) {
        if (c.affiliation === 'outcast') this.#remove(room, o, [STATUS.BANNED], actor?.nick, c.reason);
        else if (c.affiliation === 'none' && room.config.membersOnly) this.#remove(room, o, [STATUS.AFFILIATION_CHANGED], actor?.nick, c.reason);
        else {
          const base = room.defaultRole(c.affiliation);
          // Losing admin/owner takes moderation away; a participant keeps its voice.
          o.role = base === 'moderator' || o.role === 'moderator' || o.role === 'visitor' ? base : o.role;
          this.#broadcastPresence(room, o, { reason: c.reason, actor: actor?.nick });
        }
      }
    }
    if (stored) await this.#saveIfPersistent(room);
    this.#dropIfDone(room);
    return null;
  }

  #checkAdminItem(room: Room, i: XmlElement, actor: Occupant | undefined, actorAff: Affiliation): AdminChange {
    const reason = i.getChildText('reason');
    const role = i.attrs.role;
    const affiliation = i.attrs.affiliation;
    if (role !== undefined && affiliation === undefined) {
      if (!ROLES.has(role)) throw err('bad-request', `unknown role ${role}`);
      // §8: role changes are for moderators, by nick.
      if (actor?.role !== 'moderator') throw err('forbidden', 'only moderators may change roles');
      const nick = i.attrs.nick;
      const target = nick === undefined ? undefined : room.occupants.get(nick);
      if (target === undefined) throw err('item-not-found', 'no such occupant');
      const targetAff = room.affiliationOf(target.bare);
      const highTarget = rank(targetAff) >= rank('admin');
      // §8.2, §8.4: admins and owners cannot be kicked or silenced; only admins/owners make or unmake moderators.
      if ((role === 'none' || role === 'visitor') && highTarget) throw err('not-allowed', `a ${targetAff} keeps its role`);
      if ((role === 'moderator' || target.role === 'moderator') && rank(actorAff) < rank('admin')) throw err('forbidden', 'only admins and owners grant or revoke moderation');
      if (role === 'participant' && target.role === 'moderator' && highTarget) throw err('not-allowed', `a ${targetAff} stays moderator`);
      return { kind: 'role', target, role: role as Role, reason };
    }
    if (affiliation !== undefined && role === undefined) {
      if (!AFFILIATIONS.has(affiliation)) throw err('bad-request', `unknown affiliation ${affiliation}`);
      const jid = Jid.tryParse(i.attrs.jid);
      if (jid === undefined) throw err('bad-request', 'an affiliation change needs a jid');
      const target = jid.bare().toString();
      const aff = affiliation as Affiliation;
      const current = room.affiliationOf(target);
      if (rank(actorAff) < rank('admin')) throw err('forbidden', 'only admins and owners change affiliations');
      // §9, §10: admins manage members and outcasts; only owners touch admins and owners.
      if ((aff === 'owner' || aff === 'admin') && actorAff !== 'owner') throw err('forbidden', 'only owners grant admin or owner');
      if (rank(current) >= rank('admin') && actorAff !== 'owner') throw err('not-allowed', `an admin cannot change a ${current}`);
      return { kind: 'affiliation', jid: target, affiliation: aff, reason };
    }
    throw err('bad-request', 'an <item/> changes either a role (with nick) or an affiliation (with jid)');
  }

  // ---------------------------------------------------------------- disco

  #serviceInfo(): XmlElement {
    return xml(
      'query',
      { xmlns: NS.DISCO_INFO },
      xml('identity', { category: 'conference', type: 'text', name: this.#opts.serviceName }),
      [NS.DISCO_INFO, NS.DISCO_ITEMS, NS_MUC, NS.RSM].map((v) => xml('feature', { var: v })),
    );
  }

  /** §6.3: public rooms (unlocked, `publicroom`), live or stored, sorted by JID; XEP-0059 pages. */
  async #publicRooms(domain: string, payload: XmlElement): Promise<XmlElement> {
    const rsm = readRsm(payload);
    const rooms = new Map<string, string>();
    for (const r of this.#rooms.values()) {
      if (r.jid.domain === domain && r.config.public && !r.locked) rooms.set(r.jid.toString(), r.config.title || r.jid.local);
    }
    for (const name of await this.#store.listRooms(this.#env.hostType, domain)) {
      const jid = Jid.of(name, domain);
      if (this.#rooms.has(jid.toString())) continue;
      const rec = await this.#store.getRoom(this.#env.hostType, domain, name);
      if (rec === undefined) continue;
      const room = Room.fromRecord(jid, rec, this.#defaultConfig);
      if (room.config.public) rooms.set(jid.toString(), room.config.title || name);
    }
    const all = [...rooms.keys()].sort();
    const max = Math.min(rsm?.max ?? this.#opts.roomsPerPage, this.#opts.roomsPerPage);
    let start = 0;
    if (rsm?.after !== undefined) start = all.findIndex((j) => j === rsm.after) + 1;
    else if (rsm?.index !== undefined) start = rsm.index;
    let end = start + max;
    if (rsm?.before !== undefined) {
      end = rsm.before === '' ? all.length : Math.max(0, all.indexOf(rsm.before));
      start = Math.max(0, end - max);
    }
    const page = all.slice(start, end);
    return xml(
      'query',
      { xmlns: NS.DISCO_ITEMS },
      page.map((jid) => xml('item', { jid, name: rooms.get(jid) })),
      rsm !== undefined && rsmResult({ first: page[0], firstIndex: page.length > 0 ? start : undefined, last: page[page.length - 1], count: all.length }),
    );
  }

  /** §6.4: identity, the muc_* features and the `muc#roominfo` form. */
  #roomInfo(room: Room): XmlElement {
    const c = room.config;
    const features = [
      NS_MUC,
      NS.DISCO_INFO,
      NS.STANZA_ID,
      c.persistent ? 'muc_persistent' : 'muc_temporary',
      c.public ? 'muc_public' : 'muc_hidden',
      c.membersOnly ? 'muc_membersonly' : 'muc_open',
      c.moderated ? 'muc_moderated' : 'muc_unmoderated',
      c.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
      c.passwordProtected ? 'muc_passwordprotected' : 'muc_unsecured',
    ];
    const field = (v: string, value: string, type?: string) => xml('field', { var: v, type }, xml('value', null, value));
    return xml(
      'query',
      { xmlns: NS.DISCO_INFO },
      xml('identity', { category: 'conference', type: 'text', name: c.title || room.jid.local }),
      features.map((v) => xml('feature', { var: v })),
      xml(
        'x',
        { xmlns: NS_DATA_FORMS, type: 'result' },
        field('FORM_TYPE', NS_MUC_ROOMINFO, 'hidden'),
        field('muc#roominfo_description', c.description),
        field('muc#roominfo_subject', room.subject?.text ?? ''),
        field('muc#roominfo_occupants', String(room.occupants.size)),
        field('muc#roominfo_subjectmod', c.changeSubject ? '1' : '0', 'boolean'),
        field('muc#roomconfig_roomname', c.title),
      ),
    );
  }

  // ---------------------------------------------------------------- sessions, accounts, domains

  /** A session ended (its connection is gone): it leaves every room it was in. */
  sessionGone(full: Jid): Promise<void> {
    const key = full.toString();
    const rooms = [...this.#rooms.values()].filter((r) => r.sessions.has(key));
    return Promise.all(rooms.map((r) => this.#queue.run(r.jid.toString(), async () => this.#leave(r, key, undefined)))).then(() => undefined);
  }

  /** An account is deleted: its affiliations everywhere (stored and live). */
  async removeUser(jid: Jid): Promise<void> {
    const bare = jid.toBareString();
    await this.#store.removeUser(this.#env.hostType, jid.domain, jid.local);
    for (const r of this.#rooms.values()) r.affiliations.delete(bare);
  }

  /** A domain is deleted: a service domain loses its rooms, a user domain its users' affiliations. */
  async removeDomain(domain: string): Promise<void> {
    await this.#store.removeDomain(this.#env.hostType, domain);
    for (const r of [...this.#rooms.values()]) {
      if (r.jid.domain === domain) {
        r.stored = false;
        await this.#queue.run(r.jid.toString(), () => this.#destroy(r, undefined, 'The service is gone'));
        continue;
      }
      for (const j of [...r.affiliations.keys()]) if (Jid.tryParse(j)?.domain === domain) r.affiliations.delete(j);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The live room, or the stored one loaded; `undefined` when it does not exist. */
  async #load(jid: Jid): Promise<Room | undefined> {
    const key = jid.toString();
    const live = this.#rooms.get(key);
    if (live !== undefined) return live;
    const rec = await this.#store.getRoom(this.#env.hostType, jid.domain, jid.local);
    if (rec === undefined) return undefined;
    const room = Room.fromRecord(jid, rec, this.#defaultConfig);
    this.#rooms.set(key, room);
    return room;
  }

  async #save(room: Room): Promise<void> {
    await this.#store.saveRoom(this.#env.hostType, room.jid.domain, room.record());
    room.stored = true;
  }

  async #saveIfPersistent(room: Room): Promise<void> {
    if (room.config.persistent) await this.#save(room);
  }

  /** `el` (without `to`) to every session in the room. */
  #toAll(room: Room, el: XmlElement): void {
    for (const occ of room.occupants.values()) for (const s of occ.sessions.values()) this.#send(el.withAttrs({ to: s.toString() }));
  }

  /** Ids and stanza-ids: time-ordered, unique by chance. */
  #token(): string {
    return this.#env.clock.now().toString(36) + randomBytes(5).toString('hex');
  }

  /** Route a stanza the service sends (`from`/`to` attributes set). */
  #send(el: XmlElement): void {
    const from = Jid.parse(el.attrs.from!);
    this.#env.router.route(
      Acc.fromElement(el, { from, hostType: this.#env.hostType, lserver: this.#env.domains.parentDomainOf(from.domain) ?? from.domain, origin: 'server', clock: this.#env.clock }),
    );
  }

  #answer(acc: Acc, reply: Reply): void {
    this.#env.router.route(resultAcc(acc, reply === null ? [] : [reply], this.#env.clock));
  }
}
