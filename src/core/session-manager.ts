/**
 * The session manager (reference §6.2–§6.4): the table of bound sessions and the RFC 6121 §8
 * delivery rules for stanzas addressed to local users.
 *
 * In-process Maps are the source of truth for local delivery (one `Map.get` per stanza, no
 * Promise). An optional {@link SessionStore} receives a mirror of every row asynchronously
 * (for a cluster or an admin view); its failures are logged, never block delivery.
 *
 * Policies (reference §10 "change" 7): a freshly bound session is available with priority 0
 * (`availableOnBind`, MongooseIM's behaviour) and a bare-JID message goes to **every** session
 * at the highest non-negative priority (RFC 6121 §8.5.2.1.1 allows one or all; we pick all).
 * @module
 */
import type { Acc } from './acc.ts';
import type { Jid } from './jid.ts';
import type { LocalSession, OpenSessionResult, Router, SessionRegistry } from './session.ts';
import type { StreamErrorCondition } from './errors.ts';
import { StanzaError } from './errors.ts';
import type { SessionRow, SessionStore } from './storage/session-store.ts';
import type { IqHandlerRegistry } from './iq-handlers.ts';
import { errorAcc } from './iq-handlers.ts';
import type { UserRouter } from './router.ts';
import { isErrorStanza } from './stanza.ts';
import {
  doesUserExist,
  offlineGroupchatMessage,
  offlineMessage,
  rosterInSubscription,
  smFilterOfflineMessage,
  smRegisterConnection,
  smRemoveConnection,
  type SubscriptionType,
} from './server-hooks.ts';
import { isPromise, type HookRegistry, type HookSpec } from '../hooks/index.ts';
import { type Logger, silentLogger } from './logger.ts';

/** One row of the in-process session table. */
export interface SessionEntry {
  readonly session: LocalSession;
  readonly sid: string;
  readonly jid: Jid;
  /** Presence priority; `null` = not available (RFC 6121 §4.2: no initial presence yet / unavailable). */
  priority: number | null;
  info: Readonly<Record<string, unknown>>;
}

/** Answers whether an account exists (e.g. backed by the `AuthStore`). */
export type UserExistsCheck = (jid: Jid, hostType: string) => boolean | Promise<boolean>;

/** Options of {@link SessionManager}. */
export interface SessionManagerOptions {
  readonly router: Router;
  readonly hooks: HookRegistry;
  readonly iqHandlers: IqHandlerRegistry;
  /** Mirror of the table (reference §6.3); written asynchronously, never read for delivery. */
  readonly store?: SessionStore | undefined;
  /** Node name written into mirrored rows. Default `'local'`. */
  readonly node?: string | undefined;
  /** Existence check for the offline fallback; without it the {@link doesUserExist} hook decides. */
  readonly userExists?: UserExistsCheck | undefined;
  /** Sessions per user before the oldest is replaced (reference §6.4). Default 100. */
  readonly maxSessionsPerUser?: number | undefined;
  /**
   * `true` (default, MongooseIM): a bound session is available with priority 0 until presence
   * says otherwise. `false` (RFC 6121 §4.2 reading): available only after initial presence.
   */
  readonly availableOnBind?: boolean | undefined;
  readonly logger?: Logger | undefined;
}

const SUBSCRIPTION_TYPES: ReadonlySet<string> = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

/** The session manager. See the module comment. */
export class SessionManager implements SessionRegistry, UserRouter {
  readonly #router: Router;
  readonly #hooks: HookRegistry;
  readonly #iq: IqHandlerRegistry;
  readonly #store: SessionStore | undefined;
  readonly #node: string;
  readonly #userExists: UserExistsCheck | undefined;
  readonly #maxSessions: number;
  readonly #availableOnBind: boolean;
  readonly #logger: Logger;
  /** Full JID string → its (newest) session. */
  readonly #byFull = new Map<string, SessionEntry>();
  /** Bare JID string → sessions in open order (oldest first). */
  readonly #byBare = new Map<string, SessionEntry[]>();
  readonly #bySid = new Map<string, SessionEntry>();
  /** Serialises store writes per sid so a delete never overtakes its set. */
  readonly #storeChain = new Map<string, Promise<void>>();
  readonly #reply = (acc: Acc): void => this.#router.route(acc);

  constructor(options: SessionManagerOptions) {
    this.#router = options.router;
    this.#hooks = options.hooks;
    this.#iq = options.iqHandlers;
    this.#store = options.store;
    this.#node = options.node ?? 'local';
    this.#userExists = options.userExists;
    this.#maxSessions = Math.max(1, options.maxSessionsPerUser ?? 100);
    this.#availableOnBind = options.availableOnBind ?? true;
    this.#logger = options.logger ?? silentLogger;
  }

  // ------------------------------------------------------------ table

  /**
   * Register a bound session (reference §6.4): write the row, replace older sessions of the same
   * resource and, over `maxSessionsPerUser`, the oldest ones — each gets
   * `exit('replaced', 'conflict')` (RFC 6120 §4.9.3.3) and leaves the table at once, so nothing
   * more is delivered to it — then run `smRegisterConnection`.
   */
  open(session: LocalSession, info: Readonly<Record<string, unknown>> = {}): OpenSessionResult {
    if (this.#bySid.has(session.sid)) return { replaced: [] };
    const jid = session.jid;
    const full = jid.toString();
    const bare = jid.toBareString();
    const entry: SessionEntry = { session, sid: session.sid, jid, priority: this.#availableOnBind ? 0 : null, info: { ...info } };
    const replaced: LocalSession[] = [];
    let list = this.#byBare.get(bare);
    if (list === undefined) this.#byBare.set(bare, (list = []));
    for (const e of list) if (e.jid.resource === jid.resource) replaced.push(e.session);
    const remaining = list.length - replaced.length + 1;
    if (remaining > this.#maxSessions) {
      let over = remaining - this.#maxSessions;
      for (const e of list) {
        if (over === 0) break;
        if (e.jid.resource === jid.resource) continue;
        replaced.push(e.session);
        over--;
      }
    }
    for (const old of replaced) this.#remove(this.#bySid.get(old.sid)!);
    list = this.#byBare.get(bare);
    if (list === undefined) this.#byBare.set(bare, (list = []));
    list.push(entry);
    this.#byFull.set(full, entry);
    this.#bySid.set(entry.sid, entry);
    this.#mirror(entry);
    for (const old of replaced) {
      try {
        old.exit('replaced', 'conflict', 'Replaced by new connection');
      } catch (err) {
        this.#logError(err, 'exit of a replaced session failed');
      }
      this.#runNotify(smRemoveConnection, old.hostType, { sid: old.sid, jid: old.jid, info: {}, reason: 'replaced' });
    }
    this.#runNotify(smRegisterConnection, session.hostType, { sid: entry.sid, jid, info: entry.info });
    return { replaced };
  }

  /** Remove the session (idempotent) and run `smRemoveConnection`. */
  close(session: LocalSession, reason: string): void {
    const entry = this.#bySid.get(session.sid);
    if (entry === undefined || entry.session !== session) return;
    this.#remove(entry);
    this.#runNotify(smRemoveConnection, session.hostType, { sid: entry.sid, jid: entry.jid, info: entry.info, reason });
  }

  /**
   * Set the presence priority (`null` = unavailable). Called by the presence module, which also
   * runs `userAvailable` on initial presence (the table cannot tell: with `availableOnBind` a
   * bound session already has priority 0).
   */
  setPriority(session: LocalSession, priority: number | null): void {
    const entry = this.#bySid.get(session.sid);
    if (entry === undefined) return;
    entry.priority = priority;
    this.#mirror(entry);
  }

  /** Merge keys into the session's info. */
  setInfo(session: LocalSession, info: Readonly<Record<string, unknown>>): void {
    const entry = this.#bySid.get(session.sid);
    if (entry === undefined) return;
    entry.info = { ...entry.info, ...info };
    this.#mirror(entry);
  }

  /** The session bound to this full JID. */
  get(fullJid: Jid | string): LocalSession | undefined {
    return this.#byFull.get(typeof fullJid === 'string' ? fullJid : fullJid.toString())?.session;
  }

  /** The table row of a session id. */
  entry(sid: string): Readonly<SessionEntry> | undefined {
    return this.#bySid.get(sid);
  }

  /** All sessions of a user, oldest first. */
  sessionsOf(bareJid: Jid | string): LocalSession[] {
    const list = this.#byBare.get(typeof bareJid === 'string' ? bareJid : bareJid.toBareString());
    return list === undefined ? [] : list.map((e) => e.session);
  }

  /** The user's available sessions (those with a priority), oldest first. */
  presentSessionsOf(bareJid: Jid | string): LocalSession[] {
    const list = this.#byBare.get(typeof bareJid === 'string' ? bareJid : bareJid.toBareString());
    if (list === undefined) return [];
    const out: LocalSession[] = [];
    for (const e of list) if (e.priority !== null) out.push(e.session);
    return out;
  }

  /** Number of sessions. */
  count(): number {
    return this.#bySid.size;
  }

  /** Number of users with at least one session. */
  userCount(): number {
    return this.#byBare.size;
  }

  /** Every session. */
  all(): LocalSession[] {
    return [...this.#bySid.values()].map((e) => e.session);
  }

  /**
   * Tell every session to leave (graceful shutdown: `system-shutdown`, RFC 6120 §4.9.3.21).
   * The sessions close themselves through {@link close}.
   */
  closeAll(reason: string, condition: StreamErrorCondition = 'system-shutdown', text?: string): void {
    for (const e of [...this.#bySid.values()]) {
      try {
        e.session.exit(reason, condition, text);
      } catch (err) {
        this.#logError(err, 'exit failed');
      }
    }
  }

  /** Resolves when every pending store write has settled (tests, shutdown). */
  async flushStore(): Promise<void> {
    while (this.#storeChain.size > 0) await Promise.all([...this.#storeChain.values()]);
  }

  #remove(entry: SessionEntry): void {
    this.#bySid.delete(entry.sid);
    const full = entry.jid.toString();
    if (this.#byFull.get(full) === entry) this.#byFull.delete(full);
    const bare = entry.jid.toBareString();
    const list = this.#byBare.get(bare);
    if (list !== undefined) {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#byBare.delete(bare);
    }
    if (this.#store !== undefined) {
      const store = this.#store;
      this.#chainStore(entry.sid, () => store.delete(entry.sid).then(() => undefined));
    }
  }

  #mirror(entry: SessionEntry): void {
    if (this.#store === undefined) return;
    const store = this.#store;
    const row: SessionRow = {
      sid: entry.sid,
      user: entry.jid.local,
      domain: entry.jid.domain,
      resource: entry.jid.resource,
      priority: entry.priority,
      info: entry.info,
      node: this.#node,
    };
    this.#chainStore(entry.sid, () => store.set(row));
  }

  #chainStore(sid: string, op: () => Promise<void>): void {
    const prev = this.#storeChain.get(sid) ?? Promise.resolve();
    const p: Promise<void> = prev
      .then(op)
      .catch((err: unknown) => this.#logError(err, 'session store write failed'))
      .finally(() => {
        if (this.#storeChain.get(sid) === p) this.#storeChain.delete(sid);
      });
    this.#storeChain.set(sid, p);
  }

  // ------------------------------------------------------------ delivery (RFC 6121 §8, reference §6.2)

  /** Deliver a stanza addressed to a local user; `acc` is in the recipient's context. */
  route(acc: Acc): void {
    try {
      const to = acc.to;
      if (to.resource !== '') this.#routeFull(acc);
      else this.#routeBare(acc);
    } catch (err) {
      this.#logError(err, 'session manager route failed');
    }
  }

  #routeFull(acc: Acc): void {
    const entry = this.#byFull.get(acc.to.toString());
    if (entry !== undefined) {
      // RFC 6121 §8.5.3.1: a full JID with a session gets the stanza whatever its priority.
      entry.session.deliver(acc);
      return;
    }
    const name = acc.name;
    if (name === 'message') {
      // RFC 6121 §8.5.3.2.1: handled as if addressed to the bare JID, unless a filter (MAM) drops it.
      const r = this.#hooks.run(smFilterOfflineMessage, acc.hostType, false, { acc, from: acc.from, to: acc.to });
      if (isPromise(r)) r.then((res) => !res.acc && this.#routeBareMessage(acc), (err) => this.#logError(err, 'smFilterOfflineMessage'));
      else if (!r.acc) this.#routeBareMessage(acc);
      return;
    }
    if (name === 'iq') {
      const type = acc.type;
      // RFC 6121 §8.5.3.2.2: get/set → service-unavailable; result/error dropped.
      if (type === 'get' || type === 'set') this.#bounce(acc, 'service-unavailable');
    }
    // Presence and anything else to an unavailable full JID: dropped (RFC 6121 §8.5.3.2.3).
  }

  #routeBare(acc: Acc): void {
    switch (acc.name) {
      case 'message':
        this.#routeBareMessage(acc);
        return;
      case 'presence':
        this.#routeBarePresence(acc);
        return;
      case 'iq': {
        const type = acc.type;
        // RFC 6121 §8.5.2.1.3 / reference §6.2: the server answers for the account.
        if (type === 'get' || type === 'set') this.#iq.dispatch(acc, 'user', this.#reply);
        return;
      }
      default:
        return;
    }
  }

  #routeBareMessage(acc: Acc): void {
    const list = this.#byBare.get(acc.to.toBareString());
    if (list !== undefined) {
      let max = -1;
      for (const e of list) if (e.priority !== null && e.priority > max) max = e.priority;
      // RFC 6121 §8.5.2.1.1: only non-negative priorities receive bare-JID messages (§8.5.2: a
      // negative priority means "never deliver messages addressed to my bare JID").
      if (max >= 0) {
        this.#deliverEach(acc, list, max, false);
        return;
      }
    }
    this.#offlineFallback(acc);
  }

  /** No resource can take the message: reference §6.2 fallback by type. */
  #offlineFallback(acc: Acc): void {
    const type = acc.type;
    switch (type) {
      case 'error':
        return;
      case 'groupchat': {
        const r = this.#hooks.run(offlineGroupchatMessage, acc.hostType, acc, { from: acc.from, to: acc.to });
        if (isPromise(r)) r.catch((err) => this.#logError(err, 'offlineGroupchatMessage'));
        return;
      }
      case 'headline':
        // RFC 6121 §8.5.2.1.1 lets the server drop or bounce; MongooseIM bounces.
        this.#bounce(acc, 'service-unavailable');
        return;
      default: {
        // chat, normal, absent or unknown type (RFC 6121 §5.2.2: unknown ⇒ normal).
        const exists = this.#exists(acc);
        if (isPromise<boolean>(exists)) exists.then((e) => this.#offlineExisting(acc, e), (err) => this.#logError(err, 'doesUserExist'));
        else this.#offlineExisting(acc, exists);
      }
    }
  }

  #offlineExisting(acc: Acc, exists: boolean): void {
    if (!exists) {
      // RFC 6121 §8.5.1: no such account.
      this.#bounce(acc, 'service-unavailable', 'User not found');
      return;
    }
    const r = this.#hooks.run(offlineMessage, acc.hostType, acc, { from: acc.from, to: acc.to });
    const after = (stopped: boolean) => {
      // Nobody stored it (no offline module): bounce, like MongooseIM's bounce_offline_message.
      if (!stopped) this.#bounce(acc, 'service-unavailable', 'Bounce offline message');
    };
    if (isPromise(r)) r.then((res) => after(res.stopped), (err) => this.#logError(err, 'offlineMessage'));
    else after(r.stopped);
  }

  #exists(acc: Acc): boolean | Promise<boolean> {
    const bare = acc.to.bare();
    if (this.#userExists !== undefined) return this.#userExists(bare, acc.hostType);
    const r = this.#hooks.run(doesUserExist, acc.hostType, false, { jid: bare });
    return isPromise(r) ? r.then((res) => res.acc) : r.acc;
  }

  #routeBarePresence(acc: Acc): void {
    const type = acc.type;
    if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
      // Reference §6.2: an unknown user gets nothing (RFC 6121 §8.5.1: ignore the presence).
      const exists = this.#exists(acc);
      if (isPromise<boolean>(exists)) exists.then((e) => e && this.#inSubscription(acc, type as SubscriptionType), (err) => this.#logError(err, 'doesUserExist'));
      else if (exists) this.#inSubscription(acc, type as SubscriptionType);
      return;
    }
    const list = this.#byBare.get(acc.to.toBareString());
    // RFC 6121 §8.5.2.1.2 / reference §6.2: every available resource (negative priority too).
    if (list !== undefined) this.#deliverEach(acc, list, undefined, false);
  }

  #inSubscription(acc: Acc, type: SubscriptionType): void {
    const r = this.#hooks.run(rosterInSubscription, acc.hostType, true, { acc, to: acc.to.bare(), from: acc.from.bare(), type });
    const after = (deliver: boolean) => {
      if (!deliver) return;
      const list = this.#byBare.get(acc.to.toBareString());
      // RFC 6121 §3.1.3: delivered to every available resource, addressed to that resource.
      if (list !== undefined) this.#deliverEach(acc, list, undefined, true);
    };
    if (isPromise(r)) r.then((res) => after(res.acc), (err) => this.#logError(err, 'rosterInSubscription'));
    else after(r.acc);
  }

  /**
   * Deliver to every available entry (`priority` undefined) or to those at exactly `priority`.
   * With several recipients each gets its own stripped acc: receive pipelines write scratch
   * data and must not see each other's. No closure and, for the usual single recipient, no
   * array per stanza.
   */
  #deliverEach(acc: Acc, list: readonly SessionEntry[], priority: number | undefined, rewriteTo: boolean): void {
    let n = 0;
    let first: SessionEntry | undefined;
    for (const e of list) {
      if (e.priority === null || (priority !== undefined && e.priority !== priority)) continue;
      if (n++ === 0) first = e;
    }
    if (first === undefined) return;
    if (n === 1) {
      this.#deliverTo(acc, first, rewriteTo, false);
      return;
    }
    // Copy: a delivery may synchronously close a session and mutate `list`.
    const targets: SessionEntry[] = [];
    for (const e of list) if (e.priority !== null && (priority === undefined || e.priority === priority)) targets.push(e);
    for (const e of targets) this.#deliverTo(acc, e, rewriteTo, true);
  }

  #deliverTo(acc: Acc, e: SessionEntry, rewriteTo: boolean, shared: boolean): void {
    let out = acc;
    if (rewriteTo) {
      const to = e.jid.toString();
      out = acc.strip({ element: acc.element.withAttrs({ to }), to: e.jid });
    } else if (shared) out = acc.strip();
    try {
      e.session.deliver(out);
    } catch (err) {
      this.#logError(err, 'deliver failed');
    }
  }

  #bounce(acc: Acc, condition: 'service-unavailable', text?: string): void {
    if (isErrorStanza(acc.element)) return;
    this.#router.route(errorAcc(acc, new StanzaError(condition, text === undefined ? {} : { text })));
  }

  #runNotify<P>(spec: HookSpec<undefined, P>, hostType: string, params: P): void {
    try {
      const r = this.#hooks.run(spec, hostType, undefined, params);
      if (isPromise(r)) r.catch((err) => this.#logError(err, spec.name));
    } catch (err) {
      this.#logError(err, spec.name);
    }
  }

  #logError(err: unknown, msg: string): void {
    this.#logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, msg);
  }
}
