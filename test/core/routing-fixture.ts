// Shared fixture of the router / session-manager tests: a wired router + session manager and
// fake sessions recording what they receive.
import { Acc } from '../../src/core/acc.ts';
import { Jid } from '../../src/core/jid.ts';
import type { LocalSession } from '../../src/core/session.ts';
import type { StreamErrorCondition } from '../../src/core/errors.ts';
import { DomainRegistry } from '../../src/core/domains.ts';
import { IqHandlerRegistry } from '../../src/core/iq-handlers.ts';
import { XmppRouter } from '../../src/core/router.ts';
import { SessionManager, type SessionManagerOptions } from '../../src/core/session-manager.ts';
import { HookRegistry } from '../../src/hooks/index.ts';
import { xml, type XmlElement } from '../../src/core/xml/element.ts';
import { parseStanzaError } from '../../src/core/stanza.ts';

let sidSeq = 0;

export class FakeSession implements LocalSession {
  readonly sid: string;
  readonly jid: Jid;
  readonly hostType: string;
  readonly received: Acc[] = [];
  readonly exits: { reason: string; condition?: StreamErrorCondition | undefined; text?: string | undefined }[] = [];
  constructor(jid: string, hostType = 'ht') {
    this.sid = String(++sidSeq).padStart(12, '0');
    this.jid = Jid.parse(jid);
    this.hostType = hostType;
  }
  deliver(acc: Acc): void {
    this.received.push(acc);
  }
  exit(reason: string, condition?: StreamErrorCondition, text?: string): void {
    this.exits.push({ reason, condition, text });
  }
  stop(): void {}
  cast(): void {}
  call<R>(): Promise<R> {
    return Promise.reject(new Error('not implemented'));
  }
  /** Conditions of the error stanzas received. */
  errors(): string[] {
    return this.received.filter((a) => a.type === 'error').map((a) => parseStanzaError(a.element)!.condition);
  }
}

export function setup(opts: Partial<SessionManagerOptions> = {}) {
  const hooks = new HookRegistry({ onError: () => {} });
  const domains = new DomainRegistry();
  domains.addStatic('example.com', 'ht');
  domains.addStatic('other.org', 'ht2');
  const iqHandlers = new IqHandlerRegistry();
  const router = new XmppRouter({ hooks, domains, iqHandlers });
  const sm = new SessionManager({ router, hooks, iqHandlers, ...opts });
  router.setUserRouter(sm);
  /** Open a session for `jid` (with priority, `null` = unavailable). */
  const connect = (jid: string, priority: number | null = 0, hostType?: string) => {
    const s = new FakeSession(jid, hostType ?? domains.hostTypeOf(Jid.parse(jid).domain) ?? 'ht');
    sm.open(s);
    if (priority !== 0) sm.setPriority(s, priority);
    return s;
  };
  /** Route `el` as if a client sent it (from/to taken from the element). */
  const send = (el: XmlElement) => {
    const from = Jid.parse(el.attrs.from!);
    router.route(Acc.fromElement(el, { hostType: domains.routeHostTypeOf(from.domain) ?? 'ht', lserver: from.domain, origin: 'c2s' }));
  };
  return { hooks, domains, iqHandlers, router, sm, connect, send };
}

export const msg = (from: string, to: string, type?: string, body = 'hi') => xml('message', { from, to, type, id: 'm1' }, xml('body', {}, body));
export const pres = (from: string, to: string, type?: string) => xml('presence', { from, to, type });
export const iq = (from: string, to: string, type: string, child?: XmlElement) => xml('iq', { from, to, type, id: 'q1' }, child);

/** Wait until pending promise callbacks (async hooks, store writes) ran. */
export const tick = () => new Promise<void>((r) => setImmediate(r));
