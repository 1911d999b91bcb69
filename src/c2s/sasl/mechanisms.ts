/**
 * The mechanism list: defaults, per-stream filtering, and starting the one a client picked.
 * @module
 */
import { anonymousMechanism } from './anonymous.ts';
import { plainMechanism } from './plain.ts';
import { scramMechanism } from './scram.ts';
import type { SaslContext, SaslListenerInfo, SaslMechanism, SaslSession, SaslStart, SaslStep } from './types.ts';

/**
 * The default mechanisms in advertised (preference) order: SCRAM-SHA-512-PLUS, SCRAM-SHA-512,
 * SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, and ANONYMOUS when
 * `opts.anonymous` (it is then still offered only where {@link SaslContext.allowAnonymous}).
 */
export function defaultMechanisms(opts: { anonymous?: boolean } = {}): SaslMechanism[] {
  const mechs: SaslMechanism[] = [];
  for (const hash of ['sha512', 'sha256', 'sha1'] as const) {
    mechs.push(scramMechanism(hash, { plus: true }), scramMechanism(hash));
  }
  mechs.push(plainMechanism());
  if (opts.anonymous) mechs.push(anonymousMechanism());
  return mechs;
}

/**
 * The mechanisms to advertise on one stream, in the given order (reference §1.3): `-PLUS`
 * only when the transport offers channel binding, PLAIN only over TLS or from loopback unless
 * the listener allows it, ANONYMOUS only when the host type enables it.
 */
export function offeredMechanisms(mechs: readonly SaslMechanism[], ctx: SaslContext, listener: SaslListenerInfo): SaslMechanism[] {
  return mechs.filter((m) => m.available(ctx, listener));
}

/**
 * Start the mechanism named in `<auth mechanism=…>`. A name that was not offered on this
 * stream fails with `invalid-mechanism` (RFC 6120 §6.5.5). Errors thrown by the
 * {@link AuthStore} become `temporary-auth-failure` (§6.5.11), here and in every later step.
 */
export async function startSasl(
  offered: readonly SaslMechanism[],
  mechanism: string,
  ctx: SaslContext,
  initialResponse: Buffer | undefined,
): Promise<SaslStart> {
  const mech = offered.find((m) => m.name === mechanism);
  if (!mech) return { first: { kind: 'failure', condition: 'invalid-mechanism' } };
  const plusOffered = offered.some((m) => m.name.endsWith('-PLUS'));
  let start: SaslStart;
  try {
    start = await mech.start(ctx, initialResponse, { plusOffered });
  } catch (err) {
    return { first: storeFailure(err) };
  }
  if (start.first.kind !== 'challenge' || !start.session) return { first: start.first };
  return { first: start.first, session: guarded(start.session) };
}

function guarded(session: SaslSession): SaslSession {
  let done = false;
  return {
    async step(response: Buffer): Promise<SaslStep> {
      // A finished exchange never restarts; the c2s should not call us, but fail safe if it does.
      if (done) return { kind: 'failure', condition: 'malformed-request', text: 'exchange already finished' };
      let step: SaslStep;
      try {
        step = await session.step(response);
      } catch (err) {
        step = storeFailure(err);
      }
      if (step.kind !== 'challenge') done = true;
      return step;
    },
  };
}

// The store's message stays on the server: it may describe internals a client must not see.
function storeFailure(_err: unknown): SaslStep {
  return { kind: 'failure', condition: 'temporary-auth-failure' };
}
