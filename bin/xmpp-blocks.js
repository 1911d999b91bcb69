#!/usr/bin/env node
// The `xmpp-blocks` command. Runs the compiled CLI when the package was built (npm publish),
// otherwise the TypeScript sources through tsx (a fresh clone: `npm install && npm start`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
let main;
if (existsSync(built)) {
  main = await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
process.exitCode = await main.main(process.argv.slice(2));
