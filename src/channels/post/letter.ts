// One letter, as batches and the preview both make it: the address block (checked, or as given
// when it does not pass, so the exception is visible on paper) and the body from the person's
// template variant.
import type { NoticeRow } from '../../db/notice-store.ts';
import { createHash } from 'node:crypto';
import { validateAddress, type PostalAddress } from '../../domain/address.ts';
import { renderText, type TemplateSet } from '../../domain/template.ts';
import { customerBarcode, type CustomerBarcode } from '../../domain/customer-barcode.ts';
import { postalLookup } from './postal-data.ts';
import { templateVariables } from '../email/message.ts';
import type { Letter } from './pdf-letters.ts';

export type LetterPerson = Pick<NoticeRow, 'id' | 'customer_id' | 'notice_code' | 'name' | 'email' | 'postal_code' | 'prefecture' | 'city' | 'address_line1' | 'address_line2' | 'locale' | 'segment' | 'extra'>;

/** The address as it goes on the envelope: normalised when it passes the checks, as imported when not. */
export function letterAddress(p: LetterPerson): PostalAddress {
  const checked = validateAddress(p);
  return checked.ok
    ? checked.address
    : { name: p.name, postalCode: p.postal_code ?? '', prefecture: p.prefecture, city: p.city, addressLine1: p.address_line1, addressLine2: p.address_line2 };
}

/** The customer barcode for an address (its number from the address lines, after the town's name: Japan Post's data names the towns). */
export function letterBarcode(a: PostalAddress): CustomerBarcode | null {
  return customerBarcode(a.postalCode, `${a.addressLine1} ${a.addressLine2}`, postalLookup(a.postalCode).map((r) => r.town));
}

/** The letter for `p` (its seq in the batch), from the campaign's template set. */
export function makeLetter(p: LetterPerson, seq: number, templates: TemplateSet, campaignName: string, address: PostalAddress = letterAddress(p)): Letter {
  return {
    seq,
    noticeCode: p.notice_code,
    locale: p.locale,
    address,
    body: renderText(templates.variants.get(`${p.segment}.${p.locale}`)?.letter ?? '', templateVariables(p, campaignName, templates.letterhead)),
    barcode: letterBarcode(address),
    letterhead: templates.letterhead,
  };
}

/** The letter's fingerprint for the person's evidence: sha256 of its content (code, address block, body) as JSON. */
export function letterSha256(l: Letter): string {
  return createHash('sha256').update(JSON.stringify({ noticeCode: l.noticeCode, locale: l.locale, address: l.address, body: l.body, barcode: l.barcode?.text ?? null, letterhead: l.letterhead })).digest('hex');
}
