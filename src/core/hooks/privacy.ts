/**
 * The shared privacy check (MongooseIM's `privacy_check_packet`): any module may ask whether a
 * user's privacy rules (XEP-0016 lists, XEP-0191 blocklist) let a stanza through, without
 * importing the modules that own those rules. The privacy and blocking modules register
 * handlers; with neither enabled every stanza is allowed.
 *
 * Example (a presence module filtering a broadcast per contact):
 * ```ts
 * const r = env.hooks.run(privacyCheckPacket, hostType, 'allow', { user, from, to, stanza, direction: 'out', conn });
 * ```
 * The run is synchronous when the answer is known from the connection's state (active list or
 * blocklist cached in its slot) and a Promise when storage must be read (no `conn`, or a list
 * with roster-group/subscription items).
 * @module
 */
import { defineHook } from '../../hooks/index.ts';
import { Acc } from '../acc.ts';
import { StanzaError } from '../errors.ts';
import { errorAcc } from '../iq-handlers.ts';
import type { Jid } from '../jid.ts';
import type { Logger } from '../logger.ts';
import { iqResult } from '../stanza.ts';
import { xml, type XmlElement } from '../xml/element.ts';

/**
 * The verdict: `allow`; `deny` (a privacy list denies it); `block` (the XEP-0191 blocklist
 * denies it — outgoing errors then carry `<blocked xmlns='urn:xmpp:blocking:errors'/>`).
 */
export type PrivacyVerdict = 'allow' | 'deny' | 'block';

/** Params of {@link privacyCheckPacket}. */
export interface PrivacyCheckParams {
  /** Whose rules apply (a local user; bare or full). `from` for `out`, `to` for `in`. */
  readonly user: Jid;
  readonly from: Jid;
  readonly to: Jid;
  readonly stanza: XmlElement;
  /** `out`: the user sends it; `in`: the user would receive it. */
  readonly direction: 'in' | 'out';
  /**
   * The user's connection (a c2s `C2sContext`) when the check runs inside it: its active list
   * applies. Typed opaquely so core needs no c2s import. Absent: the user's default list
   * (XEP-0016 §2.5, e.g. for offline storage) and blocklist are read from storage.
   */
  readonly conn?: object | undefined;
}

/**
 * Fold with stop, tag = the user's host type. Acc = the verdict, start with `'allow'`; a
 * handler that denies returns `stop('deny' | 'block')`. Handlers: blocking (40), privacy (50).
 */
export const privacyCheckPacket = defineHook<PrivacyVerdict, PrivacyCheckParams>(
  'privacyCheckPacket',
  "Acc = verdict ('allow' initially); a denying handler stops with 'deny' or 'block'.",
);

/**
 * XEP-0016 §2.1 / XEP-0191 §6 JID matching: does `rule` (a JID as written in a list item) match
 * `jid`? In order: full JID (exact), bare JID (any resource), `domain/resource`, `domain`
 * (any user and resource of that domain).
 */
export function privacyJidMatches(rule: Jid, jid: Jid): boolean {
  if (rule.domain !== jid.domain) return false;
  if (rule.local !== '') {
    if (rule.local !== jid.local) return false;
    return rule.resource === '' || rule.resource === jid.resource;
  }
  return rule.resource === '' || rule.resource === jid.resource;
}

/**
 * Stanzas between the user and their own account (any resource) or their own server are never
 * filtered, by a privacy list or by the blocklist.
 */
export function isOwnAccountOrServer(user: Jid, peer: Jid): boolean {
  return peer.domain === user.domain && (peer.local === user.local || (peer.local === '' && peer.resource === ''));
}

/**
 * Scratch key marking a stanza the server generated for the user on a privacy decision (an
 * error bounced back to the sender, a list push): the user's own incoming checks skip it, so a
 * list denying a contact does not also swallow the `not-acceptable` error about that contact.
 */
const BYPASS_NS = 'privacy';
const BYPASS_KEY = 'bypass';

/** Mark `acc` so the privacy and blocking incoming checks let it through (see above). */
export function markPrivacyBypass(acc: Acc): Acc {
  acc.set(BYPASS_NS, BYPASS_KEY, true);
  return acc;
}

/** `true` when `acc` was marked with {@link markPrivacyBypass}. */
export function isPrivacyBypass(acc: Acc): boolean {
  return acc.get(BYPASS_NS, BYPASS_KEY) === true;
}

/**
 * Is an IQ addressed to `user`'s own account (`to` absent, i.e. the bare JID, or the bare JID
 * written out)? Privacy and blocking IQs manage only the sender's own rules.
 */
export function isToOwnAccount(to: Jid, user: Jid): boolean {
  return to.resource === '' && to.local === user.local && to.domain === user.domain;
}

/**
 * The answer to a privacy or blocking IQ about the user's own rules: the result of `work`
 * (`null`: an empty result) or its StanzaError; if `work` fails, `what` is logged and the answer
 * is internal-server-error. Marked with {@link markPrivacyBypass}: the user's own rules must not
 * swallow it.
 */
export function ownIqReply(acc: Acc, work: Promise<XmlElement | StanzaError | null>, logger: Logger, what: string): Promise<Acc> {
  return work.then(
    (res) => iqReply(acc, res),
    (err: unknown) => {
      logger.error({ err: String(err) }, what);
      return iqReply(acc, new StanzaError('internal-server-error'));
    },
  );
}

function iqReply(acc: Acc, res: XmlElement | StanzaError | null): Acc {
  if (res instanceof StanzaError) return markPrivacyBypass(errorAcc(acc, res));
  const iq = acc.element.withAttrs({ from: acc.from.toString(), to: acc.to.toString() });
  return markPrivacyBypass(Acc.fromElement(res === null ? iqResult(iq) : iqResult(iq, res), { from: acc.to, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server' }));
}

/**
 * A push of a rules change to one resource of the user (XEP-0016 §2.6, XEP-0191 §3.3): an IQ
 * set from the user's bare JID, marked with {@link markPrivacyBypass}.
 */
export function ownPushAcc(user: Jid, id: string, payload: XmlElement, hostType: string, lserver: string): Acc {
  const push = xml('iq', { type: 'set', id, from: user.toBareString(), to: user.toString() }, payload);
  return markPrivacyBypass(Acc.fromElement(push, { from: user.bare(), to: user, hostType, lserver, origin: 'server' }));
}

/** What {@link answersForAll} needs from the session manager. */
export interface SessionTable {
  sessionsOf(bareJid: Jid): readonly { readonly sid: string }[];
  entry(sid: string): { readonly priority: number | null } | undefined;
}

/**
 * A bare-JID message reaches every resource at the top priority (RFC 6121 §8.5.2.1.1), and each
 * runs its incoming checks. So that a denied sender gets one error and not one per resource,
 * only one receiving connection answers for all: the one the stanza was addressed to, or, for a
 * bare (or gone full) JID, the oldest session at the top non-negative priority.
 */
export function answersForAll(sessions: SessionTable, self: Jid, sid: string, to: Jid): boolean {
  if (to.resource !== '' && to.equals(self)) return true;
  const list = sessions.sessionsOf(self.bare());
  let max = -1;
  let first: string | undefined;
  for (const s of list) {
    const p = sessions.entry(s.sid)?.priority;
    if (p !== null && p !== undefined && p > max) {
      max = p;
      first = s.sid;
    }
  }
  return first === undefined || first === sid;
}
