/**
 * `muc`: XEP-0045 Multi-User Chat — rooms with occupants, roles and affiliations on a service
 * subdomain of every domain of the host type (`conference.@HOST@`).
 *
 * The module registers its subdomain pattern and takes every stanza addressed to a service
 * domain on `filterLocalPacket` (nothing else sees them). Persistent rooms live on the `muc`
 * storage port; occupants, history and temporary rooms are the module's memory. Occupants
 * leave when their session ends (`smRemoveConnection`), as well as by the unavailable presence
 * the presence module sends to directed-presence targets. See README.md.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { discoLocalItems, filterLocalPacket, removeDomain, removeUser, smRemoveConnection } from '../../core/server-hooks.ts';
import { next, stop } from '../../hooks/index.ts';
import { DEFAULT_OPTIONS, type MucOptions } from './options.ts';
import { MucService } from './service.ts';

export { type MucOptions } from './options.ts';
export { BUILTIN_CONFIG, NS_MUC_ROOMCONFIG, type RoomConfig, type Whois } from './config.ts';
export { NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_ROOMINFO, NS_MUC_USER, STATUS, type Affiliation, type Role } from './stanzas.ts';

const services = new WeakMap<ModuleEnv, MucService>();
function serviceOf(env: ModuleEnv, opts: MucOptions): MucService {
  let s = services.get(env);
  if (s === undefined) services.set(env, (s = new MucService(env, opts)));
  return s;
}

/** The XEP-0045 module. */
export const muc = defineModule<MucOptions>({
  name: 'muc',
  defaults: DEFAULT_OPTIONS,
  start: (env, opts) => env.domains.addSubdomainPattern(env.hostType, opts.host),
  hooks(_hostType, opts, env) {
    const svc = serviceOf(env, opts);
    const failed = (what: string, acc: { failed: string[] }, e: unknown, about: Record<string, string>) => {
      env.logger.error({ err: e instanceof Error ? e.message : String(e), ...about }, what);
      acc.failed.push('muc');
    };
    return [
      hook(
        filterLocalPacket,
        (acc) => {
          if (!svc.serves(acc)) return undefined;
          return svc.handle(acc).then(() => stop(acc));
        },
        opts.filterPriority,
      ),
      // XEP-0045 §6.1: the service is an item of its server.
      hook(discoLocalItems, (items, p) =>
        p.node === undefined ? next([...items, { jid: svc.serviceFor(p.to.domain), name: opts.serviceName }]) : undefined,
      ),
      // A session that ends without telling its rooms (no presence module, a killed session) leaves them.
      hook(smRemoveConnection, (acc, p) => {
        svc.sessionGone(p.jid).catch((e: unknown) => env.logger.error({ err: e instanceof Error ? e.message : String(e), jid: p.jid.toString() }, 'MUC session end failed'));
        return next(acc);
      }),
      hook(removeUser, async (acc, p) => {
        try {
          await svc.removeUser(p.jid);
        } catch (e) {
          failed('MUC account removal failed', acc, e, { jid: p.jid.toString() });
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await svc.removeDomain(p.domain);
        } catch (e) {
          failed('MUC domain removal failed', acc, e, { domain: p.domain });
        }
        return next(acc);
      }),
    ];
  },
});

export default muc;
