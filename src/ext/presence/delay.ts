/**
 * XEP-0203 (Delayed Delivery) stamps.
 * @module
 */
import { NS } from '../../core/namespaces.ts';
import { type XmlElement, xml } from '../../core/xml/element.ts';

/** XEP-0082 DateTime (UTC, `Z`) of a clock time in ms. */
export function xmppDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** `<delay xmlns="urn:xmpp:delay" from stamp/>`. */
export function delayElement(from: string, ms: number): XmlElement {
  return xml('delay', { xmlns: NS.DELAY, from, stamp: xmppDateTime(ms) });
}

/** `el` with one delay stamp: any earlier `urn:xmpp:delay` child is replaced (XEP-0203 §3). */
export function withDelay(el: XmlElement, from: string, ms: number): XmlElement {
  const kept = el.children.filter((c) => typeof c === 'string' || !(c.name === 'delay' && c.ns === NS.DELAY));
  return el.withChildren([...kept, delayElement(from, ms)]);
}
