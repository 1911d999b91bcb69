// The slice of @xmpp/client 0.14 (untyped JavaScript) that the interop runner uses.
declare module '@xmpp/client' {
  /** An ltx element as @xmpp/client builds and emits it. */
  export interface XmppElement {
    name: string;
    attrs: Record<string, string | undefined>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmppElement | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    toString(): string;
  }

  /** SASL callback: `authenticate(credentials, mechanism)` with the mechanisms both sides support. */
  export type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

  export interface ClientOptions {
    service: string;
    domain: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
    timeout?: number;
    /** SASL2 `<user-agent id>` sent with `<authenticate/>` (default: a random id per client). */
    userAgent?: XmppElement;
  }

  /** A XEP-0484 token as @xmpp/client's FAST keeps it. */
  export interface XmppFastToken {
    mechanism: string;
    token: string;
    expiry: string;
  }

  /** @xmpp/client's FAST: replace `saveToken`/`fetchToken` to keep the token between connections. */
  export interface XmppFast {
    mechanism: string | null;
    mechanisms: string[];
    saveToken(token: XmppFastToken): Promise<void>;
    fetchToken(): Promise<XmppFastToken | undefined | null>;
    deleteToken(): Promise<void>;
  }

  export interface XmppJid {
    toString(): string;
    bare(): XmppJid;
  }

  export interface XmppClient {
    jid: XmppJid | null;
    status: string;
    isSecure(): boolean;
    start(): Promise<XmppJid>;
    stop(): Promise<void>;
    send(el: XmppElement): Promise<void>;
    on(event: 'stanza' | 'element' | 'nonza' | 'send', fn: (el: XmppElement) => void): void;
    on(event: 'error', fn: (err: Error & { condition?: string }) => void): void;
    on(event: 'offline' | 'online' | 'status', fn: (...args: unknown[]) => void): void;
    reconnect: { stop(): void };
    fast: XmppFast;
  }

  export function client(options: ClientOptions): XmppClient;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (XmppElement | string)[]): XmppElement;
}
