/**
 * XEP-0198 Stream Management (v1.6, `urn:xmpp:sm:3`): acks, a buffer of unacknowledged
 * stanzas, and resumption through a dormant external state (reference §5.2). README.md
 * lists the hooks with their priorities and the options.
 *
 * Per stanza the module does plain arithmetic on its slot (mutated in place: a counter, an
 * array push), no Promise and no timer: the buffer limit is checked by the `sm.bufferCheck`
 * named timeout armed once when the buffer goes over `bufferMax`.
 *
 * Resumption (`<resume previd h>` on a new connection, in `postAuth`):
 * 1. the SM id is looked up in `env.storage.smIds` (stale `h` → `<failed h>`);
 * 2. the old connection is reached through its `LocalSession` (`env.sessions.entry(sid)`) with
 *    `call('stream-management', { kind: 'resume', h })`. Its `foreignEvent` handler applies
 *    the ack, replies with its session snapshot (JID, info, **every module slot**: presence,
 *    CSI…), its counters and the unacked stanzas, and marks itself `handedOver`: from then on
 *    it buffers (never writes) what it still receives;
 * 3. the new connection applies `adoptSession(snapshot)` (core effect): it takes the JID, the
 *    slots and the presence priority, registers the session — which replaces the old row, so
 *    the old connection gets `exit('replaced', 'conflict')` (written only if its socket still
 *    exists) — answers `<resumed>` and re-sends the unacked stanzas through `flush` (messages
 *    get a XEP-0203 "SM Storage" delay), so they are counted and buffered again;
 * 4. the old connection terminates: at `userTerminate` (priority 5) the module stops the fold
 *    when it handed over, so presence broadcasts no unavailable; at `rerouteUnackedMessages`
 *    it routes what it received after the hand-over through the router — to the new session,
 *    which owns the full JID by then, after the re-sent stanzas.
 *
 * Inline with SASL2/Bind2 (`c2s/sasl2-hooks.ts`): `<resume/>` inside `<authenticate/>` runs the
 * same steps 1–3 on `sasl2Success` (priority 10, the user checked against the JID just
 * authenticated) and answers inside `<success/>`; `<enable/>` inside Bind2's `<bind/>` runs the
 * same enable on `bind2EnableFeatures` and answers inside `<bound/>`.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { defineModSlot, Effects, getModState, type SessionSnapshot, type TimeoutHandler } from '../../c2s/effects.ts';
import type { C2sContext } from '../../c2s/context.ts';
import * as h from '../../c2s/hooks.ts';
import type { Acc } from '../../core/acc.ts';
import type { Jid } from '../../core/jid.ts';
import { StreamError } from '../../core/errors.ts';
import { NS } from '../../core/namespaces.ts';
import { stanzaKind } from '../../core/stanza.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { filterUnacknowledgedMessages, unacknowledgedMessage } from '../../core/hooks/stream-management.ts';
import { isPromise, next, stop, type HookReturn } from '../../hooks/index.ts';
import { bind2EnableFeatures, bind2StreamFeatures, sasl2StreamFeatures, sasl2Success } from '../../c2s/sasl2-hooks.ts';

/** `urn:xmpp:sm:3` (XEP-0198). */
export const NS_SM = 'urn:xmpp:sm:3';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** The module's name: also the `call`/`cast` tag. */
export const SM_TAG = 'stream-management';
/** The dormant external state (`external.resumable`). */
export const RESUMABLE = 'resumable';
/** Named timeouts. */
export const RESUME_TIMEOUT = 'resumeTimeout';
export const BUFFER_CHECK = 'sm.bufferCheck';
export const HANDOVER_TIMEOUT = 'sm.handover';

/** Options of {@link streamManagement}. */
export interface StreamManagementOptions {
  /** Unacked stanzas allowed before `resource-constraint` (default 100; `Infinity` = no limit). */
  readonly bufferMax: number;
  /** How long the buffer may stay over `bufferMax` before the stream error, ms (default 5000). */
  readonly bufferCheckMs: number;
  /** Send `<r/>` after every N stanzas (default 1; 0 = never ask). */
  readonly ackFreq: number;
  /** How long a dormant session waits for `<resume/>`, ms (default 600 000). Advertised as `max` (s). */
  readonly resumeTimeout: number;
  /** How long the last `h` of a gone session is kept for `<failed h>`, ms (default 3 600 000; 0 = not kept). */
  readonly staleHTtl: number;
  /** How long the new connection waits for the old one to hand over, ms (default 5000). */
  readonly handoverTimeout: number;
}

/** Per-connection state (mutated in place on the hot path). */
export interface SmState {
  /** Resumption id when enabled with `resume`. */
  smid: string | undefined;
  /**
   * Stanzas handled from the client (mod 2^32) when {@link inBase} was taken; `h` now is
   * {@link handledIn}. The connection counts every stanza itself (`C2sContext.stanzasIn`),
   * including those the core answers without running any hook.
   */
  counterIn: number;
  /** The connection's `stanzasIn` when {@link counterIn} was taken. */
  inBase: number;
  /** Stanzas the client acknowledged (mod 2^32); sent = counterOut + buffer.length. */
  counterOut: number;
  /** Unacknowledged stanzas, oldest first (stripped accs). */
  buffer: Acc[];
  /** Sids this session was resumed from (the receive guard accepts stanzas pinned to them). */
  resumedFrom: readonly string[];
  /** This (old) connection handed its session to another one. */
  handedOver: boolean;
  /** How long this session waits for a resumption, ms (the option, or the client's smaller `max`). */
  resumeMs?: number | undefined;
}

/** XEP-0198 `h` for the stanzas received from the client on `conn` (mod 2^32). */
export function handledIn(conn: C2sContext, s: SmState): number {
  return (s.counterIn + conn.stanzasIn - s.inBase) % U32;
}

/** The module's slot. */
export const smSlot = defineModSlot<SmState>('stream-management');

/** What a `resume` call carries. */
export interface SmResumeRequest {
  readonly kind: 'resume';
  readonly h: number;
  /** Sid of the connection resuming. */
  readonly by: string;
}

/** What the old connection adds to its session snapshot when it hands over. */
export interface SmHandOver {
  readonly ok: true;
  readonly smid: string;
  readonly counterIn: number;
  readonly unacked: readonly Acc[];
  readonly resumedFrom: readonly string[];
  readonly resumeMs: number | undefined;
  /** Presence priority in the session table. */
  readonly priority: number | null | undefined;
}

/** The old connection's answer to a `resume` call. */
export type SmResumeReply =
  | (SmHandOver & { readonly snapshot: SessionSnapshot })
  | { readonly ok: false; readonly reason: 'not-resumable' }
  | { readonly ok: false; readonly reason: 'handled-count-too-high'; readonly sendCount: number };

/** What {@link takeOver} found: a session handed over, a `<failed/>` answer, or an `h` beyond what the old session sent. */
type ResumeOutcome =
  | { readonly kind: 'ok'; readonly reply: SmHandOver & { readonly snapshot: SessionSnapshot }; readonly previd: string; readonly h: number }
  | { readonly kind: 'failed'; readonly failed: XmlElement }
  | { readonly kind: 'too-high'; readonly app: XmlElement };

const U32 = 0x1_0000_0000;
const H_RE = /^\d{1,10}$/;

/** Parse an `h` attribute (xs:unsignedInt); `undefined` when invalid. */
export function parseH(v: string | undefined): number | undefined {
  if (v === undefined || !H_RE.test(v)) return undefined;
  const n = Number(v);
  return n < U32 ? n : undefined;
}

const smEl = (name: string, attrs: Record<string, string | undefined> = {}, ...children: XmlElement[]) => xml(name, { xmlns: NS_SM, ...attrs }, ...children);
const failed = (condition: string, attrs: Record<string, string | undefined> = {}) => smEl('failed', attrs, xml(condition, { xmlns: NS_STANZAS }));
const R = smEl('r');

/** Add a XEP-0203 delay ("SM Storage") to a message that has none (not to error/headline). */
export function withSmDelay(acc: Acc, lserver: string): Acc {
  const el = acc.element;
  if (el.name !== 'message' || el.attrs.type === 'error' || el.attrs.type === 'headline') return acc;
  if (el.getChild('delay', NS.DELAY) !== undefined) return acc;
  const stamp = new Date(Math.floor(acc.timestamp / 1000)).toISOString();
  return acc.updateStanza({ element: el.append(xml('delay', { xmlns: NS.DELAY, from: lserver, stamp }, 'SM Storage')) });
}

function isBuffered(el: XmlElement): boolean {
  const kind = stanzaKind(el);
  // Probes never reach a client; everything else is a stanza the client must acknowledge.
  return kind !== undefined && !(kind === 'presence' && el.attrs.type === 'probe');
}

function notifyUnacked(env: ModuleEnv, conn: C2sContext, accs: readonly Acc[]): void {
  const jid = conn.jid;
  if (jid === undefined) return;
  for (const acc of accs) {
    if (acc.name !== 'message') continue;
    try {
      const r = env.hooks.run(unacknowledgedMessage, env.hostType, undefined, { acc, jid });
      if (isPromise(r)) r.catch((err: unknown) => env.logger.error({ err: String(err) }, 'unacknowledgedMessage failed'));
    } catch (err) {
      env.logger.error({ err: String(err) }, 'unacknowledgedMessage failed');
    }
  }
}

function hooks(_hostType: string, opts: StreamManagementOptions, env: ModuleEnv) {
  const ht = env.hostType;
  const smids = env.storage.smIds;
  const ackFreq = Math.max(0, Math.floor(opts.ackFreq));
  const bufferMax = opts.bufferMax;
  const maxSeconds = String(Math.floor(opts.resumeTimeout / 1000));

  const onBufferCheck: TimeoutHandler = (_name, conn) => {
    const s = getModState(conn, smSlot);
    if (s === undefined || s.handedOver || s.buffer.length <= bufferMax) return;
    return new Effects().hardStop('too-many-unacked-stanzas', new StreamError('resource-constraint', 'too many unacked stanzas'));
  };
  const onResumeTimeout: TimeoutHandler = () => new Effects().hardStop('sm-resume-timeout');
  const onHandoverTimeout: TimeoutHandler = () => new Effects().hardStop('sm-handover-timeout');

  // ---------------------------------------------------------------- enable

  /**
   * XEP-0198 §3 enable, shared by `<enable/>` on the stream and Bind2's inline `<enable/>`: a
   * new state for connection `sid` (with a registered resumption id when asked) and the
   * `<enabled/>` answer. The caller checks when enabling is allowed.
   */
  const newSession = async (conn: C2sContext, el: XmlElement): Promise<{ state: SmState; enabled: XmlElement }> => {
    const sid = conn.sid;
    const wantsResume = el.attrs.resume === 'true' || el.attrs.resume === '1';
    let smid: string | undefined;
    if (wantsResume) {
      smid = randomBytes(21).toString('base64');
      await smids.register(ht, smid, sid);
    }
    // XEP-0198 §5: the client's preferred maximum (seconds) is honoured when it is shorter.
    const clientMax = parseH(el.attrs.max);
    const resumeMs = clientMax !== undefined && clientMax > 0 && clientMax * 1000 < opts.resumeTimeout ? clientMax * 1000 : opts.resumeTimeout;
    const state: SmState = { smid, counterIn: 0, inBase: conn.stanzasIn, counterOut: 0, buffer: [], resumedFrom: [], handedOver: false, resumeMs };
    const attrs = smid === undefined ? {} : { id: smid, resume: 'true', max: resumeMs === opts.resumeTimeout ? maxSeconds : String(resumeMs / 1000) };
    return { state, enabled: smEl('enabled', attrs) };
  };

  const enable = async (ef: Effects, conn: C2sContext, el: XmlElement): Promise<HookReturn<Effects>> => {
    // XEP-0198 §3: after resource binding only; once per stream.
    if ((conn.state !== 'established' && conn.state !== 'awaitingSession') || getModState(conn, smSlot) !== undefined) {
      return stop(ef.socketSend(failed('unexpected-request')));
    }
    const { state, enabled } = await newSession(conn, el);
    return stop(ef.setModState(smSlot, state).socketSend(enabled));
  };

  // ---------------------------------------------------------------- ack

  const ack = (ef: Effects, s: SmState, el: XmlElement): HookReturn<Effects> => {
    const hv = parseH(el.attrs.h);
    if (hv === undefined) return stop(ef.hardStop('sm-invalid-h', new StreamError('policy-violation', 'invalid h')));
    const n = (hv - s.counterOut + U32) % U32;
    if (n > s.buffer.length) {
      const sendCount = (s.counterOut + s.buffer.length) % U32;
      const app = smEl('handled-count-too-high', { h: String(hv), 'send-count': String(sendCount) });
      return stop(ef.hardStop('sm-handled-count-too-high', new StreamError('undefined-condition', { appCondition: app })));
    }
    if (n > 0) s.buffer.splice(0, n);
    s.counterOut = hv;
    return stop(ef);
  };

  // ---------------------------------------------------------------- resume (new connection)

  /**
   * XEP-0198 §5 resume, shared by `<resume/>` on the stream and inside a SASL2
   * `<authenticate/>`: look the id up, check the account (`me`: the authenticated user) and
   * ask the old connection to hand its session over. `handled-count-too-high` is left to the
   * caller (a stream error on the stream; a `<failed/>` inline).
   */
  const takeOver = async (sid: string, me: Jid | undefined, el: XmlElement): Promise<ResumeOutcome> => {
    const previd = el.attrs.previd;
    const hv = parseH(el.attrs.h);
    if (previd === undefined || previd === '' || hv === undefined) return { kind: 'failed', failed: failed('bad-request') };
    const found = await smids.lookup(ht, previd);
    if (found.kind === 'stale-h') return { kind: 'failed', failed: failed('item-not-found', { h: String(found.h) }) };
    if (found.kind === 'not-found') return { kind: 'failed', failed: failed('item-not-found') };
    const entry = env.sessions.entry(found.sid);
    // Only the same user may resume (the SM id is a bearer token, but not across accounts).
    if (entry === undefined || me === undefined || !entry.jid.bareEquals(me)) return { kind: 'failed', failed: failed('item-not-found') };
    let reply: SmResumeReply;
    try {
      reply = await entry.session.call<SmResumeReply>(SM_TAG, { kind: 'resume', h: hv, by: sid } satisfies SmResumeRequest, opts.handoverTimeout);
    } catch {
      return { kind: 'failed', failed: failed('item-not-found') };
    }
    if (!reply.ok) {
      if (reply.reason === 'handled-count-too-high') return { kind: 'too-high', app: smEl('handled-count-too-high', { h: String(hv), 'send-count': String(reply.sendCount) }) };
      return { kind: 'failed', failed: failed('item-not-found') };
    }
    await smids.register(ht, reply.smid, sid);
    return { kind: 'ok', reply, previd, h: hv };
  };

  /** Adopt the handed-over session on this connection; returns `<resumed/>` (the caller sends it first). */
  const adopt = (ef: Effects, conn: C2sContext, r: Extract<ResumeOutcome, { kind: 'ok' }>): XmlElement => {
    const reply = r.reply;
    const state: SmState = { smid: reply.smid, counterIn: reply.counterIn, inBase: conn.stanzasIn, counterOut: r.h, buffer: [], resumedFrom: reply.resumedFrom, handedOver: false, resumeMs: reply.resumeMs };
    ef.adoptSession({ ...reply.snapshot, priority: reply.priority }).setModState(smSlot, state);
    return smEl('resumed', { previd: r.previd, h: String(reply.counterIn) });
  };

  /** Re-send the unacked stanzas through the presend hook: counted and buffered again on this connection. */
  const resend = (ef: Effects, r: Extract<ResumeOutcome, { kind: 'ok' }>): void => {
    for (const acc of r.reply.unacked) ef.flush(withSmDelay(acc, r.reply.snapshot.lserver));
  };

  const resume = async (ef: Effects, conn: C2sContext, el: XmlElement): Promise<HookReturn<Effects>> => {
    if (conn.state !== 'postAuth' || getModState(conn, smSlot) !== undefined) return stop(ef.socketSend(failed('unexpected-request')));
    const r = await takeOver(conn.sid, conn.jid, el);
    switch (r.kind) {
      case 'failed':
        return stop(ef.socketSend(r.failed));
      case 'too-high':
        return stop(ef.hardStop('sm-handled-count-too-high', new StreamError('undefined-condition', { appCondition: r.app })));
      case 'ok':
        ef.socketSend(adopt(ef, conn, r));
        resend(ef, r);
        return stop(ef);
    }
  };

  // ---------------------------------------------------------------- hand-over (old connection)

  const handOver = (ef: Effects, conn: C2sContext, req: SmResumeRequest, callRef: NonNullable<h.ForeignEventParams['callRef']>): HookReturn<Effects> => {
    const s = getModState(conn, smSlot);
    if (s === undefined || s.smid === undefined || s.handedOver || conn.jid?.resource === undefined || conn.jid.resource === '') {
      return stop(ef.reply(callRef, { ok: false, reason: 'not-resumable' } satisfies SmResumeReply));
    }
    const n = (req.h - s.counterOut + U32) % U32;
    if (n > s.buffer.length) {
      return stop(ef.reply(callRef, { ok: false, reason: 'handled-count-too-high', sendCount: (s.counterOut + s.buffer.length) % U32 } satisfies SmResumeReply));
    }
    const extra: SmHandOver = {
      ok: true,
      smid: s.smid,
      counterIn: handledIn(conn, s),
      unacked: s.buffer.slice(n),
      resumedFrom: [...s.resumedFrom, conn.sid],
      resumeMs: s.resumeMs,
      priority: env.sessions.entry(conn.sid)?.priority,
    };
    // The core answers with the snapshot and moves every module slot out; this connection keeps
    // only the marker set here. From now on it only buffers; what it gets is re-routed at
    // teardown (to the new session, which owns the JID by then). A new connection that never
    // adopts leaves it to the hand-over timeout.
    return stop(
      ef
        .handOverSession(callRef, extra)
        .setModState(smSlot, { smid: s.smid, counterIn: handledIn(conn, s), inBase: conn.stanzasIn, counterOut: req.h, buffer: [], resumedFrom: s.resumedFrom, handedOver: true })
        .cancelTimeout(RESUME_TIMEOUT)
        .cancelTimeout(BUFFER_CHECK)
        .setTimeout(HANDOVER_TIMEOUT, opts.handoverTimeout * 2, onHandoverTimeout),
    );
  };

  // ---------------------------------------------------------------- dormant

  // Socket closed or failed: claim the stop and wait for a resumption. A stop request (an admin
  // kick, a ping timeout) is claimed too, and the socket, if still there, is dropped without a
  // word so the client sees a network failure and resumes. A stop request while already
  // dormant is not claimed: it terminates.
  const goDormant =
    (stopRequest: boolean) =>
    (ef: Effects, p: h.C2sParams): HookReturn<Effects> | void => {
      const conn = p.conn;
      const s = getModState(conn, smSlot);
      if (s === undefined || s.smid === undefined || s.handedOver) return;
      if (conn.state === `external.${RESUMABLE}`) return stopRequest ? undefined : stop(ef);
      notifyUnacked(env, conn, s.buffer);
      ef.nextState(`external.${RESUMABLE}`).cancelTimeout(BUFFER_CHECK).setTimeout(RESUME_TIMEOUT, s.resumeMs ?? opts.resumeTimeout, onResumeTimeout);
      if (stopRequest) ef.detachSocket();
      return stop(ef);
    };

  return [
    hook(h.c2sStreamFeatures, (list, p) => (p.phase === 'postAuth' ? next([...list, smEl('sm')]) : undefined)),

    // XEP-0198 §inline / XEP-0388: <sm/> in SASL2's <inline/> (resumption inside <authenticate/>),
    // and XEP-0386: urn:xmpp:sm:3 in Bind2's inline features (enable inside <bind/>).
    hook(sasl2StreamFeatures, (list) => next([...list, smEl('sm')]), 50),
    hook(bind2StreamFeatures, (vars) => next([...vars, NS_SM]), 50),

    // Inline <resume/> (priority 10, before Bind2 at 50): the same look-up and hand-over as on the
    // stream; <resumed/> inside <success/> and Bind2 is skipped. On failure <failed/> goes into
    // <success/> and Bind2 (if requested) binds a new session.
    hook(
      sasl2Success,
      (acc, p) => {
        if (acc.session !== 'none' || acc.failure !== undefined) return;
        const el = p.request.getChild('resume', NS_SM);
        if (el === undefined) return;
        return takeOver(p.conn.sid, p.jid, el).then((r) => {
          switch (r.kind) {
            case 'failed':
              acc.success.push(r.failed);
              return next(acc);
            case 'too-high':
              // The old session is left as it is (dormant; re-routed at its timeout): no stream error
              // after a successful authentication, the client is told the resumption failed.
              acc.success.push(smEl('failed', {}, xml('undefined-condition', { xmlns: NS_STANZAS }), r.app));
              return next(acc);
            case 'ok': {
              acc.success.push(adopt(acc.effects, p.conn, r));
              resend(acc.effects, r);
              acc.session = 'resumed';
              acc.jid = r.reply.snapshot.jid;
              return next(acc);
            }
          }
        });
      },
      10,
    ),

    // Inline <enable/> inside Bind2's <bind/>: <enabled/> inside <bound/>. The connection is still
    // pre-session here (the session opens when the bind's effects apply), so no state check.
    hook(
      bind2EnableFeatures,
      (acc, p) => {
        const el = p.request.getChild('enable', NS_SM);
        if (el === undefined || getModState(p.conn, smSlot) !== undefined) return;
        return newSession(p.conn, el).then(({ state, enabled }) => {
          acc.effects.setModState(smSlot, state);
          acc.bound.push(enabled);
          return next(acc);
        });
      },
      50,
    ),

    hook(
      h.userSendXmlel,
      (ef, p) => {
        const el = p.acc.element;
        if (el.ns !== NS_SM) return;
        const conn = p.conn;
        switch (el.name) {
          case 'enable':
            return enable(ef, conn, el);
          case 'resume':
            return resume(ef, conn, el);
          case 'r': {
            const s = getModState(conn, smSlot);
            if (s === undefined) return stop(ef.socketSend(failed('unexpected-request')));
            return stop(ef.socketSend(smEl('a', { h: String(handledIn(conn, s)) })));
          }
          case 'a': {
            const s = getModState(conn, smSlot);
            if (s === undefined) return stop(ef.socketSend(failed('unexpected-request')));
            return ack(ef, s, el);
          }
          default:
            return stop(ef.socketSend(failed('feature-not-implemented')));
        }
      },
      50,
    ),

    // XEP-0198 §4: h counts the stanzas handled (message, iq, presence), wrapping at 2^32: the
    // connection counts them (C2sContext.stanzasIn, see handledIn), so a stanza the core answers
    // before any hook runs (a jid-malformed reply) is counted too.

    // Reference §5.2 guard: a stanza pinned to another connection (a replaced one) is dropped.
    hook(
      h.userReceivePacket,
      (ef, p) => {
        const pinned = p.acc.get<string>('c2s', 'receiverSid');
        if (pinned === undefined || pinned === p.conn.sid) return;
        const s = getModState(p.conn, smSlot);
        if (s !== undefined && s.resumedFrom.includes(pinned)) return;
        return stop(ef);
      },
      10,
    ),

    hook(
      h.xmppPresendElement,
      (ef, p) => {
        const conn = p.conn;
        const s = getModState(conn, smSlot);
        if (s === undefined) return;
        const el = p.acc.element;
        const dormant = s.handedOver || conn.state === `external.${RESUMABLE}`;
        if (!isBuffered(el)) return dormant ? stop(ef) : undefined;
        const acc = p.acc.strip();
        s.buffer.push(acc);
        if (s.buffer.length > bufferMax && conn.timeoutDeadline(BUFFER_CHECK) === undefined) ef.setTimeout(BUFFER_CHECK, opts.bufferCheckMs, onBufferCheck);
        if (dormant) {
          if (!s.handedOver) notifyUnacked(env, conn, [acc]);
          return stop(ef);
        }
        if (ackFreq > 0 && (s.counterOut + s.buffer.length) % ackFreq === 0) ef.socketSend(R);
      },
      50,
    ),

    hook(h.userSocketClosed, goDormant(false), 100),
    hook(h.userSocketError, goDormant(false), 100),
    hook(h.userStopRequest, goDormant(true), 100),

    hook(
      h.foreignEvent,
      (ef, p) => {
        if (p.tag !== SM_TAG) return;
        const c = p.content as Partial<SmResumeRequest> | undefined;
        if (c?.kind !== 'resume' || p.callRef === undefined || typeof c.h !== 'number') return stop(ef);
        return handOver(ef, p.conn, c as SmResumeRequest, p.callRef);
      },
      50,
    ),

    // A connection that handed its session over is not going offline: skip the rest of
    // userTerminate (presence's unavailable broadcast at 90).
    hook(
      h.userTerminate,
      (ef, p) => {
        if (getModState(p.conn, smSlot)?.handedOver) return stop(ef);
      },
      5,
    ),

    hook(
      h.rerouteUnackedMessages,
      (_ef, p) => {
        const conn = p.conn;
        const s = getModState(conn, smSlot);
        if (s === undefined) return;
        const buffer = s.buffer;
        s.buffer = [];
        if (s.handedOver) {
          // Received after the hand-over: the new session owns the JID now.
          for (const acc of buffer) env.router.route(acc);
          return;
        }
        if (s.smid !== undefined) {
          const smid = s.smid;
          const write = opts.staleHTtl > 0 ? smids.writeStaleH(ht, smid, handledIn(conn, s), conn.now()) : Promise.resolve();
          Promise.all([smids.unregister(ht, conn.sid), write]).catch((err: unknown) => env.logger.error({ err: String(err) }, 'sm id cleanup failed'));
        }
        if (buffer.length === 0 || conn.jid === undefined) return;
        const lserver = conn.lserver ?? conn.jid.domain;
        const route = (list: Acc[]) => {
          for (const acc of list) {
            try {
              env.router.route(withSmDelay(acc, lserver));
            } catch (err) {
              env.logger.error({ err: String(err) }, 'sm re-route failed');
            }
          }
        };
        const r = env.hooks.run(filterUnacknowledgedMessages, ht, buffer, { jid: conn.jid, reason: p.reason });
        if (isPromise(r)) return r.then((res) => route(res.acc)).then(() => undefined);
        route(r.acc);
      },
      80,
    ),
  ];
}

/** The XEP-0198 module. See the module comment and README.md. */
export const streamManagement = defineModule<StreamManagementOptions>({
  name: SM_TAG,
  defaults: { bufferMax: 100, bufferCheckMs: 5000, ackFreq: 1, resumeTimeout: 600_000, staleHTtl: 3_600_000, handoverTimeout: 5000 },
  externalStates: [{ name: RESUMABLE, socketless: true }],
  slots: [smSlot],
  hooks,
  start(env, opts) {
    if (!(opts.staleHTtl > 0)) return;
    // The "geriatric" cleaner: stale-h rows older than the TTL go, every half TTL.
    let handle: unknown;
    const every = Math.max(1000, Math.floor(opts.staleHTtl / 2));
    const tick = () => {
      env.storage.smIds
        .cleanupStaleH(env.hostType, env.clock.now() - opts.staleHTtl)
        .catch((err: unknown) => env.logger.error({ err: String(err) }, 'stale h cleanup failed'));
      handle = env.clock.setTimeout(tick, every);
    };
    handle = env.clock.setTimeout(tick, every);
    return () => env.clock.clearTimeout(handle);
  },
});

export default streamManagement;
