/**
 * XML for XMPP: the element model, the serializer and the streaming parser.
 * @module
 */
export * from './element.ts';
export * from './serialize.ts';
export { StreamParser, type StreamEvent, type StreamParserOptions } from './stream-parser.ts';
export { parseElement, type ParseElementOptions } from './parse-element.ts';
export { DEFAULT_MAX_STANZA_SIZE } from './framer.ts';
export type { TokenizerKind } from './tokenizer.ts';
