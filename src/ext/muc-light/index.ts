/**
 * `mucLight`: MongooseIM's Multi-User Chat Light (`urn:xmpp:muclight:0`) — presence-less group
 * chats whose members are a persistent list of bare JIDs, on a service subdomain of every
 * domain of the host type (`muclight.@HOST@`).
 *
 * The module registers its subdomain pattern and takes every stanza addressed to a service
 * domain on `filterLocalPacket` (nothing else sees them); rooms live on the `mucLight` storage
 * port, blocking lists on the `privacy` port. See README.md.
 * @module
 */
import { defineModule, hook, type ModuleEnv } from '../../c2s/module.ts';
import { discoLocalItems, filterLocalPacket, removeDomain, removeUser } from '../../core/server-hooks.ts';
import { next, stop } from '../../hooks/index.ts';
import { DEFAULT_OPTIONS, type MucLightOptions } from './options.ts';
import { MucLightService } from './service.ts';

export { type MucLightOptions } from './options.ts';
export { DEFAULT_CONFIG_SCHEMA, type ConfigFieldType, type MucLightConfigField } from './config.ts';
export { BLOCKING_LIST } from './blocking.ts';
export {
  NS_AFFILIATIONS, NS_BLOCKING, NS_CONFIGURATION, NS_CREATE, NS_DESTROY, NS_INFO, NS_MUC_LIGHT,
} from './stanzas.ts';

const services = new WeakMap<ModuleEnv, MucLightService>();
function serviceOf(env: ModuleEnv, opts: MucLightOptions): MucLightService {
  let s = services.get(env);
  if (s === undefined) services.set(env, (s = new MucLightService(env, opts)));
  return s;
}

/** The MUC Light module. */
export const mucLight = defineModule<MucLightOptions>({
  name: 'muc-light',
  defaults: DEFAULT_OPTIONS,
  start: (env, opts) => env.domains.addSubdomainPattern(env.hostType, opts.host),
  hooks(_hostType, opts, env) {
    const svc = serviceOf(env, opts);
    return [
      hook(
        filterLocalPacket,
        (acc) => {
          if (!svc.serves(acc)) return undefined;
          return svc.handle(acc).then(() => stop(acc));
        },
        opts.filterPriority,
      ),
      // §3.1: the service is an item of its server.
      hook(discoLocalItems, (items, p) =>
        p.node === undefined ? next([...items, { jid: svc.serviceFor(p.to.domain), name: opts.serviceName }]) : undefined,
      ),
      hook(removeUser, async (acc, p) => {
        try {
          await svc.removeUser(p.jid);
        } catch (err) {
          env.logger.error({ err: err instanceof Error ? err.message : String(err), jid: p.jid.toString() }, 'MUC Light account removal failed');
          acc.failed.push('muc-light');
        }
        return next(acc);
      }),
      hook(removeDomain, async (acc, p) => {
        try {
          await svc.removeDomain(p.domain);
        } catch (err) {
          env.logger.error({ err: err instanceof Error ? err.message : String(err), domain: p.domain }, 'MUC Light domain removal failed');
          acc.failed.push('muc-light');
        }
        return next(acc);
      }),
    ];
  },
});

export default mucLight;
