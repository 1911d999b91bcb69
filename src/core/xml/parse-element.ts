/**
 * Parse one complete element given as a standalone document: RFC 7395 WebSocket frames
 * (each frame is one element carrying its own namespace declarations) and tests.
 * @module
 */
import { StreamError } from '../errors.ts';
import type { XmlElement } from './element.ts';
import { ElementBuilder, rootScope } from './element-builder.ts';
import { DEFAULT_MAX_STANZA_SIZE, Framer, FrameKind } from './framer.ts';
import { sharedTokenizer, type TokenizerKind } from './tokenizer.ts';

/** Options of {@link parseElement}. */
export interface ParseElementOptions {
  /** Largest input in bytes (default 65536); larger → `policy-violation`, nothing parsed. */
  maxSize?: number;
  /** Namespace of an unqualified root without `xmlns` (e.g. `jabber:client`); default none. */
  defaultNs?: string;
  /** Who finds the start tags (default `'sax-wasm'`); see {@link TokenizerKind}. */
  tokenizer?: TokenizerKind;
}

const builder = new ElementBuilder();

/**
 * Parse exactly one element (surrounding whitespace allowed). No XML declaration, DOCTYPE,
 * processing instruction or comment (→ `restricted-xml`). Errors are {@link StreamError}s with
 * the same conditions as {@link StreamParser}'s.
 */
export function parseElement(input: string | Uint8Array, opts: ParseElementOptions = {}): XmlElement {
  try {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    const maxSize = opts.maxSize ?? DEFAULT_MAX_STANZA_SIZE;
    if (bytes.length > maxSize) throw new StreamError('policy-violation', `element larger than ${maxSize} bytes`);
    const scope = rootScope(opts.defaultNs);
    let result: XmlElement | undefined;
    const framer = new Framer(
      (kind, frame) => {
        if (kind !== FrameKind.Stanza || result !== undefined) throw new StreamError('not-well-formed', 'more than one element');
        builder.begin(frame, scope);
        if (opts.tokenizer === 'builtin') builder.scan();
        else sharedTokenizer().tokenize(frame, builder);
        result = builder.finish();
      },
      { maxSize, fragment: true },
    );
    framer.push(bytes);
    if (result === undefined || !framer.idle) throw new StreamError('not-well-formed', 'no complete element');
    return result;
  } catch (e) {
    throw e instanceof StreamError ? e : new StreamError('internal-server-error', String(e));
  }
}
