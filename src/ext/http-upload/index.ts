/**
 * `httpUpload`: XEP-0363 HTTP File Upload. A service on a subdomain of every domain of the host
 * type (`upload.@HOST@`) hands local users upload slots; the module's own HTTP(S) server takes
 * the PUT into a slot and serves the stored files (GET/HEAD, CORS). Files live in
 * `storageDir`, named by slot id. See README.md.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { discoLocalItems, filterLocalPacket, removeDomain, removeUser } from '../../core/server-hooks.ts';
import { next, stop } from '../../hooks/index.ts';
import { DEFAULT_OPTIONS, type HttpUploadOptions } from './options.ts';
import { UploadService } from './service.ts';

export { type HttpUploadOptions, type UploadCertificate } from './options.ts';
export { NS_HTTP_UPLOAD } from './stanzas.ts';

const services = new WeakMap<ModuleEnv, UploadService>();
function serviceOf(env: ModuleEnv, opts: HttpUploadOptions): UploadService {
  let s = services.get(env);
  if (s === undefined) services.set(env, (s = new UploadService(env, opts)));
  return s;
}

const domainOf = (bare: string) => bare.slice(bare.indexOf('@') + 1);

/** The HTTP File Upload module (one HTTP listener per host type it is enabled on). */
export const httpUpload = defineModule<HttpUploadOptions>({
  name: 'http-upload',
  defaults: DEFAULT_OPTIONS,
  start(env, opts) {
    const stopPattern = env.domains.addSubdomainPattern(env.hostType, opts.host);
    const stopService = serviceOf(env, opts).start();
    return () => {
      stopService();
      stopPattern();
    };
  },
  hooks(_hostType, opts, env) {
    const svc = serviceOf(env, opts);
    const removal = (what: string, doomed: (owner: string) => boolean) =>
      async (acc: { failed: string[] }) => {
        try {
          await svc.removeFiles((f) => doomed(f.owner));
        } catch (err) {
          env.logger.error({ err: err instanceof Error ? err.message : String(err), what }, 'HTTP upload file removal failed');
          acc.failed.push('http-upload');
        }
        return next(acc);
      };
    return [
      hook(filterLocalPacket, (acc) => (svc.serves(acc) ? svc.handle(acc).then(() => stop(acc)) : undefined), opts.filterPriority),
      // XEP-0363 §3: clients find the service among the server's items.
      hook(discoLocalItems, (items, p) =>
        p.node === undefined ? next([...items, { jid: svc.serviceFor(p.to.domain), name: opts.serviceName }]) : undefined,
      ),
      hook(removeUser, (acc, p) => removal(p.jid.toString(), (owner) => owner === p.jid.toBareString())(acc)),
      hook(removeDomain, (acc, p) => removal(p.domain, (owner) => domainOf(owner) === p.domain)(acc)),
    ];
  },
});

export default httpUpload;
