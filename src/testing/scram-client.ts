/**
 * A small SCRAM client (RFC 5802, RFC 7677) for tests: enough to log in through the real
 * server mechanisms. Channel binding (`-PLUS`) uses the in-memory transport's fake data.
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hmac, saltedPassword, scramKeysFromSalted, type ScramHash } from '../core/auth/scram.ts';

const HASH: Record<string, ScramHash> = { 'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

/** `true` for the SCRAM mechanisms this client speaks. */
export function isScram(mechanism: string): boolean {
  return HASH[mechanism.replace(/-PLUS$/, '')] !== undefined;
}

/** One SCRAM exchange from the client's side. */
export class ScramClient {
  readonly #hash: ScramHash;
  readonly #user: string;
  readonly #password: string;
  readonly #nonce: string;
  readonly #gs2: string;
  readonly #cbData: Buffer | undefined;
  #authMessage = '';
  #serverKey: Buffer | undefined;

  constructor(mechanism: string, user: string, password: string, channelBinding?: Buffer) {
    const plus = mechanism.endsWith('-PLUS');
    const hash = HASH[mechanism.replace(/-PLUS$/, '')];
    if (hash === undefined) throw new Error(`not a SCRAM mechanism: ${mechanism}`);
    this.#hash = hash;
    this.#user = user.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.#password = password;
    this.#nonce = randomBytes(18).toString('base64');
    this.#gs2 = plus ? 'p=tls-exporter,,' : 'n,,';
    this.#cbData = plus ? channelBinding : undefined;
  }

  #bare(): string {
    return `n=${this.#user},r=${this.#nonce}`;
  }

  /** The client-first message. */
  first(): Buffer {
    return Buffer.from(this.#gs2 + this.#bare());
  }

  /** The client-final message for the server-first message `challenge`. */
  final(challenge: Buffer): Buffer {
    const serverFirst = challenge.toString('utf8');
    const attrs = parseAttrs(serverFirst);
    const r = attrs.get('r');
    const s = attrs.get('s');
    const i = Number(attrs.get('i'));
    if (!r?.startsWith(this.#nonce) || s === undefined || !Number.isInteger(i)) throw new Error(`bad server-first message: ${serverFirst}`);
    const cbind = Buffer.concat([Buffer.from(this.#gs2), this.#cbData ?? Buffer.alloc(0)]).toString('base64');
    const withoutProof = `c=${cbind},r=${r}`;
    this.#authMessage = `${this.#bare()},${serverFirst},${withoutProof}`;
    const { clientKey, storedKey, serverKey } = scramKeysFromSalted(this.#hash, saltedPassword(this.#hash, this.#password, Buffer.from(s, 'base64'), i));
    this.#serverKey = serverKey;
    const signature = hmac(this.#hash, storedKey, this.#authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let k = 0; k < proof.length; k++) proof[k] = clientKey[k]! ^ signature[k]!;
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** Check the server-final message (`v=…`): the server knew the password too. */
  verify(serverFinal: Buffer): boolean {
    const v = parseAttrs(serverFinal.toString('utf8')).get('v');
    if (v === undefined || this.#serverKey === undefined) return false;
    const expected = hmac(this.#hash, this.#serverKey, this.#authMessage);
    const got = Buffer.from(v, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}

function parseAttrs(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}
