// Shared helpers of the roster/presence conversation tests.
import * as assert from 'uvu/assert';
import { createTestServer, type TestClient, type TestServer, type TestServerOptions } from '../../src/testing/index.ts';
import { roster } from '../../src/ext/roster/index.ts';
import { presence } from '../../src/ext/presence/index.ts';
import { NS } from '../../src/core/namespaces.ts';
import type { XmlElement } from '../../src/core/xml/element.ts';

export const USERS = { 'alice@localhost': 'a', 'bob@localhost': 'b', 'carol@localhost': 'c' };
const PASSWORDS: Record<string, string> = USERS;

export function imServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return createTestServer({ users: USERS, modules: [roster, presence], ...opts });
}

let ids = 0;

/** Log in `full` (`alice@localhost/phone`); optionally request the roster and send initial presence. */
export async function login(server: TestServer, full: string, opts: { roster?: boolean; presence?: string | false } = {}): Promise<TestClient> {
  const c = server.connect();
  const bare = full.split('/')[0]!;
  await c.login(full, PASSWORDS[bare]!);
  if (opts.roster ?? true) {
    const id = `get-${++ids}`;
    c.send(`<iq type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
    await c.settle();
    c.expect((e) => e.attrs.id === id && e.attrs.type === 'result', 'roster result');
  }
  const p = opts.presence ?? '<presence/>';
  if (p !== false) {
    c.send(p);
    await c.settle();
  }
  return c;
}

/** Send and settle. */
export async function send(c: TestClient, data: string): Promise<void> {
  c.send(data);
  await c.settle();
}

export const isPush = (e: XmlElement) => e.name === 'iq' && e.attrs.type === 'set' && e.getChild('query', NS.ROSTER) !== undefined;

/** Every roster push item received, as `jid:subscription[:ask][:approved]`; the inbox keeps the rest. */
export function pushes(c: TestClient): string[] {
  const out: string[] = [];
  for (let e = c.nextElement(isPush); e; e = c.nextElement(isPush)) {
    const item = e.getChild('query', NS.ROSTER)!.getChild('item')!;
    out.push([item.attrs.jid, item.attrs.subscription, item.attrs.ask, item.attrs.approved && 'approved'].filter(Boolean).join(':'));
  }
  return out;
}

/** Presences received, as `from[:type]`; removes them from the inbox. */
export function presences(c: TestClient): string[] {
  const out: string[] = [];
  const isPres = (e: XmlElement) => e.name === 'presence';
  for (let e = c.nextElement(isPres); e; e = c.nextElement(isPres)) out.push(e.attrs.type ? `${e.attrs.from}:${e.attrs.type}` : e.attrs.from!);
  return out;
}

/** Items of a roster get, as `jid:subscription[:ask]`. */
export async function rosterOf(c: TestClient): Promise<string[]> {
  const id = `get-${++ids}`;
  await send(c, `<iq type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
  const res = c.expect((e) => e.attrs.id === id, 'roster result');
  assert.is(res.attrs.type, 'result');
  return res
    .getChild('query', NS.ROSTER)!
    .getChildren('item')
    .map((i) => [i.attrs.jid, i.attrs.subscription, i.attrs.ask, i.attrs.approved && 'approved'].filter(Boolean).join(':'));
}

/** The stanza error condition of `el`, if any. */
export function errorCondition(el: XmlElement): string | undefined {
  return el
    .getChild('error')
    ?.elements()
    .find((c) => c.ns === NS.STANZA_ERRORS && c.name !== 'text')?.name;
}

/** Run the whole two-way handshake between two logged-in, available, interested clients. */
export async function befriend(a: TestClient, aBare: string, b: TestClient, bBare: string): Promise<void> {
  await send(a, `<presence to='${bBare}' type='subscribe'/>`);
  await send(b, `<presence to='${aBare}' type='subscribed'/>`);
  await send(b, `<presence to='${aBare}' type='subscribe'/>`);
  await send(a, `<presence to='${bBare}' type='subscribed'/>`);
  await a.settle();
}
