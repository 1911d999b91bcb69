/**
 * XEP-0363 on the wire: the slot request, the slot, the errors, the service's disco#info.
 * @module
 */
import { NS_DATA_FORMS } from '../../core/data-forms.ts';
import { StanzaError } from '../../core/errors.ts';
import { NS } from '../../core/namespaces.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';

export const NS_HTTP_UPLOAD = 'urn:xmpp:http:upload:0';

/** A parsed slot request (§4). */
export interface SlotRequest {
  readonly filename: string;
  readonly size: number;
  readonly contentType: string | undefined;
}

const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;[a-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/;

/** A media type without spaces, lowercased, or `undefined` when it is not one. */
export function normalizeContentType(value: string): string | undefined {
  const v = value.replace(/\s+/g, '').toLowerCase();
  return MEDIA_TYPE.test(v) ? v : undefined;
}

/**
 * A file name is one path segment: no `/` or `\`, no control characters, not `.` or `..`, at
 * most 255 UTF-8 bytes. It only ever appears in URLs; files are stored by slot id.
 */
export function isValidFilename(name: string): boolean {
  return (
    name !== '' &&
    name !== '.' &&
    name !== '..' &&
    // eslint-disable-next-line no-control-regex
    !/[/\\\u0000-\u001f\u007f]/.test(name) &&
    Buffer.byteLength(name) <= 255
  );
}

/** §4: `<request filename size content-type?/>`; `bad-request` when malformed. */
export function parseSlotRequest(el: XmlElement): SlotRequest {
  const filename = el.attrs.filename;
  if (filename === undefined || !isValidFilename(filename)) throw new StanzaError('bad-request', 'the filename must be a plain file name');
  const sizeText = el.attrs.size ?? '';
  if (!/^\d{1,15}$/.test(sizeText) || Number(sizeText) <= 0) throw new StanzaError('bad-request', 'the size must be a positive integer');
  const ct = el.attrs['content-type'];
  let contentType: string | undefined;
  if (ct !== undefined && ct.trim() !== '') {
    contentType = normalizeContentType(ct);
    if (contentType === undefined) throw new StanzaError('bad-request', 'the content-type is not a media type');
  }
  return { filename, size: Number(sizeText), contentType };
}

/** §4: the slot answer. */
export function slotElement(putUrl: string, getUrl: string): XmlElement {
  return xml('slot', { xmlns: NS_HTTP_UPLOAD }, xml('put', { url: putUrl }), xml('get', { url: getUrl }));
}

/** §5.1 (error 1): the file is larger than the service takes. */
export function fileTooLarge(max: number): StanzaError {
  return new StanzaError('not-acceptable', {
    text: `File too large. The maximum file size is ${max} bytes`,
    appCondition: xml('file-too-large', { xmlns: NS_HTTP_UPLOAD }, xml('max-file-size', {}, String(max))),
  });
}

/** §5.1 (error 2): quota reached; `<retry stamp/>` says when to ask again. */
export function quotaReached(retry: Date): StanzaError {
  return new StanzaError('resource-constraint', {
    text: 'Upload quota reached',
    appCondition: xml('retry', { xmlns: NS_HTTP_UPLOAD, stamp: retry.toISOString().replace(/\.\d{3}Z$/, 'Z') }),
  });
}

/** §3: identity `store/file`, the feature and the XEP-0128 form with `max-file-size`. */
export function serviceInfo(name: string, maxFileSize: number): XmlElement {
  return xml(
    'query',
    { xmlns: NS.DISCO_INFO },
    xml('identity', { category: 'store', type: 'file', name }),
    [NS.DISCO_INFO, NS.DISCO_ITEMS, NS_HTTP_UPLOAD].map((v) => xml('feature', { var: v })),
    xml(
      'x',
      { xmlns: NS_DATA_FORMS, type: 'result' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_HTTP_UPLOAD)),
      xml('field', { var: 'max-file-size' }, xml('value', {}, String(maxFileSize))),
    ),
  );
}
