/**
 * The element builder: step 4 of the parsing pipeline (DESIGN.md "Parsing").
 *
 * It consumes the start-tag/attribute byte offsets the tokenizer reports for one complete
 * frame and builds {@link XmlElement}s, doing everything sax-wasm does not (dependencies.md
 * §1.4). End tags and character data are parsed from the bytes between start tags: every
 * byte of a frame is covered by a start tag we validated, an end tag we matched, or text we
 * decoded, so whatever sax-wasm silently tolerates still fails closed here.
 *
 * - **Namespaces** (Namespaces in XML 1.0): scopes are copy-on-write maps (copied only by an
 *   element that declares `xmlns:*`); `xml` is predefined; `xmlns:xml` may only re-state the
 *   XML namespace, `xmlns:xmlns` and undeclaring a prefix (`xmlns:p=""`) are errors. An
 *   unbound prefix → `bad-namespace-prefix` (RFC 6120 §4.9.3.2); other namespace-constraint
 *   violations → `not-well-formed` (§4.9.3.13 covers XML-NAMES). `ns` of every parsed element
 *   is the resolved URI (`''` for "no namespace" after `xmlns=""`; `undefined` only when no
 *   default namespace is in scope at all, e.g. `parseElement` without `defaultNs`).
 * - **Attributes**: unprefixed → local name; `xml:*` → kept as `xml:local` (the serializer
 *   writes such keys verbatim, and binding the XML namespace to another prefix is illegal);
 *   any other prefix → `{uri}local`. `xmlns`/`xmlns:*` are not kept. Duplicates after
 *   resolution → `not-well-formed`. Values get attribute-value normalisation (XML §3.3.3:
 *   literal TAB/LF/CR → space; character references keep them).
 * - **Text is sliced from the frame bytes** between markup offsets, because sax-wasm's
 *   `Text.value` drops newlines and indentation; CRLF and lone CR become LF (XML §2.11).
 *   Each frame is decoded to one latin1 string and ASCII values/text are slices of it (one
 *   native call per frame instead of one per string; a run with non-ASCII bytes is decoded as
 *   UTF-8 on its own); a retained value may therefore keep its frame's string (at most
 *   `maxStanzaSize`) alive, as V8 sliced strings do.
 * - **Entities**: the five predefined ones and character references are decoded. Any other
 *   `&name;` → `restricted-xml` (RFC 6120 §11.1 bans non-predefined entity references); a bare
 *   `&`, a malformed reference or one to a code point outside XML 1.0 `Char` → `not-well-formed`.
 * - **Well-formedness** that sax-wasm silently accepts: the start tag's full syntax is checked
 *   from the bytes (quoted values only, whitespace between attributes, `=`), names against the
 *   XML `Name` production and QName rules, end tags against their start tag byte for byte,
 *   `<` and `]]>` in text, unclosed elements, a second root.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { StreamError } from '../errors.ts';
import { NS } from '../namespaces.ts';
import { XmlElement, type XmlAttrs, type XmlNode } from './element.ts';
import type { TokenSink } from './tokenizer.ts';

/** Integers per attribute in the builder's scratch array. */
const ATTR_FIELDS = 5;

/** A namespace scope: the default namespace and the bound prefixes. */
export interface NsScope {
  /** Default namespace (`''` = explicitly none, `undefined` = none declared anywhere). */
  readonly defaultNs: string | undefined;
  /** Bound prefixes (`xml` is implicit and need not be present). */
  readonly prefixes: ReadonlyMap<string, string>;
}

/** What the builder reports for a stream header. */
export interface HeaderInfo {
  /** The header start tag as an element (no children). */
  readonly element: XmlElement;
  /** The header's qualified name as written (e.g. `stream:stream`), for the close tag. */
  readonly qname: string;
  /** The scope the header establishes for its stanzas. */
  readonly scope: NsScope;
  /** The default namespace the header itself declares (`xmlns="…"`), if any. */
  readonly contentNs: string | undefined;
}

const EMPTY_BUF = new Uint8Array(0);
const NO_PREFIXES: ReadonlyMap<string, string> = new Map();
const EMPTY_ATTRS: XmlAttrs = Object.freeze({});
const EMPTY_CHILDREN: readonly XmlNode[] = Object.freeze([]) as readonly XmlNode[];

/** An empty scope with the given default namespace. */
export function rootScope(defaultNs?: string): NsScope {
  return { defaultNs, prefixes: NO_PREFIXES };
}

// Buffer has fast, undocumented-but-stable slice decoders; @types/node does not declare them.
// They accept any Uint8Array as `this`, so frames can be plain views: wrapping each frame in a
// Buffer (species constructor) cost more than the decode itself (measured ~70 ns per frame).
type SliceFn = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: SliceFn }).latin1Slice;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: SliceFn }).utf8Slice;

// Byte classes for the XML Name production (ASCII part): 1 = NameChar, 2 = also NameStartChar.
const NAME = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x3a || c >= 0x80) NAME[c] = 2;
  else if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) NAME[c] = 1;
}
// XML 1.0 5th edition NameStartChar / NameChar, for names with non-ASCII characters.
const NAME_START_RANGES =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_RE = new RegExp(`^[${NAME_START_RANGES}][${NAME_START_RANGES}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`, 'u');

// Byte classes for one-pass scans of character data and attribute values: what ends the run,
// what needs the slow decode (entities, line ends, `]]>`, control characters, a possible
// U+FFFE/U+FFFF) and what needs UTF-8 decoding.
const C_HIGH = 1;
const C_SLOW = 2;
const C_LT = 4;
const TEXT_CLASS = new Uint8Array(256);
const ATTR_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  let k = c >= 0x80 ? C_HIGH : 0;
  if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0x26 || c === 0x5d || c === 0xef) k |= C_SLOW;
  if (c === 0x3c) k = C_LT;
  TEXT_CLASS[c] = k;
  // In attribute values LF and TAB are normalised to spaces and `]]>` is allowed; `<` is an error.
  ATTR_CLASS[c] = c < 0x20 || c === 0x26 || c === 0x3c || c === 0xef ? k | C_SLOW : c === 0x5d ? 0 : k;
}

function isWsByte(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function nwf(text: string): StreamError {
  return new StreamError('not-well-formed', text);
}

/** XML 1.0 `Char`. */
function isXmlChar(cp: number): boolean {
  return cp >= 0x20 ? cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff) : cp === 0x9 || cp === 0xa || cp === 0xd;
}

/**
 * Check that `[s, e)` is an XML QName (Namespaces in XML: `NCName (':' NCName)?`) and return
 * the colon's offset, or -1.
 */
function checkQName(buf: Uint8Array, s: number, e: number): number {
  if (e <= s) throw nwf('empty name');
  let colon = -1;
  let nonAscii = false;
  let first = buf[s]!;
  if (NAME[first] !== 2 || first === 0x3a) throw nwf('invalid name');
  for (let i = s + 1; i < e; i++) {
    const b = buf[i]!;
    const k = NAME[b]!;
    if (k === 0) throw nwf('invalid character in a name');
    if (b >= 0x80) nonAscii = true;
    else if (b === 0x3a) {
      if (colon !== -1 || i === e - 1) throw nwf('invalid qualified name');
      colon = i;
      first = buf[i + 1]!;
      if (NAME[first] !== 2 || first === 0x3a) throw nwf('invalid qualified name');
    }
  }
  if (first >= 0x80) nonAscii = true;
  if (nonAscii) {
    // Each part of a QName is an NCName: check them separately (a part may not start with
    // a NameChar that is not a NameStartChar, e.g. U+00B7, even after the colon).
    const ok = colon === -1 ? NAME_RE.test(utf8Slice.call(buf, s, e)) : NAME_RE.test(utf8Slice.call(buf, s, colon)) && NAME_RE.test(utf8Slice.call(buf, colon + 1, e));
    if (!ok) throw nwf('invalid character in a name');
  }
  return colon;
}

// Interned names: XMPP repeats a few dozen names (message, body, to, id, type…) endlessly,
// so a hit skips both the validation loop and the string allocation.
const NAME_CACHE_SIZE = 2048;
const NAME_CACHE_MAX = 48; // longest cached name, in bytes
// The names' bytes live in one flat array (slot * NAME_CACHE_MAX): one typed array per slot
// cost a pointer chase (and a likely cache miss) on every lookup, measured ~1 % of the pipeline.
const cacheBytes = new Uint8Array(NAME_CACHE_SIZE * NAME_CACHE_MAX);
const cacheLen = new Int32Array(NAME_CACHE_SIZE).fill(-1);
const cacheStr: string[] = new Array<string>(NAME_CACHE_SIZE).fill('');
const cacheColon = new Int32Array(NAME_CACHE_SIZE);
/** Absolute offset of the colon of the last name returned by {@link qname}, or -1. */
let lastColon = -1;

/** The QName `[s, e)` (validated by {@link checkQName}) as a string; sets {@link lastColon}. */
function qname(buf: Uint8Array, s: number, e: number): string {
  const len = e - s;
  if (len > NAME_CACHE_MAX) {
    lastColon = checkQName(buf, s, e);
    return nameString(buf, s, e);
  }
  let h = len;
  for (let i = s; i < e; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
  const slot = (h ^ (h >>> 13)) & (NAME_CACHE_SIZE - 1);
  const base = slot * NAME_CACHE_MAX;
  if (cacheLen[slot] === len) {
    let i = 0;
    while (i < len && cacheBytes[base + i] === buf[s + i]) i++;
    if (i === len) {
      const c = cacheColon[slot]!;
      lastColon = c < 0 ? -1 : s + c;
      return cacheStr[slot]!;
    }
  }
  const colon = checkQName(buf, s, e);
  const str = nameString(buf, s, e);
  for (let i = 0; i < len; i++) cacheBytes[base + i] = buf[s + i]!;
  cacheLen[slot] = len;
  cacheStr[slot] = str;
  cacheColon[slot] = colon < 0 ? -1 : colon - s;
  lastColon = colon;
  return str;
}

/** Decode a name already checked by {@link checkQName}. */
function nameString(buf: Uint8Array, s: number, e: number): string {
  // Short ASCII names dominate (message, body, to, id…): fromCharCode beats a native call.
  const len = e - s;
  if (len <= 12) {
    let ascii = true;
    for (let i = s; i < e; i++) if (buf[i]! >= 0x80) { ascii = false; break; }
    if (ascii) {
      switch (len) {
        case 1: return String.fromCharCode(buf[s]!);
        case 2: return String.fromCharCode(buf[s]!, buf[s + 1]!);
        case 3: return String.fromCharCode(buf[s]!, buf[s + 1]!, buf[s + 2]!);
        case 4: return String.fromCharCode(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!);
        default: return latin1Slice.call(buf, s, e);
      }
    }
  }
  return utf8Slice.call(buf, s, e);
}

/**
 * Decode character data or an attribute value `[s, e)`: entities, character references, line
 * ends (XML §2.11) and, for attributes, value normalisation (XML §3.3.3).
 */
const entityResult = { text: '', next: 0 };

/** Decode the reference starting with `&` at `i`. */
function entityAt(buf: Uint8Array, i: number, e: number): typeof entityResult {
  let j = i + 1;
  if (j < e && buf[j] === 0x23 /* # */) {
    j++;
    let hex = false;
    if (j < e && buf[j] === 0x78 /* x */) {
      hex = true;
      j++;
    }
    const digits = j;
    let cp = 0;
    for (; j < e; j++) {
      const b = buf[j]!;
      let d: number;
      if (b >= 0x30 && b <= 0x39) d = b - 0x30;
      else if (hex && b >= 0x61 && b <= 0x66) d = b - 0x57;
      else if (hex && b >= 0x41 && b <= 0x46) d = b - 0x37;
      else break;
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10ffff) throw nwf('character reference out of range');
    }
    if (j === digits || j >= e || buf[j] !== 0x3b) throw nwf('malformed character reference');
    if (!isXmlChar(cp)) throw nwf('character reference to a non-XML character');
    entityResult.text = String.fromCodePoint(cp);
    entityResult.next = j + 1;
    return entityResult;
  }
  // Predefined entities (XML §4.6).
  const b1 = buf[j];
  let text: string | undefined;
  let len = 0;
  if (b1 === 0x6c /* l */ && buf[j + 1] === 0x74 && buf[j + 2] === 0x3b) (text = '<'), (len = 3);
  else if (b1 === 0x67 /* g */ && buf[j + 1] === 0x74 && buf[j + 2] === 0x3b) (text = '>'), (len = 3);
  else if (b1 === 0x61 /* a */) {
    if (buf[j + 1] === 0x6d && buf[j + 2] === 0x70 && buf[j + 3] === 0x3b) (text = '&'), (len = 4);
    else if (buf[j + 1] === 0x70 && buf[j + 2] === 0x6f && buf[j + 3] === 0x73 && buf[j + 4] === 0x3b) (text = "'"), (len = 5);
  } else if (b1 === 0x71 /* q */ && buf[j + 1] === 0x75 && buf[j + 2] === 0x6f && buf[j + 3] === 0x74 && buf[j + 4] === 0x3b) (text = '"'), (len = 5);
  if (text !== undefined && j + len <= e) {
    entityResult.text = text;
    entityResult.next = j + len;
    return entityResult;
  }
  // Any other well-formed `&Name;` is an entity reference RFC 6120 §11.1 restricts.
  let k = j;
  if (k < e && NAME[buf[k]!] === 2) {
    k++;
    while (k < e && NAME[buf[k]!] !== 0) k++;
    if (k < e && buf[k] === 0x3b) throw new StreamError('restricted-xml', 'entity reference');
  }
  throw nwf('bare `&`');
}

/**
 * Builds elements from the tokens of one frame. One builder can serve every connection of a
 * process (it holds no state between frames), like the tokenizer it is fed by.
 */
export class ElementBuilder implements TokenSink {
  private buf: Uint8Array = EMPTY_BUF;
  private str = '';
  private header = false;
  private depth = 0;
  private cursor = 0;
  private root: XmlElement | undefined;
  private rootQName = '';
  private baseDefault: string | undefined;
  private basePrefixes: ReadonlyMap<string, string> = NO_PREFIXES;
  private headerDeclaredDefault = false;
  // The open-element stack as parallel arrays: no object per element.
  private names: string[] = [];
  private nss: (string | undefined)[] = [];
  private attrsStack: XmlAttrs[] = [];
  private children: XmlNode[][] = [];
  private defaults: (string | undefined)[] = [];
  private prefixesStack: ReadonlyMap<string, string>[] = [];
  private openStart: number[] = [];
  private qnameLen: number[] = [];
  // Scratch for prefixed attributes resolved after the declarations of the same tag.
  private pendingAttrs: number[] = [];
  private scanning = false;
  private attrScratch = new Int32Array(ATTR_FIELDS * 16);
  private keys: string[] = [];
  private keyCount = 0;

  /**
   * Prepare for a stanza (or standalone element, or with `header` the stream header) framed
   * as `bytes`, in `scope`. Throws `not-well-formed` unless `bytes` is valid UTF-8: call it
   * before tokenizing.
   */
  begin(bytes: Uint8Array, scope: NsScope, header = false): void {
    this.buf = bytes;
    this.bufLen = bytes.length;
    // One native latin1 decode per frame (one char per byte, so byte offsets are string
    // offsets), then JS-side slices: cheaper than one native call per value and text run
    // (measured ~150-250 ns each). Only runs that hold non-ASCII bytes are decoded as UTF-8,
    // one by one: decoding a whole non-ASCII frame as UTF-8 cost ~570 ns for a 150-byte
    // message, and most of its values (JIDs, ids) are ASCII anyway.
    // Step 2 of the pipeline: only valid UTF-8 is XML for us (RFC 6120 §11.6). Invalid bytes
    // are `not-well-formed` (`unsupported-encoding` is for a declared encoding).
    if (!isUtf8(bytes)) throw nwf('invalid UTF-8');
    this.str = latin1Slice.call(bytes, 0, this.bufLen);
    this.header = header;
    this.depth = 0;
    this.cursor = 0;
    this.root = undefined;
    this.baseDefault = scope.defaultNs;
    this.basePrefixes = scope.prefixes;
    this.headerDeclaredDefault = false;
  }

  /** The element built from the frame; throws unless the frame was exactly one element. */
  finish(): XmlElement {
    if (this.root === undefined && this.depth === 0) throw nwf('no element');
    this.gap(this.bufLen);
    const root = this.root;
    this.buf = EMPTY_BUF;
    this.str = '';
    if (root === undefined || this.depth !== 0) throw nwf('unclosed element');
    return root;
  }

  private bufLen = 0;

  /** The header info after a header frame was tokenized (see {@link begin}). */
  finishHeader(): HeaderInfo {
    const root = this.root;
    this.buf = EMPTY_BUF;
    this.str = '';
    if (root === undefined || this.cursor !== this.bufLen) throw nwf('malformed stream header');
    return {
      element: root,
      qname: this.rootQName,
      scope: { defaultNs: this.defaults[0], prefixes: this.prefixesStack[0]! },
      contentNs: this.headerDeclaredDefault ? this.defaults[0] : undefined,
    };
  }

  /** @internal Frames are finished by the caller ({@link finish}); nothing to do here. */
  endFrame(): void {}

  /**
   * Tokenize the frame given to {@link begin} without sax-wasm: the builder finds the start
   * tags itself while it scans the bytes between them (the `'builtin'` {@link TokenizerKind}).
   * Everything else — every check, every decoded value — is the same code as with sax-wasm.
   * Then call {@link finish} (or {@link finishHeader}) as usual.
   */
  scan(): void {
    this.scanning = true;
    try {
      this.gap(this.bufLen);
    } finally {
      this.scanning = false;
    }
  }

  /**
   * @internal A start tag at `start` (as reported by the tokenizer, see {@link TokenSink}):
   * parse and check its name and attributes from the bytes, resolve namespaces, open the
   * element (or attach it, when self-closing).
   */
  startTag(start: number, nameLen: number): void {
    const buf = this.buf;
    const len = this.bufLen;
    // Measured on sax-wasm 3.1.4: when a name starts with a multi-byte character, the tag's
    // start offset points one byte too far, into the name.
    while (start > this.cursor && buf[start]! >= 0x80) start--;
    if (start < this.cursor || (this.header && this.root !== undefined)) throw nwf('malformed markup');
    if (start >= len || buf[start] !== 0x3c) throw nwf('malformed start tag');
    if (start > this.cursor) this.gap(start);
    const depth = this.depth;
    if (depth === 0 && (start !== 0 || this.root !== undefined)) throw nwf('more than one root element');
    const nameStart = start + 1;
    let pos = nameStart;
    while (NAME[buf[pos]!]) pos++;
    const nameEnd = pos;
    // sax-wasm's view of the name must be ours (a cheap cross-check of the two parsers);
    // the built-in scan passes -1.
    if (nameLen >= 0 && nameEnd - nameStart !== nameLen) throw nwf('malformed start tag');
    const qn = qname(buf, nameStart, nameEnd);
    const colon = lastColon;

    // Attributes, parsed and checked from the bytes: sax-wasm accepts unquoted and valueless
    // attributes, missing whitespace and garbage (dependencies.md §1.4). Per attribute the
    // scratch holds: whether its value needs the slow decode, name start/end, value start/end.
    let attrs = this.attrScratch;
    let attrCount = 0;
    let selfClosing = false;
    for (;;) {
      let b = buf[pos];
      const spaced = b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
      if (spaced) {
        do b = buf[++pos];
        while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09);
      }
      if (b === 0x3e) {
        pos++;
        break;
      }
      if (b === 0x2f) {
        if (buf[pos + 1] !== 0x3e) throw nwf('malformed start tag');
        selfClosing = true;
        pos += 2;
        break;
      }
      if (!spaced || NAME[b!] !== 2) throw nwf('malformed attribute');
      const ns = pos;
      do pos++;
      while (NAME[buf[pos]!]);
      const ne = pos;
      b = buf[pos];
      while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) b = buf[++pos];
      if (b !== 0x3d) throw nwf('attribute without `=`');
      b = buf[++pos];
      while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) b = buf[++pos];
      if (b !== 0x22 && b !== 0x27) throw nwf('unquoted attribute value');
      const vs = ++pos;
      // Find the closing quote, noting what the value needs (ATTR_CLASS).
      let slow = 0;
      for (;;) {
        const c = buf[pos];
        if (c === b) break;
        if (c === undefined || pos >= len) throw nwf('unterminated attribute value');
        slow |= ATTR_CLASS[c]!;
        pos++;
      }
      const k = attrCount * ATTR_FIELDS;
      if (k + ATTR_FIELDS > attrs.length) {
        const grown = new Int32Array(attrs.length * 2);
        grown.set(attrs);
        attrs = this.attrScratch = grown;
      }
      attrs[k] = slow;
      attrs[k + 1] = ns;
      attrs[k + 2] = ne;
      attrs[k + 3] = vs;
      attrs[k + 4] = pos;
      attrCount++;
      pos++;
    }
    if (pos > len) throw nwf('malformed start tag');
    const end = pos;

    // Namespace declarations first: they apply to the element's own name and attributes.
    let defaultNs = depth === 0 ? this.baseDefault : this.defaults[depth - 1];
    let prefixes = depth === 0 ? this.basePrefixes : this.prefixesStack[depth - 1]!;
    let copied = false;
    let result: Record<string, string> | undefined;
    this.keyCount = 0;
    const pending = this.pendingAttrs;
    let pendingCount = 0;
    let declaredDefault = false;
    let declared: string[] | undefined;
    for (let k = 0; k < attrCount * ATTR_FIELDS; k += ATTR_FIELDS) {
      const ns = attrs[k + 1]!;
      const ne = attrs[k + 2]!;
      const an = qname(buf, ns, ne);
      const acolon = lastColon;
      const isXmlns =
        buf[ns] === 0x78 && buf[ns + 1] === 0x6d && buf[ns + 2] === 0x6c && buf[ns + 3] === 0x6e && buf[ns + 4] === 0x73 &&
        (ne === ns + 5 || acolon === ns + 5);
      if (isXmlns) {
        const uri = this.value(attrs, k);
        if (ne === ns + 5) {
          if (declaredDefault) throw nwf('duplicate attribute xmlns');
          declaredDefault = true;
          if (uri === NS.XML || uri === NS.XMLNS) throw nwf('the XML namespaces cannot be the default namespace');
          defaultNs = uri;
          if (depth === 0 && this.header) this.headerDeclaredDefault = true;
        } else {
          const p = qname(buf, ns + 6, ne);
          if (p === 'xmlns') throw nwf('the xmlns prefix cannot be declared');
          declared ??= [];
          if (declared.includes(p)) throw nwf(`duplicate attribute xmlns:${p}`);
          declared.push(p);
          if (p === 'xml') {
            if (uri !== NS.XML) throw nwf('the xml prefix cannot be rebound');
            continue;
          }
          if (uri === '') throw nwf('a prefix cannot be undeclared in XML 1.0');
          if (uri === NS.XML || uri === NS.XMLNS) throw nwf('the XML namespaces cannot be bound to another prefix');
          if (!copied) {
            prefixes = new Map(prefixes);
            copied = true;
          }
          (prefixes as Map<string, string>).set(p, uri);
        }
      } else if (acolon !== -1) {
        pending[pendingCount++] = k;
        pending[pendingCount++] = acolon;
      } else {
        result ??= {};
        this.setAttr(result, an, this.value(attrs, k));
      }
    }
    for (let p = 0; p < pendingCount; p += 2) {
      const k = pending[p]!;
      const acolon = pending[p + 1]!;
      const ns = attrs[k + 1]!;
      const ne = attrs[k + 2]!;
      const prefix = qname(buf, ns, acolon);
      const value = this.value(attrs, k);
      result ??= {};
      if (prefix === 'xml') this.setAttr(result, qname(buf, ns, ne), value);
      else {
        const uri = prefixes.get(prefix);
        if (uri === undefined) throw new StreamError('bad-namespace-prefix', `unbound prefix ${prefix}`);
        this.setAttr(result, '{' + uri + '}' + qname(buf, acolon + 1, ne), value);
      }
    }

    let name: string;
    let ns: string | undefined;
    if (colon === -1) {
      name = qn;
      ns = defaultNs;
    } else {
      const prefix = qname(buf, nameStart, colon);
      name = qname(buf, colon + 1, nameEnd);
      if (prefix === 'xml') ns = NS.XML;
      else {
        ns = prefixes.get(prefix);
        if (ns === undefined) throw new StreamError('bad-namespace-prefix', `unbound prefix ${prefix}`);
      }
    }
    const elAttrs = result ?? EMPTY_ATTRS;

    if (this.header) {
      // The stream root: only its start tag is a frame.
      this.rootQName = qn;
      this.defaults[0] = defaultNs;
      this.prefixesStack[0] = prefixes;
      this.root = new XmlElement(name, ns, elAttrs, EMPTY_CHILDREN);
      this.cursor = end;
      return;
    }
    if (selfClosing) {
      this.attach(depth, new XmlElement(name, ns, elAttrs, EMPTY_CHILDREN));
      this.cursor = end;
      return;
    }
    this.names[depth] = name;
    this.nss[depth] = ns;
    this.attrsStack[depth] = elAttrs;
    this.children[depth] = [];
    this.defaults[depth] = defaultNs;
    this.prefixesStack[depth] = prefixes;
    this.openStart[depth] = start;
    this.qnameLen[depth] = nameEnd - nameStart;
    this.depth = depth + 1;
    this.cursor = end;
  }

  /**
   * Everything between the end of the last markup and `limit` (the next start tag, or the
   * end of the frame): character data and end tags, which we parse from the bytes.
   */
  private gap(limit: number): void {
    const buf = this.buf;
    let s = this.cursor;
    while (s < limit) {
      // One pass finds the next `<` and notes what the text needs (TEXT_CLASS).
      let lt = s;
      let cls = 0;
      let k: number;
      while (lt < limit && (k = TEXT_CLASS[buf[lt]!]!) !== C_LT) {
        cls |= k;
        lt++;
      }
      if (lt > s) {
        if (this.depth === 0) throw nwf('character data outside the element');
        const t = cls === 0 ? this.str.slice(s, lt) : cls === C_HIGH ? utf8Slice.call(buf, s, lt) : this.decodeSlow(s, lt, false);
        if (t !== '') this.children[this.depth - 1]!.push(t);
      }
      if (lt === limit) break;
      if (this.scanning && buf[lt + 1] !== 0x2f) {
        // Built-in tokenizer: a `<` not opening an end tag opens a start tag (or is an error
        // that startTag and endTag report, e.g. `<!` → restricted-xml).
        const next = buf[lt + 1];
        if (next === 0x21 || next === 0x3f) throw new StreamError('restricted-xml', 'DOCTYPE, comment, CDATA or processing instruction');
        this.cursor = lt;
        this.startTag(lt, -1);
        s = this.cursor;
        continue;
      }
      s = this.endTag(lt, limit);
    }
    this.cursor = limit;
  }

  /** Parse the end tag at `lt` (`</qname S? >`), close the current element; return its end. */
  private endTag(lt: number, limit: number): number {
    const buf = this.buf;
    const d = this.depth - 1;
    // Any `<` sax-wasm did not report as a start tag must be an end tag (§1.4: sax-wasm
    // turns stray markup into text and mismatched end tags into implicit closes).
    const next = buf[lt + 1];
    if (next === 0x21 || next === 0x3f) throw new StreamError('restricted-xml', 'DOCTYPE, comment, CDATA or processing instruction');
    if (d < 0 || next !== 0x2f) throw nwf('stray `<`');
    const qLen = this.qnameLen[d]!;
    const q0 = this.openStart[d]! + 1;
    let i = lt + 2;
    if (i + qLen > limit) throw nwf('mismatched end tag');
    for (let k = 0; k < qLen; k++) if (buf[i + k] !== buf[q0 + k]) throw nwf('mismatched end tag');
    i += qLen;
    while (i < limit && isWsByte(buf[i]!)) i++;
    if (i >= limit || buf[i] !== 0x3e) throw nwf('mismatched end tag');
    const kids = this.children[d]!;
    const el = new XmlElement(this.names[d]!, this.nss[d], this.attrsStack[d]!, kids.length === 0 ? EMPTY_CHILDREN : kids);
    this.depth = d;
    this.attach(d, el);
    return i + 1;
  }

  /** The value of scratch attribute `k` (see {@link startTag}). */
  private value(attrs: Int32Array, k: number): string {
    const cls = attrs[k];
    const s = attrs[k + 3]!;
    const e = attrs[k + 4]!;
    return cls === 0 ? this.str.slice(s, e) : cls === C_HIGH ? utf8Slice.call(this.buf, s, e) : this.decodeSlow(s, e, true);
  }

  private decodeSlow(s: number, e: number, attr: boolean): string {
    const buf = this.buf;
    const str = this.str;
    let out = '';
    let seg = s;
    // Whether [seg, i) holds a non-ASCII byte: such a run is decoded as UTF-8.
    let high = false;
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      if (b >= 0x80) {
        high = true;
        if (b === 0xef && i + 2 < e && buf[i + 1] === 0xbf && (buf[i + 2] === 0xbe || buf[i + 2] === 0xbf)) throw nwf('U+FFFE/U+FFFF is not an XML character');
      } else if (b === 0x26) {
        if (i > seg) out += high ? utf8Slice.call(buf, seg, i) : str.slice(seg, i);
        const r = entityAt(buf, i, e);
        out += r.text;
        i = r.next - 1;
        seg = r.next;
        high = false;
      } else if (b === 0x3c) {
        throw nwf(attr ? '`<` in an attribute value' : 'stray `<` in character data');
      } else if (b < 0x20) {
        if (b === 0x0d) {
          if (i > seg) out += high ? utf8Slice.call(buf, seg, i) : str.slice(seg, i);
          out += attr ? ' ' : '\n';
          if (i + 1 < e && buf[i + 1] === 0x0a) i++;
          seg = i + 1;
          high = false;
        } else if (b === 0x0a || b === 0x09) {
          if (attr) {
            if (i > seg) out += high ? utf8Slice.call(buf, seg, i) : str.slice(seg, i);
            out += ' ';
            seg = i + 1;
            high = false;
          }
        } else throw nwf('control character');
      } else if (b === 0x5d) {
        if (!attr && i + 2 < e && buf[i + 1] === 0x5d && buf[i + 2] === 0x3e) throw nwf('`]]>` in character data');
      }
    }
    if (e > seg) out += high ? utf8Slice.call(buf, seg, e) : str.slice(seg, e);
    return out;
  }

  /**
   * Add an attribute, rejecting duplicates (after namespace resolution). Names are interned,
   * so a short linear scan of this tag's keys beats a keyed lookup on the object; many
   * attributes fall back to `Object.hasOwn` to stay linear.
   */
  private setAttr(attrs: Record<string, string>, key: string, value: string): void {
    const keys = this.keys;
    const n = this.keyCount;
    if (n <= 16) {
      for (let i = 0; i < n; i++) if (keys[i] === key) throw nwf(`duplicate attribute ${key}`);
      keys[n] = key;
      this.keyCount = n + 1;
    } else if (Object.hasOwn(attrs, key)) throw nwf(`duplicate attribute ${key}`);
    // `__proto__` is a legal attribute name: define it, do not invoke the setter.
    if (key === '__proto__') Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
    else attrs[key] = value;
  }

  private attach(depth: number, el: XmlElement): void {
    if (depth === 0) this.root = el;
    else this.children[depth - 1]!.push(el);
  }
}

