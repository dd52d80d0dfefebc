import { describe, expect, it } from 'vitest';
import { looksLikeCardNumber, normalizeEmail, normalizePostalCode, validateRow } from '../../src/domain/recipient.ts';

const rules = { segments: new Set(['card', 'personal']), locales: new Set(['ja', 'en']), defaultLocale: 'ja', extraColumns: ['rank', 'card_no'] };
const row = (over: Record<string, string> = {}) => ({ customer_id: 'C1', name: '山田 太郎', email: 'a@example.com', postal_code: '100-0005', prefecture: '東京都', city: '千代田区', address_line1: '丸の内1', address_line2: '', locale: 'ja', segment: 'card', rank: 'gold', card_no: '', ...over });

describe('postal codes', () => {
  it.each([
    ['100-0005', '1000005'], ['１００－０００５', '1000005'], ['〒100-0005', '1000005'], ['100ー0005', '1000005'], ['1000005', '1000005'],
    ['', null], ['100-005', 'invalid'], ['ABC-DEFG', 'invalid'],
  ])('%s → %s', (input, out) => expect(normalizePostalCode(input)).toBe(out));
});

describe('emails', () => {
  it.each([
    ['a@example.com', 'a@example.com'], [' A.B@Example.COM ', 'a.b@example.com'], ['ａ@example.com', 'a@example.com'],
  ])('%s normalises to %s', (input, out) => expect(normalizeEmail(input)).toMatchObject({ normalized: out }));
  it.each(['plain', 'a@b', 'a@@b.com', 'a b@c.com', 'a@b.com\r\nBcc: x@y.com', 'a..b@c.com', `${'x'.repeat(65)}@c.com`])('%s is invalid', (input) =>
    expect(normalizeEmail(input)).toBe('invalid'));
  it('empty is absent', () => expect(normalizeEmail('')).toBeNull());
});

describe('validateRow', () => {
  it('accepts a complete row', () => {
    const r = validateRow(row(), rules);
    expect(r).toMatchObject({ ok: true, recipient: { customerId: 'C1', emailNormalized: 'a@example.com', postalCode: '1000005', extra: { rank: 'gold' } } });
  });
  it('accepts a row with no email but an address, for post', () => {
    expect(validateRow(row({ email: '' }), rules)).toMatchObject({ ok: true, recipient: { email: null } });
  });
  it('accepts an invalid email with an address, with a warning', () => {
    expect(validateRow(row({ email: 'nope' }), rules)).toMatchObject({ ok: true, warnings: [{ field: 'email' }] });
  });
  it('rejects a row with neither email nor address', () => {
    expect(validateRow(row({ email: 'nope', address_line1: '' }), rules)).toMatchObject({ ok: false, errors: [{ field: 'email' }] });
  });
  it('folds CR/LF in names and says so', () => {
    const r = validateRow(row({ name: '山田\r\nBcc: x@y' }), rules);
    expect(r).toMatchObject({ ok: true, recipient: { name: '山田 Bcc: x@y' }, warnings: [{ field: 'name' }] });
  });
  it('rejects unknown segments and locales, and empty ids and names, all at once', () => {
    const r = validateRow(row({ segment: 'vip', locale: 'fr', customer_id: '', name: ' ' }), rules);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['customer_id', 'locale', 'name', 'segment']);
  });
  it('never keeps a card number, whatever the column is called: the row is refused, naming the field', () => {
    const r = validateRow(row({ rank: '4111 1111 1111 1111' }), rules);
    expect(r).toMatchObject({ ok: false, errors: [{ field: 'rank', reason: expect.stringMatching(/payment card number; card data is never stored/) }] });
    expect(looksLikeCardNumber('4111-1111-1111-1112')).toBe(false);
  });

  it.each([
    ['name', '佐藤 4111111111111111'],
    ['address_line2', 'カード 5500-0000-0000-0004 の件'],
    ['address_line1', '丸の内 ４１１１　１１１１　１１１１　１１１１'], // full-width digits and spaces
    ['city', '378282246310005'], // 15 digits (Amex)
  ])('refuses a card number in %s', (field, value) => {
    expect(validateRow(row({ [field]: value }), rules)).toMatchObject({ ok: false, errors: [{ field }] });
  });

  it('keeps numbers that are not card numbers (phones, a failed Luhn, a long id)', () => {
    for (const value of ['03-1234-5678', '090 1234 5678', '4111 1111 1111 1112', '12345678901234567890123']) {
      expect(validateRow(row({ address_line2: value }), rules).ok, value).toBe(true);
    }
  });

  it('refuses fields longer than a letter or a header line can hold, naming the field', () => {
    expect(validateRow(row({ name: 'あ'.repeat(5000) }), rules)).toMatchObject({ ok: false, errors: [{ field: 'name', reason: 'is 5000 characters long; at most 100' }] });
    expect(validateRow(row({ address_line1: 'x'.repeat(201) }), rules)).toMatchObject({ ok: false, errors: [{ field: 'address_line1' }] });
    expect(validateRow(row({ name: 'あ'.repeat(100) }), rules).ok).toBe(true);
  });
});
