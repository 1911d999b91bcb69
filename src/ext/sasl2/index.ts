/**
 * XEP-0388 Extensible SASL Profile (`urn:xmpp:sasl:2`): authentication without a stream
 * restart, with inline requests answered inside `<success/>` (reference §5.6, §10 change 10).
 * README.md lists the sections implemented, the options and the hooks.
 *
 * The exchange runs the core's SASL mechanisms (`conn.saslOffer()` + `startSasl`), so SCRAM,
 * `-PLUS`, PLAIN and ANONYMOUS behave exactly as over RFC 6120 SASL, and failures use the same
 * retry budget (`Effects.countAuthFailure`). While challenges are outstanding the connection
 * is in the pre-session external state `external.sasl2`. On success the inline requests run
 * through the shared `sasl2Success` hook (stream management resumption, Bind2), then one
 * accumulator applies everything: `<success/>` written first (`socketSendFirst`), the
 * connection authenticated (`Effects.authenticated`, state `postAuth`), the session bound or
 * adopted, and — when nothing was bound — the post-auth stream features.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { Effects, defineModSlot, getModState } from '../../c2s/effects.ts';
import type { C2sContext } from '../../c2s/context.ts';
import * as h from '../../c2s/hooks.ts';
import { decodeSaslPayload, startSasl, type SaslFailureCondition, type SaslMechanism, type SaslSession, type SaslStep } from '../../c2s/sasl/index.ts';
import { StreamError } from '../../core/errors.ts';
import { NS_SASL2, sasl2Mechanisms, sasl2StreamFeatures, sasl2Success, type Sasl2SuccessAcc, type Sasl2UserAgent } from '../../c2s/sasl2-hooks.ts';
import { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { isPromise, next, stop, type HookReturn } from '../../hooks/index.ts';

export { NS_SASL2, type Sasl2UserAgent } from '../../c2s/sasl2-hooks.ts';

/** The external state the connection is in while SASL2 challenges are outstanding. */
export const SASL2_STATE = 'sasl2';
/** Session info key holding the client's {@link Sasl2UserAgent} after a SASL2 success. */
export const USER_AGENT_INFO = 'userAgent';

/** Options of {@link sasl2}. */
export interface Sasl2Options {
  /** `<software/>` and `<device/>` texts longer than this are cut (default 256 characters). */
  readonly maxUserAgentText: number;
}

/** An exchange waiting for the client's `<response/>`. */
export interface Sasl2Exchange {
  readonly session: SaslSession;
  readonly mechanism: string;
  /** The `<authenticate/>` element: its inline requests are processed on success. */
  readonly request: XmlElement;
  readonly userAgent: Sasl2UserAgent | undefined;
}

/** The module's slot: present while an exchange is in progress. */
export const sasl2Slot = defineModSlot<Sasl2Exchange>('sasl2');

// RFC 9562 §4 textual form (any version/variant: XEP-0388 asks for a stable unique id, not a v4).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Step<T> = T | Promise<T>;

function then<T, R>(v: Step<T>, fn: (t: T) => Step<R>): Step<R> {
  return isPromise<T>(v) ? v.then(fn) : fn(v);
}

function sasl2El(name: string, ...children: Parameters<typeof xml>[2][]): XmlElement {
  return xml(name, { xmlns: NS_SASL2 }, ...children);
}

/** `<failure xmlns='urn:xmpp:sasl:2'><condition xmlns='…xmpp-sasl'/>[<text/>][<additional-data/>]</failure>` (XEP-0388 §failure). */
function failureEl(condition: SaslFailureCondition, text: string | undefined, data: Buffer | undefined): XmlElement {
  return sasl2El(
    'failure',
    xml(condition, { xmlns: NS.SASL }),
    text !== undefined && xml('text', null, text),
    data !== undefined && xml('additional-data', null, data.toString('base64')),
  );
}

/**
 * Parse `<user-agent/>` (XEP-0388 §initiation). `'invalid'` when the `id` is not a UUID: the
 * id keys stable resources and session replacement, so a malformed one is refused rather
 * than trusted.
 */
export function parseUserAgent(authenticate: XmlElement, maxText = 256): Sasl2UserAgent | undefined | 'invalid' {
  const ua = authenticate.getChild('user-agent', NS_SASL2);
  if (ua === undefined) return undefined;
  const id = ua.attrs.id;
  if (id !== undefined && !UUID.test(id)) return 'invalid';
  const cut = (s: string | undefined) => (s === undefined ? undefined : s.trim().slice(0, maxText));
  return { id: id?.toLowerCase(), software: cut(ua.getChildText('software', NS_SASL2)), device: cut(ua.getChildText('device', NS_SASL2)) };
}

function hooks(_hostType: string, opts: Sasl2Options, env: ModuleEnv) {
  const ht = env.hostType;
  const external = `external.${SASL2_STATE}` as const;

  const violation = (ef: Effects, text: string): HookReturn<Effects> => stop(ef.hardStop('sasl2-policy-violation', new StreamError('policy-violation', text)));

  /** A failed attempt: `authFailed`, `<failure/>`, one retry used (back to `preAuth`, or closing). */
  const fail = (ef: Effects, conn: C2sContext, condition: SaslFailureCondition, text?: string, user?: string, data?: Buffer): Step<HookReturn<Effects>> => {
    const r = env.hooks.run(h.authFailed, ht, ef, { conn, username: user, server: conn.lserver ?? '', condition });
    return then(r, (res) => stop(res.acc.setModState(sasl2Slot, undefined).socketSend(failureEl(condition, text, data)).countAuthFailure()));
  };

  const onStep = (ef: Effects, conn: C2sContext, step: SaslStep, ex: Omit<Sasl2Exchange, 'session'> & { session: SaslSession | undefined }): Step<HookReturn<Effects>> => {
    switch (step.kind) {
      case 'challenge': {
        if (ex.session === undefined) return fail(ef, conn, 'temporary-auth-failure');
        ef.setModState(sasl2Slot, { ...ex, session: ex.session }).socketSend(sasl2El('challenge', step.data.toString('base64')));
        // A goto into the state we are in would re-enter it: ask only on the first challenge.
        if (conn.state !== external) ef.nextState(external);
        return stop(ef);
      }
      case 'failure':
        return fail(ef, conn, step.condition, step.text, step.user, step.data);
      case 'success':
        return succeed(ef, conn, step.user, step.data, ex);
    }
  };

  const succeed = (ef: Effects, conn: C2sContext, user: string, data: Buffer | undefined, ex: Omit<Sasl2Exchange, 'session'>): Step<HookReturn<Effects>> => {
    const jid = Jid.of(user, conn.lserver!);
    // XEP-0388 §initiation / RFC 6120 §4.7.1: the stream `from`, when given, names the account.
    if (conn.jid !== undefined && !conn.jid.bareEquals(jid)) return fail(ef, conn, 'not-authorized', 'the stream was opened for another account', user);
    const acc: Sasl2SuccessAcc = { effects: ef, success: [], session: 'none', jid: undefined, failure: undefined };
    const r = env.hooks.run(sasl2Success, ht, acc, { conn, jid, request: ex.request, userAgent: ex.userAgent });
    return then(r, (res) => {
      const a = res.acc;
      // XEP-0388 §failure: nothing requested inline is applied — a fresh accumulator.
      if (a.failure !== undefined) return fail(new Effects(), conn, a.failure.condition, a.failure.text, user);
      const success = sasl2El(
        'success',
        data !== undefined && xml('additional-data', null, data.toString('base64')),
        xml('authorization-identifier', null, (a.jid ?? jid).toString()),
        ...a.success,
      );
      a.effects
        .authenticated({ user, mechanism: ex.mechanism, postAuthFeatures: a.session === 'none' })
        .setModState(sasl2Slot, undefined)
        .socketSendFirst(success);
      if (ex.userAgent !== undefined) a.effects.setInfo(USER_AGENT_INFO, ex.userAgent);
      return stop(a.effects);
    });
  };

  const authenticate = (ef: Effects, conn: C2sContext, el: XmlElement): Step<HookReturn<Effects>> => {
    // XEP-0388 §security: SASL2 only after TLS (it is not offered before either).
    if (!conn.isSecure) return fail(ef, conn, 'encryption-required');
    const offer = conn.saslOffer?.();
    if (offer === undefined) return violation(ef, 'no SASL2 authentication on this stream');
    const userAgent = parseUserAgent(el, opts.maxUserAgentText);
    if (userAgent === 'invalid') return fail(ef, conn, 'malformed-request', 'the user-agent id must be a UUID');
    const mechanism = el.attrs.mechanism ?? '';
    // §initiation: an `upgrade` we did not announce (we announce none) fails the authentication.
    if (el.attrs.upgrade !== undefined) return fail(ef, conn, 'invalid-mechanism', 'no upgrade task is offered');
    const irEl = el.getChild('initial-response', NS_SASL2);
    let ir: Buffer | undefined;
    if (irEl !== undefined) {
      // §SASL Data Encoding: no `=` special case; `<initial-response/>` is a zero-length response.
      const d = decodeSaslPayload(irEl.text().trim());
      if (d === 'incorrect-encoding') return fail(ef, conn, 'incorrect-encoding');
      ir = d;
    }
    const run = (mechanisms: readonly SaslMechanism[]): Promise<HookReturn<Effects>> =>
      startSasl(mechanisms, mechanism, offer.context, ir).then(({ first, session }) => onStep(ef, conn, first, { session, mechanism, request: el, userAgent }));
    if (offer.mechanisms.some((m) => m.name === mechanism)) return run(offer.mechanisms);
    // Not offered in <mechanism/>: maybe a SASL2-only one (FAST's HT-*, XEP-0484).
    return then(env.hooks.run(sasl2Mechanisms, ht, [], { conn, request: el, userAgent }), (extra) => run([...offer.mechanisms, ...extra.acc]));
  };

  const respond = (ef: Effects, conn: C2sContext, el: XmlElement, ex: Sasl2Exchange): Step<HookReturn<Effects>> => {
    const d = decodeSaslPayload(el.text().trim());
    if (d === 'incorrect-encoding') return fail(ef, conn, 'incorrect-encoding');
    return ex.session.step(d).then((step) => onStep(ef, conn, step, ex));
  };

  return [
    // XEP-0388 §feature: `<authentication/>` with the offered mechanisms and the inline features.
    hook(h.c2sStreamFeatures, (list, p) => {
      if (p.phase !== 'preAuth' || !p.conn.isSecure) return;
      const offer = p.conn.saslOffer?.();
      // §feature: never offered without a mechanism.
      if (offer === undefined || offer.mechanisms.length === 0) return;
      return then(env.hooks.run(sasl2StreamFeatures, ht, [], { conn: p.conn }), (inline) =>
        next([
          ...list,
          sasl2El(
            'authentication',
            offer.mechanisms.map((m) => sasl2El('mechanism', m.name)),
            inline.acc.length > 0 && sasl2El('inline', inline.acc),
          ),
        ]),
      );
    }),

    hook(
      h.userSendXmlel,
      (ef, p) => {
        const el = p.acc.element;
        const conn = p.conn;
        const inExchange = conn.state === external;
        if (el.ns !== NS_SASL2) {
          // §During Authentication: only <response/> or <abort/> while an exchange is in progress.
          if (inExchange) return violation(ef, 'only <response/> or <abort/> during SASL2 authentication');
          return;
        }
        const ex = getModState(conn, sasl2Slot);
        switch (el.name) {
          case 'authenticate':
            if (conn.state === 'preAuth') return authenticate(ef, conn, el);
            // §Multiple Authentication: another <authenticate/> after success (or during an exchange) is a stream error.
            return violation(ef, 'unexpected <authenticate/>');
          case 'response':
            if (inExchange && ex !== undefined) return respond(ef, conn, el, ex);
            if (conn.state === 'preAuth') return fail(ef, conn, 'malformed-request', 'no exchange in progress');
            return violation(ef, 'unexpected <response/>');
          case 'abort':
            // §Aborting: a failure with <aborted/>; it uses a retry like RFC 6120 §6.4.4.
            if (inExchange || conn.state === 'preAuth') return fail(ef, conn, 'aborted');
            return violation(ef, 'unexpected <abort/>');
          default:
            // We never send <continue/>, so <next/> (or anything else) is out of place.
            return violation(ef, `unexpected <${el.name}/>`);
        }
      },
      10,
    ),
  ];
}

/** The SASL2 module (XEP-0388). */
export const sasl2 = defineModule<Sasl2Options>({
  name: 'sasl2',
  defaults: { maxUserAgentText: 256 },
  hooks,
  externalStates: [{ name: SASL2_STATE, preSession: true }],
  slots: [sasl2Slot],
});

export default sasl2;
