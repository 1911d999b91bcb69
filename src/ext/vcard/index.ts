/**
 * XEP-0054 vcard-temp on the `vcard` storage port.
 *
 * - get to a bare JID (own or another user's, answered by the server): the stored `<vCard/>`;
 *   none stored → an empty `<vCard/>` for the owner, `item-not-found` for others (XEP-0054
 *   §3.1 allows either).
 * - set: only to one's own account (no `to`, or one's bare JID) → `forbidden` otherwise;
 *   serialized vCard over `maxSize` bytes → `not-acceptable` (text says why); the root must be
 *   `<vCard xmlns="vcard-temp"/>` (IQ registry key).
 * - get to the server: the server's own vCard (`serverFn` as `FN`).
 * @module
 */
import { defineModule, hook, type ModuleIqHandler } from '../../c2s/module.ts';
import type { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { NS } from '../../core/namespaces.ts';
import { discoSmFeatures, removeDomain, removeUser } from '../../core/server-hooks.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { parseElement } from '../../core/xml/parse-element.ts';
import { serialize } from '../../core/xml/serialize.ts';
import { next } from '../../hooks/index.ts';

/** Options of {@link vcard}. */
export interface VCardOptions {
  /** Largest stored vCard in bytes of serialized XML (default 65 536). */
  readonly maxSize: number;
  /** `FN` of the server's own vCard (default `xmpp-blocks`). */
  readonly serverFn: string;
}

/** The XEP-0054 module. */
export const vcard = defineModule<VCardOptions>({
  name: 'vcard',
  defaults: { maxSize: 64 * 1024, serverFn: 'xmpp-blocks' },
  features: [NS.VCARD],
  hooks(_hostType, _opts, env) {
    return [
      hook(discoSmFeatures, (acc, p) => (p.node === undefined ? next([...acc, NS.VCARD]) : undefined)),
      hook(removeUser, async (acc, p) => {
        try {
          await env.storage.vcard.removeUser(env.hostType, p.jid.domain, p.jid.local);
        } catch {
          acc.failed.push('vcard');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await env.storage.vcard.removeDomain(env.hostType, p.domain);
        } catch {
          acc.failed.push('vcard');
        }
        return next(acc);
      }),
    ];
  },
  iqHandlers(_hostType, opts, env): ModuleIqHandler[] {
    const get = async (acc: Acc) => {
      const to = acc.to;
      const stored = await env.storage.vcard.get(env.hostType, to.domain, to.local);
      if (stored === undefined) return acc.from.bareEquals(to) ? xml('vCard', { xmlns: NS.VCARD }) : new StanzaError('item-not-found');
      return parseElement(stored);
    };
    const set = async (acc: Acc, _iq: XmlElement, payload: XmlElement) => {
      const to = acc.to;
      if (!acc.from.bareEquals(to)) return new StanzaError('forbidden', 'Only the owner may set a vCard');
      const text = serialize(payload.withNs(NS.VCARD));
      if (Buffer.byteLength(text, 'utf8') > opts.maxSize) return new StanzaError('not-acceptable', `vCard larger than ${opts.maxSize} bytes`);
      await env.storage.vcard.set(env.hostType, to.domain, to.local, text);
      return null;
    };
    const serverCard = xml('vCard', { xmlns: NS.VCARD }, xml('FN', null, opts.serverFn));
    return [
      { key: { target: 'user', type: 'get', ns: NS.VCARD, name: 'vCard' }, handler: get },
      { key: { target: 'user', type: 'set', ns: NS.VCARD, name: 'vCard' }, handler: set },
      { key: { target: 'server', type: 'get', ns: NS.VCARD, name: 'vCard' }, handler: () => serverCard },
      { key: { target: 'server', type: 'set', ns: NS.VCARD, name: 'vCard' }, handler: () => new StanzaError('forbidden', "The server's vCard is not writable") },
    ];
  },
});

export default vcard;
