// What a Japanese print shop accepts as Shift_JIS: JIS X 0208 characters (CP932 rows 1–8 and
// 16–84). CP932's vendor extensions (NEC row 13 like ①, the IBM kanji like 髙) and anything
// outside CP932 (𠮷) are refused, so a row is never printed with a ? or a wrong glyph.
import iconv from 'iconv-lite';

function allowedLead(b: number): boolean {
  return (b >= 0x81 && b <= 0x84) || (b >= 0x88 && b <= 0x9f) || (b >= 0xe0 && b <= 0xea);
}

/** The whole text in one pass: round-trips, and every double-byte lead is in JIS X 0208. */
function allEncodable(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return true;
  const bytes = iconv.encode(text, 'cp932');
  if (iconv.decode(bytes, 'cp932') !== text) return false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b < 0x80 || (b >= 0xa1 && b <= 0xdf)) continue; // ASCII, half-width katakana
    if (!allowedLead(b)) return false;
    i++; // trail byte
  }
  return true;
}

/** Characters of `text` that cannot go into a strict Shift_JIS file, each once. */
export function unencodable(text: string): string[] {
  if (allEncodable(text)) return [];
  const bad = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) continue;
    const bytes = iconv.encode(ch, 'cp932');
    if (iconv.decode(bytes, 'cp932') !== ch) bad.add(ch);
    else if (bytes.length === 2 && !allowedLead(bytes[0])) bad.add(ch);
  }
  return [...bad];
}

export function encodeSjis(text: string): Buffer {
  return iconv.encode(text, 'cp932');
}

export function describeChar(ch: string): string {
  return `「${ch}」 (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}
