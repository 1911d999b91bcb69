/**
 * XEP-0199 XMPP Ping: the server answers pings addressed to itself and to a user's bare JID,
 * and (optionally) pings idle clients itself with named timeouts.
 *
 * Server pings never re-arm a timer per stanza: `userSendPacket` only stores `conn.now()` in
 * the activity slot; when the `ping.send` timeout fires, a connection that was active less
 * than `pingInterval` ago is re-armed for the remainder, an idle one gets
 * `<iq type="get"><ping/></iq>` and the `ping.timeout` timeout.
 * @module
 */
import { defineModule, hook, type ModuleHook, type ModuleIqHandler } from '../../c2s/module.ts';
import { defineModSlot, Effects, type TimeoutHandler } from '../../c2s/effects.ts';
import type { C2sContext } from '../../c2s/context.ts';
import { userOpenSession, userSendIq, userSendPacket } from '../../c2s/hooks.ts';
import { Acc } from '../../core/acc.ts';
import { Jid } from '../../core/jid.ts';
import { discoSmFeatures } from '../../core/server-hooks.ts';
import { xml } from '../../core/xml/element.ts';
import { next, stop } from '../../hooks/index.ts';

/** `urn:xmpp:ping` (XEP-0199). */
export const NS_PING = 'urn:xmpp:ping';

/** What to do when a client does not answer a server ping in time. */
export type PingTimeoutAction = 'none' | 'kill';

/** Options of {@link ping}. */
export interface PingOptions {
  /** Ping idle clients (default `false`). */
  readonly sendPings: boolean;
  /** Idle time before a server ping, in ms (default 60 000). */
  readonly pingInterval: number;
  /** How long to wait for the answer, in ms (default 32 000). */
  readonly pingReqTimeout: number;
  /** `kill`: soft-stop the connection when the answer does not come (default `none`). */
  readonly timeoutAction: PingTimeoutAction;
}

/** The outstanding server ping of a connection. */
export interface PendingPing {
  readonly id: string;
  /** Clock ms when it was sent. */
  readonly sentAt: number;
}

/** Clock ms of the last element the client sent (written per stanza: a number, no timer). */
export const pingActivitySlot = defineModSlot<number>('ping.activity');
/** The server ping waiting for its answer. */
export const pingPendingSlot = defineModSlot<PendingPing>('ping.pending');

/** Names of the module's named timeouts. */
export const SEND_PING = 'ping.send';
export const PING_TIMEOUT = 'ping.timeout';

let pingSeq = 0;

function serverPinger(opts: PingOptions) {
  const interval = Math.max(1, opts.pingInterval);

  const onTimeout: TimeoutHandler = (_name, _conn) => {
    const ef = new Effects().setModState(pingPendingSlot, undefined);
    if (opts.timeoutAction === 'kill') return ef.stop('ping_timeout');
    return ef.setTimeout(SEND_PING, interval, sendPing);
  };

  const sendPing: TimeoutHandler = (_name, conn) => {
    const now = conn.now();
    const last = conn.getModState(pingActivitySlot);
    // Client traffic postpones the ping: re-arm for what is left of the interval.
    if (last !== undefined && now - last < interval) return new Effects().setTimeout(SEND_PING, interval - (now - last), sendPing);
    const jid = conn.jid;
    const lserver = conn.lserver;
    const hostType = conn.hostType;
    if (jid === undefined || lserver === undefined || hostType === undefined) return;
    const id = `ping-${(++pingSeq).toString(36)}-${now.toString(36)}`;
    const iq = xml('iq', { type: 'get', id, from: lserver, to: jid.toString() }, xml('ping', { xmlns: NS_PING }));
    const acc = Acc.fromElement(iq, { from: Jid.parse(lserver), to: jid, hostType, lserver, origin: 'server', timestamp: now * 1000 });
    return new Effects().setModState(pingPendingSlot, { id, sentAt: now }).route(acc).setTimeout(PING_TIMEOUT, Math.max(1, opts.pingReqTimeout), onTimeout);
  };

  /** The client's answer to our ping: result or error with our id, addressed to the server (or without `to`). */
  const isAnswer = (conn: C2sContext, acc: Acc, pending: PendingPing): boolean => {
    const type = acc.type;
    if ((type !== 'result' && type !== 'error') || acc.element.attrs.id !== pending.id) return false;
    const to = acc.to;
    return (to.local === '' && to.domain === conn.lserver) || (to.resource === '' && conn.jid !== undefined && to.bareEquals(conn.jid));
  };

  const hooks: ModuleHook[] = [
    // Arm the first ping when the session opens (effects of a non-denied open are applied).
    hook(userOpenSession, (ef) => next(ef.setTimeout(SEND_PING, interval, sendPing)), 100),
    // Per stanza: one number in a slot. No timer is touched here.
    hook(userSendPacket, (ef, { conn }) => {
      ef.setModState(pingActivitySlot, conn.now());
    }, 100),
    hook(userSendIq, (ef, { conn, acc }) => {
      const pending = conn.getModState(pingPendingSlot);
      if (pending === undefined || !isAnswer(conn, acc, pending)) return;
      // Answered (pong or error: either way the client is alive); not routed further.
      return stop(ef.cancelTimeout(PING_TIMEOUT).setModState(pingPendingSlot, undefined).setTimeout(SEND_PING, interval, sendPing));
    }, 100),
  ];
  return hooks;
}

/** The XEP-0199 module. See the module comment and README.md. */
export const ping = defineModule<PingOptions>({
  name: 'ping',
  defaults: { sendPings: false, pingInterval: 60_000, pingReqTimeout: 32_000, timeoutAction: 'none' },
  features: [NS_PING],
  slots: [pingActivitySlot, pingPendingSlot],
  hooks(_hostType, opts) {
    const out: ModuleHook[] = [
      hook(discoSmFeatures, (acc, p) => (p.node === undefined ? next([...acc, NS_PING]) : undefined)),
    ];
    if (opts.sendPings) out.push(...serverPinger(opts));
    return out;
  },
  iqHandlers(): ModuleIqHandler[] {
    // RFC 6120 §8.2.3 / XEP-0199 §4.2, §4.3: an empty result is the pong.
    const pong = () => null;
    return [
      { key: { target: 'server', type: 'get', ns: NS_PING, name: 'ping' }, handler: pong },
      { key: { target: 'user', type: 'get', ns: NS_PING, name: 'ping' }, handler: pong },
    ];
  },
});

export default ping;
