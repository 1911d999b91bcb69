/**
 * Server-side SASL for c2s streams (RFC 6120 §6): the mechanisms PLAIN (RFC 4616),
 * SCRAM-SHA-1/-256/-512 and their `-PLUS` variants (RFC 5802, RFC 7677), and ANONYMOUS
 * (RFC 4505), as pure state machines over an injected {@link AuthStore}.
 *
 * How the c2s uses it:
 * ```ts
 * const offered = offeredMechanisms(mechanisms, ctx, listener);   // once per stream
 * features.push(...saslFeatures(offered, ctx));                    // <mechanisms/> + XEP-0440
 * // on <auth mechanism=M>text</auth>:
 * const ir = decodeInitialResponse(text);                          // '' → undefined, '=' → empty
 * if (ir === 'incorrect-encoding') send(saslStepElement({ kind: 'failure', condition: ir }));
 * const { first, session } = await startSasl(offered, M, ctx, ir);
 * send(saslStepElement(first));                                    // then session.step(...) per <response/>
 * ```
 * @module
 */
export type {
  ChannelBindingType,
  SaslContext,
  SaslFailureCondition,
  SaslListenerInfo,
  SaslMechanism,
  SaslSession,
  SaslStart,
  SaslStartOptions,
  SaslStep,
} from './types.ts';
export { decodeInitialResponse, decodeSaslPayload, encodeSaslPayload } from './payload.ts';
export { saslFeatures, saslStepElement } from './elements.ts';
export { defaultMechanisms, offeredMechanisms, startSasl } from './mechanisms.ts';
export { plainMechanism } from './plain.ts';
export { anonymousMechanism } from './anonymous.ts';
export { scramMechanism, type ScramMechanismOptions } from './scram.ts';
