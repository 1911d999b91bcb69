/**
 * Small helpers over top-level stanzas: which kind an element is, error replies
 * (RFC 6120 §8.3.1), IQ results, and reading an `<error/>` back into a {@link StanzaError}.
 * @module
 */
import { XmlElement } from './xml/element.ts';
import { NS } from './namespaces.ts';
import { STANZA_ERROR_DEFAULT_TYPE, StanzaError, type StanzaErrorCondition, type StanzaErrorType } from './errors.ts';

/** The three stanza kinds of RFC 6120 §8. */
export type StanzaKind = 'message' | 'presence' | 'iq';

/**
 * The stanza kind of a top-level element, or `undefined` for anything else (stream
 * management `<r/>`, CSI `<active/>`, …). The namespace must be a stanza content namespace
 * (client, server, component) or unset (inherits the stream's).
 */
export function stanzaKind(el: XmlElement): StanzaKind | undefined {
  const n = el.name;
  if (n !== 'message' && n !== 'presence' && n !== 'iq') return undefined;
  const ns = el.ns;
  if (ns === undefined || ns === NS.CLIENT || ns === NS.SERVER || ns === NS.COMPONENT) return n;
  return undefined;
}

/** `true` for a stanza with `type="error"`: such a stanza must never be answered with an error. */
export function isErrorStanza(el: XmlElement): boolean {
  return el.attrs.type === 'error';
}

/**
 * The error reply to `stanza` (RFC 6120 §8.3.1): `from` and `to` swapped (an absent one stays
 * absent), `type="error"`, same `id` and other attributes, the original payload for IQs and
 * messages (not for presence), then the `<error/>` element.
 *
 * @throws TypeError when `stanza` is itself an error — RFC 6120 §8.3.1 forbids answering an
 * error with an error; check {@link isErrorStanza} first.
 */
export function errorReply(stanza: XmlElement, err: StanzaError): XmlElement {
  if (isErrorStanza(stanza)) throw new TypeError('errorReply: never reply to an error stanza (RFC 6120 §8.3.1)');
  const payload = stanza.name === 'presence' ? [] : stanza.children.filter((c) => typeof c !== 'string');
  const attrs: Record<string, string> = { ...stanza.attrs, type: 'error' };
  delete attrs.from;
  delete attrs.to;
  if (stanza.attrs.to !== undefined) attrs.from = stanza.attrs.to;
  if (stanza.attrs.from !== undefined) attrs.to = stanza.attrs.from;
  return new XmlElement(stanza.name, stanza.ns, attrs, [...payload, err.toElement()]);
}

/** `<iq type="result"/>` answering `iq`: same id, from/to swapped, with `children`. */
export function iqResult(iq: XmlElement, ...children: XmlElement[]): XmlElement {
  return new XmlElement(
    'iq',
    iq.ns,
    { ...(iq.attrs.to !== undefined && { from: iq.attrs.to }), ...(iq.attrs.from !== undefined && { to: iq.attrs.from }), id: iq.attrs.id ?? '', type: 'result' },
    children,
  );
}

/**
 * Read a stanza error: `el` is either the `<error/>` element or a stanza containing one.
 * Unknown conditions read as `undefined-condition`, an unknown or missing `type` as the
 * condition's default. Returns `undefined` when there is no `<error/>`.
 */
export function parseStanzaError(el: XmlElement): StanzaError | undefined {
  const err = el.name === 'error' ? el : el.getChild('error');
  if (err === undefined) return undefined;
  let condition: StanzaErrorCondition = 'undefined-condition';
  let text: string | undefined;
  let lang: string | undefined;
  let appCondition: XmlElement | undefined;
  let found = false;
  for (const c of err.children) {
    if (typeof c === 'string') continue;
    const ns = c.ns ?? err.ns;
    if (ns === NS.STANZA_ERRORS) {
      if (c.name === 'text') {
        text = c.text();
        lang = c.attrs['xml:lang'];
      } else if (!found) {
        found = true;
        if (Object.hasOwn(STANZA_ERROR_DEFAULT_TYPE, c.name)) condition = c.name as StanzaErrorCondition;
      }
    } else if (appCondition === undefined) appCondition = c;
  }
  const t = err.attrs.type;
  const type = t === 'auth' || t === 'cancel' || t === 'continue' || t === 'modify' || t === 'wait' ? (t as StanzaErrorType) : undefined;
  return new StanzaError(condition, { text, lang, appCondition, type, by: err.attrs.by });
}

