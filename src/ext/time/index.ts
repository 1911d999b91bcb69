/**
 * XEP-0202 Entity Time: answers `urn:xmpp:time` queries addressed to the server with the
 * injected clock's time (`utc`, XEP-0082 profile) and the configured offset (`tzo`).
 * @module
 */
import { defineModule, type ModuleIqHandler } from '../../c2s/module.ts';
import { NS } from '../../core/namespaces.ts';
import { xml } from '../../core/xml/element.ts';

/** Options of {@link time}. */
export interface TimeOptions {
  /** The server's offset from UTC, `±hh:mm` or `Z` (default `+00:00`: servers run on UTC). */
  readonly tzo: string;
}

const TZO = /^(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** `2026-11-22T13:58:35.123Z` → `2026-11-22T13:58:35.123Z` (XEP-0082 DateTime in UTC). */
function utc(ms: number): string {
  return new Date(ms).toISOString();
}

/** The XEP-0202 module. */
export const time = defineModule<TimeOptions>({
  name: 'time',
  defaults: { tzo: '+00:00' },
  features: [NS.TIME],
  iqHandlers(_hostType, opts, env): ModuleIqHandler[] {
    if (!TZO.test(opts.tzo)) throw new Error(`time: tzo "${opts.tzo}" is not ±hh:mm or Z`);
    const tzo = opts.tzo === 'Z' ? '+00:00' : opts.tzo;
    return [
      {
        key: { target: 'server', type: 'get', ns: NS.TIME, name: 'time' },
        handler: () => xml('time', { xmlns: NS.TIME }, xml('tzo', null, tzo), xml('utc', null, utc(env.clock.now()))),
      },
    ];
  },
});

export default time;
