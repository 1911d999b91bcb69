/**
 * The writing side of MAM for one host type: preferences (cached), the archive id generator,
 * the outgoing copy (sender's mailbox) and the incoming copy (recipient's mailbox, stamped
 * with a XEP-0359 stanza-id), and the per-recipient delivery order while an append is pending.
 * @module
 */
import type { ModuleEnv } from '../../c2s/module.ts';
import type { Acc } from '../../core/acc.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { MamIdGenerator, type MamDefault, type MamMessage, type MamPrefs } from '../../core/storage/mam-store.ts';
import type { XmlElement } from '../../core/xml/element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import { isPromise } from '../../hooks/index.ts';
import { hasStanzaIdBy, isArchivable, originIdOf, stripStanzaIds, withStanzaId } from './archive.ts';

/** Acc namespace of this module's scratch keys. */
export const ACC_NS = 'mam';

/** Options the archiver needs. */
export interface ArchiverOptions {
  /** Policy for users who never set preferences (XEP-0313 §6). */
  readonly defaultPolicy: MamDefault;
  /** Users whose preferences are kept in memory (the module is their only writer). */
  readonly prefsCacheSize: number;
  /** 0–4095, distinguishes the id generators of a cluster writing to one archive. */
  readonly node: number;
}

/** See the module comment. */
export class Archiver {
  readonly #env: ModuleEnv;
  readonly #opts: ArchiverOptions;
  readonly #ids: MamIdGenerator;
  /** bare JID → prefs (`null` = never set). Insertion order = age (oldest evicted first). */
  readonly #prefs = new Map<string, MamPrefs | null>();
  /** bare JID → the settle of the newest stanza held back for that recipient. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(env: ModuleEnv, opts: ArchiverOptions) {
    this.#env = env;
    this.#opts = opts;
    this.#ids = new MamIdGenerator(opts.node);
  }

  // ------------------------------------------------------------------ preferences

  /** The user's preferences (the configured default when never set). */
  prefsOf(owner: Jid): MamPrefs | Promise<MamPrefs> {
    const key = owner.toBareString();
    const cached = this.#prefs.get(key);
    if (cached !== undefined) return cached ?? this.#defaults();
    return this.#env.storage.mam.getPrefs(this.#env.hostType, owner.domain, owner.local).then((p) => {
      this.#remember(key, p ?? null);
      return p ?? this.#defaults();
    });
  }

  async setPrefs(owner: Jid, prefs: MamPrefs): Promise<MamPrefs> {
    await this.#env.storage.mam.setPrefs(this.#env.hostType, owner.domain, owner.local, prefs);
    this.#prefs.delete(owner.toBareString());
    return this.prefsOf(owner);
  }

  forget(owner?: Jid): void {
    if (owner === undefined) this.#prefs.clear();
    else this.#prefs.delete(owner.toBareString());
  }

  #defaults(): MamPrefs {
    return { default: this.#opts.defaultPolicy, always: [], never: [] };
  }

  #remember(key: string, p: MamPrefs | null): void {
    this.#prefs.delete(key);
    this.#prefs.set(key, p);
    if (this.#prefs.size > this.#opts.prefsCacheSize) this.#prefs.delete(this.#prefs.keys().next().value!);
  }

  /**
   * XEP-0313 §6: `never` wins, then `always`, then the default; `roster` archives only
   * contacts present in the owner's roster (any subscription state), read from the roster port.
   */
  shouldArchive(owner: Jid, peerBare: string): boolean | Promise<boolean> {
    const p = this.prefsOf(owner);
    return isPromise<MamPrefs>(p) ? p.then((x) => this.#decide(owner, peerBare, x)) : this.#decide(owner, peerBare, p);
  }

  #decide(owner: Jid, peerBare: string, p: MamPrefs): boolean | Promise<boolean> {
    if (p.never.length > 0 && p.never.includes(peerBare)) return false;
    if (p.always.length > 0 && p.always.includes(peerBare)) return true;
    switch (p.default) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'roster':
        return this.#env.storage.roster.getItem(this.#env.hostType, owner.domain, owner.local, peerBare).then((item) => item !== undefined);
    }
  }

  // ------------------------------------------------------------------ writing

  #row(el: XmlElement, from: Jid, to: Jid, direction: 'in' | 'out'): MamMessage {
    const { id, timestamp } = this.#ids.next(this.#env.clock.now() * 1000);
    const peer = direction === 'out' ? to : from;
    const stored = el.attrs.from === from.toString() && el.attrs.to === to.toString() ? el : el.withAttrs({ from: from.toString(), to: to.toString() });
    const originId = originIdOf(el);
    return {
      id,
      peer: peer.toBareString(),
      peerResource: peer.resource,
      direction,
      timestamp,
      ...(originId !== undefined && { originId }),
      xml: serialize(stored, { defaultNs: NS.CLIENT }),
    };
  }

  /**
   * The sender's copy of a message a local user sends (`userSendMessage`). `undefined` when
   * nothing is archived; otherwise a Promise resolving once the row is durable — `true` — or
   * `false` when the append failed (logged).
   */
  archiveOutgoing(acc: Acc): Promise<boolean> | undefined {
    const el = acc.element;
    if (!isArchivable(el)) return undefined;
    const owner = acc.from;
    const decision = this.shouldArchive(owner, acc.to.toBareString());
    if (decision === false) return undefined;
    const write = (ok: boolean): Promise<boolean> => {
      if (!ok) return Promise.resolve(true);
      const row = this.#row(el, acc.from, acc.to, 'out');
      return this.#env.storage.mam.append(this.#env.hostType, owner.domain, owner.local, row).then(
        () => true,
        (err: unknown) => {
          this.#failed(err, owner);
          return false;
        },
      );
    };
    return decision === true ? write(true) : decision.then(write);
  }

  /**
   * The recipient's side (`filterLocalPacket` of the recipient's host type, so offline
   * recipients are covered): strip forged stanza-ids, archive, stamp our stanza-id. Returns
   * the acc to deliver — a Promise when it had to wait (prefs read, append, or an earlier
   * stanza for the same recipient still waiting: delivery order per recipient is kept).
   */
  archiveIncoming(acc: Acc): Acc | Promise<Acc> {
    const to = acc.to;
    const key = to.toBareString();
    const prev = this.#pending.size === 0 ? undefined : this.#pending.get(key);
    let out: Acc | Promise<Acc> = acc;
    if (acc.name === 'message' && to.local !== '') out = this.#incomingMessage(acc, key);
    if (prev === undefined && !isPromise(out)) return out;
    const result = (async () => {
      let a: Acc;
      try {
        a = await out; // started already: the append is not held back, only the delivery is
      } catch (err) {
        // A failed preferences/roster/account read: deliver unarchived (forged ids still removed).
        this.#failed(err, to);
        const el = stripStanzaIds(acc.element, key);
        a = el === acc.element ? acc : acc.updateStanza({ element: el });
      }
      if (prev !== undefined) await prev;
      return a;
    })();
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.set(key, settled);
    void settled.then(() => {
      if (this.#pending.get(key) === settled) this.#pending.delete(key);
    });
    return result;
  }

  #incomingMessage(acc: Acc, owner: string): Acc | Promise<Acc> {
    const markerKey = 'in:' + owner;
    // Re-routed (stream management) or re-delivered (offline storage) copies were archived
    // and stamped on their first pass: keep the stamp, archive nothing.
    if (acc.has(ACC_NS, markerKey)) return acc;
    let el = acc.element;
    if (acc.origin === 'server' && hasStanzaIdBy(el, owner)) return acc;
    el = stripStanzaIds(el, owner);
    const stripped = el === acc.element ? acc : acc.updateStanza({ element: el });
    if (!isArchivable(el)) return stripped;
    const ownerJid = acc.to.bare();
    let decision = this.shouldArchive(ownerJid, acc.from.toBareString());
    if (decision === false) return stripped;
    // No archive for an account that does not exist (the session manager bounces those);
    // only asked when the user has no session, i.e. rarely on the hot path.
    if (this.#env.sessions.sessionsOf(ownerJid).length === 0) {
      const d = decision;
      decision = this.#env.storage.auth.exists(this.#env.hostType, ownerJid.domain, ownerJid.local).then((e) => e && d);
    }
    const write = async (ok: boolean): Promise<Acc> => {
      if (!ok) return stripped;
      const row = this.#row(el, acc.from, acc.to, 'in');
      try {
        await this.#env.storage.mam.append(this.#env.hostType, ownerJid.domain, ownerJid.local, row);
      } catch (err) {
        this.#failed(err, ownerJid);
        return stripped; // no stanza-id for a row that does not exist
      }
      const stamped = acc.updateStanza({ element: withStanzaId(el, row.id, owner) });
      stamped.setPermanent(ACC_NS, markerKey, row.id);
      return stamped;
    };
    return decision === true ? write(true) : decision.then(write);
  }

  #failed(err: unknown, owner: Jid): void {
    this.#env.logger.error({ err: err instanceof Error ? err.message : String(err), owner: owner.toBareString() }, 'MAM archiving failed');
  }
}
