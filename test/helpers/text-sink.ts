/**
 * A `Writable` that keeps what is written to it: stdout or stderr of a CLI command under test.
 * @module
 */
import { Writable } from 'node:stream';

/** A sink whose `text()` is everything written so far. */
export function textSink(): Writable & { text: () => string } {
  let s = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      s += chunk;
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => s;
  return w;
}
