/**
 * Per-domain, per-user maps: every memory store keys data by domain first, so `removeDomain`
 * is one `delete` (the same reason SQL tables put `domain` first in their keys).
 */
export class UserMap<V> {
  private readonly domains = new Map<string, Map<string, V>>();

  get(domain: string, user: string): V | undefined {
    return this.domains.get(domain)?.get(user);
  }
  /** The value, created with `make` when absent. */
  ensure(domain: string, user: string, make: () => V): V {
    let d = this.domains.get(domain);
    if (!d) this.domains.set(domain, (d = new Map()));
    let v = d.get(user);
    if (v === undefined) d.set(user, (v = make()));
    return v;
  }
  set(domain: string, user: string, value: V): void {
    let d = this.domains.get(domain);
    if (!d) this.domains.set(domain, (d = new Map()));
    d.set(user, value);
  }
  delete(domain: string, user: string): boolean {
    const d = this.domains.get(domain);
    if (!d) return false;
    const had = d.delete(user);
    if (d.size === 0) this.domains.delete(domain);
    return had;
  }
  deleteDomain(domain: string): void {
    this.domains.delete(domain);
  }
  *entries(): IterableIterator<[domain: string, user: string, value: V]> {
    for (const [domain, users] of this.domains) for (const [user, v] of users) yield [domain, user, v];
  }
}
