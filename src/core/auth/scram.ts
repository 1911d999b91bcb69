/**
 * SCRAM credential derivation (RFC 5802 §3) — the only form in which passwords are stored.
 *
 * A password is SASLprep'ed (RFC 4013), salted and iterated once per hash function; only
 * `StoredKey` and `ServerKey` are kept, so the database never holds anything that logs a user
 * in directly. PLAIN logins are verified by recomputing `StoredKey` from the offered password.
 * @module
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslprep } from '@mongodb-js/saslprep';

// PBKDF2 on libuv's thread pool: a derivation costs milliseconds of CPU, which must not block
// the event loop of a running server (logins, account creation) and parallelises bulk imports.
const pbkdf2Async = promisify(pbkdf2);

/** Hash functions we derive SCRAM credentials for. */
export type ScramHash = 'sha1' | 'sha256' | 'sha512';
export const SCRAM_HASHES: readonly ScramHash[] = ['sha1', 'sha256', 'sha512'];

/** Salted SCRAM keys for one hash function (all binary fields base64). */
export interface ScramKeys {
  readonly salt: string;
  readonly iterations: number;
  readonly storedKey: string;
  readonly serverKey: string;
}

/** What an {@link AuthStore} keeps for one account: SCRAM keys per hash, never a password. */
export interface StoredCredentials {
  readonly scram: Readonly<Partial<Record<ScramHash, ScramKeys>>>;
}

/** Default PBKDF2 iteration count (RFC 7677 recommends at least 4096). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

const DIGEST_LEN: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** SASLprep a password (RFC 4013, stored-string profile); throws on prohibited input. */
export function preparePassword(password: string): string {
  return saslprep(password);
}

/** `SaltedPassword := Hi(Normalize(password), salt, i)` (RFC 5802 §3). */
export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(preparePassword(password), 'utf8'), salt, iterations, DIGEST_LEN[hash], hash);
}

export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

/** Keys from a salted password: `ClientKey`, `StoredKey`, `ServerKey`. */
export function scramKeysFromSalted(hash: ScramHash, salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { clientKey, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

/** Derive stored credentials for every hash in `hashes` from a plaintext password. */
export function deriveCredentials(
  password: string,
  opts: { iterations?: number; hashes?: readonly ScramHash[]; salt?: Buffer } = {},
): StoredCredentials {
  const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const scram: Partial<Record<ScramHash, ScramKeys>> = {};
  for (const hash of opts.hashes ?? SCRAM_HASHES) {
    const salt = opts.salt ?? randomBytes(16);
    const { storedKey, serverKey } = scramKeysFromSalted(hash, saltedPassword(hash, password, salt, iterations));
    scram[hash] = { salt: salt.toString('base64'), iterations, storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
  }
  return { scram };
}

/**
 * {@link verifyPassword} with the PBKDF2 run on the libuv thread pool (`crypto.pbkdf2`), so a
 * login does not block the event loop for the whole derivation (~2–3 ms at 4096 iterations)
 * and several logins derive in parallel. Used by SASL PLAIN.
 */
export async function verifyPasswordAsync(creds: StoredCredentials, password: string): Promise<boolean> {
  let prepared: string;
  try {
    prepared = preparePassword(password);
  } catch {
    return false;
  }
  for (const hash of ['sha256', 'sha512', 'sha1'] as const) {
    const k = creds.scram[hash];
    if (!k) continue;
    const salted = await pbkdf2Async(Buffer.from(prepared, 'utf8'), Buffer.from(k.salt, 'base64'), k.iterations, DIGEST_LEN[hash], hash);
    const { storedKey } = scramKeysFromSalted(hash, salted);
    const expected = Buffer.from(k.storedKey, 'base64');
    return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
  }
  return false;
}

/** {@link deriveCredentials} with every PBKDF2 run on the thread pool (account creation, bulk import). */
export async function deriveCredentialsAsync(
  password: string,
  opts: { iterations?: number; hashes?: readonly ScramHash[] } = {},
): Promise<StoredCredentials> {
  const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const prepared = Buffer.from(preparePassword(password), 'utf8');
  const entries = await Promise.all(
    (opts.hashes ?? SCRAM_HASHES).map(async (hash): Promise<[ScramHash, ScramKeys]> => {
      const salt = randomBytes(16);
      const { storedKey, serverKey } = scramKeysFromSalted(hash, await pbkdf2Async(prepared, salt, iterations, DIGEST_LEN[hash], hash));
      return [hash, { salt: salt.toString('base64'), iterations, storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') }];
    }),
  );
  return { scram: Object.fromEntries(entries) };
}

/** Check a plaintext password (SASL PLAIN) against stored credentials, in constant time. */
export function verifyPassword(creds: StoredCredentials, password: string): boolean {
  let prepared: string;
  try {
    prepared = preparePassword(password);
  } catch {
    return false;
  }
  for (const hash of ['sha256', 'sha512', 'sha1'] as const) {
    const k = creds.scram[hash];
    if (!k) continue;
    const salted = pbkdf2Sync(Buffer.from(prepared, 'utf8'), Buffer.from(k.salt, 'base64'), k.iterations, DIGEST_LEN[hash], hash);
    const { storedKey } = scramKeysFromSalted(hash, salted);
    const expected = Buffer.from(k.storedKey, 'base64');
    return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
  }
  return false;
}
