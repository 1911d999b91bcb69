/**
 * The module's HTTP(S) server (`node:http` / `node:https`): PUT into a slot, GET and HEAD of
 * stored files, CORS for web clients (OPTIONS preflight). URLs are
 * `<publicUrl>/<slot id>/<percent-encoded file name>`; a reverse proxy may strip the
 * `publicUrl` path prefix or pass it through.
 *
 * | request | success | refusals |
 * |---|---|---|
 * | `PUT` with `Content-Length` = the slot's size | 201 | 404 unknown slot, 403 expired slot, 409 slot used or in use, 413 longer than the slot, 400 otherwise |
 * | `GET` / `HEAD` | 200 with the bytes as uploaded | 404 |
 * | `OPTIONS` | 204 (CORS preflight) | |
 * | anything else | | 405 with `Allow` |
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { FileStore } from './file-store.ts';
import { SLOT_ID, type SlotRegistry } from './slots.ts';
import { isValidFilename, normalizeContentType } from './stanzas.ts';
import type { UploadCertificate } from './options.ts';

const ALLOW = 'GET, HEAD, PUT, OPTIONS';
const DEFAULT_TYPE = 'application/octet-stream';

/** What the HTTP server needs from its module. */
export interface UploadHttpDeps {
  readonly slots: SlotRegistry;
  readonly files: FileStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fileLifetimeMs: number;
}

/** What the HTTP side listens on. */
export interface UploadListen {
  readonly port: number;
  readonly bindAddress: string;
  readonly publicUrl: string | undefined;
  readonly certificate: UploadCertificate | undefined;
}

class HttpRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** `/<prefix>/<id>/<name>` → id and decoded name; the prefix may be absent (stripped by a proxy). */
function parsePath(rawUrl: string, prefix: string): { id: string; filename: string } {
  const path = rawUrl.split('?')[0]!;
  const parts = path.split('/');
  if (parts.length < 3) throw new HttpRefusal(404, 'not found');
  const encName = parts.pop()!;
  const id = parts.pop()!;
  const lead = parts.join('/');
  if (lead !== '' && lead !== prefix) throw new HttpRefusal(404, 'not found');
  if (!SLOT_ID.test(id)) throw new HttpRefusal(404, 'not found');
  let filename: string;
  try {
    filename = decodeURIComponent(encName);
  } catch {
    throw new HttpRefusal(400, 'bad percent-encoding');
  }
  // Encoded slashes, dot segments and control characters never name a file.
  if (!isValidFilename(filename)) throw new HttpRefusal(400, 'bad file name');
  return { id, filename };
}

function disposition(contentType: string, filename: string): string {
  const media = contentType.split(';')[0]!.trim();
  // SVG can carry script; everything that is not plain media is downloaded, not rendered.
  const inline = /^(image|video|audio)\//.test(media) && media !== 'image/svg+xml';
  return `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** A listening upload server. */
export class UploadHttpServer {
  readonly #deps: UploadHttpDeps;
  readonly #listen: UploadListen;
  readonly #server: Server;
  #baseUrl: string | undefined;
  #prefix = '';
  #closed = false;

  constructor(deps: UploadHttpDeps, listen: UploadListen) {
    this.#deps = deps;
    this.#listen = listen;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    this.#server = listen.certificate ? createHttpsServer({ key: listen.certificate.key, cert: listen.certificate.cert }, handler) : createHttpServer(handler);
    this.#server.requestTimeout = 10 * 60_000;
    this.#server.headersTimeout = 30_000;
  }

  /** Bind; resolves with the base URL of the slots. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#listen.port, this.#listen.bindAddress, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    // Stopped while binding: the listener must not outlive the module.
    if (this.#closed) this.close();
    const a = this.#server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const base = (this.#listen.publicUrl ?? `${this.#listen.certificate ? 'https' : 'http'}://${host}:${a.port}`).replace(/\/+$/, '');
    this.#prefix = new URL(base).pathname.replace(/\/+$/, '');
    this.#baseUrl = base;
    return base;
  }

  /** Stop listening at once and drop open connections (uploads in progress fail and leave nothing). */
  close(): void {
    this.#closed = true;
    if (this.#server.listening) this.#server.close();
    this.#server.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('access-control-allow-origin', '*');
    try {
      switch (req.method) {
        case 'OPTIONS':
          res.writeHead(204, {
            allow: ALLOW,
            'access-control-allow-methods': ALLOW,
            'access-control-allow-headers': 'Authorization, Content-Type',
            'access-control-max-age': '86400',
          });
          res.end();
          return;
        case 'PUT':
          return await this.#put(req, res);
        case 'GET':
        case 'HEAD':
          return await this.#get(req, res);
        default:
          throw new HttpRefusal(405, `${req.method} is not allowed`);
      }
    } catch (err) {
      const e = err instanceof HttpRefusal ? err : new HttpRefusal(500, 'internal error');
      if (!(err instanceof HttpRefusal)) this.#deps.logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'upload HTTP request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
      if (e.status === 405) headers.allow = ALLOW;
      // A body left unread must not be parsed as the next request.
      if (!req.complete) headers.connection = 'close';
      res.writeHead(e.status, headers);
      res.end(req.method === 'HEAD' ? undefined : `${e.message}\n`);
    }
  }

  async #put(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { id, filename } = parsePath(req.url ?? '/', this.#prefix);
    const found = this.#deps.slots.lookup(id);
    if ('error' in found) throw found.error === 'expired' ? new HttpRefusal(403, 'the slot has expired') : new HttpRefusal(404, 'no such slot');
    const slot = found.slot;
    if (slot.filename !== filename) throw new HttpRefusal(404, 'no such slot');
    if (slot.state !== 'free') throw new HttpRefusal(409, 'the slot has been used');
    if (req.headers['transfer-encoding'] !== undefined) throw new HttpRefusal(400, 'Content-Length is required (no chunked uploads)');
    const declared = req.headers['content-length'];
    if (declared === undefined || !/^\d+$/.test(declared)) throw new HttpRefusal(400, 'Content-Length is required');
    const length = Number(declared);
    if (length > slot.size) throw new HttpRefusal(413, `the slot is for ${slot.size} bytes`);
    if (length !== slot.size) throw new HttpRefusal(400, `the slot is for ${slot.size} bytes`);
    const sent = req.headers['content-type'];
    const type = sent === undefined ? undefined : normalizeContentType(sent);
    if (slot.contentType !== undefined && type !== slot.contentType) throw new HttpRefusal(400, `the slot is for Content-Type ${slot.contentType}`);
    slot.state = 'uploading';
    let result;
    try {
      result = await this.#deps.files.write(id, { filename, contentType: type ?? DEFAULT_TYPE, size: slot.size, owner: slot.owner, storedAt: this.#deps.clock.now() }, req);
    } catch (err) {
      slot.state = 'free';
      throw err;
    }
    if (result !== 'stored') {
      // A failed upload may be tried again while the slot lives.
      slot.state = 'free';
      throw new HttpRefusal(result === 'too-large' ? 413 : 400, 'the upload did not match the slot');
    }
    slot.state = 'used';
    res.writeHead(201, { 'content-length': '0' });
    res.end();
  }

  async #get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { id, filename } = parsePath(req.url ?? '/', this.#prefix);
    const file = await this.#deps.files.read(id);
    if (file === undefined || file.filename !== filename) throw new HttpRefusal(404, 'not found');
    if (file.storedAt + this.#deps.fileLifetimeMs <= this.#deps.clock.now()) throw new HttpRefusal(404, 'not found');
    res.writeHead(200, {
      'content-length': String(file.size),
      'content-type': file.contentType,
      'content-disposition': disposition(file.contentType, file.filename),
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(this.#deps.files.open(id), res);
  }

  get baseUrl(): string | undefined {
    return this.#baseUrl;
  }
}
