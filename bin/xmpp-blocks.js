#!/usr/bin/env node
// The `xmpp-blocks` command. In a checkout (sources present) it runs the TypeScript sources
// through tsx, so `npm install && npm start` needs no build step and never runs a stale
// dist/; the published package ships only dist/ and runs that.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'main.ts');
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(pathToFileURL(source).href);
} else {
  main = await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
}
try {
  process.exitCode = await main.main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`xmpp-blocks: ${err?.code === 'EADDRINUSE' ? `cannot listen on ${err.address}:${err.port}: address already in use` : err?.message ?? err}\n`);
  if (process.env.XMPP_BLOCKS_DEBUG) console.error(err);
  process.exitCode = 1;
}
