import { describe, expect, it } from 'vitest';
import { normalizeAddressText, validateAddress } from '../../src/domain/address.ts';
import { unencodable } from '../../src/channels/post/sjis.ts';
import { neutralise } from '../../src/channels/post/csv-cells.ts';

const ok = { name: '山田 太郎', postal_code: '1000005', prefecture: '東京都', city: '千代田区', address_line1: '丸の内1-1-1', address_line2: '' };

describe('addresses', () => {
  it.each([
    ['１丁目２－３', '1丁目2-3'], ['1ー2ー3', '1-2-3'], ['センタービル', 'センタービル'], ['ハイツ１０１ー２', 'ハイツ101-2'],
    ['コーポ‐３', 'コーポ-3'], ['ｾﾝﾀｰ 1−2', 'センター 1-2'], ['丸の内\r\n1-1', '丸の内 1-1'],
  ])('%s → %s', (input, out) => expect(normalizeAddressText(input)).toBe(out));

  it('accepts a complete address and normalises it', () => {
    expect(validateAddress({ ...ok, postal_code: '１００－０００５', address_line1: '丸の内１ー１' })).toEqual({
      ok: true, address: { name: '山田 太郎', postalCode: '1000005', prefecture: '東京都', city: '千代田区', addressLine1: '丸の内1-1', addressLine2: '' },
    });
  });
  it('lists every problem', () => {
    const r = validateAddress({ ...ok, postal_code: '100-005', prefecture: '東京', city: '', address_line1: '' });
    expect(r).toEqual({ ok: false, reasons: ['postal_code is not 7 digits', 'prefecture "東京" is not one of the 47 prefectures', 'city is missing', 'address_line1 is missing'] });
  });
});

describe('strict Shift_JIS', () => {
  it('refuses what a print shop cannot print, and only that', () => {
    expect(unencodable('山田 太郎 東京都千代田区丸の内1-1 様 ー－〒')).toEqual([]);
    expect(unencodable('𠮷野家')).toEqual(['𠮷']);
    expect(unencodable('髙橋')).toEqual(['髙']);
    expect(unencodable('①番地')).toEqual(['①']);
    expect(unencodable('草彅')).toEqual(['彅']);
  });
});

describe('CSV injection', () => {
  it.each([['=SUM(A1)', "'=SUM(A1)"], ['+81', "'+81"], ['-1', "'-1"], ['@x', "'@x"], ['山田', '山田'], ['1-2', '1-2']])('%s → %s', (a, b) => expect(neutralise(a)).toBe(b));
});

describe('names are never rewritten', () => {
  it('keeps ①, ㈱ and 髙 in a name; address digits are still made half-width', async () => {
    const { validateAddress } = await import('../../src/domain/address.ts');
    const r = validateAddress({ name: '髙橋 ①子 ㈱テスト', postal_code: '１００－０００５', prefecture: '東京都', city: '千代田区', address_line1: '丸の内１－２－３', address_line2: '' });
    expect(r).toMatchObject({ ok: true, address: { name: '髙橋 ①子 ㈱テスト', postalCode: '1000005', addressLine1: '丸の内1-2-3' } });
  });
});
