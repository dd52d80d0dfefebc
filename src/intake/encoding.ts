// Which encoding a recipient file is in, found before anything is imported. Spreadsheets in
// Japan save CSV as Shift_JIS (CP932) by default; a file read with the wrong encoding becomes
// U+FFFD garbage on every letter, and an import cannot be undone. So: a UTF-8 BOM, or bytes that
// are valid UTF-8, are UTF-8; otherwise bytes that decode cleanly as CP932 are Shift_JIS; a file
// that is neither is refused whole, naming its first bad line. A file given with an explicit
// encoding is checked against it the same way: nothing is ever silently replaced.
import { createReadStream } from 'node:fs';
import { PermanentError } from '../domain/errors.ts';
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export type Encoding = 'utf8' | 'shift_jis';
export type EncodingChoice = Encoding | 'auto';

export interface EncodingVerdict {
  encoding: Encoding;
  detected: boolean;
}

export class EncodingError extends PermanentError {
  readonly line: number;
  constructor(line: number, message: string) {
    super('invalid', message);
    this.line = line;
  }
}

const LF = 0x0a;

const hasNonAscii = (b: Buffer) => {
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) return true;
  return false;
};

/**
 * The first line (1-based) that is not valid in `enc`, or 0 when every line is; and whether a
 * line before it held non-ASCII text valid in `enc`. Lines are split at LF, which is never part of
 * a multibyte character in UTF-8 or CP932.
 */
async function firstBadLine(file: string, enc: Encoding): Promise<{ bad: number; textBefore: boolean }> {
  let line = 1;
  let carry: Buffer = Buffer.alloc(0);
  let textBefore = false;
  const valid = (b: Buffer) => (enc === 'utf8' ? isUtf8(b) : !iconv.decode(b, 'cp932').includes('\uFFFD'));
  const check = (block: Buffer): number => {
    if (valid(block)) {
      if (!textBefore) textBefore = hasNonAscii(block);
      return 0;
    }
    // Only on failure: find the line.
    let start = 0;
    for (let n = 0; start <= block.length; n++) {
      const end = block.indexOf(LF, start);
      const part = block.subarray(start, end < 0 ? block.length : end);
      if (!valid(part)) return line + n;
      if (!textBefore) textBefore = hasNonAscii(part);
      if (end < 0) break;
      start = end + 1;
    }
    return line;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const cut = data.lastIndexOf(LF);
    if (cut < 0) {
      carry = data;
      continue;
    }
    const block = data.subarray(0, cut + 1);
    const bad = check(block);
    if (bad) return { bad, textBefore };
    for (let i = block.indexOf(LF); i >= 0; i = block.indexOf(LF, i + 1)) line++;
    carry = Buffer.from(data.subarray(cut + 1));
  }
  return { bad: carry.length ? check(carry) : 0, textBefore };
}

async function startsWithBom(file: string): Promise<boolean> {
  for await (const chunk of createReadStream(file, { start: 0, end: 2 }) as AsyncIterable<Buffer>) return chunk.length === 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
  return false;
}

/** Reads the file (once, twice for Shift_JIS) and says which encoding it is in, or throws EncodingError. */
export async function resolveEncoding(file: string, choice: EncodingChoice): Promise<EncodingVerdict> {
  if (choice === 'shift_jis') {
    const { bad } = await firstBadLine(file, 'shift_jis');
    if (bad) throw new EncodingError(bad, 'is not valid Shift_JIS (CP932): it has bytes that are no character; nothing was imported (is the file UTF-8? leave --encoding out and it is detected)');
    return { encoding: 'shift_jis', detected: false };
  }
  const utf8 = await firstBadLine(file, 'utf8');
  const badUtf8 = utf8.bad;
  if (!badUtf8) return { encoding: 'utf8', detected: choice === 'auto' };
  // A file that says it is UTF-8 (a byte-order mark), or whose text before the bad byte was UTF-8,
  // is UTF-8 with a broken byte, not Shift_JIS: UTF-8 Japanese often decodes "cleanly" as CP932
  // (into mojibake), while Shift_JIS kana and kanji are almost never valid UTF-8.
  if ((await startsWithBom(file)) || utf8.textBefore) {
    throw new EncodingError(badUtf8, 'is not valid UTF-8, though the lines before it are: the file is UTF-8 with a broken byte here; nothing was imported (fix or remove this line and import again)');
  }
  const badSjis = (await firstBadLine(file, 'shift_jis')).bad;
  if (choice === 'utf8') {
    throw new EncodingError(badUtf8, badSjis
      ? 'is not valid UTF-8: it has bytes that are no character; nothing was imported'
      : 'is not valid UTF-8, but the file reads cleanly as Shift_JIS (CP932), as spreadsheets in Japan save CSV: import it with --encoding shift_jis (or leave --encoding out); nothing was imported');
  }
  if (!badSjis) return { encoding: 'shift_jis', detected: true };
  throw new EncodingError(badUtf8, `is neither UTF-8 nor Shift_JIS (CP932): this line has bytes that are no UTF-8 character${badSjis !== badUtf8 ? `, and line ${badSjis} none in Shift_JIS` : ''}; nothing was imported (save the file as UTF-8 and import it again)`);
}
