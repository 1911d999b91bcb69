/**
 * The SASL HT ("Hashed Token") mechanisms FAST uses, draft-schmaus-kitten-sasl-ht (the version
 * XEP-0484 0.2 cites, and what @xmpp/client's `@xmpp/sasl-ht-sha-256-none` speaks):
 * ```
 * C: authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data)     initial response
 * S: HMAC-SHA-256(token, "Responder" || cb-data)                 additional data with success
 * ```
 * The key is the token's UTF-8 bytes; cb-data is empty for `-NONE`, the RFC 9266
 * tls-exporter data for `-EXPR`, the RFC 5929 tls-server-end-point data for `-ENDP`.
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelBindingType } from '../../c2s/sasl/index.ts';

/**
 * The HT mechanisms offered, in preference order. `HT-SHA-256-UNIQ` is not among them: it
 * binds to tls-unique, which TLS 1.3 does not define (RFC 9266 §1).
 */
export const HT_MECHANISMS = ['HT-SHA-256-EXPR', 'HT-SHA-256-ENDP', 'HT-SHA-256-NONE'] as const;

/** One of {@link HT_MECHANISMS}. */
export type HtMechanismName = (typeof HT_MECHANISMS)[number];

/** The channel binding each mechanism needs (`undefined`: none). */
export const HT_CHANNEL_BINDING: Readonly<Record<HtMechanismName, ChannelBindingType | undefined>> = {
  'HT-SHA-256-EXPR': 'tls-exporter',
  'HT-SHA-256-ENDP': 'tls-server-end-point',
  'HT-SHA-256-NONE': undefined,
};

/** `true` for a name in {@link HT_MECHANISMS}. */
export function isHtMechanism(name: string): name is HtMechanismName {
  return (HT_MECHANISMS as readonly string[]).includes(name);
}

const SHA256_LEN = 32;

/** The client's proof: HMAC-SHA-256(token, "Initiator" || cb-data). */
export function htInitiator(token: string, cbData: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update('Initiator').update(cbData).digest();
}

/** The server's proof, sent as the success data: HMAC-SHA-256(token, "Responder" || cb-data). */
export function htResponder(token: string, cbData: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update('Responder').update(cbData).digest();
}

/** Constant-time comparison of a received proof with the expected one. */
export function htProofMatches(expected: Buffer, received: Buffer): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/**
 * Split an initial response into the authcid (UTF-8, non-empty) and the 32-byte HMAC;
 * `undefined` when it is not of that shape. The HMAC may itself contain NUL bytes, so only
 * the first NUL separates.
 */
export function parseHtInitialResponse(ir: Buffer): { readonly authcid: string; readonly proof: Buffer } | undefined {
  const nul = ir.indexOf(0);
  if (nul <= 0) return undefined;
  const name = ir.subarray(0, nul);
  const proof = ir.subarray(nul + 1);
  if (!isUtf8(name) || proof.length !== SHA256_LEN) return undefined;
  return { authcid: name.toString('utf8'), proof };
}
