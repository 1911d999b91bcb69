/**
 * XEP-0386 Bind 2 (`urn:xmpp:bind:0`): resource binding inside a SASL2 `<authenticate/>`,
 * with the session features the client asks for enabled in the same step. README.md lists
 * the sections implemented, the options and the hooks.
 *
 * Works through the shared hooks in `c2s/sasl2-hooks.ts` only: it advertises itself in
 * SASL2's `<inline/>` (`sasl2StreamFeatures`), binds on `sasl2Success` (priority 50, after
 * stream management's resumption at 10: a resumed session is not bound again), lets other
 * modules enable their inline features on `bind2EnableFeatures`, and answers `<bound/>`
 * inside `<success/>`. The session itself is opened by the core (`Effects.openSession`)
 * after `userOpenSession` agreed.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import * as h from '../../c2s/hooks.ts';
import { bind2EnableFeatures, bind2StreamFeatures, NS_BIND2, sasl2StreamFeatures, sasl2Success, type Sasl2UserAgent } from '../../c2s/sasl2-hooks.ts';
import { prepareResource, type Jid } from '../../core/jid.ts';
import { xml } from '../../core/xml/element.ts';
import { isPromise, next, stop } from '../../hooks/index.ts';

export { NS_BIND2 } from '../../c2s/sasl2-hooks.ts';

/** Options of {@link bind2}. */
export interface Bind2Options {
  /**
   * `true` (default): the generated part of the resource is derived from the user, the
   * `<tag/>` and the SASL2 user-agent id, so a client installation gets the same resource on
   * every login (XEP-0386 §identifiers) — and a new login replaces its previous session.
   * Without a user-agent id the resource is random either way.
   */
  readonly stableResources: boolean;
  /**
   * Mixed into the stable identifier (a deployment secret makes resources unpredictable from
   * outside even for someone who knows a user-agent id). Changing it changes every stable
   * resource. Default `''`.
   */
  readonly resourceSecret: string;
  /** A `<tag/>` longer than this (in characters) is not used (default 64). */
  readonly maxTagLength: number;
}

/** The generated resource: `tag/id` when a usable tag was given, else `id` (XEP-0386 §identifiers). */
export function bind2Resource(jid: Jid, tag: string | undefined, userAgent: Sasl2UserAgent | undefined, opts: Bind2Options): string {
  let prefix: string | undefined;
  if (tag !== undefined && tag !== '' && [...tag].length <= opts.maxTagLength) {
    try {
      prefix = prepareResource(tag);
    } catch {
      // A tag that is not a valid resource is only a hint: bind without it.
      prefix = undefined;
    }
  }
  // §identifiers: the user-agent id itself must not appear in the resource — a keyed hash does not reveal it.
  const id =
    opts.stableResources && userAgent?.id !== undefined
      ? createHash('sha256').update(`${opts.resourceSecret}\0${jid.bare().toString()}\0${prefix ?? ''}\0${userAgent.id}`).digest('base64url').slice(0, 12)
      : randomBytes(9).toString('base64url');
  return prefix === undefined || prefix === '' ? id : `${prefix}/${id}`;
}

function hooks(_hostType: string, opts: Bind2Options, env: ModuleEnv) {
  const ht = env.hostType;
  return [
    // XEP-0386 §discovering support: <bind/> in SASL2's <inline/>, with the inline feature vars.
    hook(sasl2StreamFeatures, (list, p) => {
      const vars = env.hooks.run(bind2StreamFeatures, ht, [], { conn: p.conn });
      const build = (vs: string[]) =>
        next([...list, xml('bind', { xmlns: NS_BIND2 }, vs.length > 0 && xml('inline', null, [...new Set(vs)].map((v) => xml('feature', { var: v }))))]);
      return isPromise(vars) ? vars.then((r) => build(r.acc)) : build(vars.acc);
    }),

    // XEP-0386 §bind-request: bind after authentication, before <success/> is sent.
    hook(
      sasl2Success,
      (acc, p) => {
        if (acc.session !== 'none' || acc.failure !== undefined) return;
        const bind = p.request.getChild('bind', NS_BIND2);
        if (bind === undefined) return;
        const full = p.jid.withResource(bind2Resource(p.jid, bind.getChildText('tag', NS_BIND2)?.trim(), p.userAgent, opts));
        const ef = acc.effects;
        const finish = (denied: boolean) => {
          if (denied) {
            // No session may be opened: the authentication fails as a whole (XEP-0388 §failure).
            acc.failure = { condition: 'not-authorized', text: 'session not allowed' };
            return stop(acc);
          }
          const en = env.hooks.run(bind2EnableFeatures, ht, { effects: ef, bound: [] }, { conn: p.conn, jid: full, request: bind, userAgent: p.userAgent });
          const done = (bound: readonly ReturnType<typeof xml>[]) => {
            ef.openSession(full);
            acc.session = 'bound';
            acc.jid = full;
            acc.success.push(xml('bound', { xmlns: NS_BIND2 }, [...bound]));
            return next(acc);
          };
          return isPromise(en) ? en.then((r) => done(r.acc.bound)) : done(en.acc.bound);
        };
        // The same gate as the bind IQ (privacy/blocking may deny; ping arms its timer here).
        const r = env.hooks.run(h.userOpenSession, ht, ef, { conn: p.conn, jid: full });
        return isPromise(r) ? r.then((res) => finish(res.stopped)) : finish(r.stopped);
      },
      50,
    ),
  ];
}

/** The Bind2 module (XEP-0386); needs the `sasl2` module on the same host type. */
export const bind2 = defineModule<Bind2Options>({
  name: 'bind2',
  defaults: { stableResources: true, resourceSecret: '', maxTagLength: 64 },
  hooks,
});

export default bind2;
