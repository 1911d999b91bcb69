/**
 * The XML of SASL negotiation: the stream features that advertise mechanisms and the
 * `<challenge/>` / `<success/>` / `<failure/>` nonzas a {@link SaslStep} becomes.
 * @module
 */
import { NS } from '../../core/namespaces.ts';
import { type XmlElement, xml } from '../../core/xml/element.ts';
import { encodeSaslPayload } from './payload.ts';
import type { SaslContext, SaslMechanism, SaslStep } from './types.ts';

/**
 * Stream features for the offered mechanisms: `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>`
 * (RFC 6120 §6.4.1) and, when a `-PLUS` mechanism is among them, XEP-0440's top-level
 * `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>` listing the transport's channel-binding
 * types, so a client can pick one instead of guessing. Empty when nothing is offered.
 */
export function saslFeatures(offered: readonly SaslMechanism[], ctx: SaslContext): XmlElement[] {
  if (offered.length === 0) return [];
  const out = [xml('mechanisms', { xmlns: NS.SASL }, offered.map((m) => xml('mechanism', null, m.name)))];
  if (offered.some((m) => m.name.endsWith('-PLUS')) && ctx.channelBindingTypes.length > 0) {
    out.push(xml('sasl-channel-binding', { xmlns: NS.SASL_CB }, ctx.channelBindingTypes.map((type) => xml('channel-binding', { type }))));
  }
  return out;
}

/**
 * The nonza to send for a step (RFC 6120 §6.4.3–§6.4.6). A success without data is an empty
 * `<success/>`; with zero-length data it is `=` (§6.3.10). A failure carries the condition
 * and its text; it never carries mechanism data (RFC 6120 defines none).
 */
export function saslStepElement(step: SaslStep): XmlElement {
  switch (step.kind) {
    case 'challenge':
      return xml('challenge', { xmlns: NS.SASL }, step.data.length > 0 ? step.data.toString('base64') : undefined);
    case 'success':
      return xml('success', { xmlns: NS.SASL }, step.data === undefined ? undefined : encodeSaslPayload(step.data));
    case 'failure':
      return xml(
        'failure',
        { xmlns: NS.SASL },
        xml(step.condition),
        step.text !== undefined && xml('text', { 'xml:lang': 'en' }, step.text),
      );
  }
}
