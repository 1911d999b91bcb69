import type { FastToken, FastTokenEntry, FastTokenStore } from '../../core/storage/fast-token-store.ts';
import type { SqliteDatabase } from './database.ts';

interface Row {
  current_token: string | null;
  current_mechanism: string | null;
  current_expires_at: number | null;
  previous_token: string | null;
  previous_mechanism: string | null;
  previous_expires_at: number | null;
  count: number;
}

const COLS = 'current_token, current_mechanism, current_expires_at, previous_token, previous_mechanism, previous_expires_at, count';

function token(t: string | null, mechanism: string | null, expiresAt: number | null): FastToken | undefined {
  return t === null ? undefined : { token: t, mechanism: mechanism!, expiresAt: expiresAt! };
}

function toEntry(r: Row): FastTokenEntry {
  return {
    current: token(r.current_token, r.current_mechanism, r.current_expires_at),
    previous: token(r.previous_token, r.previous_mechanism, r.previous_expires_at),
    count: r.count,
  };
}

/**
 * SQLite {@link FastTokenStore}: one `fast_tokens` row per (account, user-agent id). Every write
 * is group-committed (a FAST login rewrites the row to record its count, so a reconnect storm
 * shares COMMITs), in issue order; reads commit the queued writes first, so they see every
 * write issued before them.
 */
export class SqliteFastTokenStore implements FastTokenStore {
  constructor(private readonly d: SqliteDatabase) {}

  private flushPending(): void {
    if (this.d.writes.pending > 0) this.d.writes.flush();
  }

  async get(_ht: string, domain: string, user: string, agentId: string): Promise<FastTokenEntry | undefined> {
    this.flushPending();
    const r = this.d.stmt<Row>(`SELECT ${COLS} FROM fast_tokens WHERE domain = ? AND username = ? AND agent_id = ?`).get(domain, user, agentId);
    return r && toEntry(r);
  }
  set(_ht: string, domain: string, user: string, agentId: string, entry: FastTokenEntry): Promise<void> {
    const { current: c, previous: p, count } = entry;
    return this.d.writes.run(
      () =>
        void this.d
          .stmt(`INSERT OR REPLACE INTO fast_tokens (domain, username, agent_id, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(domain, user, agentId, c?.token ?? null, c?.mechanism ?? null, c?.expiresAt ?? null, p?.token ?? null, p?.mechanism ?? null, p?.expiresAt ?? null, count),
    );
  }
  remove(_ht: string, domain: string, user: string, agentId: string): Promise<boolean> {
    return this.d.writes.run(
      () => this.d.stmt('DELETE FROM fast_tokens WHERE domain = ? AND username = ? AND agent_id = ?').run(domain, user, agentId).changes === 1,
    );
  }
  async agents(_ht: string, domain: string, user: string): Promise<string[]> {
    this.flushPending();
    return this.d.stmt('SELECT agent_id FROM fast_tokens WHERE domain = ? AND username = ? ORDER BY agent_id').pluck().all(domain, user) as string[];
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM fast_tokens WHERE domain = ? AND username = ?').run(domain, user));
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM fast_tokens WHERE domain = ?').run(domain));
  }
}
