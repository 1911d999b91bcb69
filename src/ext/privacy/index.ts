/**
 * Privacy lists (XEP-0016): list management over `jabber:iq:privacy`, the active list per
 * connection (module slot), the default list per user (storage), and the checks on outgoing
 * and incoming stanzas and on offline storage. See README.md.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import * as c2s from '../../c2s/hooks.ts';
import { defineModSlot, getModState, type Effects } from '../../c2s/effects.ts';
import type { C2sContext } from '../../c2s/context.ts';
import { isPromise, next, stop, type HookReturn } from '../../hooks/index.ts';
import type { Acc } from '../../core/acc.ts';
import type { Jid } from '../../core/jid.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { isErrorStanza } from '../../core/stanza.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { NS } from '../../core/namespaces.ts';
import { offlineMessage } from '../../core/server-hooks.ts';
import { BLOCKLIST_NAME } from '../../core/storage/privacy-store.ts';
import type { RosterItem } from '../../core/storage/roster-store.ts';
import {
  answersForAll,
  isOwnAccountOrServer,
  isPrivacyBypass,
  isToOwnAccount,
  markPrivacyBypass,
  ownIqReply,
  ownPushAcc,
  privacyCheckPacket,
  type PrivacyVerdict,
} from '../../core/hooks/privacy.ts';
import { compileList, evaluate, itemsToXml, KIND_BIT, kindBitOf, parseItems, type CompiledList } from './list.ts';

export { type CompiledList } from './list.ts';

/** Options of the privacy module. */
export interface PrivacyOptions {
  /** Priority of the stanza checks on the c2s send/receive hooks. Default 10. */
  readonly checkPriority: number;
  /** Priority on `offlineMessage`; must be lower than the offline module's store. Default 10. */
  readonly offlinePriority: number;
}

/** What a connection holds: the list it activated (XEP-0016 §2.4) and the list in force. */
export interface PrivacyState {
  /** Name the session activated; `undefined` = none (the default list applies). */
  readonly active: string | undefined;
  /** The list in force: the active list, else the default list, else none. */
  readonly list: CompiledList | undefined;
}

/** The module's per-connection slot. */
export const privacySlot = defineModSlot<PrivacyState>('privacy');

/** Session info key: the session's active list name (other sessions read it for `conflict`). */
export const PRIVACY_ACTIVE_INFO = 'privacyActive';

/** `cast` content sent to every session of a user when a list or the default changes. */
type PrivacyCast = { readonly kind: 'list'; readonly name: string } | { readonly kind: 'default' };

const NAME = 'privacy';
let pushSeq = 0;

async function loadList(env: ModuleEnv, user: Jid, name: string): Promise<CompiledList | undefined> {
  const items = await env.storage.privacy.getList(env.hostType, user.domain, user.local, name);
  return items === undefined ? undefined : compileList(name, items);
}

async function loadDefault(env: ModuleEnv, user: Jid): Promise<CompiledList | undefined> {
  const name = await env.storage.privacy.getDefault(env.hostType, user.domain, user.local);
  return name === undefined ? undefined : loadList(env, user, name);
}

/** The list in force for a session that activated `active` (or nothing). */
async function effectiveState(env: ModuleEnv, user: Jid, active: string | undefined): Promise<PrivacyState> {
  if (active !== undefined) {
    const list = await loadList(env, user, active);
    if (list !== undefined) return { active, list };
  }
  return { active: undefined, list: await loadDefault(env, user) };
}

/** Evaluate `list`; synchronous unless the list needs the contact's roster item. */
function decide(env: ModuleEnv, user: Jid, list: CompiledList, bit: number, peer: Jid): 'allow' | 'deny' | Promise<'allow' | 'deny'> {
  if (!list.needsRoster) return evaluate(list, bit, peer, undefined);
  // Roster groups/subscriptions: read the roster port directly (no shared roster hook exists).
  return env.storage.roster
    .getItem(env.hostType, user.domain, user.local, peer.toBareString())
    .then((item: RosterItem | undefined) => evaluate(list, bit, peer, item));
}

function then<T, R>(v: T | Promise<T>, f: (v: T) => R): R | Promise<R> {
  return isPromise<T>(v) ? v.then(f) : f(v);
}

/** Outgoing deny (reference §5.7): `not-acceptable` back to the sender, not routed. */
function denyOut(ef: Effects, acc: Acc): HookReturn<Effects> {
  if (!isErrorStanza(acc.element)) ef.route(markPrivacyBypass(errorAcc(acc, new StanzaError('not-acceptable'))));
  return stop(ef);
}

/** Incoming deny: `service-unavailable` for messages and IQ get/set; presences, groupchat, errors and results vanish. */
function denyIn(env: ModuleEnv, ef: Effects, conn: C2sContext, acc: Acc): HookReturn<Effects> {
  const el = acc.element;
  const type = el.attrs.type;
  const bounce =
    el.name === 'message'
      ? type !== 'error' && type !== 'groupchat' && answersForAll(env.sessions, conn.jid!, conn.sid, acc.to)
      : el.name === 'iq' && (type === 'get' || type === 'set');
  if (bounce) env.router.route(errorAcc(acc, new StanzaError('service-unavailable')));
  return stop(ef);
}

/** Does a session other than `sid` use list `name` (as its active list, or as the default when it has none)? */
function usedElsewhere(env: ModuleEnv, user: Jid, sid: string, name: string | undefined, defaultName: string | undefined): boolean {
  for (const s of env.sessions.sessionsOf(user)) {
    if (s.sid === sid) continue;
    const active = env.sessions.entry(s.sid)?.info[PRIVACY_ACTIVE_INFO] as string | undefined;
    if (active !== undefined ? active === name : defaultName !== undefined && defaultName === name) return true;
  }
  return false;
}

function castAll(env: ModuleEnv, user: Jid, content: PrivacyCast): void {
  for (const s of env.sessions.sessionsOf(user)) s.cast(NAME, content);
}

async function handleGet(env: ModuleEnv, conn: C2sContext, user: Jid, query: XmlElement): Promise<XmlElement | StanzaError> {
  const children = query.elements();
  const store = env.storage.privacy;
  if (children.length === 0) {
    // XEP-0016 §2.3: the names, this session's active list and the default list.
    const { names, default: def } = await store.getListNames(env.hostType, user.domain, user.local);
    const active = getModState(conn, privacySlot)?.active;
    return xml(
      'query',
      { xmlns: NS.PRIVACY },
      active !== undefined && xml('active', { name: active }),
      def !== undefined && xml('default', { name: def }),
      ...names.map((n) => xml('list', { name: n })),
    );
  }
  // XEP-0016 §2.3: exactly one list per request.
  if (children.length > 1 || children[0]!.name !== 'list') return new StanzaError('bad-request', 'ask for one list at a time');
  const name = children[0]!.attrs.name;
  if (name === undefined) return new StanzaError('bad-request', 'a list needs a name');
  const items = name === BLOCKLIST_NAME ? undefined : await store.getList(env.hostType, user.domain, user.local, name);
  if (items === undefined) return new StanzaError('item-not-found');
  return xml('query', { xmlns: NS.PRIVACY }, xml('list', { name }, ...itemsToXml(items)));
}

async function handleSet(env: ModuleEnv, ef: Effects, conn: C2sContext, user: Jid, query: XmlElement): Promise<null | StanzaError> {
  const children = query.elements();
  if (children.length !== 1) return new StanzaError('bad-request', 'set exactly one of active, default or list');
  const child = children[0]!;
  const name = child.attrs.name;
  const store = env.storage.privacy;
  const { hostType } = env;
  if (name === BLOCKLIST_NAME) return child.name === 'list' ? new StanzaError('not-acceptable', 'reserved list name') : new StanzaError('item-not-found');
  switch (child.name) {
    case 'active': {
      // XEP-0016 §2.4: activate a list for this session, or decline (`<active/>`) — the default applies then.
      let state: PrivacyState;
      if (name !== undefined) {
        const list = await loadList(env, user, name);
        if (list === undefined) return new StanzaError('item-not-found');
        state = { active: name, list };
      } else state = { active: undefined, list: await loadDefault(env, user) };
      ef.setModState(privacySlot, state).setInfo(PRIVACY_ACTIVE_INFO, state.active);
      return null;
    }
    case 'default': {
      // XEP-0016 §2.5: changing or declining the default while it applies to another resource → conflict.
      const current = await store.getDefault(hostType, user.domain, user.local);
      if (name === current) return null;
      if (current !== undefined && usedElsewhere(env, user, conn.sid, current, current)) return new StanzaError('conflict');
      if (!(await store.setDefault(hostType, user.domain, user.local, name))) return new StanzaError('item-not-found');
      castAll(env, user, { kind: 'default' });
      return null;
    }
    case 'list': {
      if (name === undefined) return new StanzaError('bad-request', 'a list needs a name');
      if (child.elements().length === 0) {
        // XEP-0016 §2.8: removal; refused while the list applies to another resource.
        const def = await store.getDefault(hostType, user.domain, user.local);
        if (usedElsewhere(env, user, conn.sid, name, def)) return new StanzaError('conflict');
        if (!(await store.deleteList(hostType, user.domain, user.local, name))) return new StanzaError('item-not-found');
        castAll(env, user, { kind: 'list', name });
        return null;
      }
      const items = parseItems(child);
      if (items instanceof StanzaError) return items;
      // XEP-0016 §2.1: a group item naming a group the roster does not have → item-not-found.
      const groups = items.filter((i) => i.type === 'group').map((i) => i.value!);
      if (groups.length > 0) {
        const roster = await env.storage.roster.getRoster(hostType, user.domain, user.local);
        const known = new Set(roster.items.flatMap((i) => i.groups));
        if (groups.some((g) => !known.has(g))) return new StanzaError('item-not-found', 'no such roster group');
      }
      await store.setList(hostType, user.domain, user.local, name, items);
      // XEP-0016 §2.6: push the change to every connected resource; those using it reload it.
      castAll(env, user, { kind: 'list', name });
      return null;
    }
    default:
      return new StanzaError('bad-request', `unexpected <${child.name}/>`);
  }
}

/** The privacy lists module (XEP-0016). */
export const privacy = defineModule<PrivacyOptions>({
  name: NAME,
  defaults: { checkPriority: 10, offlinePriority: 10 },
  features: [NS.PRIVACY],
  slots: [privacySlot],
  hooks(hostType, opts, env) {
    const outCheck = (ef: Effects, p: c2s.C2sStanzaParams) => {
      const list = getModState(p.conn, privacySlot)?.list;
      if (list === undefined) return;
      const user = p.conn.jid!;
      const acc = p.acc;
      if (isOwnAccountOrServer(user, acc.to)) return;
      return then(decide(env, user, list, kindBitOf(acc.element, 'out'), acc.to), (v) => (v === 'deny' ? denyOut(ef, acc) : undefined));
    };
    const inCheck = (ef: Effects, p: c2s.C2sStanzaParams) => {
      const list = getModState(p.conn, privacySlot)?.list;
      if (list === undefined) return;
      const acc = p.acc;
      if (isPrivacyBypass(acc)) return;
      const user = p.conn.jid!;
      if (isOwnAccountOrServer(user, acc.from)) return;
      return then(decide(env, user, list, kindBitOf(acc.element, 'in'), acc.from), (v) => (v === 'deny' ? denyIn(env, ef, p.conn, acc) : undefined));
    };
    const prio = opts.checkPriority;
    return [
      // The default list is in force from the start of the session (XEP-0016 §2.5).
      hook(c2s.userOpenSession, async (ef, p) => {
        ef.setModState(privacySlot, { active: undefined, list: await loadDefault(env, p.jid) });
      }),
      hook(c2s.userSendMessage, outCheck, prio),
      hook(c2s.userSendIq, outCheck, prio),
      hook(c2s.userSendPresence, outCheck, prio),
      hook(c2s.userReceiveMessage, inCheck, prio),
      hook(c2s.userReceiveIq, inCheck, prio),
      hook(c2s.userReceivePresence, inCheck, prio),
      hook(
        c2s.userSendIq,
        (ef, p) => {
          const acc = p.acc;
          const el = acc.element;
          const type = el.attrs.type;
          if (type !== 'get' && type !== 'set') return;
          const query = el.getChild('query', NS.PRIVACY);
          if (query === undefined) return;
          const user = p.conn.jid!;
          // Only the user's own lists: `to` absent (= own bare JID) or the own bare JID.
          if (!isToOwnAccount(acc.to, user)) return;
          const bare = user.bare();
          const work = type === 'get' ? handleGet(env, p.conn, bare, query) : handleSet(env, ef, p.conn, bare, query);
          return ownIqReply(acc, work, env.logger, 'privacy IQ failed').then((reply) => stop(ef.route(reply)));
        },
        50,
      ),
      hook(c2s.foreignEvent, (ef, p) => {
        if (p.tag !== NAME) return;
        const content = p.content as PrivacyCast;
        const conn = p.conn;
        const user = conn.jid;
        if (user === undefined || conn.state === 'closing' || conn.state === 'closed') return stop(ef);
        if (content.kind === 'list') {
          // XEP-0016 §2.6 push; the client acknowledges with a result to its bare JID (dropped there).
          const payload = xml('query', { xmlns: NS.PRIVACY }, xml('list', { name: content.name }));
          ef.route(ownPushAcc(user, `privacy-push-${++pushSeq}`, payload, hostType, conn.lserver!));
        }
        const prev = getModState(conn, privacySlot);
        return effectiveState(env, user.bare(), prev?.active).then((state) => {
          ef.setModState(privacySlot, state);
          if (state.active !== prev?.active) ef.setInfo(PRIVACY_ACTIVE_INFO, state.active);
          return stop(ef);
        });
      }),
      // Offline storage honours the default list (reference §6.2: privacy before offline_message storage).
      hook(
        offlineMessage,
        (acc, p) => {
          const user = p.to.bare();
          if (isOwnAccountOrServer(user, p.from)) return;
          return loadDefault(env, user).then(async (list) => {
            if (list === undefined) return next(acc);
            const v = await decide(env, user, list, KIND_BIT.message, p.from);
            if (v === 'allow') return next(acc);
            if (!isErrorStanza(acc.element)) env.router.route(errorAcc(acc, new StanzaError('service-unavailable')));
            return stop(acc);
          });
        },
        opts.offlinePriority,
      ),
      hook(privacyCheckPacket, (verdict, p) => {
        if (verdict !== 'allow') return stop(verdict);
        const user = p.user.bare();
        const peer = p.direction === 'out' ? p.to : p.from;
        if (isOwnAccountOrServer(user, peer)) return;
        const bit = kindBitOf(p.stanza, p.direction);
        const conn = p.conn as C2sContext | undefined;
        const deny = (v: 'allow' | 'deny') => (v === 'deny' ? stop<PrivacyVerdict>('deny') : undefined);
        if (conn !== undefined && conn.jid !== undefined && conn.jid.bareEquals(user)) {
          const list = getModState(conn, privacySlot)?.list;
          return list === undefined ? undefined : then(decide(env, user, list, bit, peer), deny);
        }
        return loadDefault(env, user).then((list) => (list === undefined ? undefined : then(decide(env, user, list, bit, peer), deny)));
      }),
    ];
  },
});
