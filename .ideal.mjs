// ../../tmp/ideal.ts
import { readFileSync as readFileSync2 } from "node:fs";

// src/core/xml/element.ts
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

// src/core/namespaces.ts
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

// src/core/errors.ts
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

// src/core/xml/framer.ts
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

// src/core/xml/tokenizer.ts
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
  tokenizeFrames(frames2, count, sink) {
    if (this.busy) throw new StreamError("internal-server-error", "tokenizer re-entered");
    this.busy = true;
    this.sink = sink;
    this.error = void 0;
    this.restricted = false;
    try {
      let i = 0;
      while (i < count && this.error === void 0) {
        const first = frames2[i];
        if (first.length > MAX_WRITE) {
          this.writeLarge(first);
          i++;
        } else {
          let total = 0;
          let n = 0;
          if (this.u8.length === 0) this.refreshViews();
          while (i < count) {
            const f = frames2[i];
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
        let cur2 = this.cur;
        while (cur2 + 1 < this.baseCount && start >= bases[cur2 + 1]) {
          this.cur = ++cur2;
          sink.endFrame();
        }
        sink.startTag(start - bases[cur2], this.read32(ptr + TAG_NAME_LEN));
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

// ../../tmp/ideal.ts
var bytes = readFileSync2("/tmp/stream.bin");
var mib = bytes.length / 1048576;
var frames = [];
new Framer((k, b) => {
  if (k === FrameKind.Stanza) frames.push(b.slice());
}).push(bytes);
var tags = [];
var cur = [];
sharedTokenizer().tokenizeFrames(frames, frames.length, { startTag(s) {
  cur.push(s);
}, endFrame() {
  tags.push(Int32Array.from(cur));
  cur = [];
} });
var latin1Slice = Buffer.prototype.latin1Slice;
var EMPTY3 = [];
function build(buf, tg) {
  const str = latin1Slice.call(buf, 0, buf.length);
  const stack = [];
  const kidsStack = [];
  let root;
  let pos = 0;
  let ti = 0;
  const len = buf.length;
  while (pos < len) {
    if (ti < tg.length && tg[ti] === pos) {
      ti++;
      let p = pos + 1;
      while (buf[p] !== 32 && buf[p] !== 62 && buf[p] !== 47) p++;
      const name = str.slice(pos + 1, p);
      let attrs = void 0;
      for (; ; ) {
        while (buf[p] === 32) p++;
        if (buf[p] === 62) {
          p++;
          break;
        }
        if (buf[p] === 47) {
          p += 2;
          attrs ??= {};
          const el = new XmlElement(name, void 0, attrs, EMPTY3);
          if (stack.length) kidsStack[kidsStack.length - 1].push(el);
          else root = el;
          pos = p;
          attrs = null;
          break;
        }
        const ns = p;
        while (buf[p] !== 61) p++;
        const an = str.slice(ns, p);
        p++;
        const q = buf[p];
        p++;
        const vs = p;
        while (buf[p] !== q) p++;
        (attrs ??= {})[an] = str.slice(vs, p);
        p++;
      }
      if (attrs === null) continue;
      stack.push([name, attrs ?? {}]);
      kidsStack.push([]);
      pos = p;
    } else if (buf[pos] === 60) {
      while (buf[pos] !== 62) pos++;
      pos++;
      const [n, a] = stack.pop();
      const kids = kidsStack.pop();
      const el = new XmlElement(n, void 0, a, kids);
      if (stack.length) kidsStack[kidsStack.length - 1].push(el);
      else root = el;
    } else {
      const s = pos;
      while (buf[pos] !== 60) pos++;
      kidsStack[kidsStack.length - 1].push(str.slice(s, pos));
    }
  }
  return root;
}
var best = 1e9;
for (let r = 0; r < 10; r++) {
  const t = performance.now();
  let n = 0;
  for (let i = 0; i < frames.length; i++) if (build(frames[i], tags[i])) n++;
  best = Math.min(best, performance.now() - t);
}
console.log("ideal unchecked builder ms/MiB", (best / mib).toFixed(2));
