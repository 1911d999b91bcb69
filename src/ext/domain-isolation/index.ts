/**
 * Domain isolation (MongooseIM's `mod_domain_isolation`, reference §7): users of one domain
 * cannot exchange stanzas with another domain served here. See README.md.
 * @module
 */
import { defineModule, hook } from '../../c2s/module.ts';
import { filterLocalPacket } from '../../core/server-hooks.ts';
import { errorAcc } from '../../core/iq-handlers.ts';
import { StanzaError } from '../../core/errors.ts';
import { isErrorStanza } from '../../core/stanza.ts';
import { stop } from '../../hooks/index.ts';

/** Acc namespace of the permanent mark carried by the error this module sends back. */
export const DOMAIN_ISOLATION = 'domainIsolation';

/** The module has no options. */
export type DomainIsolationOptions = Record<string, never>;

/**
 * `filterLocalPacket` at priority 10 on the recipient's host type: when the sender's and the
 * recipient's domains differ (a subdomain counts as its parent), the stanza is dropped and the
 * sender gets `service-unavailable` "Filtered by the domain isolation". Error stanzas pass
 * (RFC 6120 §8.3.1: never answer an error), and so does the error this module generates (it
 * carries a permanent `domainIsolation/ignore` mark, in case a later hop filters again).
 */
export const domainIsolation = defineModule<DomainIsolationOptions>({
  name: 'domain-isolation',
  defaults: {},
  hooks: (_hostType, _opts, env) => [
    hook(
      filterLocalPacket,
      (acc) => {
        if (acc.has(DOMAIN_ISOLATION, 'ignore') || isErrorStanza(acc.element)) return;
        const fromDomain = acc.from.domain;
        const toDomain = acc.to.domain;
        if (fromDomain === toDomain) return;
        const fromHost = env.domains.parentDomainOf(fromDomain) ?? fromDomain;
        const toHost = env.domains.parentDomainOf(toDomain) ?? toDomain;
        if (fromHost === toHost) return;
        const reply = errorAcc(acc, new StanzaError('service-unavailable', { text: 'Filtered by the domain isolation' }));
        reply.setPermanent(DOMAIN_ISOLATION, 'ignore', true);
        env.router.route(reply);
        return stop(acc);
      },
      10,
    ),
  ],
});
