/**
 * XEP-0352 Client State Indication (`urn:xmpp:csi:0`, reference §5.4). While the client says
 * it is `<inactive/>`, stanzas that are not urgent wait in a per-connection buffer at
 * `xmppPresendElement` (priority 45, before stream management at 50); `<active/>` flushes
 * them in order. README.md lists the hooks, the urgency rule and the options.
 *
 * Flushing is the `flush` effect: each acc goes through the presend hook again, marked so
 * CSI lets it through and stream management counts and buffers it like any other stanza.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { defineModSlot, getModState, type Effects } from '../../c2s/effects.ts';
import * as h from '../../c2s/hooks.ts';
import type { Acc } from '../../core/acc.ts';
import { stanzaKind } from '../../core/stanza.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { next, stop, type HookReturn } from '../../hooks/index.ts';
import { bind2EnableFeatures, bind2StreamFeatures } from '../../c2s/sasl2-hooks.ts';

/** `urn:xmpp:csi:0` (XEP-0352). */
export const NS_CSI = 'urn:xmpp:csi:0';

/** Options of {@link csi}. */
export interface CsiOptions {
  /** Stanzas held while inactive; one more flushes everything, the new one included (default 20). */
  readonly bufferMax: number;
  /**
   * `true` (default): an urgent stanza — a message with a `<body>` (not groupchat, not error)
   * or an IQ request (get/set) — flushes the buffer and goes out at once, after it. `false`:
   * everything waits (MongooseIM's mod_csi).
   */
  readonly urgentFlush: boolean;
}

/** Per-connection state. */
export interface CsiState {
  readonly active: boolean;
  /** Held stanzas, oldest first (mutated in place by the presend handler). */
  readonly buffer: Acc[];
}

/** The module's slot (absent = active, nothing held). */
export const csiSlot = defineModSlot<CsiState>('csi');

const FLUSHED_NS = 'csi';
const FLUSHED_KEY = 'flushed';

/** The urgency rule (see {@link CsiOptions.urgentFlush}). */
export function isUrgent(el: XmlElement): boolean {
  switch (el.name) {
    case 'message': {
      const type = el.attrs.type;
      return type !== 'groupchat' && type !== 'error' && el.getChild('body') !== undefined;
    }
    case 'iq': {
      const type = el.attrs.type;
      return type === 'get' || type === 'set';
    }
    default:
      return false;
  }
}

function flushAll(ef: Effects, buffer: readonly Acc[]): Effects {
  for (const acc of buffer) ef.flush(acc.set(FLUSHED_NS, FLUSHED_KEY, true));
  return ef;
}

function hooks(_hostType: string, opts: CsiOptions, env: ModuleEnv) {
  const bufferMax = Math.max(0, opts.bufferMax);

  // Going dormant (95, before stream management claims at 100): hand the buffer to SM. Applied
  // only if the stop is claimed; otherwise rerouteUnackedMessages (70) re-routes the buffer.
  const toSm = (ef: Effects, p: h.C2sParams): void => {
    const s = getModState(p.conn, csiSlot);
    if (s === undefined || s.active) return;
    flushAll(ef, s.buffer).setModState(csiSlot, { active: true, buffer: [] });
  };

  return [
    hook(h.c2sStreamFeatures, (list, p) => (p.phase === 'postAuth' ? next([...list, xml('csi', { xmlns: NS_CSI })]) : undefined)),

    // XEP-0386 §bind-request: the initial state inside Bind2's <bind/> (<inactive/> or <active/>;
    // the last one wins if both are sent). No answer element.
    hook(bind2StreamFeatures, (vars) => next([...vars, NS_CSI]), 50),
    hook(
      bind2EnableFeatures,
      (acc, p) => {
        let state: boolean | undefined;
        for (const c of p.request.elements()) {
          if (c.ns !== NS_CSI) continue;
          if (c.name === 'inactive') state = false;
          else if (c.name === 'active') state = true;
        }
        if (state === undefined) return;
        acc.effects.setModState(csiSlot, state ? undefined : { active: false, buffer: [] });
      },
      50,
    ),

    hook(
      h.userSendXmlel,
      (ef, p): HookReturn<Effects> | undefined => {
        const el = p.acc.element;
        if (el.ns !== NS_CSI) return;
        // XEP-0352 §5: only meaningful on a bound session.
        if (p.conn.state !== 'established') return stop(ef);
        const s = getModState(p.conn, csiSlot);
        if (el.name === 'inactive') {
          if (s === undefined || s.active) ef.setModState(csiSlot, { active: false, buffer: s?.buffer ?? [] });
          return stop(ef);
        }
        if (el.name === 'active') {
          if (s !== undefined) flushAll(ef, s.buffer).setModState(csiSlot, undefined);
          return stop(ef);
        }
        // Unknown CSI element: a nonza has no error reply; ignore it.
        return stop(ef);
      },
      60,
    ),

    hook(
      h.xmppPresendElement,
      (ef, p) => {
        const s = getModState(p.conn, csiSlot);
        if (s === undefined || s.active) return;
        const acc = p.acc;
        if (acc.get(FLUSHED_NS, FLUSHED_KEY) === true) return;
        const el = acc.element;
        if (stanzaKind(el) === undefined) return;
        const buffer = s.buffer;
        buffer.push(acc);
        if (buffer.length > bufferMax || (opts.urgentFlush && isUrgent(el))) {
          // Everything in order, the current stanza last.
          flushAll(ef, buffer);
          buffer.length = 0;
        }
        return stop(ef);
      },
      45,
    ),

    hook(h.userSocketClosed, toSm, 95),
    hook(h.userSocketError, toSm, 95),
    hook(h.userStopRequest, toSm, 95),

    hook(
      h.rerouteUnackedMessages,
      (_ef, p) => {
        const s = getModState(p.conn, csiSlot);
        if (s === undefined || s.buffer.length === 0) return;
        const list = s.buffer.splice(0);
        for (const acc of list) {
          try {
            env.router.route(acc.strip());
          } catch (err) {
            env.logger.error({ err: String(err) }, 'csi re-route failed');
          }
        }
      },
      70,
    ),
  ];
}

/** The XEP-0352 module. See the module comment and README.md. */
export const csi = defineModule<CsiOptions>({
  name: 'csi',
  defaults: { bufferMax: 20, urgentFlush: true },
  slots: [csiSlot],
  hooks,
});

export default csi;
