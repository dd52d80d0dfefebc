// A postal address checked against Japan Post's postal-code data (KEN_ALL and the business-office
// list), offline. Pure: the data comes in as a lookup. What it does, in order:
// - the postal code must exist;
// - a prefecture left out, or written without its suffix (東京 → 東京都), or written into the city
//   or the first address line (a one-line address), is filled or split out;
// - the prefecture and city must be one of the code's rows (a code may span prefectures: 498-0000
//   is in Aichi and Mie); a city written into the first line is split out, one written without its
//   district (木曽岬町 for 桑名郡木曽岬町) is completed; a city field that goes on into the town is
//   fine as it is;
// - business-office codes (事業所個別番号) are accepted like any other.
// Every automatic change is returned (field, before, after, why) for the person's ledger; what
// cannot be fixed is refused with the reason and a suggestion (where the code is). The name is
// never touched.
import { normalizeAddressText, personName, PREFECTURES, type PostalAddress } from './address.ts';
import { normalizePostalCode } from './recipient.ts';

export interface PostalRow {
  prefecture: string;
  city: string;
  town: string;
  /** A business office's own code (JIGYOSYO). */
  office: boolean;
}

export type PostalLookup = (code: string) => readonly PostalRow[];

export interface AddressFix {
  field: 'prefecture' | 'city' | 'address_line1';
  before: string;
  after: string;
  why: string;
}

export type VerifiedAddress =
  | { ok: true; address: PostalAddress; fixes: AddressFix[]; office: boolean }
  | { ok: false; reasons: string[]; suggestion: string | null; fixes: AddressFix[] };

export interface AddressInput {
  name: string;
  postal_code: string | null;
  prefecture: string;
  city: string;
  address_line1: string;
  address_line2: string;
}

const compact = (s: string) => s.replace(/\s+/g, '');
const SUFFIXLESS = new Map<string, string>(PREFECTURES.filter((p) => p !== '北海道').map((p) => [p.slice(0, -1), p]));
const formatted = (code: string) => `${code.slice(0, 3)}-${code.slice(3)}`;

/**
 * A prefecture at the start of a text, written in full or without its suffix, when what follows
 * is one of the code's cities there ("大阪市北区" is a city, not 大阪 + 市北区).
 */
function leadingPrefecture(text: string, allowed: readonly string[], rows: readonly PostalRow[]): { prefecture: string; rest: string } | null {
  const t = compact(text);
  const cityFollows = (p: string, rest: string) => rows.some((r) => r.prefecture === p && rest.startsWith(r.city));
  for (const p of allowed) if (t.startsWith(p) && cityFollows(p, t.slice(p.length))) return { prefecture: p, rest: t.slice(p.length) };
  for (const p of allowed) {
    const short = p === '北海道' ? null : p.slice(0, -1);
    if (short && t.startsWith(short) && cityFollows(p, t.slice(short.length))) return { prefecture: p, rest: t.slice(short.length) };
  }
  return null;
}

export function verifyAddress(input: AddressInput, lookup: PostalLookup): VerifiedAddress {
  const fixes: AddressFix[] = [];
  const reasons: string[] = [];
  const code = normalizePostalCode(input.postal_code ?? '');
  const name = personName(input.name);
  if (!name) reasons.push('name is missing');
  if (code === null) return { ok: false, reasons: [...reasons, 'postal_code is missing'], suggestion: null, fixes };
  if (code === 'invalid') return { ok: false, reasons: [...reasons, 'postal_code is not 7 digits'], suggestion: null, fixes };
  const rows = lookup(code);
  if (!rows.length) return { ok: false, reasons: [...reasons, `postal code ${formatted(code)} does not exist in Japan Post's data`], suggestion: null, fixes };
  const codePrefectures = [...new Set(rows.map((r) => r.prefecture))];

  let prefecture = normalizeAddressText(input.prefecture);
  let city = normalizeAddressText(input.city);
  let line1 = normalizeAddressText(input.address_line1);
  const line2 = normalizeAddressText(input.address_line2);
  const fix = (field: AddressFix['field'], before: string, after: string, why: string) => {
    if (before !== after) fixes.push({ field, before, after, why });
  };

  // The prefecture: suffix-less, missing, or written into the city or the first line.
  if (prefecture && !(PREFECTURES as readonly string[]).includes(prefecture)) {
    const full = SUFFIXLESS.get(compact(prefecture));
    if (full) {
      fix('prefecture', prefecture, full, 'the prefecture written without its suffix');
      prefecture = full;
    }
  }
  if (!prefecture) {
    for (const [field, text] of [['city', city], ['address_line1', line1]] as const) {
      const lead = leadingPrefecture(text, PREFECTURES, rows);
      if (!lead) continue;
      fix('prefecture', prefecture, lead.prefecture, `the prefecture was written in ${field}`);
      fix(field, text, lead.rest, `the prefecture moved out of ${field}`);
      prefecture = lead.prefecture;
      if (field === 'city') city = lead.rest;
      else line1 = lead.rest;
      break;
    }
  }
  if (!prefecture && codePrefectures.length === 1) {
    fix('prefecture', prefecture, codePrefectures[0], `filled from postal code ${formatted(code)}`);
    prefecture = codePrefectures[0];
  }
  // A city field that repeats the prefecture ("東京都千代田区").
  const again = prefecture ? leadingPrefecture(city, [prefecture], rows) : null;
  if (again && again.rest) {
    fix('city', city, again.rest, 'the prefecture was repeated in city');
    city = again.rest;
  }
  if (!prefecture) return { ok: false, reasons: [...reasons, 'prefecture is missing'], suggestion: codePrefectures.join(' / '), fixes };
  if (!(PREFECTURES as readonly string[]).includes(prefecture)) {
    return { ok: false, reasons: [...reasons, `prefecture "${prefecture}" is not one of the 47 prefectures`], suggestion: codePrefectures.join(' / '), fixes };
  }
  const here = rows.filter((r) => r.prefecture === prefecture);
  if (!here.length) {
    return { ok: false, reasons: [...reasons, `postal code ${formatted(code)} is not in ${prefecture} (it is in ${codePrefectures.join(' / ')})`], suggestion: codePrefectures.join(' / '), fixes };
  }
  const cities = [...new Set(here.map((r) => r.city))].sort((a, b) => b.length - a.length);

  // The city: missing (written into the first line), without its district, or not the code's.
  if (!city) {
    const lead = cities.find((c) => compact(line1).startsWith(c));
    if (lead) {
      fix('city', city, lead, 'the city was written in address_line1');
      fix('address_line1', line1, compact(line1).slice(lead.length), 'the city moved out of address_line1');
      city = lead;
      line1 = compact(line1).slice(lead.length);
    }
  }
  if (!city) return { ok: false, reasons: [...reasons, 'city is missing'], suggestion: cities.join(' / '), fixes };
  const c = compact(city);
  const exact = cities.find((x) => c === x || c.startsWith(x));
  if (!exact) {
    const completed = cities.find((x) => x.endsWith(c) && /郡|市/.test(x.slice(0, x.length - c.length)));
    if (completed) {
      fix('city', city, completed, 'the city written without its district');
      city = completed;
    } else {
      return { ok: false, reasons: [...reasons, `city "${city}" is not where postal code ${formatted(code)} is (${prefecture}${cities.join(' / ')})`], suggestion: cities.join(' / '), fixes };
    }
  }
  // The city field went on into the town and the first line is empty: the town is the line.
  if (!line1 && exact && c.length > exact.length) {
    fix('city', city, exact, 'the town moved to address_line1');
    fix('address_line1', line1, c.slice(exact.length), 'the town was written in city');
    line1 = c.slice(exact.length);
    city = exact;
  }
  if (!line1) reasons.push('address_line1 is missing');
  if (reasons.length) return { ok: false, reasons, suggestion: null, fixes };
  return {
    ok: true,
    address: { name, postalCode: code, prefecture, city, addressLine1: line1, addressLine2: line2 },
    fixes,
    office: here.some((r) => r.office),
  };
}
