import type { PepItem, PepNode, PepStore } from '../../core/storage/pep-store.ts';
import { cmp } from '../rules/order.ts';
import { UserMap } from './user-map.ts';

/** A node with its items, oldest first (Map insertion order: republishing re-inserts). */
interface NodeData {
  config: Readonly<Record<string, string>>;
  readonly items: Map<string, PepItem>;
}

function copyItem(i: PepItem): PepItem {
  return { id: i.id, payload: i.payload, publisher: i.publisher, timestamp: i.timestamp };
}

/** In-memory {@link PepStore}. */
export class MemoryPepStore implements PepStore {
  private readonly data = new UserMap<Map<string, NodeData>>();

  private node(domain: string, user: string, node: string): NodeData | undefined {
    return this.data.get(domain, user)?.get(node);
  }
  async getNode(_ht: string, domain: string, user: string, node: string): Promise<PepNode | undefined> {
    const n = this.node(domain, user, node);
    return n && { node, config: { ...n.config } };
  }
  async listNodes(_ht: string, domain: string, user: string): Promise<PepNode[]> {
    const nodes = [...(this.data.get(domain, user) ?? [])].map(([node, n]) => ({ node, config: { ...n.config } }));
    return nodes.sort((a, b) => cmp(a.node, b.node));
  }
  async createNode(_ht: string, domain: string, user: string, node: string, config: Readonly<Record<string, string>>): Promise<'ok' | 'exists'> {
    const m = this.data.ensure(domain, user, () => new Map());
    if (m.has(node)) return 'exists';
    m.set(node, { config: { ...config }, items: new Map() });
    return 'ok';
  }
  async configureNode(_ht: string, domain: string, user: string, node: string, config: Readonly<Record<string, string>>): Promise<boolean> {
    const n = this.node(domain, user, node);
    if (!n) return false;
    n.config = { ...config };
    return true;
  }
  async deleteNode(_ht: string, domain: string, user: string, node: string): Promise<boolean> {
    const m = this.data.get(domain, user);
    if (m === undefined || !m.delete(node)) return false;
    if (m.size === 0) this.data.delete(domain, user);
    return true;
  }
  async publish(_ht: string, domain: string, user: string, node: string, item: PepItem, maxItems: number): Promise<boolean> {
    const n = this.node(domain, user, node);
    if (!n) return false;
    n.items.delete(item.id);
    n.items.set(item.id, copyItem(item));
    for (const id of n.items.keys()) {
      if (n.items.size <= maxItems) break;
      n.items.delete(id);
    }
    return true;
  }
  async retract(_ht: string, domain: string, user: string, node: string, itemId: string): Promise<boolean> {
    return this.node(domain, user, node)?.items.delete(itemId) ?? false;
  }
  async purge(_ht: string, domain: string, user: string, node: string): Promise<boolean> {
    const n = this.node(domain, user, node);
    n?.items.clear();
    return n !== undefined;
  }
  async getItems(
    _ht: string, domain: string, user: string, node: string, opts?: { readonly max?: number; readonly ids?: readonly string[] },
  ): Promise<PepItem[] | undefined> {
    const n = this.node(domain, user, node);
    if (!n) return undefined;
    if (opts?.ids !== undefined) return opts.ids.flatMap((id) => { const i = n.items.get(id); return i ? [copyItem(i)] : []; });
    const newest = [...n.items.values()].reverse();
    return (opts?.max === undefined ? newest : newest.slice(0, Math.max(0, opts.max))).map(copyItem);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.data.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.data.deleteDomain(domain);
  }
}
