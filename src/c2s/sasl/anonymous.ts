/**
 * SASL ANONYMOUS (RFC 4505): no credentials; the server makes up a fresh localpart.
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { SaslContext, SaslMechanism, SaslStart } from './types.ts';

/**
 * ANONYMOUS, offered only when {@link SaslContext.allowAnonymous} is set for the host type.
 * The optional trace message (RFC 4505 §2) is accepted and ignored.
 */
export function anonymousMechanism(): SaslMechanism {
  return {
    name: 'ANONYMOUS',
    available: (ctx) => ctx.allowAnonymous === true,
    async start(ctx, initialResponse): Promise<SaslStart> {
      if (!ctx.allowAnonymous) return { first: { kind: 'failure', condition: 'invalid-mechanism' } };
      // RFC 4505 §3: the trace is UTF-8 text of at most 255 characters.
      if (initialResponse !== undefined && (!isUtf8(initialResponse) || [...initialResponse.toString('utf8')].length > 255)) {
        return { first: { kind: 'failure', condition: 'malformed-request' } };
      }
      return { first: { kind: 'success', user: await freshUser(ctx) } };
    },
  };
}

async function freshUser(ctx: SaslContext): Promise<string> {
  const make = ctx.newAnonymousUser ?? (() => randomBytes(8).toString('hex'));
  // 64 random bits make a clash absurdly unlikely; a custom generator may be less careful.
  for (let i = 0; i < 4; i++) {
    const user = make();
    if (!(await ctx.authStore.exists(ctx.hostType, ctx.domain, user))) return user;
  }
  throw new Error('newAnonymousUser returned existing accounts four times');
}
