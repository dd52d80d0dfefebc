// Japan Post's customer barcode (カスタマバーコード): which characters it carries for a letter, by the
// rules of Japan Post's 郵便番号・バーコードマニュアル (住所表示番号の抽出). Pure; the bars are drawn
// by bwip-js's `japanpost` encoder from the text this returns.
//
// The address number (住所表示番号) taken from the address:
// 1. kanji numerals become digits only where they count something: before 丁目, 丁, 番地, 番, 号,
//    地割, 線, の, ノ (四丁六番十九号 → 4-6-19; the 六 of 北六条 stays a name);
// 2. letters are upper-cased; & / ・ . are removed; two or more letters in a row are a name and
//    are removed (ABCビル); an F after a number is a floor and counts as a separator;
// 3. every other run of characters (kanji, kana, spaces, 丁目, 番地, 号…) is one hyphen; no hyphen
//    at the start or end, none twice, none next to a letter (6-7 L B106 → 6-7LB106).
// The barcode: the 7-digit code, then the address number; a letter is two symbols (A–J: CC1 and
// 0–9, K–T: CC2, U–Z: CC3); padded with CC4 (or cut) to 20 symbols; then the check digit (the sum of
// the symbols' values, - = 10, CCn = 10 + n, made a multiple of 19); start and stop codes around.
// A representative code (ending in 00: "以下に掲載がない場合" and the like) gets no barcode.

const KANJI_DIGIT: Readonly<Record<string, number>> = { 〇: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const KANJI_UNIT: Readonly<Record<string, number>> = { 十: 10, 百: 100, 千: 1000 };
const COUNTERS = '丁目|丁|番地|番|号|地割|線|の|ノ';
const KANJI_NUMBER = new RegExp(`([〇一二三四五六七八九十百千]+)(?=${COUNTERS})`, 'g');

/** 二十一 → 21, 十 → 10, 百五 → 105, 二一 → 21 (digit by digit when there is no unit). */
export function kanjiToNumber(k: string): number {
  if (![...k].some((c) => c in KANJI_UNIT)) return Number([...k].map((c) => KANJI_DIGIT[c]).join(''));
  let total = 0;
  let digit = 0;
  for (const c of k) {
    if (c in KANJI_UNIT) {
      total += (digit || 1) * KANJI_UNIT[c];
      digit = 0;
    } else digit = KANJI_DIGIT[c];
  }
  return total + digit;
}

const toHalfWidth = (s: string) => s.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');

/** The address number (住所表示番号) of an address: "千葉市稲毛区緑町3丁目30-8 郵便ビル403号" → "3-30-8-403". */
export function addressNumber(address: string): string {
  let s = toHalfWidth(address.normalize('NFC'));
  s = s.replace(KANJI_NUMBER, (k) => String(kanjiToNumber(k)));
  s = s.toUpperCase().replace(/[&/・.．]/g, '');
  s = s.replace(/[A-Z]{2,}/g, '-');
  // A floor: 10F, 2F, 1F1号.
  s = s.replace(/(\d)F/g, '$1-');
  s = s.replace(/[^0-9A-Z-]+/g, '-');
  s = s.replace(/-+/g, '-').replace(/-?([A-Z])-?/g, '$1').replace(/^-|-$/g, '');
  return s;
}

export type BarcodeSymbol = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '-' | `CC${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8}`;

const VALUE: Readonly<Record<string, number>> = { '-': 10, CC1: 11, CC2: 12, CC3: 13, CC4: 14, CC5: 15, CC6: 16, CC7: 17, CC8: 18 };
const valueOf = (s: string) => (/^\d$/.test(s) ? Number(s) : VALUE[s]);
const symbolOf = (v: number): BarcodeSymbol => (v < 10 ? (String(v) as BarcodeSymbol) : v === 10 ? '-' : (`CC${v - 10}` as BarcodeSymbol));

export interface CustomerBarcode {
  /** The 7-digit code and the address number: what a vendor's own barcode software takes. */
  text: string;
  /** The 20 data symbols, the check digit, without start and stop codes. */
  symbols: BarcodeSymbol[];
  check: BarcodeSymbol;
}

/** 北一条西 and 北1条西 alike: kanji digits as Arabic ones, full width as half, no spaces. */
const townKey = (s: string) => toHalfWidth(s).replace(/\s+/g, '').replace(/[〇一二三四五六七八九十百千]+/g, (k) => String(kanjiToNumber(k)));

/**
 * The address number comes after the town's name (町域名): a town named with a number (北一条西,
 * written 北1条西 as often as not) must not give its number to the barcode. `towns`: the code's
 * town names (Japan Post's data); the longest one the address starts with is left out.
 */
export function afterTown(address: string, towns: readonly string[]): string {
  const a = townKey(address);
  const town = [...towns].filter(Boolean).map(townKey).sort((x, y) => y.length - x.length).find((t) => a.startsWith(t));
  if (!town) return address;
  // The rest as written (a kanji numeral after the town counts only before 丁目, 番…).
  for (let i = 1; i <= address.length; i++) if (townKey(address.slice(0, i)) === town) return address.slice(i);
  return address;
}

/** The barcode for a letter, or null for a representative code (ending in 00) or no 7-digit code. */
export function customerBarcode(postalCode: string, address: string, towns: readonly string[] = []): CustomerBarcode | null {
  const code = postalCode.replace(/\D/g, '');
  if (code.length !== 7 || code.endsWith('00')) return null;
  const number = addressNumber(towns.length ? afterTown(address, towns) : address);
  const symbols: BarcodeSymbol[] = [];
  for (const ch of `${code}${number}`) {
    if (/[A-Z]/.test(ch)) {
      const i = ch.charCodeAt(0) - 65;
      symbols.push(`CC${1 + Math.floor(i / 10)}` as BarcodeSymbol, String(i % 10) as BarcodeSymbol);
    } else symbols.push(ch as BarcodeSymbol);
  }
  const data = symbols.slice(0, 20);
  while (data.length < 20) data.push('CC4');
  const sum = data.reduce((a, s) => a + valueOf(s), 0);
  const check = symbolOf((19 - (sum % 19)) % 19);
  return { text: `${code}${number}`, symbols: [...data, check], check };
}

/**
 * The four-state bars (F full, A ascender, D descender, T timing bar only), three per symbol, as
 * Japan Post's specification draws them; start code FD, stop code DF. Ours rather than bwip-js's
 * `japanpost` encoder, which gets the check digit wrong when the sum is a multiple of 19 (1 letter
 * in 19: it draws a 20th value that is no symbol) and refuses an address number longer than the 20
 * symbols instead of cutting it as the specification does; the test compares the two wherever
 * bwip-js is right.
 */
export type Bar = 'F' | 'A' | 'D' | 'T';
export const BAR_PATTERNS: Readonly<Record<BarcodeSymbol, string>> = {
  '0': 'FTT', '1': 'FFT', '2': 'FDA', '3': 'DFA', '4': 'FAD', '5': 'FTF', '6': 'DAF', '7': 'AFD', '8': 'ADF', '9': 'TFF', '-': 'TFT',
  CC1: 'DAT', CC2: 'DTA', CC3: 'ADT', CC4: 'TDA', CC5: 'ATD', CC6: 'TAD', CC7: 'TTF', CC8: 'FFF',
};

/** Every bar of the barcode, start and stop codes included: 67 bars. */
export function barsOf(b: CustomerBarcode): Bar[] {
  return [...`FD${b.symbols.map((s) => BAR_PATTERNS[s]).join('')}DF`] as Bar[];
}
