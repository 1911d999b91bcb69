/**
 * The MUC Light wire format (MongooseIM's open extension `urn:xmpp:muclight:0`): namespaces,
 * reading request payloads, and building the notification messages rooms send.
 * @module
 */
import { Jid } from '../../core/jid.ts';
import { StanzaError } from '../../core/errors.ts';
import { xml, type XmlBuildChild, type XmlElement } from '../../core/xml/element.ts';
import type { MucLightAffiliation } from '../../core/storage/muc-light-store.ts';

/** The service feature and the base of every MUC Light namespace. */
export const NS_MUC_LIGHT = 'urn:xmpp:muclight:0';
export const NS_CONFIGURATION = `${NS_MUC_LIGHT}#configuration`;
export const NS_AFFILIATIONS = `${NS_MUC_LIGHT}#affiliations`;
export const NS_INFO = `${NS_MUC_LIGHT}#info`;
export const NS_BLOCKING = `${NS_MUC_LIGHT}#blocking`;
export const NS_CREATE = `${NS_MUC_LIGHT}#create`;
export const NS_DESTROY = `${NS_MUC_LIGHT}#destroy`;

/** An affiliation as it appears in requests and notifications; `none` means "not in the room". */
export type Affiliation = MucLightAffiliation | 'none';

/** One `<user affiliation='…'>bare JID</user>`. */
export interface AffiliationItem {
  /** Bare JID string of a user (never a domain). */
  readonly jid: string;
  readonly aff: Affiliation;
}

const AFFILIATIONS: ReadonlySet<string> = new Set<Affiliation>(['owner', 'member', 'none']);

function badRequest(text: string): StanzaError {
  return new StanzaError('bad-request', text);
}

/** A user's bare JID from element text; `undefined` for anything that is not `local@domain`. */
export function userJid(text: string): Jid | undefined {
  const j = Jid.tryParse(text.trim());
  return j === undefined || j.local === '' ? undefined : j.bare();
}

/** The `<user/>` children of `parent` (`<occupants/>` or an affiliations query). */
export function parseUsers(parent: XmlElement | undefined): AffiliationItem[] | StanzaError {
  const out: AffiliationItem[] = [];
  for (const el of parent?.elements() ?? []) {
    const aff = el.attrs.affiliation;
    if (el.name !== 'user' || aff === undefined || !AFFILIATIONS.has(aff)) return badRequest(`unexpected <${el.name}/> in an affiliation list`);
    const jid = userJid(el.text());
    if (jid === undefined) return badRequest(`not a user JID: ${el.text()}`);
    out.push({ jid: jid.toString(), aff: aff as Affiliation });
  }
  return out;
}

/**
 * Configuration fields as `<key>value</key>` children (no Data Forms in MUC Light), in document
 * order. `version` and `prev-version` are reserved for room versioning.
 */
export function parseConfigFields(parent: XmlElement | undefined): Map<string, string> | StanzaError {
  const out = new Map<string, string>();
  for (const el of parent?.elements() ?? []) {
    if (el.name === 'version' || el.name === 'prev-version') return badRequest(`<${el.name}/> is not a configuration field`);
    out.set(el.name, el.text());
  }
  return out;
}

/** The `<version/>` a client sent with a get (`''` when absent: "send me everything"). */
export function requestedVersion(payload: XmlElement): string {
  return payload.getChildText('version') ?? '';
}

export function userEl(jid: string, aff: Affiliation): XmlElement {
  return xml('user', { affiliation: aff }, jid);
}

export function fieldEls(fields: Iterable<readonly [string, string]>): XmlElement[] {
  return [...fields].map(([k, v]) => xml(k, null, v));
}

/** A notification from the room to one occupant: `<x xmlns=ns>…</x>` plus the empty `<body/>` clients key on. */
export function roomMessage(room: Jid, to: string, id: string, ...xs: XmlElement[]): XmlElement {
  return xml('message', { from: room.toString(), to, type: 'groupchat', id }, ...xs, xml('body'));
}

export function xEl(ns: string, ...children: XmlBuildChild[]): XmlElement {
  return xml('x', { xmlns: ns }, ...children);
}

export function versionEl(name: 'version' | 'prev-version', v: string): XmlElement {
  return xml(name, null, v);
}
