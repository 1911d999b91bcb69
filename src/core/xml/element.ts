/**
 * The XML element model shared by every block: the parser produces it, modules read and
 * build it, the serializer writes it.
 *
 * Elements are immutable by convention: code that wants a changed element builds a new one
 * (see {@link XmlElement.withAttrs}) instead of mutating one that another module may hold.
 *
 * Namespaces are resolved values, not attributes. `ns` is the element's namespace URI; it is
 * `undefined` only on elements built in code without an `xmlns`, which means "the namespace of
 * whatever parent it is placed under" (for a top-level stanza, the stream's content namespace).
 * Attribute keys are local names for unprefixed attributes, `xml:lang` / `xml:space` for the
 * predefined `xml` prefix, and `{uri}local` for any other namespaced attribute.
 *
 * @module
 */

/** A child node: an element or a text run (already unescaped). */
export type XmlNode = XmlElement | string;

/** Attribute map of an element; see the module comment for key conventions. */
export type XmlAttrs = Readonly<Record<string, string>>;

/** An XML element with resolved namespace. */
export class XmlElement {
  /** Local name (never prefixed). */
  readonly name: string;
  /** Namespace URI, or `undefined` for "inherit from the parent it is placed under". */
  readonly ns: string | undefined;
  /** Attributes (see module comment for key conventions). `xmlns` is never a key. */
  readonly attrs: XmlAttrs;
  /** Children in document order. */
  readonly children: readonly XmlNode[];

  constructor(name: string, ns: string | undefined, attrs: XmlAttrs = EMPTY_ATTRS, children: readonly XmlNode[] = EMPTY_CHILDREN) {
    this.name = name;
    this.ns = ns;
    this.attrs = attrs;
    this.children = children;
  }

  /** The value of attribute `name`, or `undefined`. */
  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  /** `true` when this element has local name `name` and (if given) namespace `ns`. */
  is(name: string, ns?: string): boolean {
    return this.name === name && (ns === undefined || this.ns === ns);
  }

  /**
   * The first child element named `name`, in namespace `ns` when given. A child whose `ns` is
   * `undefined` inherits this element's namespace.
   */
  getChild(name: string, ns?: string): XmlElement | undefined {
    for (const c of this.children) {
      if (typeof c !== 'string' && c.name === name && (ns === undefined || (c.ns ?? this.ns) === ns)) return c;
    }
    return undefined;
  }

  /** Every child element named `name` (and in `ns` when given). */
  getChildren(name: string, ns?: string): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of this.children) {
      if (typeof c !== 'string' && c.name === name && (ns === undefined || (c.ns ?? this.ns) === ns)) out.push(c);
    }
    return out;
  }

  /** The first child element in namespace `ns`, whatever its name. */
  getChildByNs(ns: string): XmlElement | undefined {
    for (const c of this.children) {
      if (typeof c !== 'string' && (c.ns ?? this.ns) === ns) return c;
    }
    return undefined;
  }

  /** All child elements (text nodes skipped). */
  elements(): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of this.children) if (typeof c !== 'string') out.push(c);
    return out;
  }

  /** Concatenated direct text children. */
  text(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  /** Text of the first child named `name` (in `ns` when given), or `undefined` when absent. */
  getChildText(name: string, ns?: string): string | undefined {
    return this.getChild(name, ns)?.text();
  }

  /** A copy with some attributes replaced; a value of `undefined` removes the attribute. */
  withAttrs(changes: Readonly<Record<string, string | undefined>>): XmlElement {
    const attrs: Record<string, string> = { ...this.attrs };
    for (const k in changes) {
      const v = changes[k];
      if (v === undefined) delete attrs[k];
      else attrs[k] = v;
    }
    return new XmlElement(this.name, this.ns, attrs, this.children);
  }

  /** A copy with other children. */
  withChildren(children: readonly XmlNode[]): XmlElement {
    return new XmlElement(this.name, this.ns, this.attrs, children);
  }

  /** A copy with `child` appended. */
  append(...children: XmlNode[]): XmlElement {
    return new XmlElement(this.name, this.ns, this.attrs, [...this.children, ...children]);
  }

  /** A copy without the children for which `drop` returns true. */
  filterChildren(keep: (c: XmlNode) => boolean): XmlElement {
    return new XmlElement(this.name, this.ns, this.attrs, this.children.filter(keep));
  }

  /** A copy with an explicit namespace (used when an element leaves its parent's scope). */
  withNs(ns: string | undefined): XmlElement {
    return new XmlElement(this.name, ns, this.attrs, this.children);
  }

  /** Structural equality with namespace inheritance taken into account. */
  equals(other: XmlElement, parentNs?: string, otherParentNs?: string): boolean {
    const a = this.ns ?? parentNs;
    const b = other.ns ?? otherParentNs;
    if (this.name !== other.name || a !== b) return false;
    const ka = Object.keys(this.attrs);
    if (ka.length !== Object.keys(other.attrs).length) return false;
    for (const k of ka) if (this.attrs[k] !== other.attrs[k]) return false;
    // Adjacent text runs are one text node in XML: compare normalised child lists.
    const ca = mergeText(this.children);
    const cb = mergeText(other.children);
    if (ca.length !== cb.length) return false;
    for (let i = 0; i < ca.length; i++) {
      const x = ca[i]!;
      const y = cb[i]!;
      if (typeof x === 'string' || typeof y === 'string') {
        if (x !== y) return false;
      } else if (!x.equals(y, a, b)) return false;
    }
    return true;
  }
}

const EMPTY_ATTRS: XmlAttrs = Object.freeze({});
const EMPTY_CHILDREN: readonly XmlNode[] = Object.freeze([]);

function mergeText(children: readonly XmlNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const c of children) {
    if (typeof c === 'string') {
      if (c === '') continue;
      const last = out[out.length - 1];
      if (typeof last === 'string') out[out.length - 1] = last + c;
      else out.push(c);
    } else out.push(c);
  }
  return out;
}

/** Attributes accepted by {@link xml}: `xmlns` sets the namespace; `undefined` values are skipped. */
export type XmlBuildAttrs = Readonly<Record<string, string | number | undefined>>;

/** A child accepted by {@link xml}: falsy values are skipped, arrays are flattened. */
export type XmlBuildChild = XmlNode | number | null | undefined | false | readonly XmlBuildChild[];

/**
 * Build an element: `xml('message', { to, type: 'chat' }, xml('body', {}, 'hi'))`.
 * `xmlns` in `attrs` sets the element's namespace; children without their own inherit it.
 */
export function xml(name: string, attrs?: XmlBuildAttrs | null, ...children: XmlBuildChild[]): XmlElement {
  let ns: string | undefined;
  const a: Record<string, string> = {};
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === undefined) continue;
      if (k === 'xmlns') ns = String(v);
      else a[k] = String(v);
    }
  }
  const out: XmlNode[] = [];
  pushChildren(out, children);
  return new XmlElement(name, ns, a, out);
}

function pushChildren(out: XmlNode[], children: readonly XmlBuildChild[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (typeof c === 'number') out.push(String(c));
    else if (Array.isArray(c)) pushChildren(out, c);
    else out.push(c as XmlNode);
  }
}
