/**
 * Message carbons (XEP-0280, `urn:xmpp:carbons:2`): per-resource enable/disable, `<sent/>`
 * copies of what a resource sends and `<received/>` copies of what another resource receives,
 * delivered to the user's other carbon-enabled resources. See README.md.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import * as c2s from '../../c2s/hooks.ts';
import { defineModSlot, type Effects } from '../../c2s/effects.ts';
import type { C2sContext } from '../../c2s/context.ts';
import { next, stop } from '../../hooks/index.ts';
import { bind2EnableFeatures, bind2StreamFeatures } from '../../c2s/sasl2-hooks.ts';
import { Acc } from '../../core/acc.ts';
import type { Jid } from '../../core/jid.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { iqResult } from '../../core/stanza.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { NS } from '../../core/namespaces.ts';
import { filterLocalPacket } from '../../core/server-hooks.ts';
import type { LocalSession } from '../../core/session.ts';
import { isPrivacyBypass } from '../../core/hooks/privacy.ts';

/** Options of the carbons module. */
export interface CarbonsOptions {
  /** Priority on `userSendMessage` / `userReceiveMessage` (reference §4.2: 89, after privacy and archiving). */
  readonly priority: number;
}

/** The module's per-connection slot: carbons enabled on this resource. */
export const carbonsSlot = defineModSlot<boolean>('carbons');

/** Session info key set to `true` while a resource has carbons enabled (read for other sessions). */
export const CARBONS_INFO = 'carbons';

const NAME = 'carbons';
/** IM payloads that make a message eligible whatever its type (XEP-0280 §6). */
const IM_PAYLOAD_NS: ReadonlySet<string> = new Set(['http://jabber.org/protocol/chatstates', 'urn:xmpp:receipts', NS.CHAT_MARKERS]);

/**
 * XEP-0280 §6 eligibility: `chat`; `normal` (or no type) with a body; an IM payload; `error`
 * when addressed to a full JID (an answer to a chat we most likely sent). Never groupchat or
 * headline, never a message carrying `<private/>` or a `<no-copy/>` hint, never a carbon.
 */
function eligible(el: XmlElement, to: Jid): boolean {
  const type = el.attrs.type ?? 'normal';
  let ok = false;
  switch (type) {
    case 'chat':
      ok = true;
      break;
    case 'normal':
      ok = el.getChild('body') !== undefined;
      break;
    case 'error':
      ok = to.resource !== '';
      break;
    default:
      return false;
  }
  let imPayload = false;
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    const ns = c.ns;
    if (ns === NS.CARBONS) return false; // <private/>, or a carbon itself (§11: never copy a copy)
    if (ns === NS.HINTS && c.name === 'no-copy') return false;
    if (ns !== undefined && IM_PAYLOAD_NS.has(ns)) imPayload = true;
  }
  return ok || (imPayload && type === 'normal');
}

function isEnabled(env: ModuleEnv, s: LocalSession): boolean {
  return env.sessions.entry(s.sid)?.info[CARBONS_INFO] === true;
}

/** `<message from=bare to=full type><{dir} xmlns=carbons><forwarded><message …/></forwarded></{dir}></message>` (XEP-0280 §7, §8). */
function wrap(dir: 'sent' | 'received', user: Jid, target: Jid, original: XmlElement): XmlElement {
  const inner = original.ns === undefined ? original.withNs(NS.CLIENT) : original;
  return xml(
    'message',
    { from: user.toBareString(), to: target.toString(), type: original.attrs.type },
    xml(dir, { xmlns: NS.CARBONS }, xml('forwarded', { xmlns: NS.FORWARD }, inner)),
  );
}

function deliverCopies(env: ModuleEnv, conn: C2sContext, dir: 'sent' | 'received', original: XmlElement, targets: readonly LocalSession[]): void {
  const user = conn.jid!;
  for (const s of targets) {
    const el = wrap(dir, user, s.jid, original);
    env.router.route(Acc.fromElement(el, { from: user.bare(), to: s.jid, hostType: env.hostType, lserver: conn.lserver!, origin: 'server', clock: env.clock }));
  }
}

/** Scratch key (permanent: it survives delivery) recording that the sender asked for no copies with `<private/>`. */
const PRIVATE_NS = 'carbons';
const PRIVATE_KEY = 'private';

function isPrivate(acc: Acc): boolean {
  return acc.get(PRIVATE_NS, PRIVATE_KEY) === true;
}

/** The carbons module (XEP-0280). */
export const carbons = defineModule<CarbonsOptions>({
  name: NAME,
  defaults: { priority: 89 },
  features: [NS.CARBONS],
  slots: [carbonsSlot],
  hooks(_hostType, opts, env) {
    return [
      // XEP-0386 §bind-request: carbons can be enabled inside Bind2's <bind/> (no answer element).
      hook(bind2StreamFeatures, (vars) => next([...vars, NS.CARBONS]), 50),
      hook(
        bind2EnableFeatures,
        (acc, p) => {
          if (p.request.getChild('enable', NS.CARBONS) === undefined) return;
          acc.effects.setModState(carbonsSlot, true).setInfo(CARBONS_INFO, true);
        },
        50,
      ),
      // XEP-0280 §4: enable/disable, addressed to the own bare JID (or no `to`) or to the server.
      hook(
        c2s.userSendIq,
        (ef: Effects, p) => {
          const acc = p.acc;
          const el = acc.element;
          const payload = el.getChildByNs(NS.CARBONS);
          if (payload === undefined) return;
          const user = p.conn.jid!;
          const to = acc.to;
          const own = to.resource === '' && to.domain === user.domain && (to.local === user.local || to.local === '');
          if (!own) return;
          let reply: Acc;
          if (el.attrs.type !== 'set' || (payload.name !== 'enable' && payload.name !== 'disable')) {
            if (el.attrs.type === 'result' || el.attrs.type === 'error') return;
            reply = errorAcc(acc, new StanzaError('bad-request'));
          } else {
            const on = payload.name === 'enable';
            ef.setModState(carbonsSlot, on).setInfo(CARBONS_INFO, on);
            const iq = el.withAttrs({ from: acc.from.toString(), to: to.toString() });
            reply = Acc.fromElement(iqResult(iq), { from: to, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server' });
          }
          return stop(ef.route(reply));
        },
        50,
      ),
      // Sent carbons (XEP-0280 §7): to every other carbon-enabled resource of the sender.
      hook(
        c2s.userSendMessage,
        (ef, p) => {
          const acc = p.acc;
          const el = acc.element;
          const conn = p.conn;
          const user = conn.jid!;
          const to = acc.to;
          // To the own bare JID the other resources get the original (or a received copy).
          if (to.bareEquals(user) && to.resource === '') return;
          if (!eligible(el, to)) return;
          const sessions = env.sessions.sessionsOf(user);
          if (sessions.length < 2) return;
          const targets = sessions.filter((s) => s.sid !== conn.sid && !s.jid.equals(to) && isEnabled(env, s));
          if (targets.length > 0) deliverCopies(env, conn, 'sent', el.withAttrs({ from: user.toString(), to: to.toString() }), targets);
        },
        opts.priority,
      ),
      // Received carbons (XEP-0280 §8), computed by one receiving resource so copies are not duplicated.
      hook(
        c2s.userReceiveMessage,
        (ef, p) => {
          const acc = p.acc;
          // A bounce the server made for this resource alone (privacy/blocking) is not copied.
          if (isPrivate(acc) || isPrivacyBypass(acc)) return;
          const el = acc.element;
          const conn = p.conn;
          const user = conn.jid!;
          if (acc.from.bareEquals(user)) return; // our own resources: sent carbons cover it
          const to = acc.to;
          if (!eligible(el, to)) return;
          const sessions = env.sessions.sessionsOf(user);
          if (sessions.length < 2) return;
          let targets: LocalSession[];
          if (to.resource !== '' && to.equals(user)) {
            // Addressed to this resource: every other enabled resource gets a copy.
            targets = sessions.filter((s) => s.sid !== conn.sid && isEnabled(env, s));
          } else {
            // Addressed to the bare JID (or a gone full JID): RFC 6121 §8.5.2.1.1 delivered it to the
            // resources at the highest non-negative priority; the first of them copies it to the rest.
            let max = -1;
            for (const s of sessions) {
              const prio = env.sessions.entry(s.sid)?.priority;
              if (prio !== null && prio !== undefined && prio > max) max = prio;
            }
            const gotOriginal = (s: LocalSession) => env.sessions.entry(s.sid)?.priority === max;
            const first = sessions.find(gotOriginal);
            if (first === undefined || first.sid !== conn.sid) return;
            targets = sessions.filter((s) => !gotOriginal(s) && isEnabled(env, s));
          }
          if (targets.length > 0) deliverCopies(env, conn, 'received', el, targets);
        },
        opts.priority,
      ),
      // XEP-0280 §9: `<private/>` is removed before delivery; the permanent acc key still stops received carbons.
      hook(filterLocalPacket, (acc) => {
        if (acc.name !== 'message') return;
        const el = acc.element;
        const priv = el.getChild('private', NS.CARBONS);
        if (priv === undefined || el.getChild('forwarded', NS.FORWARD) !== undefined) return;
        const stripped = acc.updateStanza({ element: el.filterChildren((c) => c !== priv) });
        stripped.setPermanent(PRIVATE_NS, PRIVATE_KEY, true);
        return next(stripped);
      }),
    ];
  },
});
