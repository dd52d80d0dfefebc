// Validation and normalisation of one imported person. Pure: the importer streams rows through it.

export const REQUIRED_COLUMNS = [
  'customer_id', 'name', 'email', 'postal_code', 'prefecture', 'city', 'address_line1', 'address_line2', 'locale', 'segment',
] as const;

export interface RowIssue {
  field: string;
  reason: string;
}

export interface Recipient {
  customerId: string;
  name: string;
  email: string | null;
  emailNormalized: string | null;
  postalCode: string | null;
  prefecture: string;
  city: string;
  addressLine1: string;
  addressLine2: string;
  locale: string;
  segment: string;
  extra: Record<string, string>;
}

export type RowResult = { ok: true; recipient: Recipient; warnings: RowIssue[] } | { ok: false; errors: RowIssue[] };

export interface RowRules {
  segments: ReadonlySet<string>;
  locales: ReadonlySet<string>;
  defaultLocale: string;
  /** Extra columns to keep (others are dropped); card-like columns are never kept. */
  extraColumns: readonly string[];
}

// C0/C1 controls (CR, LF, TAB, NUL...) have no place in a name or an address line; they are how
// header injection starts. We fold them to a space rather than reject the person.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

export function cleanText(value: string | undefined): string {
  return (value ?? '').normalize('NFC').replace(CONTROL, ' ').replace(/\s{2,}/g, ' ').trim();
}

// A pragmatic address check: one @, a dot in the domain, no spaces or controls, sane lengths.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function normalizeEmail(raw: string | undefined): { email: string; normalized: string } | null | 'invalid' {
  const v = (raw ?? '').normalize('NFKC').trim();
  if (v === '') return null;
  if (v.length > 254 || !EMAIL.test(v) || v.split('@')[0].length > 64 || v.includes('..')) return 'invalid';
  return { email: v, normalized: v.toLowerCase() };
}

/**
 * Characters that mean "-" in a Japanese postal code or address (ASCII, the Unicode dashes, minus,
 * full-width and small forms), as a character class body. ー/ｰ (the long-vowel mark) are added for
 * postal codes only: in an address it is a hyphen only outside katakana (see domain/address.ts).
 */
export const HYPHEN_CHARS = '\\u002D\\u2010-\\u2015\\u2212\\u2043\\uFE58\\uFE63\\uFF0D';
const POSTAL_DASHES = new RegExp(`[${HYPHEN_CHARS}\\u30FC\\uFF70]`, 'g');

/** Japanese postal code: full-width digits and hyphen variants allowed on input; 7 digits out. */
export function normalizePostalCode(raw: string | undefined): string | null | 'invalid' {
  const v = (raw ?? '').normalize('NFKC').replace(/^〒/, '').replace(POSTAL_DASHES, '').replace(/\s+/g, '');
  if (v === '') return null;
  return /^\d{7}$/.test(v) ? v : 'invalid';
}

const CARD_COLUMN = /card|pan\b|cvv|cvc|security.?code|expir/i;

export function isCardColumn(column: string): boolean {
  return CARD_COLUMN.test(column);
}

/** Looks like a payment card number (13–19 digits passing Luhn). We never store those. */
export function looksLikeCardNumber(value: string): boolean {
  const digits = value.normalize('NFKC').replace(/[\s-]/g, '');
  if (!/^\d{13,19}$/.test(digits)) return false;
  return luhn(digits);
}

/**
 * Somewhere in the text, a run of 13–19 digits (spaces and hyphens between them allowed, full-width
 * too) that passes Luhn: a card number typed into a name or an address line.
 */
export function containsCardNumber(value: string): boolean {
  const runs = value.normalize('NFKC').match(/\d[\d \t-]{11,}\d/g) ?? [];
  return runs.some((run) => {
    const digits = run.replace(/[\s-]/g, '');
    return digits.length >= 13 && digits.length <= 19 && luhn(digits);
  });
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Longest value each field may hold. A name or an address line longer than a letter's line, or a
 * header (RFC 5322: 998 characters), is a broken row, not a person: refused with its reason.
 */
export const FIELD_MAX: Record<string, number> = {
  customer_id: 200, name: 100, email: 254, postal_code: 20, prefecture: 20, city: 100, address_line1: 200, address_line2: 200, locale: 20, segment: 50,
};
export const EXTRA_FIELD_MAX = 1000;

export function validateRow(row: Record<string, string | undefined>, rules: RowRules): RowResult {
  const errors: RowIssue[] = [];
  const warnings: RowIssue[] = [];
  // Card data is never stored, in any field: a row that carries a card number anywhere we would
  // keep is refused whole (only the operator can tell what it was meant to be).
  for (const field of [...REQUIRED_COLUMNS, ...rules.extraColumns]) {
    const value = row[field] ?? '';
    const max = FIELD_MAX[field] ?? EXTRA_FIELD_MAX;
    if (value.length > max) errors.push({ field, reason: `is ${value.length} characters long; at most ${max}` });
    if (value && containsCardNumber(value)) errors.push({ field, reason: 'contains what looks like a payment card number; card data is never stored, so the row is not imported: remove the number and import the row again' });
  }
  if (errors.length) return { ok: false, errors };
  const customerId = cleanText(row.customer_id);
  if (!customerId) errors.push({ field: 'customer_id', reason: 'is empty' });
  const name = cleanText(row.name);
  if (!name) errors.push({ field: 'name', reason: 'is empty' });
  if (name && name !== (row.name ?? '').trim()) warnings.push({ field: 'name', reason: 'control characters folded to spaces' });
  const segment = cleanText(row.segment);
  if (!rules.segments.has(segment)) {
    errors.push({ field: 'segment', reason: segment ? `unknown segment (known: ${[...rules.segments].join(', ')})` : 'is empty' });
  }
  const locale = cleanText(row.locale) || rules.defaultLocale;
  if (!rules.locales.has(locale)) errors.push({ field: 'locale', reason: `unknown locale (known: ${[...rules.locales].join(', ')})` });

  const email = normalizeEmail(row.email);
  if (email === 'invalid') warnings.push({ field: 'email', reason: 'not a valid email address; this person will get a letter' });
  const postal = normalizePostalCode(row.postal_code);
  if (postal === 'invalid') warnings.push({ field: 'postal_code', reason: 'not 7 digits' });
  const prefecture = cleanText(row.prefecture);
  const city = cleanText(row.city);
  const addressLine1 = cleanText(row.address_line1);
  const hasAddress = typeof postal === 'string' && postal !== 'invalid' && !!prefecture && !!city && !!addressLine1;
  const hasEmail = email !== null && email !== 'invalid';
  if (!hasEmail && !hasAddress) {
    errors.push({ field: 'email', reason: 'neither a valid email nor a complete postal address (postal_code, prefecture, city, address_line1)' });
  }
  if (errors.length) return { ok: false, errors };

  const extra: Record<string, string> = {};
  for (const column of rules.extraColumns) {
    if (isCardColumn(column)) continue;
    extra[column] = cleanText(row[column]);
  }
  return {
    ok: true,
    warnings,
    recipient: {
      customerId,
      name,
      email: hasEmail ? email.email : null,
      emailNormalized: hasEmail ? email.normalized : null,
      // An invalid code is kept as written so the postal route can show ops what to fix.
      postalCode: postal === 'invalid' ? cleanText(row.postal_code) : postal,
      prefecture,
      city,
      addressLine1,
      addressLine2: cleanText(row.address_line2),
      locale,
      segment,
      extra,
    },
  };
}
