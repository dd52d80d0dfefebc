// Postal addresses for Japan Post: normalised (half-width digits, one hyphen; never the name) and checked before a letter is
// printed. Pure.
import { HYPHEN_CHARS, normalizePostalCode } from './recipient.ts';

export const PREFECTURES = [
  '北海道', '青森県', '岩手県', '宮城県', '秋田県', '山形県', '福島県', '茨城県', '栃木県', '群馬県', '埼玉県', '千葉県',
  '東京都', '神奈川県', '新潟県', '富山県', '石川県', '福井県', '山梨県', '長野県', '岐阜県', '静岡県', '愛知県', '三重県',
  '滋賀県', '京都府', '大阪府', '兵庫県', '奈良県', '和歌山県', '鳥取県', '島根県', '岡山県', '広島県', '山口県', '徳島県',
  '香川県', '愛媛県', '高知県', '福岡県', '佐賀県', '長崎県', '熊本県', '大分県', '宮崎県', '鹿児島県', '沖縄県',
] as const;
const PREFECTURE_SET = new Set<string>(PREFECTURES);

export interface PostalAddress {
  name: string;
  postalCode: string;
  prefecture: string;
  city: string;
  addressLine1: string;
  addressLine2: string;
}

export type AddressResult = { ok: true; address: PostalAddress } | { ok: false; reasons: string[] };

// Hyphen-like characters that mean "-" in an address. ー (U+30FC) is handled apart: it is the
// long-vowel mark inside katakana words (センター) and a hyphen only elsewhere (1ー2ー3).
const HYPHENS = new RegExp(`[${HYPHEN_CHARS}]`, 'g');
const isKatakana = (ch: string | undefined) => !!ch && /[\u30A1-\u30FA\u30FC]/.test(ch);

/**
 * An address line for Japan Post: full-width ASCII (digits, letters, hyphens) made half-width,
 * half-width katakana full-width,
 * hyphen-like marks made "-", controls folded. Only those: NFKC would also rewrite ① or ㈱ in a
 * building's name, and a person's name is never rewritten at all (see personName).
 */
export function normalizeAddressText(raw: string): string {
  const s = raw
    .normalize('NFC')
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\uFF61-\uFF9F]+/g, (m) => m.normalize('NFKC')) // half-width katakana (ｾﾝﾀｰ → センター)
    .replace(/\u3000/g, ' ')
    .replace(HYPHENS, '-');
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\u30FC' && !isKatakana(out[out.length - 1])) out += '-';
    else out += ch;
  }
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** A person's name as they wrote it: only controls folded and spaces tidied (髙, ①, ㈱ stay). */
export function personName(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.normalize('NFC').replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

export function validateAddress(input: { name: string; postal_code: string | null; prefecture: string; city: string; address_line1: string; address_line2: string }): AddressResult {
  const reasons: string[] = [];
  const postal = normalizePostalCode(input.postal_code ?? '');
  if (postal === null) reasons.push('postal_code is missing');
  else if (postal === 'invalid') reasons.push('postal_code is not 7 digits');
  const prefecture = normalizeAddressText(input.prefecture);
  if (!prefecture) reasons.push('prefecture is missing');
  else if (!PREFECTURE_SET.has(prefecture)) reasons.push(`prefecture "${prefecture}" is not one of the 47 prefectures`);
  const city = normalizeAddressText(input.city);
  if (!city) reasons.push('city is missing');
  const line1 = normalizeAddressText(input.address_line1);
  if (!line1) reasons.push('address_line1 is missing');
  const name = personName(input.name);
  if (!name) reasons.push('name is missing');
  if (reasons.length) return { ok: false, reasons };
  return {
    ok: true,
    address: { name, postalCode: postal as string, prefecture, city, addressLine1: line1, addressLine2: normalizeAddressText(input.address_line2) },
  };
}

/** 1000005 → 100-0005 */
export function formatPostalCode(code: string): string {
  return `${code.slice(0, 3)}-${code.slice(3)}`;
}
