/**
 * The global router (reference §6.1): everything a connection sends after its own hooks, and
 * every stanza the server generates, goes through {@link XmppRouter.route}.
 *
 * Chain: global `filterPacket` (stop = drop) → local domain (incl. subdomains)? → strip the acc
 * to the recipient's host type and lserver → `filterLocalPacket` for the recipient host type
 * (stop = drop) → local dispatch (user → session manager; domain → server IQ handlers;
 * `domain/resource` → `item-not-found`). Non-local domains have no route yet (no s2s):
 * `remote-server-not-found`. Errors are answered by routing an error stanza back to the sender,
 * never in reply to an error stanza (RFC 6120 §8.3.1).
 *
 * Synchronous while every hook handler is; a stage whose hooks go async continues when they
 * settle. Exceptions in a stage are caught and logged: a bad stanza never takes the router down.
 * @module
 */
import type { Acc } from './acc.ts';
import type { Router } from './session.ts';
import type { DomainRegistry } from './domains.ts';
import type { IqHandlerRegistry } from './iq-handlers.ts';
import { errorAcc } from './iq-handlers.ts';
import { StanzaError } from './errors.ts';
import { isErrorStanza } from './stanza.ts';
import { filterLocalPacket, filterPacket } from './server-hooks.ts';
import { GLOBAL, isPromise, type HookRegistry, type RunResult } from '../hooks/index.ts';
import { type Logger, silentLogger } from './logger.ts';

export { errorAcc } from './iq-handlers.ts';

/** Local delivery to users (the session manager). */
export interface UserRouter {
  /** Deliver a stanza addressed to a local user (bare or full JID); `acc` is already stripped. */
  route(acc: Acc): void;
}

/** What happened to a routed stanza (for tests and metrics). */
export type RouteOutcome = 'filtered' | 'local-user' | 'local-server' | 'no-route' | 'dropped' | 'error';

/** Options of {@link XmppRouter}. */
export interface XmppRouterOptions {
  readonly hooks: HookRegistry;
  readonly domains: DomainRegistry;
  readonly iqHandlers: IqHandlerRegistry;
  /** Usually set later with {@link XmppRouter.setUserRouter} (the session manager needs the router). */
  readonly users?: UserRouter | undefined;
  readonly logger?: Logger | undefined;
  /** Called with every outcome (counters). Keep it cheap. */
  readonly onOutcome?: ((outcome: RouteOutcome, acc: Acc) => void) | undefined;
}

/** The router. See the module comment. */
export class XmppRouter implements Router {
  readonly #hooks: HookRegistry;
  readonly #domains: DomainRegistry;
  readonly #iq: IqHandlerRegistry;
  #users: UserRouter | undefined;
  readonly #logger: Logger;
  readonly #onOutcome: ((outcome: RouteOutcome, acc: Acc) => void) | undefined;
  readonly #reply = (acc: Acc): void => this.route(acc);

  constructor(options: XmppRouterOptions) {
    this.#hooks = options.hooks;
    this.#domains = options.domains;
    this.#iq = options.iqHandlers;
    this.#users = options.users;
    this.#logger = options.logger ?? silentLogger;
    this.#onOutcome = options.onOutcome;
  }

  /** Where stanzas to local users go (the session manager). */
  setUserRouter(users: UserRouter): void {
    this.#users = users;
  }

  /** Route one stanza. Never throws. */
  route(acc: Acc): void {
    let r: RunResult<Acc> | Promise<RunResult<Acc>>;
    try {
      r = this.#hooks.run(filterPacket, GLOBAL, acc, undefined);
    } catch (err) {
      this.#fail('filterPacket', acc, err);
      return;
    }
    if (isPromise(r)) r.then((res) => this.#afterGlobalFilter(res), (err) => this.#fail('filterPacket', acc, err));
    else this.#afterGlobalFilter(r);
  }

  #afterGlobalFilter(res: RunResult<Acc>): void {
    const acc = res.acc;
    if (res.stopped) {
      this.#outcome('filtered', acc);
      return;
    }
    try {
      // One domain resolution per stanza (memoised on the recipient JID): host type and lserver
      // travel on in the stripped acc, nobody downstream looks the domain up again.
      const route = this.#domains.resolveJid(acc.to);
      if (route === undefined) {
        this.#noRoute(acc);
        return;
      }
      // Reference §6.1 step 3: the acc enters the recipient's context.
      const local = acc.strip({ hostType: route.hostType, lserver: route.lserver });
      const r = this.#hooks.run(filterLocalPacket, route.hostType, local, undefined);
      if (isPromise(r)) r.then((res2) => this.#afterLocalFilter(res2), (err) => this.#fail('filterLocalPacket', local, err));
      else this.#afterLocalFilter(r);
    } catch (err) {
      this.#fail('localDomain', acc, err);
    }
  }

  #afterLocalFilter(res: RunResult<Acc>): void {
    const acc = res.acc;
    if (res.stopped) {
      this.#outcome('filtered', acc);
      return;
    }
    try {
      this.#localDispatch(acc);
    } catch (err) {
      this.#fail('localDelivery', acc, err);
    }
  }

  /** Reference §6.1 step 4 (`ejabberd_local:process_packet`). */
  #localDispatch(acc: Acc): void {
    const to = acc.to;
    if (to.local !== '') {
      if (this.#users === undefined) throw new Error('router has no session manager');
      this.#outcome('local-user', acc);
      this.#users.route(acc);
      return;
    }
    const type = acc.type;
    if (to.resource === '') {
      this.#outcome('local-server', acc);
      // Only IQs are served by the server JID; messages and presences to it are ignored here
      // (a module that wants them uses filterLocalPacket).
      if (acc.name === 'iq') this.#iq.dispatch(acc, 'server', this.#reply);
      return;
    }
    // `domain/resource` with no user: nothing lives there (components come later).
    if (type === 'error' || type === 'result') {
      this.#outcome('dropped', acc);
      return;
    }
    this.#outcome('error', acc);
    this.replyError(acc, new StanzaError('item-not-found'));
  }

  #noRoute(acc: Acc): void {
    this.#outcome('no-route', acc);
    // No s2s yet: every non-local domain is unreachable.
    this.replyError(acc, new StanzaError('remote-server-not-found'));
  }

  /**
   * Answer `acc`'s stanza with `err` by routing an error stanza back to its sender; does
   * nothing for an error stanza (RFC 6120 §8.3.1: never answer an error with an error).
   */
  replyError(acc: Acc, err: StanzaError): void {
    if (isErrorStanza(acc.element)) return;
    this.route(errorAcc(acc, err));
  }

  #outcome(o: RouteOutcome, acc: Acc): void {
    if (this.#onOutcome !== undefined) this.#onOutcome(o, acc);
  }

  #fail(stage: string, acc: Acc, err: unknown): void {
    this.#logger.error(
      { stage, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), from: acc.from.toString(), to: acc.to.toString(), name: acc.name },
      'routing stage failed',
    );
  }
}
