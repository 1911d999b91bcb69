/**
 * The HTTP admin API (`node:http`): dynamic domains over REST, JSON in and out.
 *
 * | request | success | refusals |
 * |---|---|---|
 * | `GET /api/domains[?hostType=HT]` | 200 `{ domains: [DomainDetails…] }` | |
 * | `GET /api/domains/:domain` | 200 `DomainDetails` | 404 |
 * | `PUT /api/domains/:domain` `{ "hostType": "…" }` | 201 created, 200 already there | 400 malformed domain / unknown host type / bad body, 403 static, 409 duplicate |
 * | `PATCH /api/domains/:domain` `{ "enabled": bool }` | 200 `DomainDetails` | 400, 403 static, 404 |
 * | `DELETE /api/domains/:domain` | 200 `{ domain, hostType, deleted: true }` | 400, 403 static, 404, 500 removal failed |
 *
 * Errors are `{ "error": "<code>", "message": "<text>" }`; codes are the {@link DomainOpError}
 * values plus `bad-request`, `unauthorized` (401, with `WWW-Authenticate: Bearer`),
 * `not-found`, `method-not-allowed` (405, with `Allow`), `payload-too-large` (413) and
 * `internal`. Binds to 127.0.0.1 unless told otherwise; with a `token`, every request needs
 * `Authorization: Bearer <token>` (compared in constant time). Request bodies are capped
 * (default 16 KiB).
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { prepareDomainName, type DomainOpError, type DynamicDomains } from '../core/dynamic-domains.ts';
import { type Logger, silentLogger } from '../core/logger.ts';

/** Options of the admin API. */
export interface AdminOptions {
  /** TCP port; `0` picks a free one (see `XmppServer.adminAddress()`). */
  readonly port: number;
  /** Bind address (default `127.0.0.1`: loopback only). */
  readonly host?: string | undefined;
  /** Bearer token required on every request when set. */
  readonly token?: string | undefined;
  /** Largest request body in bytes (default 16384). */
  readonly maxBodyBytes?: number | undefined;
}

/** A running admin API. */
export interface AdminServer {
  address(): { host: string; port: number };
  close(): Promise<void>;
}

const STATUS_OF: Record<DomainOpError, number> = {
  'invalid-domain': 400,
  'unknown-host-type': 400,
  static: 403,
  duplicate: 409,
  'wrong-host-type': 409,
  'not-found': 404,
  'removal-failed': 500,
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

async function readJson(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw new HttpError(413, 'payload-too-large', `request body over ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, 'payload-too-large', `request body over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad-request', 'the body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'bad-request', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Start the admin API for `domains`. */
export async function startAdminServer(domains: DynamicDomains, opts: AdminOptions, logger: Logger = silentLogger): Promise<AdminServer> {
  const maxBody = opts.maxBodyBytes ?? 16 * 1024;
  const tokenDigest = opts.token !== undefined ? digest(opts.token) : undefined;

  const authorized = (req: IncomingMessage): boolean => {
    if (tokenDigest === undefined) return true;
    const h = req.headers.authorization;
    if (h === undefined || !/^Bearer\s+/i.test(h)) return false;
    // Hash both sides: equal lengths for timingSafeEqual, and no length leak.
    return timingSafeEqual(digest(h.replace(/^Bearer\s+/i, '')), tokenDigest);
  };

  const opError = (r: { error: DomainOpError; message: string }) => new HttpError(STATUS_OF[r.error], r.error, r.message);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorized(req)) throw new HttpError(401, 'unauthorized', 'a valid bearer token is required', { 'www-authenticate': 'Bearer' });
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path === '/api/domains') {
      if (method !== 'GET') throw new HttpError(405, 'method-not-allowed', `${method} is not allowed here`, { allow: 'GET' });
      const hostType = url.searchParams.get('hostType') ?? undefined;
      send(res, 200, { domains: await domains.list({ hostType }) });
      return;
    }
    const m = /^\/api\/domains\/([^/]+)$/.exec(path);
    if (m === null) throw new HttpError(404, 'not-found', `no such resource: ${url.pathname}`);
    let domain: string;
    try {
      domain = decodeURIComponent(m[1]!);
    } catch {
      throw new HttpError(400, 'invalid-domain', 'the domain is not valid percent-encoding');
    }
    switch (method) {
      case 'GET': {
        if (prepareDomainName(domain) === undefined) throw new HttpError(400, 'invalid-domain', `"${domain}" is not a valid domain name`);
        const d = await domains.get(domain);
        if (d === undefined) throw new HttpError(404, 'not-found', `${domain} does not exist`);
        send(res, 200, d);
        return;
      }
      case 'PUT': {
        const body = await readJson(req, maxBody);
        if (typeof body.hostType !== 'string' || body.hostType === '') throw new HttpError(400, 'bad-request', 'the body needs a "hostType" string');
        const r = await domains.insert(domain, body.hostType);
        if (!r.ok) throw opError(r);
        const { created, ...details } = r.value;
        send(res, created ? 201 : 200, details);
        return;
      }
      case 'PATCH': {
        const body = await readJson(req, maxBody);
        if (typeof body.enabled !== 'boolean') throw new HttpError(400, 'bad-request', 'the body needs an "enabled" boolean');
        const r = body.enabled ? await domains.enable(domain) : await domains.disable(domain);
        if (!r.ok) throw opError(r);
        send(res, 200, r.value);
        return;
      }
      case 'DELETE': {
        const r = await domains.delete(domain);
        if (!r.ok) throw opError(r);
        send(res, 200, { ...r.value, deleted: true });
        return;
      }
      default:
        throw new HttpError(405, 'method-not-allowed', `${method} is not allowed here`, { allow: 'GET, PUT, PATCH, DELETE' });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error');
      if (!(err instanceof HttpError)) logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'admin API request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Unread body bytes (413) must not be parsed as the next request.
      if (e.status === 413) res.setHeader('connection', 'close');
      send(res, e.status, { error: e.code, message: e.message }, e.headers);
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address() {
      const a = server.address() as AddressInfo;
      return { host: a.address, port: a.port };
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
