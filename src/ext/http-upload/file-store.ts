/**
 * Uploaded files on disk: `<dir>/<slot id>` holds the bytes and `<dir>/<slot id>.json` what
 * they are (name, type, size, owner, time). The file name a user chose is never part of a
 * path. A file is written to `<id>.part` while it arrives and renamed once complete; the
 * metadata is written last, so a file without metadata is never served.
 * @module
 */
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SLOT_ID } from './slots.ts';

/** What is known of a stored file. */
export interface StoredFile {
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** Bare JID of the uploader. */
  readonly owner: string;
  /** Server clock time of the upload. */
  readonly storedAt: number;
}

/** How a write ended. */
export type WriteResult = 'stored' | 'too-large' | 'incomplete';

class Overrun extends Error {}

export class FileStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  #data(id: string): string {
    if (!SLOT_ID.test(id)) throw new Error('invalid file id');
    return join(this.dir, id);
  }

  /** Stream `body` to disk (never held in memory); anything but exactly `file.size` bytes leaves nothing behind. */
  async write(id: string, file: StoredFile, body: Readable): Promise<WriteResult> {
    const data = this.#data(id);
    const part = `${data}.part`;
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (received > file.size) cb(new Overrun());
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(part, { flags: 'wx', mode: 0o600 }));
    } catch (err) {
      await rm(part, { force: true });
      if (err instanceof Overrun) return 'too-large';
      return 'incomplete';
    }
    if (received !== file.size) {
      await rm(part, { force: true });
      return 'incomplete';
    }
    await rename(part, data);
    await writeFile(`${data}.json.tmp`, JSON.stringify(file), { mode: 0o600 });
    await rename(`${data}.json.tmp`, `${data}.json`);
    return 'stored';
  }

  /** The metadata of a stored file, `undefined` when there is none (or it is unreadable). */
  async read(id: string): Promise<StoredFile | undefined> {
    if (!SLOT_ID.test(id)) return undefined;
    try {
      const meta = JSON.parse(await readFile(`${this.#data(id)}.json`, 'utf8')) as StoredFile;
      const st = await stat(this.#data(id));
      return st.size === meta.size ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  open(id: string): ReadStream {
    return createReadStream(this.#data(id));
  }

  async remove(id: string): Promise<void> {
    const data = this.#data(id);
    // Metadata first: a file without it is no longer served.
    await rm(`${data}.json`, { force: true });
    await rm(data, { force: true });
  }

  /** Delete every stored file `doomed` picks; returns how many. */
  async sweep(doomed: (file: StoredFile) => boolean): Promise<number> {
    let n = 0;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : undefined;
      if (id === undefined || !SLOT_ID.test(id)) continue;
      const file = await this.read(id);
      if (file !== undefined && doomed(file)) {
        await this.remove(id);
        n++;
      }
    }
    return n;
  }
}
