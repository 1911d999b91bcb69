/**
 * XEP-0484 Fast Authentication Streamlining Tokens (`urn:xmpp:fast:0`): after a login, a
 * client installation (its SASL2 user-agent id) gets a token and authenticates with it next
 * time in one round trip, with the HT-* mechanisms (`ht.ts`). README.md lists the sections
 * implemented, the options and the hooks.
 *
 * Works through the SASL2 hooks in `c2s/sasl2-hooks.ts` only:
 * - `sasl2StreamFeatures`: `<fast><mechanism/>…</fast>` in SASL2's `<inline/>` — the HT
 *   mechanisms are never listed in `<mechanism/>` or in RFC 6120 SASL;
 * - `sasl2Mechanisms`: the HT mechanism the client asked for, verifying the token in the
 *   `fastTokens` storage port. On success it records which token matched in a module-local
 *   map keyed by the `<authenticate/>` element;
 * - `sasl2Success` (after Bind2): issues, rotates and invalidates tokens; `<token/>` goes into
 *   `<success/>`.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import type { C2sContext } from '../../c2s/context.ts';
import type { SaslContext, SaslMechanism, SaslStart, SaslStep } from '../../c2s/sasl/index.ts';
import { prepareUsername } from '../../c2s/sasl/identity.ts';
import { sasl2Mechanisms, sasl2StreamFeatures, sasl2Success, type Sasl2UserAgent } from '../../c2s/sasl2-hooks.ts';
import { removeDomain, removeUser } from '../../core/server-hooks.ts';
import type { FastToken, FastTokenEntry } from '../../core/storage/fast-token-store.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import { next, stop } from '../../hooks/index.ts';
import { HT_CHANNEL_BINDING, HT_MECHANISMS, htInitiator, htProofMatches, htResponder, isHtMechanism, parseHtInitialResponse, type HtMechanismName } from './ht.ts';

export { HT_MECHANISMS, htInitiator, htResponder, type HtMechanismName } from './ht.ts';

/** XEP-0484 namespace. */
export const NS_FAST = 'urn:xmpp:fast:0';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of {@link fast}. */
export interface FastOptions {
  /** How long a token is valid after it is issued, ms (default 14 days). */
  readonly tokenLifetimeMs: number;
  /**
   * A token login with a token expiring within this many ms gets a new token in `<success/>`
   * (the used one stays valid until the new one is first used). Default 7 days; 0 = only on
   * request.
   */
  readonly rotateBeforeMs: number;
  /** HT mechanisms to offer (a subset of {@link HT_MECHANISMS}, always offered in that order). Default all. */
  readonly mechanisms: readonly HtMechanismName[];
}

/** Which stored token a token login used, and the entry as the mechanism left it. */
interface UsedToken {
  readonly user: string;
  readonly agentId: string;
  readonly slot: 'current' | 'previous';
  readonly token: FastToken;
  readonly entry: FastTokenEntry;
}

// A count beyond 2^53 cannot be compared exactly; XEP-0484 only needs it to grow.
const COUNT = /^\d{1,15}$/;

/** XEP-0082 DateTime in UTC, whole seconds. */
function xepDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function hooks(_hostType: string, opts: FastOptions, env: ModuleEnv) {
  const unknown = opts.mechanisms.filter((m) => !isHtMechanism(m));
  if (unknown.length > 0) throw new Error(`fast: unknown mechanisms ${unknown.join(', ')} (known: ${HT_MECHANISMS.join(', ')})`);
  const enabled = HT_MECHANISMS.filter((m) => opts.mechanisms.includes(m));
  const store = env.storage.fastTokens;
  const ht = env.hostType;
  /** Filled by a successful HT exchange, read on `sasl2Success` for the same `<authenticate/>`. */
  const used = new WeakMap<XmlElement, UsedToken>();

  /** The enabled mechanisms this stream can run: `-EXPR`/`-ENDP` only with their channel binding. */
  const usable = (conn: C2sContext): HtMechanismName[] => {
    const types = conn.saslOffer?.()?.context.channelBindingTypes;
    if (types === undefined) return [];
    return enabled.filter((m) => {
      const cb = HT_CHANNEL_BINDING[m];
      return cb === undefined || types.includes(cb);
    });
  };

  const newToken = (mechanism: string): FastToken => ({
    token: randomBytes(32).toString('base64url'),
    mechanism,
    expiresAt: env.clock.now() + opts.tokenLifetimeMs,
  });

  const tokenEl = (t: FastToken): XmlElement => xml('token', { xmlns: NS_FAST, expiry: xepDateTime(t.expiresAt), token: t.token });

  /** The HT mechanism `name` for one `<authenticate/>` (it needs the request's `<fast/>` and user agent). */
  const htMechanism = (name: HtMechanismName, request: XmlElement, userAgent: Sasl2UserAgent | undefined): SaslMechanism => {
    const cb = HT_CHANNEL_BINDING[name];
    const verify = async (ctx: SaslContext, ir: Buffer | undefined): Promise<SaslStep> => {
      const parsed = ir === undefined ? undefined : parseHtInitialResponse(ir);
      if (parsed === undefined) return { kind: 'failure', condition: 'malformed-request', text: 'expected authcid NUL HMAC-SHA-256' };
      const user = prepareUsername(parsed.authcid);
      if (user === undefined) return { kind: 'failure', condition: 'not-authorized' };
      const refuse = (text?: string): SaslStep => ({ kind: 'failure', condition: 'not-authorized', text, user });
      // XEP-0484: a token is bound to the client installation (user-agent id) it was issued to.
      const agentId = userAgent?.id;
      if (agentId === undefined) return refuse('a FAST token needs the user-agent id it was issued to');
      const fastEl = request.getChild('fast', NS_FAST);
      const countAttr = fastEl?.attrs.count;
      if (countAttr !== undefined && !COUNT.test(countAttr)) return refuse('invalid count');
      const cbData = cb === undefined ? Buffer.alloc(0) : ctx.channelBinding(cb);
      if (cbData === undefined) return refuse();

      const entry = await store.get(ctx.hostType, ctx.domain, user, agentId);
      const now = env.clock.now();
      let match: { slot: 'current' | 'previous'; token: FastToken } | undefined;
      for (const slot of ['current', 'previous'] as const) {
        const t = entry?.[slot];
        // XEP-0484: a token is accepted only with the mechanism it was requested for.
        if (t === undefined || t.mechanism !== name || t.expiresAt <= now) continue;
        if (htProofMatches(htInitiator(t.token, cbData), parsed.proof)) match ??= { slot, token: t };
      }
      if (entry === undefined || match === undefined) return refuse();
      // XEP-0484 (0-RTT replay protection): a count not above the last one accepted is a replay.
      const count = countAttr === undefined ? undefined : Number(countAttr);
      if (count !== undefined && count <= entry.count) return refuse('count already used');
      // Tokens never outlive the account, even one removed where no cleanup ran (an external AuthStore).
      if (!(await ctx.authStore.exists(ctx.hostType, ctx.domain, user))) return refuse();

      // Token rotation: once the newest token is used the client has it, so the one before goes.
      const updated: FastTokenEntry = { current: entry.current, previous: match.slot === 'current' ? undefined : entry.previous, count: count ?? entry.count };
      if (updated.previous !== entry.previous || updated.count !== entry.count) await store.set(ctx.hostType, ctx.domain, user, agentId, updated);
      used.set(request, { user, agentId, slot: match.slot, token: match.token, entry: updated });
      return { kind: 'success', user, data: htResponder(match.token.token, cbData) };
    };
    return {
      name,
      available: (ctx) => cb === undefined || ctx.channelBindingTypes.includes(cb),
      // HT is client-first: no initial response is a malformed request, not an empty challenge.
      start: async (ctx, ir): Promise<SaslStart> => ({ first: await verify(ctx, ir) }),
    };
  };

  /** The tokens after a successful SASL2 authentication; the `<token/>` to send, if any. */
  const afterLogin = async (domain: string, user: string, request: XmlElement, agentId: string | undefined): Promise<FastToken | undefined> => {
    const asked = request.getChild('request-token', NS_FAST)?.attrs.mechanism;
    const requested = asked !== undefined && (enabled as readonly string[]).includes(asked) ? asked : undefined;
    const login = used.get(request);
    if (login === undefined) {
      // A password (or other non-token) login: a fresh installation entry.
      if (requested === undefined || agentId === undefined) return undefined;
      const t = newToken(requested);
      await store.set(ht, domain, user, agentId, { current: t, previous: undefined, count: 0 });
      return t;
    }
    if (request.getChild('fast', NS_FAST)?.attrs.invalidate === 'true') {
      await store.remove(ht, domain, user, login.agentId);
      if (requested === undefined) return undefined;
      const t = newToken(requested);
      await store.set(ht, domain, user, login.agentId, { current: t, previous: undefined, count: 0 });
      return t;
    }
    // Used `previous`: the client never received `current` — give it one it can use.
    const rotate = login.slot === 'previous' || requested !== undefined || login.token.expiresAt - env.clock.now() <= opts.rotateBeforeMs;
    if (!rotate) return undefined;
    const t = newToken(requested ?? login.token.mechanism);
    await store.set(ht, domain, user, login.agentId, { current: t, previous: login.token, count: login.entry.count });
    return t;
  };

  return [
    // XEP-0484 discovery: the mechanisms inside SASL2's <inline/>.
    hook(sasl2StreamFeatures, (list, p) => {
      const mechs = usable(p.conn);
      if (mechs.length === 0) return;
      return next([...list, xml('fast', { xmlns: NS_FAST }, mechs.map((m) => xml('mechanism', null, m)))]);
    }),

    hook(sasl2Mechanisms, (list, p) => {
      const name = p.request.attrs.mechanism ?? '';
      if (!isHtMechanism(name) || !usable(p.conn).includes(name)) return;
      return next([...list, htMechanism(name, p.request, p.userAgent)]);
    }),

    // After Bind2 (50): tokens are stored only when no inline request failed the authentication.
    hook(
      sasl2Success,
      (acc, p) => {
        if (acc.failure !== undefined) return;
        if (!used.has(p.request) && p.request.getChild('request-token', NS_FAST) === undefined) return;
        return afterLogin(p.jid.domain, p.jid.local, p.request, p.userAgent?.id).then(
          (token) => (token === undefined ? undefined : (acc.success.push(tokenEl(token)), next(acc))),
          (err: unknown) => {
            env.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'FAST token storage failed');
            // A resumed session was already handed over by its old connection: failing now
            // would lose it, so that login goes on without a token.
            if (acc.session === 'resumed') return undefined;
            acc.failure = { condition: 'temporary-auth-failure' };
            return stop(acc);
          },
        );
      },
      90,
    ),

    hook(removeUser, async (acc, p) => {
      try {
        await store.removeUser(ht, p.jid.domain, p.jid.local);
      } catch {
        acc.failed.push('fast');
      }
      return next(acc);
    }),
    hook(removeDomain, async (acc, p) => {
      try {
        await store.removeDomain(ht, p.domain);
      } catch {
        acc.failed.push('fast');
      }
      return next(acc);
    }),
  ];
}

/** The FAST module (XEP-0484); needs the `sasl2` module on the same host type. */
export const fast = defineModule<FastOptions>({
  name: 'fast',
  defaults: { tokenLifetimeMs: 14 * DAY_MS, rotateBeforeMs: 7 * DAY_MS, mechanisms: HT_MECHANISMS },
  hooks,
});

export default fast;
