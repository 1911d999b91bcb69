/**
 * The `xmpp-blocks` command line: `serve`, `user …`, `domain …`.
 * Each subcommand lives in its own file; this one only dispatches.
 * @module
 */
import { resolve } from 'node:path';

const USAGE = `Usage: xmpp-blocks <command> [options]

Commands:
  serve [--port 5222] [--ws-port 5280] [--domain localhost] [--data DIR] [--config FILE]
        [--modules default|none|a,b,c] [--tokenizer sax-wasm|builtin] [--no-demo]
                           start the server (SQLite under DIR, self-signed certificate)
  user add JID --password PW        create an account
  user remove JID                   delete an account and its data
  user passwd JID --password PW     change a password
  user list DOMAIN                  list accounts
  user import FILE|-                create accounts from "jid password" lines
  domain add DOMAIN --host-type HT [--host-types A,B | --config FILE]
                                    add a dynamic domain
  domain remove|enable|disable DOMAIN   delete (with all its data), enable, disable
  domain list [--host-type HT]      list static (from --config) and dynamic domains

Common options:
  --data DIR   data directory (default ./data)
`;

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const dataIdx = rest.indexOf('--data');
  const dataDir = resolve(dataIdx >= 0 && rest[dataIdx + 1] ? rest[dataIdx + 1]! : 'data');
  const args = dataIdx >= 0 ? [...rest.slice(0, dataIdx), ...rest.slice(dataIdx + 2)] : rest;
  switch (command) {
    case 'serve': {
      const { serveCommand } = await import('./serve.ts');
      return serveCommand(args, { dataDir });
    }
    case 'user': {
      const { userCommand } = await import('./user.ts');
      return userCommand(args, { dataDir });
    }
    case 'domain': {
      const { domainCommand } = await import('./domain.ts');
      return domainCommand(args, { dataDir });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 1;
  }
}
