/**
 * The base64 payloads of `<auth/>`, `<challenge/>`, `<response/>` and `<success/>`
 * (RFC 6120 §6.4.2, RFC 4648 §4).
 * @module
 */

// RFC 6120 §6.4.2: base64 per RFC 4648 §4 with no line breaks or whitespace; anything else is
// `incorrect-encoding` (§6.5.2). Canonical padding bits are required too (RFC 4648 §3.5 lets
// a decoder reject them), so every payload has exactly one spelling.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode the text of a `<response/>` (or any SASL element). Both the empty string and `=` mean
 * zero-length data.
 * @returns the data, or `'incorrect-encoding'` (the RFC 6120 §6.5.2 condition to fail with).
 */
export function decodeSaslPayload(text: string): Buffer | 'incorrect-encoding' {
  if (text === '' || text === '=') return Buffer.alloc(0);
  if (!BASE64.test(text)) return 'incorrect-encoding';
  const data = Buffer.from(text, 'base64');
  return data.toString('base64') === text ? data : 'incorrect-encoding';
}

/**
 * Decode the text of `<auth/>`: empty means "no initial response" (`undefined`, the mechanism
 * then starts with an empty challenge) while `=` is a zero-length initial response
 * (RFC 6120 §6.4.2).
 */
export function decodeInitialResponse(text: string): Buffer | undefined | 'incorrect-encoding' {
  return text === '' ? undefined : decodeSaslPayload(text);
}

/** Encode data for a `<challenge/>` or `<success/>`; zero-length data is `=` (RFC 6120 §6.4.2, §6.3.10). */
export function encodeSaslPayload(data: Buffer): string {
  return data.length === 0 ? '=' : data.toString('base64');
}
