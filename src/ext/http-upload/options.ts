/**
 * Options of the HTTP File Upload module.
 * @module
 */

/** A PEM key and certificate for the HTTPS listener. */
export interface UploadCertificate {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** Options of the HTTP File Upload module (XEP-0363). */
export interface HttpUploadOptions {
  /** Service domain pattern; `@HOST@` is replaced by each domain of the host type. */
  readonly host: string;
  /** HTTP port; `0` picks a free one (the slot URLs carry the port actually bound). */
  readonly port: number;
  /** HTTP bind address (default `127.0.0.1`: loopback only). */
  readonly bindAddress: string;
  /**
   * Base of the slot URLs as clients reach the HTTP server (`https://upload.example.com`, a
   * path prefix allowed). Default `http(s)://<bindAddress>:<bound port>`.
   */
  readonly publicUrl: string | undefined;
  /** Serve HTTPS with this key and certificate instead of plain HTTP. */
  readonly certificate: UploadCertificate | undefined;
  /**
   * Where files are kept (created when missing). Default: a fresh directory under
   * `os.tmpdir()` per module instance, removed when the module stops — nothing persists.
   */
  readonly storageDir: string | undefined;
  /** Largest file in bytes, announced in disco (`max-file-size`). */
  readonly maxFileSize: number;
  /** How long a slot may be used for its PUT, on the server clock. */
  readonly slotLifetimeMs: number;
  /** How long a stored file is served; `Infinity` keeps files. */
  readonly fileLifetimeMs: number;
  /** How often expired files are deleted (only with a finite `fileLifetimeMs`). */
  readonly cleanupIntervalMs: number;
  /** Bytes one user may request slots for within `quotaWindowMs`; `Infinity` for no quota. */
  readonly userQuotaBytes: number;
  /** The sliding window of `userQuotaBytes`. */
  readonly quotaWindowMs: number;
  /** Name of the service's disco identity. */
  readonly serviceName: string;
  /** Priority on `filterLocalPacket`, where the module takes every stanza addressed to its service domains. */
  readonly filterPriority: number;
}

export const DEFAULT_OPTIONS: HttpUploadOptions = {
  host: 'upload.@HOST@',
  port: 0,
  bindAddress: '127.0.0.1',
  publicUrl: undefined,
  certificate: undefined,
  storageDir: undefined,
  maxFileSize: 10 * 1024 * 1024,
  slotLifetimeMs: 5 * 60_000,
  fileLifetimeMs: Infinity,
  cleanupIntervalMs: 60 * 60_000,
  userQuotaBytes: Infinity,
  quotaWindowMs: 24 * 60 * 60_000,
  serviceName: 'HTTP File Upload',
  filterPriority: 20,
};

/** @throws Error for options the module cannot run with (a clear error at start). */
export function checkOptions(o: HttpUploadOptions): void {
  const positive = (n: number) => n === Infinity || (Number.isFinite(n) && n > 0);
  if (!o.host.includes('@HOST@')) throw new Error(`http-upload: host "${o.host}" must contain @HOST@`);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error('http-upload: port must be 0..65535');
  if (!Number.isSafeInteger(o.maxFileSize) || o.maxFileSize <= 0) throw new Error('http-upload: maxFileSize must be a positive integer');
  if (!Number.isFinite(o.slotLifetimeMs) || o.slotLifetimeMs <= 0) throw new Error('http-upload: slotLifetimeMs must be positive');
  if (!positive(o.fileLifetimeMs)) throw new Error('http-upload: fileLifetimeMs must be positive or Infinity');
  if (!Number.isFinite(o.cleanupIntervalMs) || o.cleanupIntervalMs <= 0) throw new Error('http-upload: cleanupIntervalMs must be positive');
  if (!positive(o.userQuotaBytes)) throw new Error('http-upload: userQuotaBytes must be positive or Infinity');
  if (!Number.isFinite(o.quotaWindowMs) || o.quotaWindowMs <= 0) throw new Error('http-upload: quotaWindowMs must be positive');
  if (o.publicUrl !== undefined) {
    const u = new URL(o.publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('http-upload: publicUrl must be http(s)');
  }
}
