/**
 * The client-to-server connection (`xmpp-blocks/c2s`): the XState lifecycle machine, the
 * connection glue, the c2s hooks, the effects accumulator, modules, SASL and transports.
 * Chart and effects order: `docs/c2s-machine.md`.
 * @module
 */
export * from './hooks.ts';
export {
  applyEffects,
  Effects,
  type CallRef,
  type EffectsTarget,
  type InternalEvent,
  type TimeoutHandler,
  type TimeoutRequest,
  type Authenticated,
} from './effects.ts';
export { defineModSlot, getModState, type C2sContext, type C2sStateName, type C2sTargetState, type ModSlot, type SaslOffer, type SessionSnapshot } from './context.ts';
export type { C2sListenerOptions, C2sServices, ExternalStateSpec } from './options.ts';
export {
  buildC2sMachine,
  stateNameOf,
  C2S_DEFAULTS,
  type C2sActor,
  type C2sMachine,
  type C2sMachineContext,
  type C2sMachineEvent,
  type C2sMachineHost,
  type C2sMachineInput,
  type C2sSnapshot,
} from './machine.ts';
export { C2sConnection, machineFor, type C2sConnectionOptions } from './connection.ts';
export {
  defineModule,
  externalStatesOf,
  hook,
  startModule,
  type ModuleHook,
  type ModuleEnv,
  type ModuleHost,
  type ModuleInstance,
  type ModuleIqHandler,
  type ModuleSpec,
  type XmppModule,
} from './module.ts';
export type { ChannelBindingType, TransportEvents, XmppTransport } from './transport.ts';
export * from './sasl/index.ts';
export * from './sasl2-hooks.ts';
export * from './transports/index.ts';
export { selfSignedCertificate, type PemCertificate } from './certificate.ts';
