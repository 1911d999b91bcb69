/**
 * Shorthands for the stanza-conversation tests that run on the in-memory test kit
 * (`src/testing`): a server with accounts and a `login` for them, an IQ round trip, and the
 * usual ways to read what a client got.
 * @module
 */
import { createTestServer, type TestClient, type TestServer } from '../../src/testing/index.ts';
import { NS_SM } from '../../src/ext/stream-management/index.ts';
import { Jid } from '../../src/core/jid.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

type TestServerOptions = NonNullable<Parameters<typeof createTestServer>[0]>;
export type Accounts = Readonly<Record<string, string>>;
/** Connect and log in a full JID (`alice@localhost/phone`) with its account's password. */
export type Login = (jid: string) => Promise<TestClient>;

/** A {@link Login} for the accounts of `users` (bare JID → password). */
export function loginWith(server: TestServer, users: Accounts): Login {
  return async (jid) => {
    const c = server.connect();
    await c.login(jid, users[Jid.parse(jid).toBareString()]!);
    return c;
  };
}

/** `createTestServer` with `users`, and a {@link Login} for them. */
export async function startKit(opts: TestServerOptions & { users: Accounts }): Promise<{ server: TestServer; login: Login }> {
  const server = await createTestServer(opts);
  return { server, login: loginWith(server, opts.users) };
}

let seq = 0;
/** Client sends an IQ (id `q<n>`, `to` its own account unless given); the server's reply to it. */
export async function iq(c: TestClient, type: 'get' | 'set', payload: string, to?: string): Promise<XmlElement> {
  const id = `q${++seq}`;
  c.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}>${payload}</iq>`);
  await c.settle();
  return c.expect((e) => e.name === 'iq' && e.attrs.id === id, `reply to ${id}`);
}

/** The defined condition of an error stanza: the first child of its `<error/>`. */
export const errorCondition = (e: XmlElement): string | undefined => e.getChild('error')?.elements()[0]?.name;

/** The bodies of the messages (not errors) `c` got since the last look. */
export const bodies = (c: TestClient) =>
  c.received().filter((e) => e.name === 'message' && e.attrs.type !== 'error').map((e) => e.getChildText('body'));

/**
 * A new connection of account `user` (local part) that authenticates and resumes the XEP-0198
 * session `previd` with `h` stanzas handled; the client and the server's `<resumed/>` or `<failed/>`.
 */
export async function resumeOn(server: TestServer, user: string, password: string, previd: string, h: number | string = 0): Promise<{ c: TestClient; answer: XmlElement }> {
  const c = server.connect();
  await c.openStream();
  await c.authenticate(user, password);
  c.send(`<resume xmlns='${NS_SM}' previd='${previd}' h='${h}'/>`);
  await c.settle();
  const answer = c.expect((e) => e.ns === NS_SM && (e.name === 'resumed' || e.name === 'failed'), '<resumed/> or <failed/>');
  return { c, answer };
}
