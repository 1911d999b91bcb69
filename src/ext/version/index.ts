/**
 * XEP-0092 Software Version: answers `jabber:iq:version` queries addressed to the server
 * (domain JID). Name `xmpp-blocks`, version from the package's `package.json`; `os` only when
 * configured.
 * @module
 */
import { readFileSync } from 'node:fs';
import { defineModule, type ModuleIqHandler } from '../../c2s/module.ts';
import { NS } from '../../core/namespaces.ts';
import { xml } from '../../core/xml/element.ts';

/** Options of {@link version}. */
export interface VersionOptions {
  /** Software name (default `xmpp-blocks`). */
  readonly name: string;
  /** Version string (default: `version` of the package.json, `0.0.0` when unreadable). */
  readonly version: string | undefined;
  /** Operating system text; omitted from the answer when unset (default: unset). */
  readonly os: string | undefined;
}

let packageVersion: string | undefined;

/** The `version` field of xmpp-blocks' package.json (read once, on first use). */
export function packageJsonVersion(): string {
  if (packageVersion === undefined) {
    try {
      // src/ext/version → package root (the same depth once compiled to dist/ext/version).
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      packageVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      packageVersion = '0.0.0';
    }
  }
  return packageVersion;
}

/** The XEP-0092 module. */
export const version = defineModule<VersionOptions>({
  name: 'version',
  defaults: { name: 'xmpp-blocks', version: undefined, os: undefined },
  features: [NS.VERSION],
  iqHandlers(_hostType, opts): ModuleIqHandler[] {
    const v = opts.version ?? packageJsonVersion();
    const answer = xml('query', { xmlns: NS.VERSION }, xml('name', null, opts.name), xml('version', null, v), opts.os !== undefined && xml('os', null, opts.os));
    return [{ key: { target: 'server', type: 'get', ns: NS.VERSION, name: 'query' }, handler: () => answer }];
  },
});

export default version;
