import type { PepItem, PepNode, PepStore } from '../../core/storage/pep-store.ts';
import type { SqliteDatabase } from './database.ts';

interface ItemRow {
  item_id: string;
  payload: string;
  publisher: string;
  timestamp: number;
}

const ITEM_COLS = 'item_id, payload, publisher, timestamp';
const NODE = 'domain = ? AND username = ? AND node = ?';
/** Insert or replace an item with the node's next `seq`, so a republished id becomes the newest. */
const UPSERT_ITEM = `INSERT INTO pep_items (domain, username, node, seq, ${ITEM_COLS})
  VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM pep_items WHERE ${NODE}), ?, ?, ?, ?)
  ON CONFLICT (domain, username, node, item_id) DO UPDATE SET
    seq = excluded.seq, payload = excluded.payload, publisher = excluded.publisher, timestamp = excluded.timestamp`;
/** Delete every item older than the `?`-th newest (nothing when there are that few). */
const TRIM = `DELETE FROM pep_items WHERE ${NODE} AND seq <= (SELECT seq FROM pep_items WHERE ${NODE} ORDER BY seq DESC LIMIT 1 OFFSET ?)`;

function toItem(r: ItemRow): PepItem {
  return { id: r.item_id, payload: r.payload, publisher: r.publisher, timestamp: r.timestamp };
}

/**
 * SQLite {@link PepStore}: `pep_nodes` (configuration as JSON) and `pep_items`, keyed by
 * `(domain, username, node, seq)` so "newest first" and trimming are range scans of the primary
 * key; `seq` grows per node and a republished id takes the next one. Items go with their node
 * (`ON DELETE CASCADE`), so every delete is one statement. Every write is group-committed, in
 * issue order; reads commit the queued writes first, so they see every write issued before them.
 */
export class SqlitePepStore implements PepStore {
  /** Upsert + trim: two writes, so in a savepoint (a nested transaction) to keep the batch contract. */
  private readonly publishTx: (domain: string, user: string, node: string, item: PepItem, maxItems: number) => boolean;

  constructor(private readonly d: SqliteDatabase) {
    this.publishTx = d.db.transaction((domain: string, user: string, node: string, item: PepItem, maxItems: number): boolean => {
      if (!this.hasNode(domain, user, node)) return false;
      this.d.stmt(UPSERT_ITEM).run(domain, user, node, domain, user, node, item.id, item.payload, item.publisher, item.timestamp);
      if (maxItems < Number.MAX_SAFE_INTEGER) this.d.stmt(TRIM).run(domain, user, node, domain, user, node, Math.max(0, Math.floor(maxItems)));
      return true;
    });
  }

  private flushPending(): void {
    if (this.d.writes.pending > 0) this.d.writes.flush();
  }
  private hasNode(domain: string, user: string, node: string): boolean {
    return this.d.stmt(`SELECT 1 FROM pep_nodes WHERE ${NODE}`).get(domain, user, node) !== undefined;
  }

  async getNode(_ht: string, domain: string, user: string, node: string): Promise<PepNode | undefined> {
    this.flushPending();
    const json = this.d.stmt(`SELECT config_json FROM pep_nodes WHERE ${NODE}`).pluck().get(domain, user, node) as string | undefined;
    return json === undefined ? undefined : { node, config: JSON.parse(json) as Record<string, string> };
  }
  async listNodes(_ht: string, domain: string, user: string): Promise<PepNode[]> {
    this.flushPending();
    return this.d
      .stmt<{ node: string; config_json: string }>('SELECT node, config_json FROM pep_nodes WHERE domain = ? AND username = ? ORDER BY node')
      .all(domain, user)
      .map((r) => ({ node: r.node, config: JSON.parse(r.config_json) as Record<string, string> }));
  }
  createNode(_ht: string, domain: string, user: string, node: string, config: Readonly<Record<string, string>>): Promise<'ok' | 'exists'> {
    const json = JSON.stringify(config);
    return this.d.writes.run(() =>
      this.d.stmt('INSERT OR IGNORE INTO pep_nodes (domain, username, node, config_json) VALUES (?, ?, ?, ?)').run(domain, user, node, json).changes === 1
        ? 'ok'
        : 'exists',
    );
  }
  configureNode(_ht: string, domain: string, user: string, node: string, config: Readonly<Record<string, string>>): Promise<boolean> {
    const json = JSON.stringify(config);
    return this.d.writes.run(() => this.d.stmt(`UPDATE pep_nodes SET config_json = ? WHERE ${NODE}`).run(json, domain, user, node).changes === 1);
  }
  deleteNode(_ht: string, domain: string, user: string, node: string): Promise<boolean> {
    return this.d.writes.run(() => this.d.stmt(`DELETE FROM pep_nodes WHERE ${NODE}`).run(domain, user, node).changes === 1);
  }
  publish(_ht: string, domain: string, user: string, node: string, item: PepItem, maxItems: number): Promise<boolean> {
    return this.d.writes.run(() => this.publishTx(domain, user, node, item, maxItems));
  }
  retract(_ht: string, domain: string, user: string, node: string, itemId: string): Promise<boolean> {
    return this.d.writes.run(() => this.d.stmt(`DELETE FROM pep_items WHERE ${NODE} AND item_id = ?`).run(domain, user, node, itemId).changes === 1);
  }
  purge(_ht: string, domain: string, user: string, node: string): Promise<boolean> {
    return this.d.writes.run(() => {
      if (!this.hasNode(domain, user, node)) return false;
      this.d.stmt(`DELETE FROM pep_items WHERE ${NODE}`).run(domain, user, node);
      return true;
    });
  }
  async getItems(
    _ht: string, domain: string, user: string, node: string, opts?: { readonly max?: number; readonly ids?: readonly string[] },
  ): Promise<PepItem[] | undefined> {
    this.flushPending();
    return this.d.tx(() => {
      if (!this.hasNode(domain, user, node)) return undefined;
      if (opts?.ids !== undefined) {
        const one = this.d.stmt<ItemRow>(`SELECT ${ITEM_COLS} FROM pep_items WHERE ${NODE} AND item_id = ?`);
        return opts.ids.flatMap((id) => {
          const r = one.get(domain, user, node, id);
          return r ? [toItem(r)] : [];
        });
      }
      const limit = opts?.max === undefined ? -1 : Math.max(0, Math.floor(opts.max));
      return this.d.stmt<ItemRow>(`SELECT ${ITEM_COLS} FROM pep_items WHERE ${NODE} ORDER BY seq DESC LIMIT ?`).all(domain, user, node, limit).map(toItem);
    });
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM pep_nodes WHERE domain = ? AND username = ?').run(domain, user));
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM pep_nodes WHERE domain = ?').run(domain));
  }
}
