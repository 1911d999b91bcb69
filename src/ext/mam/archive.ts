/**
 * What gets archived (XEP-0313 §7 business rules, XEP-0334 hints) and the XEP-0359 stanza-id
 * handling of a delivered message.
 * @module
 */
import { NS } from '../../core/namespaces.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';

/**
 * A 1:1 message worth archiving: type `chat` or `normal` (or none) with a `<body/>`, or with
 * the XEP-0334 `<store/>` hint; never an error, a groupchat or a headline, never with a
 * `<no-store/>` or `<no-permanent-store/>` hint (those win over `<store/>`).
 */
export function isArchivable(el: XmlElement): boolean {
  if (el.name !== 'message') return false;
  const type = el.attrs.type;
  if (type !== undefined && type !== 'chat' && type !== 'normal') return false;
  let body = false;
  let store = false;
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    const ns = c.ns ?? el.ns;
    if (ns === NS.HINTS) {
      if (c.name === 'no-store' || c.name === 'no-permanent-store') return false;
      if (c.name === 'store') store = true;
    } else if (c.name === 'body' && (ns === NS.CLIENT || ns === NS.SERVER || ns === undefined)) body = true;
  }
  return body || store;
}

/** The `<stanza-id/>` children that claim to be set by `by` (XEP-0359 §5: a server strips those it did not add). */
export function hasStanzaIdBy(el: XmlElement, by: string): boolean {
  for (const c of el.children) if (typeof c !== 'string' && c.name === 'stanza-id' && c.ns === NS.STANZA_ID && c.attrs.by === by) return true;
  return false;
}

/** `el` without the `<stanza-id by=by/>` children (the same object when it has none). */
export function stripStanzaIds(el: XmlElement, by: string): XmlElement {
  if (!hasStanzaIdBy(el, by)) return el;
  return el.filterChildren((c) => typeof c === 'string' || !(c.name === 'stanza-id' && c.ns === NS.STANZA_ID && c.attrs.by === by));
}

/** `el` with `<stanza-id xmlns='urn:xmpp:sid:0' id by/>` appended. */
export function withStanzaId(el: XmlElement, id: string, by: string): XmlElement {
  return el.append(xml('stanza-id', { xmlns: NS.STANZA_ID, id, by }));
}

/** XEP-0359 `<origin-id id/>` set by the sending client, if any. */
export function originIdOf(el: XmlElement): string | undefined {
  const o = el.getChild('origin-id', NS.STANZA_ID);
  const id = o?.attrs.id;
  return id === undefined || id === '' ? undefined : id;
}
