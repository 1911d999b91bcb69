// Shared helpers for the SASL tests: a context over the memory AuthStore and a tiny SCRAM
// client (RFC 5802 §3) written from the RFC, so server tests do not trust the server's math.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { deriveCredentials, type ScramHash } from '../../../src/core/auth/scram.ts';
import { MemoryAuthStore } from '../../../src/storage/memory/auth-store.ts';
import type { ChannelBindingType, SaslContext, SaslSession, SaslStep } from '../../../src/c2s/sasl/index.ts';

export const HOST_TYPE = 'localhost';
export const DOMAIN = 'localhost';

export interface ContextOptions {
  secure?: boolean;
  cb?: Partial<Record<ChannelBindingType, Buffer>>;
  allowAnonymous?: boolean;
  newAnonymousUser?: () => string;
}

export function makeContext(store: MemoryAuthStore, opts: ContextOptions = {}): SaslContext {
  const cb = opts.cb ?? {};
  const types = Object.keys(cb) as ChannelBindingType[];
  return {
    hostType: HOST_TYPE,
    domain: DOMAIN,
    authStore: store,
    secure: opts.secure ?? types.length > 0,
    channelBinding: (type) => cb[type],
    channelBindingTypes: types,
    allowAnonymous: opts.allowAnonymous,
    ...(opts.newAnonymousUser ? { newAnonymousUser: opts.newAnonymousUser } : {}),
  };
}

export async function storeWith(user: string, password: string, opts: { salt?: Buffer; iterations?: number; hashes?: ScramHash[] } = {}): Promise<MemoryAuthStore> {
  const store = new MemoryAuthStore();
  await store.register(HOST_TYPE, DOMAIN, user, deriveCredentials(password, { iterations: opts.iterations ?? 4096, ...opts }));
  return store;
}

export const text = (b: Buffer | undefined): string => (b ? b.toString('utf8') : '');
export const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

export function assertKind<K extends SaslStep['kind']>(step: SaslStep, kind: K): Extract<SaslStep, { kind: K }> {
  if (step.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify({ ...step, data: text(step.data) })}`);
  return step as Extract<SaslStep, { kind: K }>;
}

export function mustSession(session: SaslSession | undefined): SaslSession {
  if (!session) throw new Error('expected a session');
  return session;
}

const LEN: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** A SCRAM client: `first()` then `final(serverFirst)`; `serverSignature` to check `v=`. */
export class ScramClient {
  readonly gs2Header: string;
  readonly clientFirstBare: string;
  serverSignature = '';

  constructor(
    private readonly hash: ScramHash,
    private readonly password: string,
    opts: { user?: string; nonce?: string; gs2Header?: string; cbData?: Buffer } = {},
  ) {
    this.gs2Header = opts.gs2Header ?? 'n,,';
    this.clientFirstBare = `n=${opts.user ?? 'user'},r=${opts.nonce ?? randomBytes(12).toString('base64')}`;
    this.cbData = opts.cbData ?? Buffer.alloc(0);
  }
  private readonly cbData: Buffer;

  first(): string {
    return this.gs2Header + this.clientFirstBare;
  }

  final(serverFirst: string, opts: { cbind?: Buffer; tamperProof?: boolean } = {}): string {
    const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), LEN[this.hash], this.hash);
    const clientKey = createHmac(this.hash, salted).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const cbind = opts.cbind ?? Buffer.concat([Buffer.from(this.gs2Header), this.cbData]);
    const withoutProof = `c=${cbind.toString('base64')},r=${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    if (opts.tamperProof) proof[0] ^= 1;
    const serverKey = createHmac(this.hash, salted).update('Server Key').digest();
    this.serverSignature = createHmac(this.hash, serverKey).update(authMessage).digest('base64');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }
}
