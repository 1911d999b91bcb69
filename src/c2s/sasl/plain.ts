/**
 * SASL PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd`, checked against the
 * SCRAM keys in the {@link AuthStore} by recomputing `StoredKey` ({@link verifyPasswordAsync}:
 * PBKDF2 on the libuv pool, not on the event loop).
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { deriveCredentials, verifyPasswordAsync, type StoredCredentials } from '../../core/auth/scram.ts';
import { authzidMatches, prepareUsername } from './identity.ts';
import type { SaslContext, SaslMechanism, SaslStart, SaslStep } from './types.ts';

let dummyCreds: StoredCredentials | undefined;

/**
 * PLAIN. Offered only over TLS, from loopback, or when the listener says
 * `allowPlainWithoutTls` (RFC 6120 §13.8: never send passwords in the clear by default).
 */
export function plainMechanism(): SaslMechanism {
  return {
    name: 'PLAIN',
    available: (ctx, listener) => ctx.secure || listener.remoteIsLoopback || listener.allowPlainWithoutTls,
    async start(ctx, initialResponse): Promise<SaslStart> {
      // RFC 4616 §2: the client may wait for an empty challenge before sending its message.
      if (initialResponse === undefined) {
        return { first: { kind: 'challenge', data: Buffer.alloc(0) }, session: { step: (msg) => plainStep(ctx, msg) } };
      }
      return { first: await plainStep(ctx, initialResponse) };
    },
  };
}

async function plainStep(ctx: SaslContext, message: Buffer): Promise<SaslStep> {
  if (!isUtf8(message)) return { kind: 'failure', condition: 'malformed-request', text: 'not UTF-8' };
  const parts = message.toString('utf8').split('\0');
  if (parts.length !== 3) return { kind: 'failure', condition: 'malformed-request' };
  const [authzid, authcid, password] = parts as [string, string, string];
  // RFC 4616 §2: authcid and passwd are 1..255 octets each.
  if (authcid === '' || password === '') return { kind: 'failure', condition: 'malformed-request' };
  const user = prepareUsername(authcid);
  if (user === undefined) return { kind: 'failure', condition: 'not-authorized' };
  const creds = await ctx.authStore.getCredentials(ctx.hostType, ctx.domain, user);
  // An unknown user costs the same PBKDF2 run as a wrong password, so response times do not
  // tell an attacker which accounts exist.
  const ok = await verifyPasswordAsync(creds ?? (dummyCreds ??= deriveCredentials(randomBytes(16).toString('hex'), { hashes: ['sha256'] })), password);
  if (!creds || !ok) return { kind: 'failure', condition: 'not-authorized', user };
  if (authzid !== '' && !authzidMatches(authzid, user, ctx.domain)) {
    return { kind: 'failure', condition: 'invalid-authzid', user };
  }
  return { kind: 'success', user };
}
