/**
 * RFC 6120 error values: stream errors (§4.9) and stanza errors (§8.3), each mapped to XML in
 * exactly one place ({@link StreamError.toElement}, {@link StanzaError.toElement}).
 *
 * Errors are values: code throws or returns `new StanzaError('service-unavailable')`, and the
 * layer that owns the wire turns it into XML.
 * @module
 */
import { XmlElement, xml } from './xml/element.ts';
import { NS } from './namespaces.ts';

/** Stream error conditions, RFC 6120 §4.9.3. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** Every {@link StreamErrorCondition}, for validating received conditions. */
export const STREAM_ERROR_CONDITIONS: ReadonlySet<string> = new Set<StreamErrorCondition>([
  'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout', 'host-gone', 'host-unknown',
  'improper-addressing', 'internal-server-error', 'invalid-from', 'invalid-namespace', 'invalid-xml',
  'not-authorized', 'not-well-formed', 'policy-violation', 'remote-connection-failed', 'reset',
  'resource-constraint', 'restricted-xml', 'see-other-host', 'system-shutdown', 'undefined-condition',
  'unsupported-encoding', 'unsupported-feature', 'unsupported-stanza-type', 'unsupported-version',
]);

/** Stanza error types, RFC 6120 §8.3.2. */
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Stanza error conditions with their usual type (RFC 6120 §8.3.3). */
export const STANZA_ERROR_DEFAULT_TYPE = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const satisfies Record<string, StanzaErrorType>;

/** Stanza error conditions, RFC 6120 §8.3.3. */
export type StanzaErrorCondition = keyof typeof STANZA_ERROR_DEFAULT_TYPE;

/** Optional details of an error value. */
export interface ErrorDetails {
  /** Human-readable `<text/>`. */
  readonly text?: string | undefined;
  /** `xml:lang` of the text. */
  readonly lang?: string | undefined;
  /** An application-specific condition element, appended after the defined condition. */
  readonly appCondition?: XmlElement | undefined;
}

/** A stream-level error (RFC 6120 §4.9): sent as `<stream:error>`, then the stream closes. */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly condition: StreamErrorCondition;
  readonly text: string | undefined;
  readonly lang: string | undefined;
  readonly appCondition: XmlElement | undefined;

  constructor(condition: StreamErrorCondition, details: ErrorDetails | string = {}) {
    const d: ErrorDetails = typeof details === 'string' ? { text: details } : details;
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
  static fromElement(el: XmlElement): StreamError {
    let condition: StreamErrorCondition | undefined;
    let text: string | undefined;
    let lang: string | undefined;
    let appCondition: XmlElement | undefined;
    for (const c of el.children) {
      if (typeof c === 'string') continue;
      if ((c.ns ?? el.ns) === NS.STREAM_ERRORS) {
        if (c.name === 'text') {
          text = c.text();
          lang = c.attrs['xml:lang'];
        } else condition ??= STREAM_ERROR_CONDITIONS.has(c.name) ? (c.name as StreamErrorCondition) : 'undefined-condition';
      } else appCondition ??= c;
    }
    return new StreamError(condition ?? 'undefined-condition', { text, lang, appCondition });
  }

  /** `<stream:error>` in the streams namespace (written with the `stream:` prefix on a stream). */
  toElement(): XmlElement {
    return xml(
      'error',
      { xmlns: NS.STREAMS },
      xml(this.condition, { xmlns: NS.STREAM_ERRORS }),
      this.text !== undefined && xml('text', { xmlns: NS.STREAM_ERRORS, 'xml:lang': this.lang ?? 'en' }, this.text),
      this.appCondition,
    );
  }
}

/** A stanza-level error (RFC 6120 §8.3): returned to the sender, the stream stays open. */
export class StanzaError extends Error {
  override readonly name = 'StanzaError';
  readonly condition: StanzaErrorCondition;
  readonly type: StanzaErrorType;
  readonly text: string | undefined;
  readonly lang: string | undefined;
  readonly appCondition: XmlElement | undefined;
  /** The entity that generated the error (`by` attribute), when known. */
  readonly by: string | undefined;

  constructor(condition: StanzaErrorCondition, details: (ErrorDetails & { type?: StanzaErrorType; by?: string }) | string = {}) {
    const d = typeof details === 'string' ? { text: details } : details;
    super(d.text ? `${condition}: ${d.text}` : condition);
    this.condition = condition;
    this.type = ('type' in d && d.type) || STANZA_ERROR_DEFAULT_TYPE[condition];
    this.text = d.text;
    this.lang = d.lang;
    this.appCondition = d.appCondition;
    this.by = 'by' in d ? d.by : undefined;
  }

  /** The `<error/>` child element (namespace inherited from the stanza). */
  toElement(): XmlElement {
    return xml(
      'error',
      { type: this.type, by: this.by },
      xml(this.condition, { xmlns: NS.STANZA_ERRORS }),
      this.text !== undefined && xml('text', { xmlns: NS.STANZA_ERRORS, 'xml:lang': this.lang ?? 'en' }, this.text),
      this.appCondition,
    );
  }
}
