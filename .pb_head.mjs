// ../../tmp/pipeb_head.ts
import { readFileSync as readFileSync2 } from "node:fs";

// ../../tmp/headtree/src/core/xml/element.ts
var XmlElement = class _XmlElement {
  /** Local name (never prefixed). */
  name;
  /** Namespace URI, or `undefined` for "inherit from the parent it is placed under". */
  ns;
  /** Attributes (see module comment for key conventions). `xmlns` is never a key. */
  attrs;
  /** Children in document order. */
  children;
  constructor(name, ns, attrs = EMPTY_ATTRS, children = EMPTY_CHILDREN) {
    this.name = name;
    this.ns = ns;
    this.attrs = attrs;
    this.children = children;
  }
  /** The value of attribute `name`, or `undefined`. */
  attr(name) {
    return this.attrs[name];
  }
  /** `true` when this element has local name `name` and (if given) namespace `ns`. */
  is(name, ns) {
    return this.name === name && (ns === void 0 || this.ns === ns);
  }
  /**
   * The first child element named `name`, in namespace `ns` when given. A child whose `ns` is
   * `undefined` inherits this element's namespace.
   */
  getChild(name, ns) {
    for (const c of this.children) {
      if (typeof c !== "string" && c.name === name && (ns === void 0 || (c.ns ?? this.ns) === ns)) return c;
    }
    return void 0;
  }
  /** Every child element named `name` (and in `ns` when given). */
  getChildren(name, ns) {
    const out = [];
    for (const c of this.children) {
      if (typeof c !== "string" && c.name === name && (ns === void 0 || (c.ns ?? this.ns) === ns)) out.push(c);
    }
    return out;
  }
  /** The first child element in namespace `ns`, whatever its name. */
  getChildByNs(ns) {
    for (const c of this.children) {
      if (typeof c !== "string" && (c.ns ?? this.ns) === ns) return c;
    }
    return void 0;
  }
  /** All child elements (text nodes skipped). */
  elements() {
    const out = [];
    for (const c of this.children) if (typeof c !== "string") out.push(c);
    return out;
  }
  /** Concatenated direct text children. */
  text() {
    let s = "";
    for (const c of this.children) if (typeof c === "string") s += c;
    return s;
  }
  /** Text of the first child named `name` (in `ns` when given), or `undefined` when absent. */
  getChildText(name, ns) {
    return this.getChild(name, ns)?.text();
  }
  /** A copy with some attributes replaced; a value of `undefined` removes the attribute. */
  withAttrs(changes) {
    const attrs = { ...this.attrs };
    for (const k in changes) {
      const v = changes[k];
      if (v === void 0) delete attrs[k];
      else attrs[k] = v;
    }
    return new _XmlElement(this.name, this.ns, attrs, this.children);
  }
  /** A copy with other children. */
  withChildren(children) {
    return new _XmlElement(this.name, this.ns, this.attrs, children);
  }
  /** A copy with `child` appended. */
  append(...children) {
    return new _XmlElement(this.name, this.ns, this.attrs, [...this.children, ...children]);
  }
  /** A copy without the children for which `drop` returns true. */
  filterChildren(keep) {
    return new _XmlElement(this.name, this.ns, this.attrs, this.children.filter(keep));
  }
  /** A copy with an explicit namespace (used when an element leaves its parent's scope). */
  withNs(ns) {
    return new _XmlElement(this.name, ns, this.attrs, this.children);
  }
  /** Structural equality with namespace inheritance taken into account. */
  equals(other, parentNs, otherParentNs) {
    const a = this.ns ?? parentNs;
    const b = other.ns ?? otherParentNs;
    if (this.name !== other.name || a !== b) return false;
    const ka = Object.keys(this.attrs);
    if (ka.length !== Object.keys(other.attrs).length) return false;
    for (const k of ka) if (this.attrs[k] !== other.attrs[k]) return false;
    const ca = mergeText(this.children);
    const cb = mergeText(other.children);
    if (ca.length !== cb.length) return false;
    for (let i = 0; i < ca.length; i++) {
      const x = ca[i];
      const y = cb[i];
      if (typeof x === "string" || typeof y === "string") {
        if (x !== y) return false;
      } else if (!x.equals(y, a, b)) return false;
    }
    return true;
  }
};
var EMPTY_ATTRS = Object.freeze({});
var EMPTY_CHILDREN = Object.freeze([]);
function mergeText(children) {
  const out = [];
  for (const c of children) {
    if (typeof c === "string") {
      if (c === "") continue;
      const last = out[out.length - 1];
      if (typeof last === "string") out[out.length - 1] = last + c;
      else out.push(c);
    } else out.push(c);
  }
  return out;
}
function xml(name, attrs, ...children) {
  let ns;
  const a = {};
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === void 0) continue;
      if (k === "xmlns") ns = String(v);
      else a[k] = String(v);
    }
  }
  const out = [];
  pushChildren(out, children);
  return new XmlElement(name, ns, a, out);
}
function pushChildren(out, children) {
  for (const c of children) {
    if (c === null || c === void 0 || c === false) continue;
    if (typeof c === "number") out.push(String(c));
    else if (Array.isArray(c)) pushChildren(out, c);
    else out.push(c);
  }
}

// ../../tmp/headtree/src/core/namespaces.ts
var NS = {
  CLIENT: "jabber:client",
  SERVER: "jabber:server",
  COMPONENT: "jabber:component:accept",
  STREAMS: "http://etherx.jabber.org/streams",
  STREAM_ERRORS: "urn:ietf:params:xml:ns:xmpp-streams",
  STANZA_ERRORS: "urn:ietf:params:xml:ns:xmpp-stanzas",
  TLS: "urn:ietf:params:xml:ns:xmpp-tls",
  SASL: "urn:ietf:params:xml:ns:xmpp-sasl",
  BIND: "urn:ietf:params:xml:ns:xmpp-bind",
  SESSION: "urn:ietf:params:xml:ns:xmpp-session",
  FRAMING: "urn:ietf:params:xml:ns:xmpp-framing",
  XML: "http://www.w3.org/XML/1998/namespace",
  XMLNS: "http://www.w3.org/2000/xmlns/",
  SASL_CB: "urn:xmpp:sasl-cb:0",
  DELAY: "urn:xmpp:delay",
  ROSTER: "jabber:iq:roster",
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  PING: "urn:xmpp:ping",
  SM: "urn:xmpp:sm:3",
  CSI: "urn:xmpp:csi:0",
  CARBONS: "urn:xmpp:carbons:2",
  FORWARD: "urn:xmpp:forward:0",
  MAM: "urn:xmpp:mam:2",
  RSM: "http://jabber.org/protocol/rsm",
  STANZA_ID: "urn:xmpp:sid:0",
  SASL2: "urn:xmpp:sasl:2",
  BIND2: "urn:xmpp:bind:0",
  VCARD: "vcard-temp",
  PRIVATE: "jabber:iq:private",
  LAST: "jabber:iq:last",
  VERSION: "jabber:iq:version",
  TIME: "urn:xmpp:time",
  BLOCKING: "urn:xmpp:blocking",
  PRIVACY: "jabber:iq:privacy",
  ROSTER_VER: "urn:xmpp:features:rosterver",
  HINTS: "urn:xmpp:hints",
  CHAT_MARKERS: "urn:xmpp:chat-markers:0",
  INBOX: "erlang-solutions.com:xmpp:inbox:0",
  DATA_FORMS: "jabber:x:data"
};

// ../../tmp/headtree/src/core/errors.ts
var STREAM_ERROR_CONDITIONS = /* @__PURE__ */ new Set([
  "bad-format",
  "bad-namespace-prefix",
  "conflict",
  "connection-timeout",
  "host-gone",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  "invalid-from",
  "invalid-namespace",
  "invalid-xml",
  "not-authorized",
  "not-well-formed",
  "policy-violation",
  "remote-connection-failed",
  "reset",
  "resource-constraint",
  "restricted-xml",
  "see-other-host",
  "system-shutdown",
  "undefined-condition",
  "unsupported-encoding",
  "unsupported-feature",
  "unsupported-stanza-type",
  "unsupported-version"
]);
var StreamError = class _StreamError extends Error {
  name = "StreamError";
  condition;
  text;
  lang;
  appCondition;
  constructor(condition, details = {}) {
    const d = typeof details === "string" ? { text: details } : details;
    super(d.text ? `${condition}: ${d.text}` : condition);
    this.condition = condition;
    this.text = d.text;
    this.lang = d.lang;
    this.appCondition = d.appCondition;
  }
  /**
   * Read a received `<stream:error>`: the first child in the stream-errors namespace other
   * than `<text/>` is the condition (unknown ones read as `undefined-condition`), and the first
   * child in any other namespace is the application condition.
   */
  static fromElement(el) {
    let condition;
    let text;
    let lang;
    let appCondition;
    for (const c of el.children) {
      if (typeof c === "string") continue;
      if ((c.ns ?? el.ns) === NS.STREAM_ERRORS) {
        if (c.name === "text") {
          text = c.text();
          lang = c.attrs["xml:lang"];
        } else condition ??= STREAM_ERROR_CONDITIONS.has(c.name) ? c.name : "undefined-condition";
      } else appCondition ??= c;
    }
    return new _StreamError(condition ?? "undefined-condition", { text, lang, appCondition });
  }
  /** `<stream:error>` in the streams namespace (written with the `stream:` prefix on a stream). */
  toElement() {
    return xml(
      "error",
      { xmlns: NS.STREAMS },
      xml(this.condition, { xmlns: NS.STREAM_ERRORS }),
      this.text !== void 0 && xml("text", { xmlns: NS.STREAM_ERRORS, "xml:lang": this.lang ?? "en" }, this.text),
      this.appCondition
    );
  }
};

// ../../tmp/headtree/src/core/xml/element-builder.ts
import { isAscii, isUtf8 } from "node:buffer";
var ATTR_FIELDS = 5;
var EMPTY_BUF = new Uint8Array(0);
var NO_PREFIXES = /* @__PURE__ */ new Map();
var EMPTY_ATTRS2 = Object.freeze({});
var EMPTY_CHILDREN2 = Object.freeze([]);
function rootScope(defaultNs) {
  return { defaultNs, prefixes: NO_PREFIXES };
}
var latin1Slice = Buffer.prototype.latin1Slice;
var utf8Slice = Buffer.prototype.utf8Slice;
var NAME = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c >= 65 && c <= 90 || c >= 97 && c <= 122 || c === 95 || c === 58 || c >= 128) NAME[c] = 2;
  else if (c >= 48 && c <= 57 || c === 45 || c === 46) NAME[c] = 1;
}
var NAME_START_RANGES = ":A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}";
var NAME_RE = new RegExp(`^[${NAME_START_RANGES}][${NAME_START_RANGES}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`, "u");
var C_HIGH = 1;
var C_SLOW = 2;
var C_LT = 4;
var TEXT_CLASS = new Uint8Array(256);
var ATTR_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  let k = c >= 128 ? C_HIGH : 0;
  if (c < 32 && c !== 10 && c !== 9 || c === 38 || c === 93 || c === 239) k |= C_SLOW;
  if (c === 60) k = C_LT;
  TEXT_CLASS[c] = k;
  ATTR_CLASS[c] = c < 32 || c === 38 || c === 60 || c === 239 ? k | C_SLOW : c === 93 ? 0 : k;
}
function isWsByte(b) {
  return b === 32 || b === 10 || b === 13 || b === 9;
}
function nwf(text) {
  return new StreamError("not-well-formed", text);
}
function isXmlChar(cp) {
  return cp >= 32 ? cp <= 55295 || cp >= 57344 && cp <= 65533 || cp >= 65536 && cp <= 1114111 : cp === 9 || cp === 10 || cp === 13;
}
function checkQName(buf, s, e) {
  if (e <= s) throw nwf("empty name");
  let colon = -1;
  let nonAscii = false;
  let first = buf[s];
  if (NAME[first] !== 2 || first === 58) throw nwf("invalid name");
  for (let i = s + 1; i < e; i++) {
    const b = buf[i];
    const k = NAME[b];
    if (k === 0) throw nwf("invalid character in a name");
    if (b >= 128) nonAscii = true;
    else if (b === 58) {
      if (colon !== -1 || i === e - 1) throw nwf("invalid qualified name");
      colon = i;
      first = buf[i + 1];
      if (NAME[first] !== 2 || first === 58) throw nwf("invalid qualified name");
    }
  }
  if (first >= 128) nonAscii = true;
  if (nonAscii) {
    const ok = colon === -1 ? NAME_RE.test(utf8Slice.call(buf, s, e)) : NAME_RE.test(utf8Slice.call(buf, s, colon)) && NAME_RE.test(utf8Slice.call(buf, colon + 1, e));
    if (!ok) throw nwf("invalid character in a name");
  }
  return colon;
}
var NAME_CACHE_SIZE = 2048;
var NAME_CACHE_MAX = 48;
var cacheBytes = new Uint8Array(NAME_CACHE_SIZE * NAME_CACHE_MAX);
var cacheLen = new Int32Array(NAME_CACHE_SIZE).fill(-1);
var cacheStr = new Array(NAME_CACHE_SIZE).fill("");
var cacheColon = new Int32Array(NAME_CACHE_SIZE);
var lastColon = -1;
function qname(buf, s, e) {
  const len = e - s;
  if (len > NAME_CACHE_MAX) {
    lastColon = checkQName(buf, s, e);
    return nameString(buf, s, e);
  }
  let h = len;
  for (let i = s; i < e; i++) h = Math.imul(h, 31) + buf[i] | 0;
  const slot = (h ^ h >>> 13) & NAME_CACHE_SIZE - 1;
  const base = slot * NAME_CACHE_MAX;
  if (cacheLen[slot] === len) {
    let i = 0;
    while (i < len && cacheBytes[base + i] === buf[s + i]) i++;
    if (i === len) {
      const c = cacheColon[slot];
      lastColon = c < 0 ? -1 : s + c;
      return cacheStr[slot];
    }
  }
  const colon = checkQName(buf, s, e);
  const str = nameString(buf, s, e);
  for (let i = 0; i < len; i++) cacheBytes[base + i] = buf[s + i];
  cacheLen[slot] = len;
  cacheStr[slot] = str;
  cacheColon[slot] = colon < 0 ? -1 : colon - s;
  lastColon = colon;
  return str;
}
function nameString(buf, s, e) {
  const len = e - s;
  if (len <= 12) {
    let ascii = true;
    for (let i = s; i < e; i++) if (buf[i] >= 128) {
      ascii = false;
      break;
    }
    if (ascii) {
      switch (len) {
        case 1:
          return String.fromCharCode(buf[s]);
        case 2:
          return String.fromCharCode(buf[s], buf[s + 1]);
        case 3:
          return String.fromCharCode(buf[s], buf[s + 1], buf[s + 2]);
        case 4:
          return String.fromCharCode(buf[s], buf[s + 1], buf[s + 2], buf[s + 3]);
        default:
          return latin1Slice.call(buf, s, e);
      }
    }
  }
  return utf8Slice.call(buf, s, e);
}
var entityResult = { text: "", next: 0 };
function entityAt(buf, i, e) {
  let j = i + 1;
  if (j < e && buf[j] === 35) {
    j++;
    let hex = false;
    if (j < e && buf[j] === 120) {
      hex = true;
      j++;
    }
    const digits = j;
    let cp = 0;
    for (; j < e; j++) {
      const b = buf[j];
      let d;
      if (b >= 48 && b <= 57) d = b - 48;
      else if (hex && b >= 97 && b <= 102) d = b - 87;
      else if (hex && b >= 65 && b <= 70) d = b - 55;
      else break;
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 1114111) throw nwf("character reference out of range");
    }
    if (j === digits || j >= e || buf[j] !== 59) throw nwf("malformed character reference");
    if (!isXmlChar(cp)) throw nwf("character reference to a non-XML character");
    entityResult.text = String.fromCodePoint(cp);
    entityResult.next = j + 1;
    return entityResult;
  }
  const b1 = buf[j];
  let text;
  let len = 0;
  if (b1 === 108 && buf[j + 1] === 116 && buf[j + 2] === 59) text = "<", len = 3;
  else if (b1 === 103 && buf[j + 1] === 116 && buf[j + 2] === 59) text = ">", len = 3;
  else if (b1 === 97) {
    if (buf[j + 1] === 109 && buf[j + 2] === 112 && buf[j + 3] === 59) text = "&", len = 4;
    else if (buf[j + 1] === 112 && buf[j + 2] === 111 && buf[j + 3] === 115 && buf[j + 4] === 59) text = "'", len = 5;
  } else if (b1 === 113 && buf[j + 1] === 117 && buf[j + 2] === 111 && buf[j + 3] === 116 && buf[j + 4] === 59) text = '"', len = 5;
  if (text !== void 0 && j + len <= e) {
    entityResult.text = text;
    entityResult.next = j + len;
    return entityResult;
  }
  let k = j;
  if (k < e && NAME[buf[k]] === 2) {
    k++;
    while (k < e && NAME[buf[k]] !== 0) k++;
    if (k < e && buf[k] === 59) throw new StreamError("restricted-xml", "entity reference");
  }
  throw nwf("bare `&`");
}
var ElementBuilder = class {
  buf = EMPTY_BUF;
  str = "";
  ascii = true;
  header = false;
  depth = 0;
  cursor = 0;
  root;
  rootQName = "";
  baseDefault;
  basePrefixes = NO_PREFIXES;
  headerDeclaredDefault = false;
  // The open-element stack as parallel arrays: no object per element.
  names = [];
  nss = [];
  attrsStack = [];
  children = [];
  defaults = [];
  prefixesStack = [];
  openStart = [];
  qnameLen = [];
  // Scratch for prefixed attributes resolved after the declarations of the same tag.
  pendingAttrs = [];
  scanning = false;
  attrScratch = new Int32Array(ATTR_FIELDS * 16);
  keys = [];
  keyCount = 0;
  /**
   * Prepare for a stanza (or standalone element, or with `header` the stream header) framed
   * as `bytes`, in `scope`. Throws `not-well-formed` unless `bytes` is valid UTF-8: call it
   * before tokenizing.
   */
  begin(bytes2, scope, header = false) {
    this.buf = bytes2;
    this.bufLen = bytes2.length;
    this.ascii = isAscii(this.buf);
    if (!this.ascii && !isUtf8(this.buf)) throw nwf("invalid UTF-8");
    this.str = latin1Slice.call(bytes2, 0, this.bufLen);
    this.header = header;
    this.depth = 0;
    this.cursor = 0;
    this.root = void 0;
    this.baseDefault = scope.defaultNs;
    this.basePrefixes = scope.prefixes;
    this.headerDeclaredDefault = false;
  }
  /** The element built from the frame; throws unless the frame was exactly one element. */
  finish() {
    if (this.root === void 0 && this.depth === 0) throw nwf("no element");
    this.gap(this.bufLen);
    const root = this.root;
    this.buf = EMPTY_BUF;
    this.str = "";
    if (root === void 0 || this.depth !== 0) throw nwf("unclosed element");
    return root;
  }
  bufLen = 0;
  /** The header info after a header frame was tokenized (see {@link begin}). */
  finishHeader() {
    const root = this.root;
    this.buf = EMPTY_BUF;
    this.str = "";
    if (root === void 0 || this.cursor !== this.bufLen) throw nwf("malformed stream header");
    return {
      element: root,
      qname: this.rootQName,
      scope: { defaultNs: this.defaults[0], prefixes: this.prefixesStack[0] },
      contentNs: this.headerDeclaredDefault ? this.defaults[0] : void 0
    };
  }
  /** @internal Frames are finished by the caller ({@link finish}); nothing to do here. */
  endFrame() {
  }
  /**
   * Tokenize the frame given to {@link begin} without sax-wasm: the builder finds the start
   * tags itself while it scans the bytes between them (the `'builtin'` {@link TokenizerKind}).
   * Everything else — every check, every decoded value — is the same code as with sax-wasm.
   * Then call {@link finish} (or {@link finishHeader}) as usual.
   */
  scan() {
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
  startTag(start, nameLen) {
    const buf = this.buf;
    const len = this.bufLen;
    while (start > this.cursor && buf[start] >= 128) start--;
    if (start < this.cursor || this.header && this.root !== void 0) throw nwf("malformed markup");
    if (start >= len || buf[start] !== 60) throw nwf("malformed start tag");
    if (start > this.cursor) this.gap(start);
    const depth = this.depth;
    if (depth === 0 && (start !== 0 || this.root !== void 0)) throw nwf("more than one root element");
    const nameStart = start + 1;
    let pos = nameStart;
    while (NAME[buf[pos]]) pos++;
    const nameEnd = pos;
    if (nameLen >= 0 && nameEnd - nameStart !== nameLen) throw nwf("malformed start tag");
    const qn = qname(buf, nameStart, nameEnd);
    const colon = lastColon;
    let attrs = this.attrScratch;
    let attrCount = 0;
    let selfClosing = false;
    for (; ; ) {
      let b = buf[pos];
      const spaced = b === 32 || b === 10 || b === 13 || b === 9;
      if (spaced) {
        do
          b = buf[++pos];
        while (b === 32 || b === 10 || b === 13 || b === 9);
      }
      if (b === 62) {
        pos++;
        break;
      }
      if (b === 47) {
        if (buf[pos + 1] !== 62) throw nwf("malformed start tag");
        selfClosing = true;
        pos += 2;
        break;
      }
      if (!spaced || NAME[b] !== 2) throw nwf("malformed attribute");
      const ns2 = pos;
      do
        pos++;
      while (NAME[buf[pos]]);
      const ne = pos;
      b = buf[pos];
      while (b === 32 || b === 10 || b === 13 || b === 9) b = buf[++pos];
      if (b !== 61) throw nwf("attribute without `=`");
      b = buf[++pos];
      while (b === 32 || b === 10 || b === 13 || b === 9) b = buf[++pos];
      if (b !== 34 && b !== 39) throw nwf("unquoted attribute value");
      const vs = ++pos;
      let slow = 0;
      for (; ; ) {
        const c = buf[pos];
        if (c === b) break;
        if (c === void 0 || pos >= len) throw nwf("unterminated attribute value");
        slow |= ATTR_CLASS[c];
        pos++;
      }
      const k = attrCount * ATTR_FIELDS;
      if (k + ATTR_FIELDS > attrs.length) {
        const grown = new Int32Array(attrs.length * 2);
        grown.set(attrs);
        attrs = this.attrScratch = grown;
      }
      attrs[k] = slow;
      attrs[k + 1] = ns2;
      attrs[k + 2] = ne;
      attrs[k + 3] = vs;
      attrs[k + 4] = pos;
      attrCount++;
      pos++;
    }
    if (pos > len) throw nwf("malformed start tag");
    const end = pos;
    let defaultNs = depth === 0 ? this.baseDefault : this.defaults[depth - 1];
    let prefixes = depth === 0 ? this.basePrefixes : this.prefixesStack[depth - 1];
    let copied = false;
    let result;
    this.keyCount = 0;
    const pending = this.pendingAttrs;
    let pendingCount = 0;
    let declaredDefault = false;
    let declared;
    for (let k = 0; k < attrCount * ATTR_FIELDS; k += ATTR_FIELDS) {
      const ns2 = attrs[k + 1];
      const ne = attrs[k + 2];
      const an = qname(buf, ns2, ne);
      const acolon = lastColon;
      const isXmlns = buf[ns2] === 120 && buf[ns2 + 1] === 109 && buf[ns2 + 2] === 108 && buf[ns2 + 3] === 110 && buf[ns2 + 4] === 115 && (ne === ns2 + 5 || acolon === ns2 + 5);
      if (isXmlns) {
        const uri = this.value(attrs, k);
        if (ne === ns2 + 5) {
          if (declaredDefault) throw nwf("duplicate attribute xmlns");
          declaredDefault = true;
          if (uri === NS.XML || uri === NS.XMLNS) throw nwf("the XML namespaces cannot be the default namespace");
          defaultNs = uri;
          if (depth === 0 && this.header) this.headerDeclaredDefault = true;
        } else {
          const p = qname(buf, ns2 + 6, ne);
          if (p === "xmlns") throw nwf("the xmlns prefix cannot be declared");
          declared ??= [];
          if (declared.includes(p)) throw nwf(`duplicate attribute xmlns:${p}`);
          declared.push(p);
          if (p === "xml") {
            if (uri !== NS.XML) throw nwf("the xml prefix cannot be rebound");
            continue;
          }
          if (uri === "") throw nwf("a prefix cannot be undeclared in XML 1.0");
          if (uri === NS.XML || uri === NS.XMLNS) throw nwf("the XML namespaces cannot be bound to another prefix");
          if (!copied) {
            prefixes = new Map(prefixes);
            copied = true;
          }
          prefixes.set(p, uri);
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
      const k = pending[p];
      const acolon = pending[p + 1];
      const ns2 = attrs[k + 1];
      const ne = attrs[k + 2];
      const prefix = qname(buf, ns2, acolon);
      const value = this.value(attrs, k);
      result ??= {};
      if (prefix === "xml") this.setAttr(result, qname(buf, ns2, ne), value);
      else {
        const uri = prefixes.get(prefix);
        if (uri === void 0) throw new StreamError("bad-namespace-prefix", `unbound prefix ${prefix}`);
        this.setAttr(result, "{" + uri + "}" + qname(buf, acolon + 1, ne), value);
      }
    }
    let name;
    let ns;
    if (colon === -1) {
      name = qn;
      ns = defaultNs;
    } else {
      const prefix = qname(buf, nameStart, colon);
      name = qname(buf, colon + 1, nameEnd);
      if (prefix === "xml") ns = NS.XML;
      else {
        ns = prefixes.get(prefix);
        if (ns === void 0) throw new StreamError("bad-namespace-prefix", `unbound prefix ${prefix}`);
      }
    }
    const elAttrs = result ?? EMPTY_ATTRS2;
    if (this.header) {
      this.rootQName = qn;
      this.defaults[0] = defaultNs;
      this.prefixesStack[0] = prefixes;
      this.root = new XmlElement(name, ns, elAttrs, EMPTY_CHILDREN2);
      this.cursor = end;
      return;
    }
    if (selfClosing) {
      this.attach(depth, new XmlElement(name, ns, elAttrs, EMPTY_CHILDREN2));
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
  gap(limit) {
    const buf = this.buf;
    let s = this.cursor;
    while (s < limit) {
      let lt = s;
      let cls = 0;
      let k;
      while (lt < limit && (k = TEXT_CLASS[buf[lt]]) !== C_LT) {
        cls |= k;
        lt++;
      }
      if (lt > s) {
        if (this.depth === 0) throw nwf("character data outside the element");
        const t = cls === 0 ? this.str.slice(s, lt) : cls === C_HIGH ? utf8Slice.call(buf, s, lt) : this.decodeSlow(s, lt, false);
        if (t !== "") this.children[this.depth - 1].push(t);
      }
      if (lt === limit) break;
      if (this.scanning && buf[lt + 1] !== 47) {
        const next = buf[lt + 1];
        if (next === 33 || next === 63) throw new StreamError("restricted-xml", "DOCTYPE, comment, CDATA or processing instruction");
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
  endTag(lt, limit) {
    const buf = this.buf;
    const d = this.depth - 1;
    const next = buf[lt + 1];
    if (next === 33 || next === 63) throw new StreamError("restricted-xml", "DOCTYPE, comment, CDATA or processing instruction");
    if (d < 0 || next !== 47) throw nwf("stray `<`");
    const qLen = this.qnameLen[d];
    const q0 = this.openStart[d] + 1;
    let i = lt + 2;
    if (i + qLen > limit) throw nwf("mismatched end tag");
    for (let k = 0; k < qLen; k++) if (buf[i + k] !== buf[q0 + k]) throw nwf("mismatched end tag");
    i += qLen;
    while (i < limit && isWsByte(buf[i])) i++;
    if (i >= limit || buf[i] !== 62) throw nwf("mismatched end tag");
    const kids = this.children[d];
    const el = new XmlElement(this.names[d], this.nss[d], this.attrsStack[d], kids.length === 0 ? EMPTY_CHILDREN2 : kids);
    this.depth = d;
    this.attach(d, el);
    return i + 1;
  }
  /**
   * `[s, e)` of the frame as a string: a slice of the frame's latin1 string when the run is
   * ASCII (no native call), else that run decoded as UTF-8 (runs start and end at ASCII
   * markup, entities or line ends, so never inside a character of the valid-UTF-8 frame).
   */
  slice(s, e) {
    if (!this.ascii) {
      const buf = this.buf;
      for (let i = s; i < e; i++) if (buf[i] >= 128) return utf8Slice.call(buf, s, e);
    }
    return this.str.slice(s, e);
  }
  /** The value of scratch attribute `k` (see {@link startTag}). */
  value(attrs, k) {
    const cls = attrs[k];
    const s = attrs[k + 3];
    const e = attrs[k + 4];
    return cls === 0 ? this.str.slice(s, e) : cls === C_HIGH ? utf8Slice.call(this.buf, s, e) : this.decodeSlow(s, e, true);
  }
  decodeSlow(s, e, attr) {
    const buf = this.buf;
    let out = "";
    let seg = s;
    for (let i = s; i < e; i++) {
      const b = buf[i];
      if (b === 38) {
        if (i > seg) out += this.slice(seg, i);
        const r = entityAt(buf, i, e);
        out += r.text;
        i = r.next - 1;
        seg = r.next;
      } else if (b === 60) {
        throw nwf(attr ? "`<` in an attribute value" : "stray `<` in character data");
      } else if (b < 32) {
        if (b === 13) {
          if (i > seg) out += this.slice(seg, i);
          out += attr ? " " : "\n";
          if (i + 1 < e && buf[i + 1] === 10) i++;
          seg = i + 1;
        } else if (b === 10 || b === 9) {
          if (attr) {
            if (i > seg) out += this.slice(seg, i);
            out += " ";
            seg = i + 1;
          }
        } else throw nwf("control character");
      } else if (b === 93) {
        if (!attr && i + 2 < e && buf[i + 1] === 93 && buf[i + 2] === 62) throw nwf("`]]>` in character data");
      } else if (b === 239) {
        if (i + 2 < e && buf[i + 1] === 191 && (buf[i + 2] === 190 || buf[i + 2] === 191)) throw nwf("U+FFFE/U+FFFF is not an XML character");
      }
    }
    if (e > seg) out += this.slice(seg, e);
    return out;
  }
  /**
   * Add an attribute, rejecting duplicates (after namespace resolution). Names are interned,
   * so a short linear scan of this tag's keys beats a keyed lookup on the object; many
   * attributes fall back to `Object.hasOwn` to stay linear.
   */
  setAttr(attrs, key, value) {
    const keys = this.keys;
    const n = this.keyCount;
    if (n <= 16) {
      for (let i = 0; i < n; i++) if (keys[i] === key) throw nwf(`duplicate attribute ${key}`);
      keys[n] = key;
      this.keyCount = n + 1;
    } else if (Object.hasOwn(attrs, key)) throw nwf(`duplicate attribute ${key}`);
    if (key === "__proto__") Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
    else attrs[key] = value;
  }
  attach(depth, el) {
    if (depth === 0) this.root = el;
    else this.children[depth - 1].push(el);
  }
};

// ../../tmp/headtree/src/core/xml/framer.ts
var FrameKind = {
  /**
   * The stream header start tag (`<stream:stream …>`), without its end. Also a top-level
   * start tag with the root's qualified name (a second header without `reset()`): it is
   * reported as soon as its start tag is complete and opens a new stream.
   */
  Header: 1,
  /** One complete top-level stanza (or, in fragment mode, the single element). */
  Stanza: 2,
  /** The stream's close tag (`</stream:stream>`); for a self-closing header, an empty frame. */
  End: 3
};
var DEFAULT_MAX_STANZA_SIZE = 65536;
var S_START = 0;
var S_BOM1 = 1;
var S_BOM2 = 2;
var S_PROLOG = 3;
var S_PROLOG_LT = 4;
var S_DECL = 5;
var S_HEADER = 6;
var S_BETWEEN = 7;
var S_BETWEEN_LT = 8;
var S_END_TAG = 9;
var S_TEXT = 10;
var S_LT = 11;
var S_OPEN = 12;
var S_CLOSE = 13;
var S_DONE = 14;
var S_FAILED = 15;
var LT = 60;
var GT = 62;
var SLASH = 47;
var QUOT = 34;
var APOS = 39;
var BANG = 33;
var QMARK = 63;
var TAG_PLAIN = new Uint8Array(256);
var END_PLAIN = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const ok = b >= 32 || b === 9 || b === 10 || b === 13;
  END_PLAIN[b] = ok && b !== GT && b !== LT ? 1 : 0;
  TAG_PLAIN[b] = END_PLAIN[b] === 1 && b !== SLASH && b !== QUOT && b !== APOS ? 1 : 0;
}
function isWs(b) {
  return b === 32 || b === 10 || b === 13 || b === 9;
}
function badNameStart(b) {
  return b <= 32 || b === LT || b === GT || b === QUOT || b === APOS || b === 61;
}
function controlError() {
  return new StreamError("not-well-formed", "control character");
}
var Framer = class {
  maxSize;
  fragment;
  sink;
  state;
  depth = 0;
  // open elements inside the current stanza
  quote = 0;
  // 0 or the quote byte we are inside, in a tag
  slash = false;
  // the last tag byte was `/` (outside quotes)
  question = false;
  // the last declaration byte was `?`
  declAllowed = false;
  // nothing but a BOM seen yet: an XML declaration may come
  /** Bytes of the unfinished frame carried over from earlier chunks. */
  pending = EMPTY;
  pendingLen = 0;
  inFrame = false;
  failure;
  /** Qualified name of the current stream root (bytes), empty before a header / in fragment mode. */
  rootName = EMPTY;
  constructor(sink, opts = {}) {
    this.sink = sink;
    this.maxSize = opts.maxSize ?? DEFAULT_MAX_STANZA_SIZE;
    this.fragment = opts.fragment === true;
    this.state = this.fragment ? S_BETWEEN : S_START;
  }
  /** Forget everything: the next bytes start a fresh stream (or fragment sequence). */
  reset() {
    this.state = this.fragment ? S_BETWEEN : S_START;
    this.depth = 0;
    this.quote = 0;
    this.slash = false;
    this.question = false;
    this.declAllowed = false;
    this.pendingLen = 0;
    this.inFrame = false;
    this.failure = void 0;
    this.rootName = EMPTY;
    if (this.pending.length > 4 * 65536) this.pending = EMPTY;
  }
  /** `true` when no frame is in progress (only whitespace since the last complete frame). */
  get idle() {
    return !this.inFrame;
  }
  /** `true` after the stream's close tag (or a self-closing header) was seen. */
  get ended() {
    return this.state === S_DONE;
  }
  /**
   * Scan `chunk`, calling the sink for every frame it completes. Throws {@link StreamError};
   * after a throw the framer stays failed and rethrows the same error.
   */
  push(chunk) {
    if (this.failure) throw this.failure;
    try {
      this.scan(chunk);
    } catch (e) {
      this.state = S_FAILED;
      this.failure = e instanceof StreamError ? e : new StreamError("internal-server-error", String(e));
      throw this.failure;
    }
  }
  scan(chunk) {
    const n = chunk.length;
    let state = this.state;
    let depth = this.depth;
    let quote = this.quote;
    let slash = this.slash;
    let start = 0;
    let i = 0;
    for (; i < n; i++) {
      const b = chunk[i];
      switch (state) {
        case S_TEXT: {
          let c = b;
          while (c !== LT) {
            if (c < 32 && c !== 10 && c !== 9 && c !== 13) throw controlError();
            if (++i === n) break;
            c = chunk[i];
          }
          if (i < n) state = S_LT;
          continue;
        }
        case S_OPEN: {
          if (quote !== 0) {
            let c2 = b;
            while (c2 !== quote) {
              if (c2 === LT) throw new StreamError("not-well-formed", "`<` in an attribute value");
              if (c2 < 32 && c2 !== 10 && c2 !== 9 && c2 !== 13) throw controlError();
              if (++i === n) break;
              c2 = chunk[i];
            }
            if (i < n) quote = 0;
            continue;
          }
          let c = b;
          if (!slash && TAG_PLAIN[c] === 1) {
            do {
              if (++i === n) break;
              c = chunk[i];
            } while (TAG_PLAIN[c] === 1);
            if (i === n) continue;
          }
          if (c === GT) {
            if (depth === 0 && this.rootName.length !== 0 && this.isRootStartTag(chunk, start)) {
              this.complete(chunk, start, i + 1, FrameKind.Header);
              if (slash) {
                this.sink(FrameKind.End, EMPTY);
                state = S_DONE;
              } else state = S_BETWEEN;
              slash = false;
              continue;
            }
            if (slash) {
              slash = false;
              if (depth === 0) {
                this.complete(chunk, start, i + 1, FrameKind.Stanza);
                state = S_BETWEEN;
                continue;
              }
            } else depth++;
            state = S_TEXT;
          } else if (slash) {
            throw new StreamError("not-well-formed", "`/` not followed by `>` in a tag");
          } else if (c === QUOT || c === APOS) quote = c;
          else if (c === SLASH) slash = true;
          else if (c === LT) throw new StreamError("not-well-formed", "`<` inside a tag");
          else throw controlError();
          continue;
        }
        case S_CLOSE: {
          let c = b;
          while (END_PLAIN[c] === 1) {
            if (++i === n) break;
            c = chunk[i];
          }
          if (i === n) continue;
          if (c === GT) {
            depth--;
            if (depth === 0) {
              this.complete(chunk, start, i + 1, FrameKind.Stanza);
              state = S_BETWEEN;
            } else state = S_TEXT;
          } else if (c === LT) throw new StreamError("not-well-formed", "`<` inside an end tag");
          else throw controlError();
          continue;
        }
        case S_LT:
          if (b === SLASH) state = S_CLOSE;
          else if (b === BANG || b === QMARK) throw restricted(b);
          else if (badNameStart(b)) throw new StreamError("not-well-formed", "stray `<`");
          else state = S_OPEN;
          continue;
        case S_BETWEEN:
          if (b === LT) {
            start = i;
            this.inFrame = true;
            state = S_BETWEEN_LT;
          } else if (!isWs(b)) {
            throw new StreamError("not-well-formed", "character data outside a stanza");
          }
          continue;
        case S_BETWEEN_LT:
          if (b === SLASH) {
            if (this.fragment) throw new StreamError("not-well-formed", "end tag without start tag");
            state = S_END_TAG;
          } else if (b === BANG || b === QMARK) throw restricted(b);
          else if (badNameStart(b)) throw new StreamError("not-well-formed", "stray `<`");
          else {
            depth = 0;
            quote = 0;
            slash = false;
            state = S_OPEN;
          }
          continue;
        case S_END_TAG:
          if (b === GT) {
            this.complete(chunk, start, i + 1, FrameKind.End);
            state = S_DONE;
          } else if (b === LT) throw new StreamError("not-well-formed", "`<` inside an end tag");
          else if (b < 32 && b !== 10 && b !== 9 && b !== 13) throw controlError();
          continue;
        case S_HEADER:
          if (quote !== 0) {
            if (b === quote) quote = 0;
            else if (b === LT) throw new StreamError("not-well-formed", "`<` in an attribute value");
            else if (b < 32 && b !== 10 && b !== 9 && b !== 13) throw controlError();
          } else if (b === GT) {
            this.complete(chunk, start, i + 1, FrameKind.Header);
            if (slash) {
              this.sink(FrameKind.End, EMPTY);
              state = S_DONE;
            } else state = S_BETWEEN;
            slash = false;
          } else if (slash) {
            throw new StreamError("not-well-formed", "`/` not followed by `>` in a tag");
          } else if (b === QUOT || b === APOS) quote = b;
          else if (b === SLASH) slash = true;
          else if (b === LT) throw new StreamError("not-well-formed", "`<` inside a tag");
          else if (b < 32 && b !== 10 && b !== 9 && b !== 13) throw controlError();
          continue;
        case S_START:
          if (b === 239) {
            state = S_BOM1;
            continue;
          }
          state = S_PROLOG;
          i--;
          this.declAllowed = true;
          continue;
        case S_BOM1:
          if (b !== 187) throw new StreamError("not-well-formed", "bytes before the stream header");
          state = S_BOM2;
          continue;
        case S_BOM2:
          if (b !== 191) throw new StreamError("not-well-formed", "bytes before the stream header");
          state = S_PROLOG;
          this.declAllowed = true;
          continue;
        case S_PROLOG:
          if (b === LT) {
            start = i;
            this.inFrame = true;
            state = S_PROLOG_LT;
          } else if (isWs(b)) {
            this.declAllowed = false;
          } else {
            throw new StreamError("not-well-formed", "character data before the stream header");
          }
          continue;
        case S_PROLOG_LT:
          if (b === QMARK) {
            if (!this.declAllowed) throw restricted(b);
            this.declAllowed = false;
            this.question = false;
            state = S_DECL;
          } else if (b === BANG) throw restricted(b);
          else if (b === SLASH || badNameStart(b)) throw new StreamError("not-well-formed", "stray `<` before the stream header");
          else {
            this.declAllowed = false;
            quote = 0;
            slash = false;
            state = S_HEADER;
          }
          continue;
        case S_DECL:
          if (b === GT && this.question) {
            this.question = false;
            this.complete(chunk, start, i + 1, 0);
            state = S_PROLOG;
          } else {
            if (b < 32 && b !== 10 && b !== 9 && b !== 13) throw controlError();
            this.question = b === QMARK;
          }
          continue;
        case S_DONE:
          if (!isWs(b)) throw new StreamError("not-well-formed", "data after the end of the stream");
          continue;
        default:
          throw new StreamError("internal-server-error", "framer used after failure");
      }
    }
    this.state = state;
    this.depth = depth;
    this.quote = quote;
    this.slash = slash;
    if (this.inFrame) {
      const len = this.pendingLen + (n - start);
      if (len > this.maxSize) throw tooBig(this.maxSize);
      this.append(chunk, start, n);
    }
  }
  /** A frame ends at `end` (exclusive) in `chunk`; it began at `start` or in `pending`. */
  complete(chunk, start, end, kind) {
    const pendingLen = this.pendingLen;
    const len = pendingLen + (end - start);
    if (len > this.maxSize) throw tooBig(this.maxSize);
    let bytes2;
    if (pendingLen === 0) bytes2 = new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start);
    else {
      this.append(chunk, start, end);
      bytes2 = new Uint8Array(this.pending.buffer, this.pending.byteOffset, len);
    }
    this.pendingLen = 0;
    this.inFrame = false;
    if (kind === FrameKind.Header) this.rootName = startTagName(bytes2);
    if (kind === 0) checkXmlDecl(bytes2);
    else this.sink(kind, bytes2);
  }
  /**
   * The top-level start tag that just ended (its frame began at `start` in `chunk`, or in
   * `pending` when that holds bytes) has the stream root's qualified name. Runs once per
   * stanza, on the stanza's first `>`.
   */
  isRootStartTag(chunk, start) {
    const name = this.rootName;
    const pending = this.pending;
    const pendingLen = this.pendingLen;
    const n = name.length;
    for (let k = 1; k <= n + 1; k++) {
      const b = k < pendingLen ? pending[k] : chunk[start + k - pendingLen];
      if (k <= n) {
        if (b !== name[k - 1]) return false;
      } else return isWs(b) || b === SLASH || b === GT;
    }
    return false;
  }
  append(chunk, start, end) {
    const need = this.pendingLen + (end - start);
    if (need > this.pending.length) {
      const grown = new Uint8Array(Math.max(need, Math.min(this.pending.length * 2 || 1024, this.maxSize)));
      grown.set(this.pending.subarray(0, this.pendingLen));
      this.pending = grown;
    }
    this.pending.set(chunk.subarray(start, end), this.pendingLen);
    this.pendingLen = need;
  }
};
var EMPTY = new Uint8Array(0);
function startTagName(bytes2) {
  let e = 1;
  while (e < bytes2.length && !isWs(bytes2[e]) && bytes2[e] !== SLASH && bytes2[e] !== GT) e++;
  return new Uint8Array(bytes2.subarray(1, e));
}
function restricted(b) {
  return new StreamError("restricted-xml", b === BANG ? "DOCTYPE, comment or CDATA section" : "processing instruction");
}
function tooBig(max) {
  return new StreamError("policy-violation", `stanza larger than ${max} bytes`);
}
var XML_DECL = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>$/;
function checkXmlDecl(bytes2) {
  let s = "";
  for (let i = 0; i < bytes2.length; i++) {
    const b = bytes2[i];
    s += b < 128 ? String.fromCharCode(b) : "\uFFFD";
  }
  const target = /^<\?([^ \t\r\n?]*)/.exec(s)?.[1] ?? "";
  if (target !== "xml") {
    throw new StreamError(target.toLowerCase() === "xml" ? "not-well-formed" : "restricted-xml", "processing instruction");
  }
  const m = XML_DECL.exec(s);
  if (!m) throw new StreamError("not-well-formed", "malformed XML declaration");
  const enc = m[1] ?? m[2];
  if (enc !== void 0 && enc.toLowerCase() !== "utf-8") {
    throw new StreamError("unsupported-encoding", `encoding ${enc}`);
  }
}

// ../../tmp/headtree/src/core/xml/tokenizer.ts
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { SaxEventType } from "sax-wasm";
var MAX_WRITE = 65536;
var MAX_MEMORY = 8 * 1024 * 1024;
var EVENTS = SaxEventType.OpenTagStart | SaxEventType.Doctype | SaxEventType.Comment | SaxEventType.ProcessingInstruction | SaxEventType.Declaration | SaxEventType.Cdata;
var EV_OPEN_START = SaxEventType.OpenTagStart;
var TAG_NAME_LEN = 8;
var TAG_START = 112;
var compiled;
function wasmModule() {
  if (compiled === void 0) {
    const path = createRequire(import.meta.url).resolve("sax-wasm/lib/sax-wasm.wasm");
    const bytes2 = new Uint8Array(readFileSync(path));
    compiled = new WA.Module(bytes2);
  }
  return compiled;
}
var WA = globalThis.WebAssembly;
var Tokenizer = class {
  /** Counters; tests use them to prove that oversized input never reaches wasm. */
  stats = { writes: 0, bytes: 0, instances: 0 };
  /** Recreate the wasm instance after a frame once its memory exceeds this many bytes. */
  maxMemory = MAX_MEMORY;
  exports;
  memBuf;
  u8;
  u32;
  sink;
  error;
  busy = false;
  restricted = false;
  // The frames of the current write, back to back from wasm offset 4: frame k starts at
  // bases[k] (in sax-wasm's offsets, which count from the first byte written after end()).
  bases = new Int32Array(64);
  baseCount = 0;
  cur = 0;
  one = [];
  constructor() {
    this.instantiate();
  }
  instantiate() {
    const instance = new WA.Instance(wasmModule(), { env: { event_listener: this.trap } });
    this.exports = instance.exports;
    this.exports.parser(EVENTS);
    this.refreshViews();
    this.stats.instances++;
  }
  refreshViews() {
    this.memBuf = this.exports.memory.buffer;
    this.u8 = new Uint8Array(this.memBuf);
    this.u32 = new Uint32Array(this.memBuf, 0, this.memBuf.byteLength >>> 2);
  }
  /** Bytes of wasm memory currently held by the instance. */
  get memoryBytes() {
    return this.exports.memory.buffer.byteLength;
  }
  /** Tokenize one complete frame: {@link tokenizeFrames} with a single frame. */
  tokenize(frame, sink) {
    const one = this.one;
    one[0] = frame;
    try {
      this.tokenizeFrames(one, 1, sink);
    } finally {
      one[0] = EMPTY2;
    }
  }
  /**
   * Tokenize `count` complete frames, calling `sink` synchronously and in order (its
   * {@link TokenSink.endFrame} once per frame). Frames are packed back to back into as few
   * `write()` + `end()` calls as fit {@link MAX_WRITE}: a write and an `end()` cost about a
   * microsecond each, as much as tokenizing a small stanza (measured: 60 → 187 MiB/s for the
   * wasm scan alone when 64 KiB of stanzas share one write). Every write holds only whole
   * frames, so nothing spans a write (§1.6) — except a frame larger than {@link MAX_WRITE},
   * written alone in pieces cut right after a `>` (the validated workaround). Because every
   * frame before a write's last one is well-formed by the time the next is reported (the
   * builder checks every byte), sax-wasm starts each frame in its between-elements state.
   *
   * The first error — thrown by the sink or found by the tokenizer — stops the run: later
   * frames are not reported, and the error is rethrown once the wasm parser has been reset
   * (never thrown through wasm frames). Frames finished before it stay finished.
   */
  tokenizeFrames(frames, count, sink) {
    if (this.busy) throw new StreamError("internal-server-error", "tokenizer re-entered");
    this.busy = true;
    this.sink = sink;
    this.error = void 0;
    this.restricted = false;
    try {
      let i = 0;
      while (i < count && this.error === void 0) {
        const first = frames[i];
        if (first.length > MAX_WRITE) {
          this.writeLarge(first);
          i++;
        } else {
          let total = 0;
          let n = 0;
          if (this.u8.length === 0) this.refreshViews();
          while (i < count) {
            const f = frames[i];
            if (f.length > MAX_WRITE - total) break;
            if (n === this.bases.length) {
              const grown = new Int32Array(n * 2);
              grown.set(this.bases);
              this.bases = grown;
            }
            this.bases[n++] = total;
            this.u8.set(f, 4 + total);
            total += f.length;
            i++;
          }
          this.baseCount = n;
          this.cur = 0;
          this.stats.writes++;
          this.stats.bytes += total;
          this.exports.write(4, total);
          this.exports.end();
          this.finishWrite();
        }
      }
      if (this.restricted) this.error ??= new StreamError("restricted-xml", "DOCTYPE, comment, CDATA or processing instruction");
    } catch (e) {
      this.instantiate();
      this.error ??= new StreamError("not-well-formed", "tokenizer failure: " + String(e));
    } finally {
      this.sink = void 0;
      this.busy = false;
    }
    if (this.u8.length === 0) this.refreshViews();
    if (this.memBuf.byteLength > this.maxMemory) this.instantiate();
    if (this.error !== void 0) {
      const e = this.error;
      this.error = void 0;
      throw e;
    }
  }
  /** A frame larger than one write: several writes, one `end()`; offsets run on across them. */
  writeLarge(frame) {
    this.bases[0] = 0;
    this.baseCount = 1;
    this.cur = 0;
    const len = frame.length;
    let pos = 0;
    while (pos < len && this.error === void 0) {
      const end = len - pos > MAX_WRITE ? cutPoint(frame, pos, pos + MAX_WRITE) : len;
      if (this.u8.length === 0) this.refreshViews();
      this.u8.set(frame.subarray(pos, end), 4);
      this.stats.writes++;
      this.stats.bytes += end - pos;
      this.exports.write(4, end - pos);
      pos = end;
    }
    this.exports.end();
    this.finishWrite();
  }
  /** After a write's `end()`: close the frames that had no start tag after their last one. */
  finishWrite() {
    const sink = this.sink;
    while (this.error === void 0 && !this.restricted && this.cur < this.baseCount) {
      this.cur++;
      try {
        sink.endFrame();
      } catch (e) {
        this.error = e;
      }
    }
  }
  // Called by wasm for each subscribed event. Never throws into wasm: the first error is
  // kept and later events of the run are ignored.
  trap = (event, ptr) => {
    if (this.error !== void 0 || this.restricted) return;
    const sink = this.sink;
    if (sink === void 0) return;
    try {
      if (this.u8.length === 0) this.refreshViews();
      if (event === EV_OPEN_START) {
        const start = this.read32(ptr + TAG_START);
        const bases = this.bases;
        let cur = this.cur;
        while (cur + 1 < this.baseCount && start >= bases[cur + 1]) {
          this.cur = ++cur;
          sink.endFrame();
        }
        sink.startTag(start - bases[cur], this.read32(ptr + TAG_NAME_LEN));
      } else {
        this.restricted = true;
      }
    } catch (e) {
      this.error = e;
    }
  };
  read32(p) {
    if ((p & 3) === 0) return this.u32[p >>> 2];
    const u8 = this.u8;
    return (u8[p] | u8[p + 1] << 8 | u8[p + 2] << 16 | u8[p + 3] << 24) >>> 0;
  }
};
var EMPTY2 = new Uint8Array(0);
function cutPoint(frame, pos, limit) {
  for (let i = limit - 1; i > pos; i--) if (frame[i] === 62) return i + 1;
  let cut = limit;
  while (cut > pos + 1 && (frame[cut] & 192) === 128) cut--;
  return cut;
}
var shared;
function sharedTokenizer() {
  return shared ??= new Tokenizer();
}

// ../../tmp/headtree/src/core/xml/stream-parser.ts
var builder = new ElementBuilder();
var EMPTY_SCOPE = rootScope(void 0);
var StreamParser = class {
  framer;
  events = [];
  scope = EMPTY_SCOPE;
  qname = "";
  failure;
  builtin;
  constructor(opts = {}) {
    this.builtin = opts.tokenizer === "builtin";
    this.framer = new Framer(this.onFrame, { maxSize: opts.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE });
  }
  /**
   * Feed bytes; returns the events completed by this chunk, in order.
   *
   * On malformed input the parser fails for good and records the {@link StreamError} in
   * {@link error}. Events completed *before* the fault in the same chunk are not lost (a
   * header and a bad stanza in one TCP read: the c2s must still answer the header first):
   * - if the failing chunk completed events, `push()` returns them and does not throw;
   * - otherwise (and on any call after the failure) it throws {@link error}.
   *
   * So a caller delivers the returned events, then checks {@link error}; a caller that only
   * catches still sees every error, at the latest on its next `push()`.
   */
  push(chunk) {
    if (this.failure) throw this.failure;
    const events = [];
    this.events = events;
    this.chunk = chunk;
    let error;
    try {
      this.framer.push(chunk);
    } catch (e) {
      error = e;
    }
    try {
      this.flush();
    } catch (e) {
      error = e;
    }
    this.chunk = EMPTY3;
    if (error !== void 0) {
      this.failure = error instanceof StreamError ? error : new StreamError("internal-server-error", String(error));
      if (events.length === 0) throw this.failure;
    }
    return events;
  }
  /** The error the parser failed with, if it failed (see {@link push}). */
  get error() {
    return this.failure;
  }
  /**
   * Expect a fresh stream header (after STARTTLS or SASL success, RFC 6120 §5.4.3.3 and
   * §6.4.6): forget the old root, its scope and any buffered partial data.
   */
  reset() {
    this.framer.reset();
    this.scope = EMPTY_SCOPE;
    this.qname = "";
    this.failure = void 0;
  }
  // Stanza frames of the current push, tokenized together (one wasm write for many stanzas).
  batch = [];
  batchCount = 0;
  batchDone = 0;
  chunk = EMPTY3;
  onFrame = (kind, bytes2) => {
    if (kind === FrameKind.Stanza) {
      if (this.builtin) {
        builder.begin(bytes2, this.scope);
        builder.scan();
        this.events.push({ type: "element", element: builder.finish(), size: bytes2.length });
        return;
      }
      const frame = bytes2.buffer === this.chunk.buffer ? bytes2 : bytes2.slice();
      this.batch[this.batchCount++] = frame;
      if (this.batchCount >= MAX_BATCH) this.flush();
      return;
    }
    this.flush();
    if (kind === FrameKind.Header) {
      builder.begin(bytes2, EMPTY_SCOPE, true);
      if (this.builtin) builder.scan();
      else sharedTokenizer().tokenize(bytes2, builder);
      const info = builder.finishHeader();
      this.scope = info.scope;
      this.qname = info.qname;
      this.events.push({ type: "streamStart", header: info.element, contentNs: info.contentNs });
    } else {
      if (bytes2.length > 0 && !isStreamClose(bytes2, this.qname)) throw new StreamError("not-well-formed", "mismatched stream end tag");
      this.events.push({ type: "streamEnd" });
    }
  };
  /** Build the batched stanzas, in order; an error stops at the first bad one. */
  flush() {
    const n = this.batchCount;
    if (n === 0) return;
    this.batchDone = 0;
    builder.begin(this.batch[0], this.scope);
    try {
      sharedTokenizer().tokenizeFrames(this.batch, n, this.sink);
    } finally {
      this.batch.fill(EMPTY3, 0, n);
      this.batchCount = 0;
    }
  }
  // The tokenizer's sink: start tags go straight to the builder; at the end of each frame the
  // element is finished and the next frame begun.
  sink = {
    startTag: (start, nameLen) => builder.startTag(start, nameLen),
    endFrame: () => {
      const frame = this.batch[this.batchDone];
      this.events.push({ type: "element", element: builder.finish(), size: frame.length });
      const next = ++this.batchDone;
      if (next < this.batchCount) builder.begin(this.batch[next], this.scope);
    }
  };
};
var MAX_BATCH = 1024;
var EMPTY3 = new Uint8Array(0);
function isStreamClose(bytes2, qname2) {
  if (bytes2[0] !== 60 || bytes2[1] !== 47) return false;
  const q = Buffer.from(qname2);
  let i = 2;
  for (let k = 0; k < q.length; k++, i++) if (bytes2[i] !== q[k]) return false;
  for (; i < bytes2.length - 1; i++) {
    const b = bytes2[i];
    if (b !== 32 && b !== 9 && b !== 10 && b !== 13) return false;
  }
  return i === bytes2.length - 1 && bytes2[i] === 62;
}

// ../../tmp/pipeb_head.ts
var bytes = readFileSync2("/tmp/stream.bin");
var mib = bytes.length / 1048576;
var chunks = [];
for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
var res = [];
for (const kind of ["builtin", "sax-wasm"]) {
  let best = 1e9;
  for (let r = 0; r < 6; r++) {
    const p = new StreamParser({ tokenizer: kind });
    const t = performance.now();
    for (const c of chunks) p.push(c);
    best = Math.min(best, performance.now() - t);
  }
  res.push(`${kind} ${(mib / (best / 1e3)).toFixed(1)}`);
}
console.log(res.join("  "));
