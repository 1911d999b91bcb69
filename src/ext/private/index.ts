/**
 * XEP-0049 Private XML Storage on the `private` storage port.
 *
 * - Only one's own account (no `to`, or one's bare JID): anything else → `forbidden`.
 * - get: exactly one child element in its own namespace → the stored element under that
 *   namespace, or the (empty) requested element itself when nothing is stored.
 * - set: one or more children, each in its own namespace; stored atomically.
 * - `not-acceptable` (XEP-0049 §2.3): no child / more than one in a get / a child without its
 *   own namespace / a reserved namespace (`jabber:…`, `http://jabber.org/…`) / a set over
 *   `maxSize` bytes (serialized, all children together).
 * @module
 */
import { defineModule, hook, type ModuleIqHandler } from '../../c2s/module.ts';
import type { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { NS } from '../../core/namespaces.ts';
import { removeDomain, removeUser } from '../../core/server-hooks.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import { next } from '../../hooks/index.ts';

/** Options of {@link privateStorage}. */
export interface PrivateOptions {
  /** Largest set, in bytes of serialized XML of all fragments (default 65 536). */
  readonly maxSize: number;
}

/** Namespaces XEP-0049 §2.3 keeps out of private storage. */
export function isReservedNamespace(ns: string): boolean {
  return ns.startsWith('jabber:') || ns.startsWith('http://jabber.org/');
}

/** The fragments of a query, or the error to answer. */
function fragments(payload: XmlElement): XmlElement[] | StanzaError {
  const els = payload.elements();
  if (els.length === 0) return new StanzaError('not-acceptable', 'At least one namespaced child element is required');
  for (const e of els) {
    const ns = e.ns;
    if (ns === undefined || ns === '' || ns === NS.PRIVATE) return new StanzaError('not-acceptable', 'Each fragment must have its own namespace');
    if (isReservedNamespace(ns)) return new StanzaError('not-acceptable', `Namespace ${ns} is reserved`);
  }
  return els;
}

/** The XEP-0049 module (`private` is a reserved word, hence the export name). */
export const privateStorage = defineModule<PrivateOptions>({
  name: 'private',
  defaults: { maxSize: 64 * 1024 },
  features: [NS.PRIVATE],
  hooks(_hostType, _opts, env) {
    return [
      hook(removeUser, async (acc, p) => {
        try {
          await env.storage.private.removeUser(env.hostType, p.jid.domain, p.jid.local);
        } catch {
          acc.failed.push('private');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await env.storage.private.removeDomain(env.hostType, p.domain);
        } catch {
          acc.failed.push('private');
        }
        return next(acc);
      }),
    ];
  },
  iqHandlers(_hostType, opts, env): ModuleIqHandler[] {
    const own = (acc: Acc) => acc.from.bareEquals(acc.to);
    const get = async (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      if (!own(acc)) return new StanzaError('forbidden');
      const els = fragments(payload);
      if (els instanceof StanzaError) return els;
      if (els.length !== 1) return new StanzaError('not-acceptable', 'A get asks for exactly one fragment');
      const asked = els[0]!;
      const to = acc.to;
      const stored = await env.storage.private.get(env.hostType, to.domain, to.local, asked.ns!);
      return xml('query', { xmlns: NS.PRIVATE }, stored === undefined ? asked : parseElement(stored));
    };
    const set = async (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      if (!own(acc)) return new StanzaError('forbidden');
      const els = fragments(payload);
      if (els instanceof StanzaError) return els;
      const entries = new Map<string, string>();
      let size = 0;
      for (const e of els) {
        const text = serialize(e);
        size += Buffer.byteLength(text, 'utf8');
        entries.set(e.ns!, text);
      }
      if (size > opts.maxSize) return new StanzaError('not-acceptable', `Private data larger than ${opts.maxSize} bytes`);
      const to = acc.to;
      await env.storage.private.set(env.hostType, to.domain, to.local, entries);
      return null;
    };
    return [
      { key: { target: 'user', type: 'get', ns: NS.PRIVATE, name: 'query' }, handler: get },
      { key: { target: 'user', type: 'set', ns: NS.PRIVATE, name: 'query' }, handler: set },
    ];
  },
});

export default privateStorage;
