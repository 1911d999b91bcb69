/**
 * Debian's python3-slixmpp 1.8 as an interop client: the probe that skips a test file on a
 * machine without it, the CA file its `--cafile` wants, and the scripts in `test/interop/`
 * started as children that talk JSON lines (`slixmpp_common.py`).
 * @module
 */
import { test } from 'uvu';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, startProcess, type ChildHandle } from './spawn.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.ts';

/** Debian's packages are not importable from other interpreters. */
export const PYTHON = '/usr/bin/python3';

/**
 * Whether python3-slixmpp (and the Python modules in `alsoImport`, e.g. `aiohttp`) can be
 * imported. When not, warns `<file> skipped: …` and registers the skipped test `<what> (… not
 * installed)`, so the run says why. `.ci/run` installs them, so CI always runs these tests.
 */
export async function haveSlixmpp(file: string, what: string, alsoImport: readonly string[] = []): Promise<boolean> {
  const modules = ['slixmpp', ...alsoImport].join(', ');
  const probe = await runProcess(PYTHON, ['-c', `import ${modules}`], { timeoutMs: 10_000 });
  if ((await probe.exited).code === 0) return true;
  const pkgs = ['python3-slixmpp', ...alsoImport.map((m) => `python3-${m}`)].join(' ');
  console.warn(`${file} skipped: \`${PYTHON} -c 'import ${modules}'\` failed (apt-get install ${pkgs}; .ci/run does):\n${probe.stderr}`);
  test.skip(`${what} (${pkgs} not installed)`, () => {});
  return false;
}

/** A PEM certificate in a file of its own temporary folder. */
export interface CaFile {
  readonly path: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/** Writes `cert` for clients that trust a CA file (slixmpp's `--cafile`, `NODE_EXTRA_CA_CERTS`). */
export async function writeCaFile(cert: string, prefix: string): Promise<CaFile> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const path = join(dir, 'ca.pem');
  await writeFile(path, cert);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts `test/interop/<script>` with `args`; it is killed after `timeoutMs` whatever it does. */
export function startSlixmpp(script: string, args: readonly string[], timeoutMs: number): ChildHandle {
  return startProcess(PYTHON, [fileURLToPath(new URL(`../interop/${script}`, import.meta.url)), ...args], { timeoutMs });
}

/** What {@link useStartTlsServer} gives the tests once `test.before` has run. */
export interface StartTlsServer {
  readonly ts: TestServer;
  /** The server's certificate as a file, for `--cafile`. */
  readonly caFile: string;
}

/**
 * Registers `test.before`/`test.after` for a file's slixmpp tests: a test server with one TCP
 * listener offering STARTTLS (`opts`: users, modules) and a CA file of its certificate.
 */
export function useStartTlsServer(opts: Omit<TestServerOptions, 'listeners'>, caPrefix: string): () => StartTlsServer {
  let ts: TestServer | undefined;
  let ca: CaFile | undefined;
  test.before(async () => {
    ts = await startTestServer({ ...opts, listeners: [{ kind: 'tcp', tls: 'optional' }] });
    ca = await writeCaFile(ts.certificate.cert, caPrefix);
  });
  test.after(async () => {
    await ts?.stop();
    await ca?.remove();
  });
  return () => ({ ts: ts!, caFile: ca!.path });
}
