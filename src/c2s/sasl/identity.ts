/**
 * Who a SASL client claims to be: the authentication identity (a localpart of the stream's
 * domain) and the optional authorization identity, which may only name that same account
 * (RFC 6120 §6.3.8: we do not let one user act as another).
 * @module
 */
import { saslprep } from '@mongodb-js/saslprep';
import { Jid, prepareLocalpart } from '../../core/jid.ts';

/**
 * Normalise a SASL simple user name into a localpart: SASLprep (RFC 4013, as RFC 4616 §2 and
 * RFC 5802 §5.1 ask), then the XMPP localpart profile (RFC 7622 §3.3, PRECIS
 * UsernameCaseMapped), so `Juliet` and `juliet` are one account, as in their JID.
 * @returns the localpart, or `undefined` when the name cannot be one.
 */
export function prepareUsername(name: string): string | undefined {
  try {
    return prepareLocalpart(saslprep(name));
  } catch {
    return undefined;
  }
}

/**
 * `true` when `authzid` names the bare JID `user@domain` (RFC 6120 §6.3.8: an authzid other
 * than the authenticated identity is not something a plain account may request). `domain`
 * is the stream's already-prepared domain.
 */
export function authzidMatches(authzid: string, user: string, domain: string): boolean {
  const jid = Jid.tryParse(authzid);
  return jid !== undefined && jid.resource === '' && jid.local === user && jid.domain === domain;
}
