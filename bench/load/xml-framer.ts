/**
 * Splits a server's XMPP output into top-level stanzas without building a tree.
 *
 * The load generator only needs the raw text of each child of `<stream:stream>` (it reads a
 * handful of attributes and the `<body>` with `indexOf`), so a depth counter over tags is
 * enough and keeps the client far cheaper per byte than the servers it measures. It trusts
 * its input to be well-formed XMPP: no DTDs, no processing instructions after the prolog,
 * no comments or CDATA (none of the three servers emits them).
 */
export interface FramerEvents {
  streamStart(header: string): void;
  element(raw: string): void;
  streamEnd(): void;
}

const GT = 62; // >
const SLASH = 47;
const QUESTION = 63;
const BANG = 33;
const DQUOTE = 34;
const SQUOTE = 39;

export class XmlFramer {
  #buf = '';
  /** Where scanning resumes; everything before it is consumed or part of an open element. */
  #pos = 0;
  /** 0 outside the stream, 1 inside `<stream:stream>`, 2+ inside a stanza. */
  #depth = 0;
  #elementStart = -1;

  constructor(private readonly events: FramerEvents) {}

  /** Forget the current stream: called when the client restarts the stream (RFC 6120 §6.4.6). */
  reset(): void {
    this.#buf = '';
    this.#pos = 0;
    this.#depth = 0;
    this.#elementStart = -1;
  }

  push(chunk: string): void {
    this.#buf = this.#buf.length === 0 ? chunk : this.#buf + chunk;
    const buf = this.#buf;
    const len = buf.length;
    let pos = this.#pos;
    while (pos < len) {
      const open = buf.indexOf('<', pos);
      if (open === -1) {
        pos = len;
        break;
      }
      // Attribute values may legally contain '>', so the tag end is searched outside quotes.
      let quote = 0;
      let end = open + 1;
      for (; end < len; end++) {
        const c = buf.charCodeAt(end);
        if (quote !== 0) {
          if (c === quote) quote = 0;
        } else if (c === DQUOTE || c === SQUOTE) {
          quote = c;
        } else if (c === GT) {
          break;
        }
      }
      if (end >= len) {
        pos = open;
        break;
      }
      pos = end + 1;
      const second = buf.charCodeAt(open + 1);
      if (second === QUESTION || second === BANG) continue;
      if (second === SLASH) {
        this.#depth--;
        if (this.#depth === 1) {
          this.events.element(buf.slice(this.#elementStart, pos));
          this.#elementStart = -1;
        } else if (this.#depth === 0) {
          this.events.streamEnd();
        }
        continue;
      }
      const selfClosing = buf.charCodeAt(end - 1) === SLASH;
      if (this.#depth === 0 || (this.#depth === 1 && buf.startsWith('<stream:stream', open))) {
        // A second header at depth 1 is a server-side stream restart we did not reset for.
        this.#depth = 1;
        this.events.streamStart(buf.slice(open, pos));
      } else if (this.#depth === 1) {
        if (selfClosing) {
          this.events.element(buf.slice(open, pos));
        } else {
          this.#elementStart = open;
          this.#depth = 2;
        }
      } else if (!selfClosing) {
        this.#depth++;
      }
      if (this.#buf !== buf) return; // reset() was called from a handler
    }
    // Keep only the unconsumed tail (and the open stanza) so the buffer never grows unbounded.
    const keepFrom = this.#elementStart >= 0 ? Math.min(this.#elementStart, pos) : pos;
    this.#buf = keepFrom >= len ? '' : buf.slice(keepFrom);
    if (this.#elementStart >= 0) this.#elementStart -= keepFrom;
    this.#pos = pos - keepFrom;
  }
}

/** Value of attribute `name` in the start tag of `raw` (the first tag only), unescaped minimally. */
export function attr(raw: string, name: string): string | undefined {
  const tagEnd = raw.indexOf('>');
  let i = raw.indexOf(` ${name}=`);
  if (i === -1 || (tagEnd !== -1 && i > tagEnd)) return undefined;
  i += name.length + 2;
  const quote = raw[i];
  const end = raw.indexOf(quote!, i + 1);
  if (end === -1) return undefined;
  return unescapeXml(raw.slice(i + 1, end));
}

/** Text of the first `<name>…</name>` child anywhere in `raw`. */
export function childText(raw: string, name: string): string | undefined {
  let i = raw.indexOf(`<${name}`);
  while (i !== -1) {
    const after = raw.charCodeAt(i + name.length + 1);
    if (after === GT || after === 32 || after === SLASH) break;
    i = raw.indexOf(`<${name}`, i + 1);
  }
  if (i === -1) return undefined;
  const start = raw.indexOf('>', i);
  if (raw.charCodeAt(start - 1) === SLASH) return '';
  const end = raw.indexOf(`</${name}>`, start);
  if (end === -1) return undefined;
  return unescapeXml(raw.slice(start + 1, end));
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unescapeXml(s: string): string {
  if (s.indexOf('&') === -1) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

/** True if `raw` is a `<name …>` element (name compared exactly, with or without a prefix). */
export function isElement(raw: string, name: string): boolean {
  if (!raw.startsWith(name, 1)) return false;
  const c = raw.charCodeAt(name.length + 1);
  return c === GT || c === 32 || c === SLASH || c === 9 || c === 10 || c === 13;
}
