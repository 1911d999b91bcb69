/**
 * MUC Light blocking (`#blocking`): a user refuses being added to given rooms or by given
 * users. Kept on the `privacy` port as the user's privacy list named `urn:xmpp:muclight:0` —
 * the mapping the MUC Light spec gives for XEP-0045 compatibility (§8.1.8): a blocked room is a
 * `deny` item for the room's bare JID, a blocked user one for `service/user-bare-JID`.
 * @module
 */
import { Jid } from '../../core/jid.ts';
import type { PrivacyItem, PrivacyStore } from '../../core/storage/privacy-store.ts';

/** Name of the privacy list holding the MUC Light blocking items. */
export const BLOCKING_LIST = 'urn:xmpp:muclight:0';

/** One blocking item of a service, as the `#blocking` query shows it. */
export interface BlockingItem {
  readonly what: 'room' | 'user';
  /** Bare JID of the room or of the user. */
  readonly jid: string;
}

/** One requested change. */
export interface BlockingChange extends BlockingItem {
  readonly action: 'allow' | 'deny';
}

function valueOf(service: string, item: BlockingItem): string {
  return item.what === 'room' ? item.jid : `${service}/${item.jid}`;
}

function itemOf(service: string, value: string | undefined): BlockingItem | undefined {
  const j = Jid.tryParse(value);
  if (j === undefined) return undefined;
  if (j.local !== '' && j.resource === '') return { what: 'room', jid: j.toString() };
  if (j.local === '' && j.domain === service && j.resource !== '') return { what: 'user', jid: j.resource };
  return undefined;
}

/** The blocking lists of one host type. */
export class BlockingLists {
  readonly #store: PrivacyStore;
  readonly #hostType: string;

  constructor(store: PrivacyStore, hostType: string) {
    this.#store = store;
    this.#hostType = hostType;
  }

  async #denied(user: Jid): Promise<PrivacyItem[]> {
    const items = await this.#store.getList(this.#hostType, user.domain, user.local, BLOCKING_LIST);
    return (items ?? []).filter((i) => i.type === 'jid' && i.action === 'deny');
  }

  /** What `user` blocks on `service` (rooms of any service: room JIDs name their service). */
  async list(user: Jid, service: string): Promise<BlockingItem[]> {
    const out: BlockingItem[] = [];
    for (const i of await this.#denied(user)) {
      const item = itemOf(service, i.value);
      if (item !== undefined) out.push(item);
    }
    return out;
  }

  /** Apply deny/allow changes (allowing what is not blocked is fine). Callers serialise per user. */
  async change(user: Jid, service: string, changes: readonly BlockingChange[]): Promise<void> {
    const values = new Set((await this.#denied(user)).map((i) => i.value!));
    for (const c of changes) {
      if (c.action === 'deny') values.add(valueOf(service, c));
      else values.delete(valueOf(service, c));
    }
    if (values.size === 0) {
      await this.#store.deleteList(this.#hostType, user.domain, user.local, BLOCKING_LIST);
      return;
    }
    // XEP-0016 wants unique orders; the items are equivalent, so any order will do.
    const items: PrivacyItem[] = [...values].sort().map((value, i) => ({ type: 'jid', value, action: 'deny', order: i + 1, what: [] }));
    await this.#store.setList(this.#hostType, user.domain, user.local, BLOCKING_LIST, items);
  }

  /** Whether `user` refuses being added to `room` (when known) by `actor` (a bare JID). */
  async refuses(user: Jid, service: string, room: string | undefined, actor: string): Promise<boolean> {
    const byActor = valueOf(service, { what: 'user', jid: actor });
    return (await this.#denied(user)).some((i) => i.value === byActor || (room !== undefined && i.value === room));
  }
}
