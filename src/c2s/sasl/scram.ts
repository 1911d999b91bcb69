/**
 * SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-512 and their `-PLUS` channel-binding variants
 * (RFC 5802, RFC 7677, draft-melnikov-scram-sha-512), server side.
 *
 * The server needs only `StoredKey` and `ServerKey` (RFC 5802 §3), which is exactly what the
 * {@link AuthStore} holds. The exchange is:
 * ```
 * C: gs2-header client-first-message-bare          n,,n=user,r=<cnonce>
 * S: server-first-message                          r=<cnonce+snonce>,s=<salt>,i=<iterations>
 * C: client-final-message                          c=<base64 gs2-header+cb-data>,r=<nonce>,p=<proof>
 * S: server-final-message (success data)           v=<ServerSignature>
 * ```
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_SCRAM_ITERATIONS, digest, hmac, type ScramHash, type ScramKeys } from '../../core/auth/scram.ts';
import { authzidMatches, prepareUsername } from './identity.ts';
import type { ChannelBindingType, SaslContext, SaslFailureCondition, SaslMechanism, SaslSession, SaslStart, SaslStartOptions, SaslStep } from './types.ts';

/** Options of {@link scramMechanism}. */
export interface ScramMechanismOptions {
  /** The `-PLUS` variant: channel binding required (RFC 5802 §6). Default `false`. */
  readonly plus?: boolean | undefined;
  /**
   * The server's part of the nonce (printable ASCII without `,`). Default: 18 random bytes in
   * base64. Inject a fixed value only in tests (the RFC test vectors need one).
   */
  readonly serverNonce?: (() => string) | undefined;
  /**
   * Key for deriving the fake salts shown for unknown users. Default: random per process,
   * which keeps a user's fake salt stable for the life of the process; give every node of a
   * cluster the same key to keep it stable across nodes too.
   */
  readonly fakeSaltKey?: Buffer | undefined;
  /**
   * Iteration count shown for unknown users. Default {@link DEFAULT_SCRAM_ITERATIONS}; set it
   * to what your accounts use, or the count alone tells real accounts from unknown ones.
   */
  readonly fakeIterations?: number | undefined;
  /**
   * Reject the gs2 flag `y` whenever a -PLUS mechanism was offered (RFC 5802 §6 read
   * literally). Default `false`: `y` is accepted because we never offer `tls-unique`, the only
   * binding a client that predates XEP-0440's type announcement knows — such a client (e.g.
   * slixmpp 1.8 over TLS 1.3) sends `y` truthfully, as no binding type is shared. Clients that
   * read `<sasl-channel-binding/>` pick a type we offer and send `p=`. Turn this on to refuse
   * those older clients in exchange for stricter downgrade detection (see also XEP-0474).
   */
  readonly strictYFlag?: boolean | undefined;
}

/** `server-error-value`, RFC 5802 §7. */
type ScramError =
  | 'invalid-encoding'
  | 'extensions-not-supported'
  | 'invalid-proof'
  | 'channel-bindings-dont-match'
  | 'server-does-support-channel-binding'
  | 'channel-binding-not-supported'
  | 'unsupported-channel-binding-type'
  | 'invalid-username-encoding'
  | 'other-error';

const MECHANISM_NAMES: Record<ScramHash, string> = { sha1: 'SCRAM-SHA-1', sha256: 'SCRAM-SHA-256', sha512: 'SCRAM-SHA-512' };
const DIGEST_LEN: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };
const PROCESS_FAKE_SALT_KEY = randomBytes(32);

// RFC 5802 §7 grammar pieces.
const GS2_HEADER = /^(n|y|p=[A-Za-z0-9.-]+),(?:a=([^,]+))?,/;
const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const ATTR = /^[A-Za-z]=/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A SCRAM mechanism for `hash`. Plain SCRAM is always offered (no password crosses the wire);
 * `-PLUS` only when the transport provides channel-binding data.
 *
 * An unknown user gets a stable fake salt and the default iteration count and fails at the
 * proof with the same `invalid-proof` as a wrong password, so the exchange does not reveal
 * which accounts exist (RFC 5802 §9).
 */
export function scramMechanism(hash: ScramHash, opts: ScramMechanismOptions = {}): SaslMechanism {
  const plus = opts.plus ?? false;
  const config: ScramConfig = {
    hash,
    plus,
    serverNonce: opts.serverNonce ?? (() => randomBytes(18).toString('base64')),
    fakeSaltKey: opts.fakeSaltKey ?? PROCESS_FAKE_SALT_KEY,
    fakeIterations: opts.fakeIterations ?? DEFAULT_SCRAM_ITERATIONS,
    strictYFlag: opts.strictYFlag ?? false,
  };
  return {
    name: MECHANISM_NAMES[hash] + (plus ? '-PLUS' : ''),
    available: (ctx) => !plus || (ctx.secure && ctx.channelBindingTypes.length > 0),
    async start(ctx, initialResponse, startOpts): Promise<SaslStart> {
      const session = new ScramSession(config, ctx, startOpts ?? { plusOffered: false });
      // RFC 6120 §6.4.2: without an initial response the server sends an empty challenge and
      // the client-first-message arrives as the first response.
      const first = initialResponse === undefined ? { kind: 'challenge' as const, data: Buffer.alloc(0) } : await session.step(initialResponse);
      return first.kind === 'challenge' ? { first, session } : { first };
    },
  };
}

interface ScramConfig {
  readonly hash: ScramHash;
  readonly plus: boolean;
  readonly serverNonce: () => string;
  readonly fakeSaltKey: Buffer;
  readonly fakeIterations: number;
  readonly strictYFlag: boolean;
}

/** Everything remembered between server-first and client-final. */
interface ServerFirstSent {
  readonly gs2Header: string;
  readonly cbData: Buffer | undefined;
  readonly authzid: string | undefined;
  readonly user: string;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  readonly nonce: string;
  /** For an unknown user, random keys: the exchange runs the same code and the proof never matches. */
  readonly keys: ScramKeys;
}

class ScramSession implements SaslSession {
  private state: 'client-first' | ServerFirstSent | 'done' = 'client-first';

  constructor(
    private readonly config: ScramConfig,
    private readonly ctx: SaslContext,
    private readonly startOpts: SaslStartOptions,
  ) {}

  async step(response: Buffer): Promise<SaslStep> {
    const state = this.state;
    if (state === 'done') return failure('malformed-request', 'other-error');
    this.state = 'done';
    const result = state === 'client-first' ? await this.clientFirst(response) : this.clientFinal(state, response);
    if ('serverFirst' in result) {
      this.state = result;
      return { kind: 'challenge', data: Buffer.from(result.serverFirst, 'utf8') };
    }
    return result;
  }

  private async clientFirst(msg: Buffer): Promise<SaslStep | ServerFirstSent> {
    if (!isUtf8(msg)) return failure('malformed-request', 'invalid-encoding');
    const text = msg.toString('utf8');
    if (text.includes('\0')) return failure('malformed-request', 'invalid-encoding');
    const gs2 = GS2_HEADER.exec(text);
    if (!gs2) return failure('malformed-request', 'other-error');
    const [gs2Header, flag, rawAuthzid] = gs2 as unknown as [string, string, string | undefined];

    // RFC 5802 §6: channel-binding negotiation.
    let cbData: Buffer | undefined;
    if (flag.startsWith('p=')) {
      if (!this.config.plus) return failure('not-authorized', 'channel-binding-not-supported');
      const type = flag.slice(2) as ChannelBindingType;
      cbData = this.ctx.channelBindingTypes.includes(type) ? this.ctx.channelBinding(type) : undefined;
      if (!cbData) return failure('not-authorized', 'unsupported-channel-binding-type');
    } else if (this.config.plus) {
      // A -PLUS mechanism means the client chose channel binding; 'n'/'y' contradict that.
      return failure('not-authorized', 'other-error');
    } else if (flag === 'y' && this.startOpts.plusOffered && (this.config.strictYFlag || this.ctx.channelBindingTypes.includes('tls-unique' as ChannelBindingType))) {
      // The client could bind but believes we cannot: someone may have stripped -PLUS from our
      // features. Only meaningful when we offer a type such a client could know (see strictYFlag).
      return failure('not-authorized', 'server-does-support-channel-binding');
    }

    let authzid: string | undefined;
    if (rawAuthzid !== undefined) {
      authzid = decodeSaslName(rawAuthzid);
      if (authzid === undefined) return failure('malformed-request', 'invalid-username-encoding');
    }

    const clientFirstBare = text.slice(gs2Header.length);
    const attrs = clientFirstBare.split(',');
    // RFC 5802 §5.1: 'm' announces a mandatory extension; we support none.
    if (attrs[0]?.startsWith('m=')) return failure('malformed-request', 'extensions-not-supported');
    if (attrs.length < 2 || !attrs[0].startsWith('n=') || !attrs[1].startsWith('r=')) return failure('malformed-request', 'other-error');
    // Optional extensions after the nonce must still be well-formed attributes; they are ignored.
    if (!attrs.slice(2).every((a) => ATTR.test(a) && a.length > 2)) return failure('malformed-request', 'other-error');
    const name = decodeSaslName(attrs[0].slice(2));
    if (name === undefined) return failure('malformed-request', 'invalid-username-encoding');
    const clientNonce = attrs[1].slice(2);
    if (!PRINTABLE_NONCE.test(clientNonce)) return failure('malformed-request', 'other-error');

    // RFC 5802 §5.1: the name is SASLprep'ed; for XMPP it is then a localpart (RFC 6120 §6.3.7).
    const user = prepareUsername(name);
    if (user === undefined) return failure('not-authorized', 'invalid-username-encoding');

    const creds = await this.ctx.authStore.getCredentials(this.ctx.hostType, this.ctx.domain, user);
    const keys = creds?.scram[this.config.hash] ?? this.fakeKeys(user);
    const serverNonce = this.config.serverNonce();
    if (!PRINTABLE_NONCE.test(serverNonce)) throw new Error('serverNonce must be printable ASCII without ","');
    const nonce = clientNonce + serverNonce;
    const { salt, iterations } = keys;
    return {
      gs2Header,
      cbData,
      authzid,
      user,
      clientFirstBare,
      serverFirst: `r=${nonce},s=${salt},i=${iterations}`,
      nonce,
      keys,
    };
  }

  private clientFinal(sent: ServerFirstSent, msg: Buffer): SaslStep {
    const { user } = sent;
    if (!isUtf8(msg)) return failure('malformed-request', 'invalid-encoding', user);
    const text = msg.toString('utf8');
    const attrs = text.split(',');
    // client-final-message = channel-binding "," nonce ["," extensions] "," proof (RFC 5802 §7)
    if (attrs.length < 3 || !attrs[0].startsWith('c=') || !attrs[1].startsWith('r=') || !attrs[attrs.length - 1].startsWith('p=')) {
      return failure('malformed-request', 'other-error', user);
    }
    if (!attrs.slice(2, -1).every((a) => ATTR.test(a) && a.length > 2)) return failure('malformed-request', 'other-error', user);
    const cbind = decodeBase64(attrs[0].slice(2));
    const proof = decodeBase64(attrs[attrs.length - 1].slice(2));
    if (!cbind || !proof) return failure('incorrect-encoding', 'invalid-encoding', user);

    // RFC 5802 §6: c= repeats the gs2 header (so it cannot have been altered) plus, for -PLUS,
    // the channel-binding data of *our* TLS connection — a MITM's differs.
    const expectedCbind = Buffer.concat([Buffer.from(sent.gs2Header, 'utf8'), sent.cbData ?? Buffer.alloc(0)]);
    if (!constantTimeEqual(cbind, expectedCbind)) return failure('not-authorized', 'channel-bindings-dont-match', user);
    if (attrs[1].slice(2) !== sent.nonce) return failure('not-authorized', 'other-error', user);

    const hash = this.config.hash;
    if (proof.length !== DIGEST_LEN[hash]) return failure('not-authorized', 'invalid-proof', user);
    const withoutProof = text.slice(0, text.length - attrs[attrs.length - 1].length - 1);
    const authMessage = `${sent.clientFirstBare},${sent.serverFirst},${withoutProof}`;
    // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
    const storedKey = Buffer.from(sent.keys.storedKey, 'base64');
    const signature = hmac(hash, storedKey, authMessage);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    if (!constantTimeEqual(digest(hash, clientKey), storedKey)) return failure('not-authorized', 'invalid-proof', user);

    if (sent.authzid !== undefined && !authzidMatches(sent.authzid, user, this.ctx.domain)) {
      return failure('invalid-authzid', 'other-error', user);
    }
    const serverSignature = hmac(hash, Buffer.from(sent.keys.serverKey, 'base64'), authMessage);
    return { kind: 'success', user, data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8') };
  }

  /** A stable salt per (hash, domain, user), so asking twice shows no difference (RFC 5802 §9). */
  private fakeKeys(user: string): ScramKeys {
    const { hash, fakeSaltKey, fakeIterations } = this.config;
    const salt = hmac('sha256', fakeSaltKey, `${hash}\0${this.ctx.domain}\0${user}`).subarray(0, 16).toString('base64');
    const random = () => randomBytes(DIGEST_LEN[hash]).toString('base64');
    return { salt, iterations: fakeIterations, storedKey: random(), serverKey: random() };
  }
}

/**
 * A failure step carrying the RFC 5802 §7 server-error as text and as a server-final `e=`
 * message (which the server MAY omit — RFC 5802 §5.1 — and RFC 6120's `<failure/>` cannot carry).
 */
function failure(condition: SaslFailureCondition, error: ScramError, user?: string): SaslStep {
  return { kind: 'failure', condition, text: error, user, data: Buffer.from(`e=${error}`, 'utf8') };
}

/** `saslname` decoding (RFC 5802 §5.1): `=2C` is `,`, `=3D` is `=`, any other `=` is invalid. */
function decodeSaslName(s: string): string | undefined {
  if (s === '' || /=(?!2C|3D)/.test(s)) return undefined;
  return s.replace(/=2C|=3D/g, (m) => (m === '=2C' ? ',' : '='));
}

function decodeBase64(s: string): Buffer | undefined {
  if (!BASE64.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
