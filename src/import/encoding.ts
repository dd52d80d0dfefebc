// Which encoding a recipient file is in, found before anything is imported. Spreadsheets in
// Japan save CSV as Shift_JIS (CP932) by default; a file read with the wrong encoding becomes
// U+FFFD garbage on every letter, and an import cannot be undone. So: a UTF-8 BOM, or bytes that
// are valid UTF-8, are UTF-8; otherwise bytes that decode cleanly as CP932 are Shift_JIS; a file
// that is neither is refused whole, naming its first bad line. A file given with an explicit
// encoding is checked against it the same way: nothing is ever silently replaced.
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export type Encoding = 'utf8' | 'shift_jis';
export type EncodingChoice = Encoding | 'auto';

export interface EncodingVerdict {
  encoding: Encoding;
  detected: boolean;
}

export class EncodingError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.name = 'EncodingError';
    this.line = line;
  }
}

const LF = 0x0a;

/**
 * The first line (1-based) that is not valid in `enc`, or 0 when every line is. Lines are split
 * at LF, which is never part of a multibyte character in UTF-8 or CP932.
 */
async function firstBadLine(file: string, enc: Encoding): Promise<number> {
  let line = 1;
  let carry: Buffer = Buffer.alloc(0);
  const check = (block: Buffer): number => {
    const ok = enc === 'utf8' ? isUtf8(block) : !iconv.decode(block, 'cp932').includes('\uFFFD');
    if (ok) return 0;
    // Only on failure: find the line.
    let start = 0;
    for (let n = 0; start <= block.length; n++) {
      const end = block.indexOf(LF, start);
      const part = block.subarray(start, end < 0 ? block.length : end);
      const bad = enc === 'utf8' ? !isUtf8(part) : iconv.decode(part, 'cp932').includes('\uFFFD');
      if (bad) return line + n;
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
    if (bad) return bad;
    for (let i = block.indexOf(LF); i >= 0; i = block.indexOf(LF, i + 1)) line++;
    carry = Buffer.from(data.subarray(cut + 1));
  }
  return carry.length ? check(carry) : 0;
}

async function startsWithBom(file: string): Promise<boolean> {
  for await (const chunk of createReadStream(file, { start: 0, end: 2 }) as AsyncIterable<Buffer>) return chunk.length === 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
  return false;
}

/** Reads the file (once, twice for Shift_JIS) and says which encoding it is in, or throws EncodingError. */
export async function resolveEncoding(file: string, choice: EncodingChoice): Promise<EncodingVerdict> {
  if (choice === 'shift_jis') {
    const bad = await firstBadLine(file, 'shift_jis');
    if (bad) throw new EncodingError(bad, 'is not valid Shift_JIS (CP932): it has bytes that are no character; nothing was imported (is the file UTF-8? leave --encoding out and it is detected)');
    return { encoding: 'shift_jis', detected: false };
  }
  const badUtf8 = await firstBadLine(file, 'utf8');
  if (!badUtf8) return { encoding: 'utf8', detected: choice === 'auto' };
  // A file that starts with a UTF-8 byte-order mark says it is UTF-8: it is broken UTF-8, not Shift_JIS.
  const badSjis = (await startsWithBom(file)) ? badUtf8 : await firstBadLine(file, 'shift_jis');
  if (choice === 'utf8') {
    throw new EncodingError(badUtf8, badSjis
      ? 'is not valid UTF-8: it has bytes that are no character; nothing was imported'
      : 'is not valid UTF-8, but the file reads cleanly as Shift_JIS (CP932), as spreadsheets in Japan save CSV: import it with --encoding shift_jis (or leave --encoding out); nothing was imported');
  }
  if (!badSjis) return { encoding: 'shift_jis', detected: true };
  throw new EncodingError(badUtf8, `is neither UTF-8 nor Shift_JIS (CP932): this line has bytes that are no UTF-8 character${badSjis !== badUtf8 ? `, and line ${badSjis} none in Shift_JIS` : ''}; nothing was imported (save the file as UTF-8 and import it again)`);
}
