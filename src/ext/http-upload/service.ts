/**
 * The upload service of one host type: the XMPP side (disco and slot requests addressed to
 * `upload.<domain>`), its HTTP server, its directory and the expiry timer.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Acc } from '../../core/acc.ts';
import type { TimerHandle } from '../../core/clock.ts';
import { HOST_PLACEHOLDER } from '../../core/domains.ts';
import { StanzaError } from '../../core/errors.ts';
import { errorAcc, resultAcc } from '../../core/iq-handlers.ts';
import { NS } from '../../core/namespaces.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import type { ModuleEnv } from '../../c2s/module.ts';
import { FileStore, type StoredFile } from './file-store.ts';
import { UploadHttpServer } from './http-server.ts';
import { checkOptions, type HttpUploadOptions } from './options.ts';
import { SlotRegistry, UploadQuota } from './slots.ts';
import { NS_HTTP_UPLOAD, fileTooLarge, parseSlotRequest, quotaReached, serviceInfo, slotElement } from './stanzas.ts';

const errMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class UploadService {
  readonly #env: ModuleEnv;
  readonly #opts: HttpUploadOptions;
  readonly #pattern: string;
  readonly #slots: SlotRegistry;
  readonly #quota: UploadQuota;
  #files: FileStore | undefined;
  /** The slot URL base once the HTTP server listens; `undefined` when it could not. */
  #baseUrl: Promise<string | undefined> = Promise.resolve(undefined);

  constructor(env: ModuleEnv, opts: HttpUploadOptions) {
    checkOptions(opts);
    this.#env = env;
    this.#opts = opts;
    this.#pattern = opts.host.split(HOST_PLACEHOLDER).map((p) => p.toLowerCase()).join(HOST_PLACEHOLDER);
    this.#slots = new SlotRegistry(env.clock, opts.slotLifetimeMs);
    this.#quota = new UploadQuota(env.clock, opts.userQuotaBytes, opts.quotaWindowMs);
  }

  /** The service domain of a served domain. */
  serviceFor(domain: string): string {
    return this.#pattern.split(HOST_PLACEHOLDER).join(domain);
  }

  /** The stanza is addressed to one of this service's domains (the router set `lserver` to the parent domain). */
  serves(acc: Acc): boolean {
    const domain = acc.to.domain;
    return domain !== acc.lserver && this.serviceFor(acc.lserver) === domain;
  }

  /** Directory, HTTP listener, expiry timer; returns their cleanup. */
  start(): () => void {
    const env = this.#env;
    const temporary = this.#opts.storageDir === undefined;
    const dir = this.#opts.storageDir ?? mkdtempSync(join(tmpdir(), 'xmpp-blocks-upload-'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = (this.#files = new FileStore(dir));
    const http = new UploadHttpServer(
      { slots: this.#slots, files, clock: env.clock, logger: env.logger, fileLifetimeMs: this.#opts.fileLifetimeMs },
      { port: this.#opts.port, bindAddress: this.#opts.bindAddress, publicUrl: this.#opts.publicUrl, certificate: this.#opts.certificate },
    );
    this.#baseUrl = http.start().then(
      (base) => {
        env.logger.info({ url: base, dir }, 'HTTP upload listening');
        return base;
      },
      (err: unknown) => {
        env.logger.error({ err: errMessage(err), port: this.#opts.port, bindAddress: this.#opts.bindAddress }, 'HTTP upload could not listen');
        return undefined;
      },
    );
    let timer: TimerHandle | undefined;
    let stopped = false;
    const lifetime = this.#opts.fileLifetimeMs;
    if (lifetime !== Infinity) {
      const sweep = () => {
        const now = env.clock.now();
        files
          .sweep((f) => f.storedAt + lifetime <= now)
          .catch((err: unknown) => env.logger.error({ err: errMessage(err) }, 'HTTP upload expiry failed'))
          .finally(() => {
            if (!stopped) timer = env.clock.setTimeout(sweep, this.#opts.cleanupIntervalMs);
          });
      };
      timer = env.clock.setTimeout(sweep, this.#opts.cleanupIntervalMs);
    }
    return () => {
      stopped = true;
      if (timer !== undefined) env.clock.clearTimeout(timer);
      http.close();
      if (temporary) rmSync(dir, { recursive: true, force: true });
    };
  }

  /** Delete the stored files of an account or of a domain's accounts. */
  async removeFiles(doomed: (f: StoredFile) => boolean): Promise<void> {
    await this.#files?.sweep(doomed);
  }

  /** Handle a stanza addressed to the service. Never throws. */
  async handle(acc: Acc): Promise<void> {
    // RFC 6120 §8.3.1: errors are never answered; the service has no presence.
    if (acc.type === 'error' || acc.name === 'presence') return;
    try {
      if (acc.name !== 'iq') return this.#reply(acc, new StanzaError('service-unavailable'));
      if (acc.type !== 'get' && acc.type !== 'set') return;
      this.#reply(acc, await this.#iq(acc));
    } catch (err) {
      const e = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
      if (!(err instanceof StanzaError)) this.#env.logger.error({ err: errMessage(err), to: acc.to.toString() }, 'HTTP upload request failed');
      this.#reply(acc, e);
    }
  }

  async #iq(acc: Acc): Promise<XmlElement | null | StanzaError> {
    const payload = acc.element.elements()[0];
    if (payload === undefined) return new StanzaError('bad-request', 'an IQ needs a payload');
    if (acc.to.local !== '' || acc.to.resource !== '') return new StanzaError('service-unavailable');
    switch (`${acc.type} ${payload.ns ?? ''} ${payload.name}`) {
      case `get ${NS.DISCO_INFO} query`:
        return payload.attrs.node === undefined ? serviceInfo(this.#opts.serviceName, this.#opts.maxFileSize) : new StanzaError('item-not-found');
      case `get ${NS.DISCO_ITEMS} query`:
        return xml('query', { xmlns: NS.DISCO_ITEMS, node: payload.attrs.node });
      case `get ${NS_HTTP_UPLOAD} request`:
        return this.#slot(acc, payload);
      default:
        return new StanzaError('service-unavailable');
    }
  }

  /** §4: a slot for a local user, within the size limit and the quota. */
  async #slot(acc: Acc, payload: XmlElement): Promise<XmlElement | StanzaError> {
    const from = acc.from;
    if (from.local === '' || this.#env.domains.hostTypeOf(from.domain) !== this.#env.hostType) {
      return new StanzaError('forbidden', { type: 'cancel', text: 'only local users may upload files' });
    }
    const req = parseSlotRequest(payload);
    if (req.size > this.#opts.maxFileSize) return fileTooLarge(this.#opts.maxFileSize);
    const base = await this.#baseUrl;
    if (base === undefined) return new StanzaError('service-unavailable', { type: 'wait', text: 'the upload server is not running' });
    const owner = from.toBareString();
    const retry = this.#quota.take(owner, req.size);
    if (retry !== undefined) return quotaReached(retry);
    const slot = this.#slots.create({ ...req, owner });
    const url = `${base}/${slot.id}/${encodeURIComponent(req.filename)}`;
    return slotElement(url, url);
  }

  #reply(acc: Acc, reply: XmlElement | null | StanzaError): void {
    if (reply instanceof StanzaError) {
      this.#env.router.route(errorAcc(acc, reply));
      return;
    }
    this.#env.router.route(resultAcc(acc, reply === null ? [] : [reply], this.#env.clock));
  }
}
