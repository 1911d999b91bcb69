/**
 * IQ handler registry (reference §6.5): handlers for IQs addressed to the server (the domain
 * JID) and to users' bare JIDs, registered per host type by `(type, namespace, element name)`
 * — a module subscribes to exactly the IQs it answers, never a big `if` over every IQ.
 *
 * RFC 6120 §8.2.3: an entity receiving a get/set IQ MUST answer it, so a get/set nobody
 * handles is answered with `service-unavailable` (never silence). Result/error IQs addressed
 * to the server are dropped (nobody waits for them here).
 * @module
 */
import { Acc } from './acc.ts';
import type { Clock } from './clock.ts';
import { StanzaError } from './errors.ts';
import { errorReply, iqResult } from './stanza.ts';
import type { XmlElement } from './xml/element.ts';
import type { Logger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { isPromise } from '../hooks/index.ts';

/** Whom the IQ is addressed to: the domain JID (`'server'`) or a user's bare JID (`'user'`). */
export type IqTarget = 'server' | 'user';

/** The request types that get handlers. */
export type IqRequestType = 'get' | 'set';

/**
 * What a handler returns:
 * - an element: the **payload** of a `type="result"` reply (an element named `iq` is taken as
 *   the complete reply instead);
 * - `null`: an empty result (`<iq type="result"/>`, e.g. a ping answer);
 * - a {@link StanzaError}: an error reply;
 * - `undefined`: handled, no reply now (the handler replies later itself, e.g. after a call).
 *
 * Throwing (or rejecting) answers `internal-server-error`.
 */
export type IqHandlerResult = XmlElement | StanzaError | null | undefined;

/** An IQ handler; `iq` is `acc.element`, `payload` its single child element. */
export type IqHandler = (acc: Acc, iq: XmlElement, payload: XmlElement) => IqHandlerResult | Promise<IqHandlerResult>;

/** Where to register a handler. */
export interface IqHandlerKey {
  readonly hostType: string;
  readonly target: IqTarget;
  readonly type: IqRequestType;
  /** Namespace of the IQ's child element. */
  readonly ns: string;
  /** Local name of the IQ's child element (e.g. `query`, `ping`, `vCard`). */
  readonly name: string;
}

/** Sends a reply stanza (the router's `route`). */
export type ReplyRouter = (acc: Acc) => void;

type TypeTable = { get: Map<string, IqHandler>; set: Map<string, IqHandler> };
type HostTable = { server: TypeTable; user: TypeTable };

const newTypeTable = (): TypeTable => ({ get: new Map(), set: new Map() });

/** The handler registry and dispatcher. */
export class IqHandlerRegistry {
  readonly #byHostType = new Map<string, HostTable>();
  readonly #logger: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Register `handler`. One handler per key: registering a second one throws (two modules
   * answering the same IQ is a configuration error). Returns a remover.
   */
  register(key: IqHandlerKey, handler: IqHandler): () => void {
    let host = this.#byHostType.get(key.hostType);
    if (!host) this.#byHostType.set(key.hostType, (host = { server: newTypeTable(), user: newTypeTable() }));
    const map = host[key.target][key.type];
    const k = key.ns + ' ' + key.name;
    if (map.has(k)) throw new Error(`IQ handler already registered for ${key.hostType} ${key.target} ${key.type} {${key.ns}}${key.name}`);
    map.set(k, handler);
    return () => {
      if (map.get(k) === handler) map.delete(k);
    };
  }

  /** The handler for a key, if any. */
  lookup(hostType: string, target: IqTarget, type: IqRequestType, ns: string, name: string): IqHandler | undefined {
    return this.#byHostType.get(hostType)?.[target][type].get(ns + ' ' + name);
  }

  /**
   * Dispatch an IQ addressed to `target` (the acc's host type is the recipient's). get/set
   * without a handler → `service-unavailable`; a get/set without exactly one child element →
   * `bad-request` (RFC 6120 §8.2.3); result/error → dropped. Replies go through `reply`.
   */
  dispatch(acc: Acc, target: IqTarget, reply: ReplyRouter): void {
    const iq = acc.element;
    const type = iq.attrs.type;
    if (type !== 'get' && type !== 'set') return;
    let payload: XmlElement | undefined;
    let count = 0;
    for (const c of iq.children) {
      if (typeof c !== 'string') {
        payload ??= c;
        count++;
      }
    }
    if (payload === undefined || count !== 1) {
      reply(errorAcc(acc, new StanzaError('bad-request', 'An IQ get/set must contain exactly one child element')));
      return;
    }
    const handler = this.lookup(acc.hostType, target, type, payload.ns ?? iq.ns ?? '', payload.name);
    if (handler === undefined) {
      reply(errorAcc(acc, new StanzaError('service-unavailable')));
      return;
    }
    let out: IqHandlerResult | Promise<IqHandlerResult>;
    try {
      out = handler(acc, iq, payload);
    } catch (err) {
      this.#failed(acc, err, reply);
      return;
    }
    if (isPromise<IqHandlerResult>(out)) {
      out.then(
        (r) => this.#answer(acc, r, reply),
        (err) => this.#failed(acc, err, reply),
      );
    } else this.#answer(acc, out, reply);
  }

  #answer(acc: Acc, r: IqHandlerResult, reply: ReplyRouter): void {
    if (r === undefined) return;
    if (r instanceof StanzaError) {
      reply(errorAcc(acc, r));
      return;
    }
    const iq = addressed(acc);
    const el = r === null ? iqResult(iq) : r.name === 'iq' ? r : iqResult(iq, r);
    reply(Acc.fromElement(el, { from: acc.to, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server' }));
  }

  #failed(acc: Acc, err: unknown, reply: ReplyRouter): void {
    this.#logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), iq: acc.element.attrs.id }, 'IQ handler failed');
    reply(errorAcc(acc, err instanceof StanzaError ? err : new StanzaError('internal-server-error')));
  }
}

/** The element with `from`/`to` set from the acc's JIDs (a c2s stanza may lack `from`). */
function addressed(acc: Acc): XmlElement {
  const el = acc.element;
  const from = acc.from.toString();
  const to = acc.to.toString();
  return el.attrs.from === from && el.attrs.to === to ? el : el.withAttrs({ from, to });
}

/**
 * The `<iq type='result'/>` answering `acc`'s IQ (same id, addresses swapped) with `children`,
 * as a new acc from the recipient back to the sender.
 */
export function resultAcc(acc: Acc, children: readonly XmlElement[] = [], clock?: Clock): Acc {
  return Acc.fromElement(iqResult(addressed(acc), ...children), { from: acc.to, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server', clock });
}

/**
 * The error reply to `acc`'s stanza as a new acc from the recipient back to the sender
 * (RFC 6120 §8.3.1). Callers must not pass an error stanza.
 */
export function errorAcc(acc: Acc, err: StanzaError): Acc {
  return Acc.fromElement(errorReply(addressed(acc), err), { from: acc.to, to: acc.from, hostType: acc.hostType, lserver: acc.lserver, origin: 'server' });
}
