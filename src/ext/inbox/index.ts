/**
 * Inbox in MongooseIM's dialect (`erlang-solutions.com:xmpp:inbox:0`, the protocol XEP-0430
 * grew out of and the one clients of that ecosystem speak) on the `inbox` storage port: one
 * entry per conversation with its last message, unread count, box and mute time. See
 * README.md for the rules, hooks and the protocol shapes.
 *
 * Writes never delay a message: the port calls are issued in order and not awaited (SQL
 * adapters group-commit them and flush queued writes before a read, so a later query sees them).
 * @module
 */
import { defineModule, hook, type ModuleEnv, type ModuleIqHandler } from '../../c2s/module.ts';
import { userSendMessage } from '../../c2s/hooks.ts';
import { Acc } from '../../core/acc.ts';
import {
  formTemplate,
  formatXepDateTime,
  parseFormBoolean,
  parseXepDateTime,
  readRsm,
  readSubmittedForm,
  singleValue,
} from '../../core/data-forms.ts';
import { StanzaError } from '../../core/errors.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { filterLocalPacket, removeDomain, removeUser } from '../../core/server-hooks.ts';
import type { InboxEntry, InboxQuery } from '../../core/storage/inbox-store.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import { next } from '../../hooks/index.ts';

/** The inbox namespace (MongooseIM). */
export const NS_INBOX = NS.INBOX;
/** Per-conversation properties and reset (MongooseIM). */
export const NS_INBOX_CONVERSATION = NS.INBOX + '#conversation';

/** XEP-0333 markers that may reset a conversation's unread count. */
export type ResetMarker = 'displayed' | 'received' | 'acknowledged';

/** Options of {@link inbox}. */
export interface InboxOptions {
  /** Markers that reset the unread count when the user sends them (default `['displayed']`). */
  readonly resetMarkers: readonly ResetMarker[];
  /** Boxes clients may use besides `inbox` (always there); `all` is the query-only pseudo box. Default `['archive', 'bin']`. */
  readonly boxes: readonly string[];
  /** A new message in a conversation parked in `archive` moves it back to `inbox` (default true). */
  readonly unarchiveOnMessage: boolean;
  /** Priority on `userSendMessage` (reference §4.2: 70, after MAM at 60). */
  readonly sendPriority: number;
  /** Priority on `filterLocalPacket` (reference §4.3: 90, after MAM at 60, so the stanza-id is in the stored copy). */
  readonly filterPriority: number;
}

const ACC_NS = 'inbox';

/** A chat/normal message with a body (what makes a conversation's "last message"). */
function isInboxMessage(el: XmlElement): boolean {
  if (el.name !== 'message') return false;
  const type = el.attrs.type;
  if (type !== undefined && type !== 'chat' && type !== 'normal') return false;
  return el.getChild('body') !== undefined;
}

/** The id a read marker refers to (XEP-0333 §4: the message's `id`; our stanza-id as fallback). */
function msgIdOf(el: XmlElement, owner: string): string {
  if (el.attrs.id !== undefined && el.attrs.id !== '') return el.attrs.id;
  for (const c of el.getChildren('stanza-id', NS.STANZA_ID)) if (c.attrs.by === owner && c.attrs.id) return c.attrs.id;
  return '';
}

/** The stanza as stored: routed stanzas get their addresses written only at delivery. */
function withAddresses(el: XmlElement, acc: Acc): XmlElement {
  const from = acc.from.toString();
  const to = acc.to.toString();
  return el.attrs.from === from && el.attrs.to === to ? el : el.withAttrs({ from, to });
}

/** Only the owner may read or change their inbox. */
function ownerOf(acc: Acc): Jid {
  if (!acc.from.bareEquals(acc.to)) throw new StanzaError('forbidden', 'Only the owner may access this inbox');
  return acc.to.bare();
}

class InboxWriter {
  readonly #env: ModuleEnv;
  readonly #opts: InboxOptions;
  readonly #markers: ReadonlySet<string>;

  constructor(env: ModuleEnv, opts: InboxOptions) {
    this.#env = env;
    this.#opts = opts;
    this.#markers = new Set(opts.resetMarkers);
  }

  #failed(what: string) {
    return (err: unknown) => this.#env.logger.error({ err: err instanceof Error ? err.message : String(err) }, `inbox ${what} failed`);
  }

  #update(owner: Jid, remote: string, el: XmlElement, stored: XmlElement, unread: 'increment' | 'reset'): void {
    const env = this.#env;
    const upsert = env.storage.inbox.upsert(env.hostType, owner.domain, owner.local, {
      remoteJid: remote,
      msgId: msgIdOf(el, owner.toString()),
      xml: serialize(stored, { defaultNs: NS.CLIENT }),
      timestamp: Math.round(env.clock.now() * 1000),
      unread,
    });
    upsert.then((e) => {
      if (this.#opts.unarchiveOnMessage && e.box === 'archive') return env.storage.inbox.setBox(env.hostType, owner.domain, owner.local, remote, 'inbox');
      return undefined;
    }).catch(this.#failed('upsert'));
  }

  /** `userSendMessage`: the sender's own entry (unread reset), or a read marker. */
  outgoing(acc: Acc): void {
    const el = acc.element;
    if (el.name !== 'message' || acc.to.local === '') return;
    const owner = acc.from.bare();
    const remote = acc.to.toBareString();
    if (isInboxMessage(el)) {
      this.#update(owner, remote, el, withAddresses(el, acc), 'reset');
      return;
    }
    for (const c of el.children) {
      if (typeof c === 'string' || c.ns !== NS.CHAT_MARKERS || !this.#markers.has(c.name)) continue;
      const id = c.attrs.id;
      if (id === undefined || id === '') continue;
      const env = this.#env;
      env.storage.inbox.resetUnread(env.hostType, owner.domain, owner.local, remote, id).catch(this.#failed('reset'));
      return;
    }
  }

  /** `filterLocalPacket` of the recipient: the recipient's entry (unread + 1), once per message. */
  incoming(acc: Acc): void {
    const el = acc.element;
    const to = acc.to;
    if (to.local === '' || !isInboxMessage(el)) return;
    const owner = to.bare();
    const marker = 'in:' + owner.toString();
    if (acc.has(ACC_NS, marker)) return; // re-routed by stream management: already counted
    if (acc.origin === 'server' && this.#isRedelivery(el, owner)) return;
    acc.setPermanent(ACC_NS, marker, true);
    this.#update(owner, acc.from.toBareString(), el, withAddresses(el, acc), 'increment');
  }

  /** Offline storage re-delivers with its `<delay from=domain/>`; MAM stamps its stanza-id on the first pass. */
  #isRedelivery(el: XmlElement, owner: Jid): boolean {
    for (const c of el.children) {
      if (typeof c === 'string') continue;
      if (c.name === 'delay' && c.ns === NS.DELAY && c.attrs.from === owner.domain) return true;
      if (c.name === 'stanza-id' && c.ns === NS.STANZA_ID && c.attrs.by === owner.toString()) return true;
    }
    return false;
  }
}

// ------------------------------------------------------------------ query

const ORDER = new Set(['asc', 'desc']);
const KNOWN_FIELDS = new Set(['start', 'end', 'order', 'hidden_read', 'box', 'archive']);

function queryForm(opts: InboxOptions): XmlElement {
  return xml(
    'inbox',
    { xmlns: NS_INBOX },
    formTemplate(NS_INBOX, [
      { var: 'start', type: 'text-single' },
      { var: 'end', type: 'text-single' },
      { var: 'hidden_read', type: 'boolean', value: 'false' },
      { var: 'order', type: 'list-single', value: 'desc', options: ['asc', 'desc'] },
      { var: 'box', type: 'list-single', value: 'all', options: ['all', 'inbox', ...opts.boxes] },
      { var: 'archive', type: 'boolean' },
    ]),
  );
}

function readQuery(q: XmlElement, opts: InboxOptions): InboxQuery {
  const out: { box?: string; order?: 'asc' | 'desc'; limit?: number; hiddenRead?: boolean; start?: number; end?: number } = { order: 'desc' };
  const form = readSubmittedForm(q, { acceptFormType: true });
  if (form !== undefined) {
    if (form.formType !== undefined && form.formType !== NS_INBOX) throw new StanzaError('bad-request', `FORM_TYPE must be ${NS_INBOX}`);
    for (const name of form.fields.keys()) if (!KNOWN_FIELDS.has(name)) throw new StanzaError('bad-request', `unsupported field ${name}`);
    const order = singleValue(form, 'order');
    if (order !== undefined) {
      if (!ORDER.has(order)) throw new StanzaError('bad-request', 'order must be asc or desc');
      out.order = order as 'asc' | 'desc';
    }
    const start = singleValue(form, 'start');
    if (start !== undefined) out.start = parseXepDateTime(start, 'start');
    const end = singleValue(form, 'end');
    if (end !== undefined) out.end = parseXepDateTime(end, 'end');
    const hidden = singleValue(form, 'hidden_read');
    if (hidden !== undefined) out.hiddenRead = parseFormBoolean(hidden, 'hidden_read');
    const archive = singleValue(form, 'archive');
    if (archive !== undefined) out.box = parseFormBoolean(archive, 'archive') ? 'archive' : 'inbox';
    const box = singleValue(form, 'box');
    if (box !== undefined) {
      if (box !== 'all' && box !== 'inbox' && !opts.boxes.includes(box)) throw new StanzaError('bad-request', `unknown box ${box}`);
      if (box === 'all') delete out.box;
      else out.box = box;
    }
  }
  const rsm = readRsm(q);
  if (rsm !== undefined) {
    if ((rsm.after !== undefined && rsm.after !== '') || (rsm.before !== undefined && rsm.before !== '') || rsm.index !== undefined) {
      throw new StanzaError('feature-not-implemented', 'inbox paging supports only <max/> (narrow with start/end)');
    }
    if (rsm.max !== undefined) out.limit = rsm.max;
  }
  return out;
}

function muteValue(e: InboxEntry, nowUs: number): string {
  return e.mutedUntil > nowUs ? formatXepDateTime(e.mutedUntil) : '0';
}

function properties(e: InboxEntry, nowUs: number): XmlElement {
  return xml(
    'query',
    { xmlns: NS_INBOX_CONVERSATION },
    xml('archive', {}, e.box === 'archive' ? 'true' : 'false'),
    xml('box', {}, e.box),
    xml('read', {}, e.unread === 0 ? 'true' : 'false'),
    xml('mute', {}, muteValue(e, nowUs)),
  );
}

function resultMessage(e: InboxEntry, queryId: string | undefined, owner: string, to: string, nowUs: number): XmlElement | undefined {
  let last: XmlElement;
  try {
    last = parseElement(e.xml, { defaultNs: NS.CLIENT });
  } catch {
    return undefined;
  }
  return xml(
    'message',
    { from: owner, to, id: `inbox-${e.timestamp}-${e.remoteJid}` },
    xml(
      'result',
      { xmlns: NS_INBOX, unread: e.unread, queryid: queryId },
      xml('forwarded', { xmlns: NS.FORWARD }, xml('delay', { xmlns: NS.DELAY, stamp: formatXepDateTime(e.timestamp) }), last.ns === undefined ? last.withNs(NS.CLIENT) : last),
      xml('read', {}, e.unread === 0 ? 'true' : 'false'),
      xml('box', {}, e.box),
      xml('archive', {}, e.box === 'archive' ? 'true' : 'false'),
      xml('mute', {}, muteValue(e, nowUs)),
    ),
  );
}

function queryHandler(env: ModuleEnv, opts: InboxOptions) {
  return async (acc: Acc, _iq: XmlElement, q: XmlElement): Promise<XmlElement> => {
    const owner = ownerOf(acc);
    const query = readQuery(q, opts);
    const entries = await env.storage.inbox.query(env.hostType, owner.domain, owner.local, query);
    const nowUs = Math.round(env.clock.now() * 1000);
    const ownerStr = owner.toString();
    let unread = 0;
    let active = 0;
    for (const e of entries) {
      unread += e.unread;
      if (e.unread > 0) active++;
      const msg = resultMessage(e, q.attrs.queryid, ownerStr, acc.from.toString(), nowUs);
      if (msg === undefined) {
        env.logger.error({ owner: ownerStr, remote: e.remoteJid }, 'inbox entry not parseable (skipped)');
        continue;
      }
      env.router.route(Acc.fromElement(msg, { from: owner, to: acc.from, hostType: env.hostType, lserver: owner.domain, origin: 'server', clock: env.clock }));
    }
    return xml(
      'fin',
      { xmlns: NS_INBOX },
      xml('count', {}, entries.length),
      xml('unread-messages', {}, unread),
      xml('active-conversations', {}, active),
    );
  };
}

// ------------------------------------------------------------------ conversation properties

function conversationJid(q: XmlElement): string {
  const j = Jid.tryParse(q.attrs.jid);
  if (j === undefined) throw new StanzaError('bad-request', 'a valid jid attribute is required');
  return j.toBareString();
}

function propertiesGet(env: ModuleEnv) {
  return async (acc: Acc, _iq: XmlElement, q: XmlElement): Promise<XmlElement> => {
    const owner = ownerOf(acc);
    const e = await env.storage.inbox.getEntry(env.hostType, owner.domain, owner.local, conversationJid(q));
    if (e === undefined) throw new StanzaError('item-not-found', 'no such conversation');
    return properties(e, Math.round(env.clock.now() * 1000));
  };
}

function propertiesSet(env: ModuleEnv, opts: InboxOptions) {
  return async (acc: Acc, _iq: XmlElement, q: XmlElement): Promise<XmlElement> => {
    const owner = ownerOf(acc);
    const remote = conversationJid(q);
    let box: string | undefined;
    let read: boolean | undefined;
    let muteSeconds: number | undefined;
    let any = false;
    for (const c of q.children) {
      if (typeof c === 'string') continue;
      any = true;
      const v = c.text().trim();
      switch (c.name) {
        case 'archive':
          box = parseFormBoolean(v, 'archive') ? 'archive' : 'inbox';
          break;
        case 'box':
          if (v !== 'inbox' && !opts.boxes.includes(v)) throw new StanzaError('bad-request', `unknown box ${v}`);
          box = v;
          break;
        case 'read':
          read = parseFormBoolean(v, 'read');
          break;
        case 'mute':
          if (!/^\d{1,10}$/.test(v)) throw new StanzaError('bad-request', 'mute takes a number of seconds (0 = unmute)');
          muteSeconds = Number(v);
          break;
        default:
          throw new StanzaError('bad-request', `unknown property ${c.name}`);
      }
    }
    if (!any) throw new StanzaError('bad-request', 'no property to set');
    const store = env.storage.inbox;
    const ht = env.hostType;
    const e = await store.getEntry(ht, owner.domain, owner.local, remote);
    if (e === undefined) throw new StanzaError('item-not-found', 'no such conversation');
    const nowUs = Math.round(env.clock.now() * 1000);
    if (box !== undefined) await store.setBox(ht, owner.domain, owner.local, remote, box);
    if (read === true) await store.resetUnread(ht, owner.domain, owner.local, remote);
    // "Mark as unread" sets 1 unless there are more already.
    if (read === false && e.unread === 0) await store.setUnread(ht, owner.domain, owner.local, remote, 1);
    if (muteSeconds !== undefined) await store.setMutedUntil(ht, owner.domain, owner.local, remote, muteSeconds === 0 ? 0 : nowUs + muteSeconds * 1_000_000);
    const updated = (await store.getEntry(ht, owner.domain, owner.local, remote)) ?? e;
    return properties(updated, nowUs);
  };
}

function reset(env: ModuleEnv) {
  return async (acc: Acc, _iq: XmlElement, q: XmlElement): Promise<null> => {
    const owner = ownerOf(acc);
    const ok = await env.storage.inbox.resetUnread(env.hostType, owner.domain, owner.local, conversationJid(q));
    if (!ok) throw new StanzaError('item-not-found', 'no such conversation');
    return null;
  };
}

// ------------------------------------------------------------------ module

const writers = new WeakMap<ModuleEnv, InboxWriter>();

/** The inbox module. */
export const inbox = defineModule<InboxOptions>({
  name: 'inbox',
  defaults: { resetMarkers: ['displayed'], boxes: ['archive', 'bin'], unarchiveOnMessage: true, sendPriority: 70, filterPriority: 90 },
  features: [NS_INBOX, NS_INBOX_CONVERSATION],
  hooks(_hostType, opts, env) {
    let w = writers.get(env);
    if (w === undefined) writers.set(env, (w = new InboxWriter(env, opts)));
    const writer = w;
    return [
      hook(
        userSendMessage,
        (_effects, p) => {
          writer.outgoing(p.acc);
        },
        opts.sendPriority,
      ),
      hook(
        filterLocalPacket,
        (acc) => {
          if (acc.name === 'message') writer.incoming(acc);
        },
        opts.filterPriority,
      ),
      hook(removeUser, async (acc, p) => {
        try {
          await env.storage.inbox.removeUser(env.hostType, p.jid.domain, p.jid.local);
        } catch {
          acc.failed.push('inbox');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await env.storage.inbox.removeDomain(env.hostType, p.domain);
        } catch {
          acc.failed.push('inbox');
        }
        return next(acc);
      }),
    ];
  },
  iqHandlers(_hostType, opts, env): ModuleIqHandler[] {
    return [
      { key: { target: 'user', type: 'set', ns: NS_INBOX, name: 'inbox' }, handler: queryHandler(env, opts) },
      {
        key: { target: 'user', type: 'get', ns: NS_INBOX, name: 'inbox' },
        handler: (acc) => {
          ownerOf(acc);
          return queryForm(opts);
        },
      },
      { key: { target: 'user', type: 'get', ns: NS_INBOX_CONVERSATION, name: 'query' }, handler: propertiesGet(env) },
      { key: { target: 'user', type: 'set', ns: NS_INBOX_CONVERSATION, name: 'query' }, handler: propertiesSet(env, opts) },
      { key: { target: 'user', type: 'set', ns: NS_INBOX_CONVERSATION, name: 'reset' }, handler: reset(env) },
    ];
  },
});

export default inbox;
