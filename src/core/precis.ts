/**
 * PRECIS (RFC 8264) string classes and the two RFC 8265 profiles XMPP addresses use
 * (RFC 7622): **UsernameCaseMapped** for localparts and **OpaqueString** for resourceparts.
 *
 * No maintained PRECIS package exists on npm, so the derived-property algorithm of RFC 8264
 * §8 is written here with Unicode property escapes. It follows the RFC's rule order exactly;
 * where JavaScript exposes no property the RFC needs, we approximate, as listed:
 *
 * - **Unicode version** is the one of the running V8/ICU (Node 20: Unicode 15+), not a pinned
 *   one; "unassigned" is relative to it.
 * - **CONTEXTJ** (RFC 5892 A.1/A.2): the Virama test (Canonical_Combining_Class = 9) is exact,
 *   derived from canonical reordering under NFD. The ZWNJ Joining_Type alternative has no JS
 *   property, so it is approximated as "a letter of a cursive-joining script (Arabic, Syriac,
 *   N'Ko, Mongolian, …) on both sides, ignoring combining marks" — slightly more lenient.
 * - **Directionality (Bidi Rule, RFC 5893)**, required by UsernameCaseMapped, is **not
 *   enforced**: JS regexes have no Bidi_Class property.
 * - **Case mapping** uses `String.prototype.toLowerCase()` (locale-independent full
 *   lowercase mapping), which is exactly what RFC 8265 §3.3.1 specifies.
 *
 * @module
 */
import { StanzaError } from './errors.ts';

/** Why a string failed preparation (used in the `jid-malformed` text). */
export class PrecisError extends StanzaError {
  constructor(text: string) {
    super('jid-malformed', text);
  }
}

// ---------------------------------------------------------------------------------------------
// Derived property (RFC 8264 §8), one code point at a time.

/** Derived property values of RFC 8264 §8. */
export type PrecisProperty = 'PVALID' | 'ID_DIS' | 'FREE_PVAL' | 'CONTEXTJ' | 'CONTEXTO' | 'DISALLOWED' | 'UNASSIGNED';

// §9.6 Exceptions (RFC 5892 §2.6).
const EXCEPTIONS: ReadonlyMap<number, PrecisProperty> = new Map<number, PrecisProperty>([
  [0x00df, 'PVALID'], [0x03c2, 'PVALID'], [0x06fd, 'PVALID'], [0x06fe, 'PVALID'], [0x0f0b, 'PVALID'], [0x3007, 'PVALID'],
  [0x00b7, 'CONTEXTO'], [0x0375, 'CONTEXTO'], [0x05f3, 'CONTEXTO'], [0x05f4, 'CONTEXTO'], [0x30fb, 'CONTEXTO'],
  ...Array.from({ length: 10 }, (_, i) => [0x0660 + i, 'CONTEXTO'] as [number, PrecisProperty]),
  ...Array.from({ length: 10 }, (_, i) => [0x06f0 + i, 'CONTEXTO'] as [number, PrecisProperty]),
  [0x0640, 'DISALLOWED'], [0x07fa, 'DISALLOWED'], [0x302e, 'DISALLOWED'], [0x302f, 'DISALLOWED'],
  [0x3031, 'DISALLOWED'], [0x3032, 'DISALLOWED'], [0x3033, 'DISALLOWED'], [0x3034, 'DISALLOWED'], [0x3035, 'DISALLOWED'],
  [0x303b, 'DISALLOWED'],
]);

// §9.10 Unassigned: General_Category Cn that is not a noncharacter.
const UNASSIGNED = /^(?!\p{Noncharacter_Code_Point})\p{Cn}$/u;
// §9.9 OldHangulJamo: Hangul_Syllable_Type L, V or T (no JS property; the ranges are fixed).
const OLD_HANGUL_JAMO = /^[\u1100-\u11FF\uA960-\uA97C\uD7B0-\uD7C6\uD7CB-\uD7FB]$/u;
// §9.13 PrecisIgnorableProperties.
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]$/u;
// §9.1 LetterDigits.
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
// §9.18 OtherLetterDigits, §9.14 Spaces, §9.15 Symbols, §9.16 Punctuation: all ID_DIS / FREE_PVAL.
const FREEFORM_ONLY = /^[\p{Lt}\p{Nl}\p{No}\p{Me}\p{Zs}\p{Sm}\p{Sc}\p{Sk}\p{So}\p{P}]$/u;

/** The RFC 8264 §8 derived property of one code point. */
export function precisProperty(cp: number): PrecisProperty {
  const ex = EXCEPTIONS.get(cp);
  if (ex !== undefined) return ex;
  // BackwardCompatible (§9.7) is empty.
  const ch = String.fromCodePoint(cp);
  if (UNASSIGNED.test(ch)) return 'UNASSIGNED';
  if (cp >= 0x21 && cp <= 0x7e) return 'PVALID'; // §9.11 ASCII7
  if (cp === 0x200c || cp === 0x200d) return 'CONTEXTJ'; // §9.8 JoinControl
  if (OLD_HANGUL_JAMO.test(ch)) return 'DISALLOWED';
  if (IGNORABLE.test(ch)) return 'DISALLOWED';
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 'DISALLOWED'; // §9.12 Controls (Cc)
  if (ch.normalize('NFKC') !== ch) return 'ID_DIS'; // §9.17 HasCompat
  if (LETTER_DIGITS.test(ch)) return 'PVALID';
  if (FREEFORM_ONLY.test(ch)) return 'ID_DIS';
  // Everything else (Cs, Co, Cf that is not default-ignorable, Zl, Zp) is DISALLOWED.
  return 'DISALLOWED';
}

// ---------------------------------------------------------------------------------------------
// Contextual rules (RFC 5892 Appendix A), evaluated on the whole prepared string.

// Canonical_Combining_Class probes: U+3099 has ccc 8, U+05B0 has ccc 10. NFD reorders adjacent
// marks by ccc, so a mark lands after the ccc-8 probe and before the ccc-10 probe iff its ccc
// is 9 (Virama). Exact for every non-decomposing mark, and needs no table.
function isVirama(ch: string | undefined): boolean {
  if (ch === undefined || !/^\p{M}$/u.test(ch)) return false;
  return ('a' + ch + '\u3099').normalize('NFD') === 'a\u3099' + ch && ('a\u05B0' + ch).normalize('NFD') === 'a' + ch + '\u05B0';
}

const JOINING_LETTER = /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Mandaic}\p{Script=Manichaean}\p{Script=Psalter_Pahlavi}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Sogdian}\p{Script=Old_Uyghur}\p{Script=Phags_Pa}]$/u;
const TRANSPARENT = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

function joiningNeighbour(cps: readonly string[], i: number, step: 1 | -1): boolean {
  for (let j = i + step; j >= 0 && j < cps.length; j += step) {
    const c = cps[j]!;
    if (TRANSPARENT.test(c) && c !== '\u200c') continue;
    return /^\p{L}$/u.test(c) && JOINING_LETTER.test(c);
  }
  return false;
}

function contextOk(cps: readonly string[], i: number, cp: number): boolean {
  switch (cp) {
    case 0x200d: // ZERO WIDTH JOINER: after a Virama.
      return isVirama(cps[i - 1]);
    case 0x200c: // ZERO WIDTH NON-JOINER: after a Virama, or between joining letters.
      return isVirama(cps[i - 1]) || (joiningNeighbour(cps, i, -1) && joiningNeighbour(cps, i, 1));
    case 0x00b7: // MIDDLE DOT: Catalan l·l only.
      return cps[i - 1] === 'l' && cps[i + 1] === 'l';
    case 0x0375: // GREEK LOWER NUMERAL SIGN: followed by Greek.
      return cps[i + 1] !== undefined && /^\p{Script=Greek}$/u.test(cps[i + 1]!);
    case 0x05f3:
    case 0x05f4: // HEBREW GERESH / GERSHAYIM: preceded by Hebrew.
      return cps[i - 1] !== undefined && /^\p{Script=Hebrew}$/u.test(cps[i - 1]!);
    case 0x30fb: // KATAKANA MIDDLE DOT: some Hiragana, Katakana or Han in the string.
      return cps.some((c) => c !== '\u30fb' && /^[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]$/u.test(c));
    default:
      if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= '\u06f0' && c <= '\u06f9');
      if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((c) => c >= '\u0660' && c <= '\u0669');
      return false;
  }
}

function describe(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Check `s` against a string class; throws {@link PrecisError} on the first disallowed code
 * point. `freeform` selects FreeformClass (RFC 8264 §4.3) instead of IdentifierClass (§4.2).
 */
export function checkStringClass(s: string, freeform: boolean, what: string): void {
  let cps: string[] | undefined;
  let i = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x21 && cp <= 0x7e) {
      i++;
      continue;
    }
    const p = precisProperty(cp);
    let ok: boolean;
    switch (p) {
      case 'PVALID':
        ok = true;
        break;
      case 'ID_DIS':
      case 'FREE_PVAL':
        ok = freeform;
        break;
      case 'CONTEXTJ':
      case 'CONTEXTO':
        cps ??= Array.from(s);
        ok = contextOk(cps, i, cp);
        break;
      default:
        ok = false;
    }
    if (!ok) throw new PrecisError(`${what}: ${p === 'UNASSIGNED' ? 'unassigned' : 'disallowed'} code point ${describe(cp)}`);
    i++;
  }
}

// ---------------------------------------------------------------------------------------------
// Profiles.

/** RFC 7622 §3.3.1: characters an XMPP localpart may not contain even though PRECIS allows them. */
const LOCALPART_EXTRA_DISALLOWED = /["&'/:<>@]/;

const ASCII_PRINTABLE = /^[\x21-\x7e]*$/;
const ASCII_WITH_SPACE = /^[\x20-\x7e]*$/;
const WIDE_OR_NARROW = /[\u3000\uFF01-\uFFEE]/gu;
const NON_ASCII_SPACE = /(?! )\p{Zs}/gu;

const encoder = new TextEncoder();

/** UTF-8 byte length (without allocating for ASCII). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** RFC 7622 §3: every part is at most 1023 bytes of UTF-8 after preparation. */
export const MAX_PART_BYTES = 1023;

function checkLength(s: string, what: string): void {
  if (s.length === 0) throw new PrecisError(`${what} is empty`);
  if (s.length > MAX_PART_BYTES / 3 && utf8Length(s) > MAX_PART_BYTES) throw new PrecisError(`${what} is longer than ${MAX_PART_BYTES} bytes`);
}

/**
 * Enforce the PRECIS **UsernameCaseMapped** profile (RFC 8265 §3.3/§3.4) plus RFC 7622's
 * localpart rules: width mapping (fullwidth/halfwidth → their decompositions), lowercase,
 * NFC, IdentifierClass, no `"&'/:<>@`, 1–1023 bytes. Returns the canonical form; throws
 * `StanzaError('jid-malformed')`. The Bidi Rule is not enforced (see the module comment).
 */
export function prepareLocalpart(s: string): string {
  let out: string;
  if (ASCII_PRINTABLE.test(s)) {
    out = s.toLowerCase();
  } else {
    out = s.replace(WIDE_OR_NARROW, (c) => c.normalize('NFKC')).toLowerCase().normalize('NFC');
    checkStringClass(out, false, 'localpart');
  }
  checkLength(out, 'localpart');
  if (LOCALPART_EXTRA_DISALLOWED.test(out)) throw new PrecisError('localpart contains one of "&\'/:<>@');
  return out;
}

/**
 * Enforce the PRECIS **OpaqueString** profile (RFC 8265 §4.2) as RFC 7622 uses it for
 * resourceparts: non-ASCII spaces → U+0020, NFC, FreeformClass, 1–1023 bytes. No case or
 * width mapping. Returns the canonical form; throws `StanzaError('jid-malformed')`.
 */
export function prepareResource(s: string): string {
  let out = s;
  if (!ASCII_WITH_SPACE.test(s)) {
    out = s.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
    checkStringClass(out, true, 'resourcepart');
  }
  checkLength(out, 'resourcepart');
  return out;
}
