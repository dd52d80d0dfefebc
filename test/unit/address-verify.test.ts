// Addresses checked against Japan Post's postal-code data (data/postal, the version in
// VERSION.json): real-style messy inputs, what is fixed by itself (with before and after), what
// waits for ops (with the reason and a suggestion). The name is never touched.
import { describe, expect, it } from 'vitest';
import { verifyAddress, type AddressInput } from '../../src/domain/address-verify.ts';
import { postalDataVersion, postalLookup } from '../../src/channels/post/postal-data.ts';
import { addressNumber, customerBarcode } from '../../src/domain/customer-barcode.ts';
import { letterBarcode } from '../../src/channels/post/letter.ts';

const base: AddressInput = { name: '山田 太郎', postal_code: '100-0005', prefecture: '東京都', city: '千代田区', address_line1: '丸の内1-1-1', address_line2: '' };
const check = (over: Partial<AddressInput>) => verifyAddress({ ...base, ...over }, postalLookup);

describe('address verification (Japan Post data)', () => {
  it('knows which data it uses', () => {
    const v = postalDataVersion();
    expect(v.rows).toBeGreaterThan(140_000);
    expect(v.business_offices).toBeGreaterThan(20_000);
    expect(v.data_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it.each<[string, Partial<AddressInput>, Array<[string, string, string]>, Partial<{ prefecture: string; city: string; addressLine1: string }>]>([
    ['東京 → 東京都', { prefecture: '東京' }, [['prefecture', '東京', '東京都']], { prefecture: '東京都' }],
    ['a missing prefecture, filled from the code', { prefecture: '' }, [['prefecture', '', '東京都']], { prefecture: '東京都' }],
    ['a one-line address', { prefecture: '', city: '', address_line1: '東京都千代田区丸の内1-1-1' }, [['prefecture', '', '東京都'], ['address_line1', '東京都千代田区丸の内1-1-1', '千代田区丸の内1-1-1'], ['city', '', '千代田区'], ['address_line1', '千代田区丸の内1-1-1', '丸の内1-1-1']], { prefecture: '東京都', city: '千代田区', addressLine1: '丸の内1-1-1' }],
    ['the prefecture repeated in city', { city: '東京都千代田区' }, [['city', '東京都千代田区', '千代田区']], { city: '千代田区' }],
    ['a city named like its prefecture is left alone', { postal_code: '530-0001', prefecture: '大阪府', city: '大阪市北区', address_line1: '梅田1-1' }, [], { city: '大阪市北区' }],
    ['a code spanning two prefectures, the city without its district', { postal_code: '498-0000', prefecture: '三重県', city: '木曽岬町', address_line1: '大字雁ケ地1' }, [['city', '木曽岬町', '桑名郡木曽岬町']], { prefecture: '三重県', city: '桑名郡木曽岬町' }],
    ['the same code, its other prefecture', { postal_code: '498-0000', prefecture: '愛知県', city: '弥富市', address_line1: '鯏浦町1' }, [], { prefecture: '愛知県', city: '弥富市' }],
    ['a business-office code', { postal_code: '103-8307', prefecture: '東京都', city: '中央区', address_line1: '日本橋室町3-4-4' }, [], { city: '中央区' }],
    ['a representative code', { postal_code: '060-0000', prefecture: '北海道', city: '札幌市中央区', address_line1: '北1条西2丁目' }, [], { city: '札幌市中央区' }],
    ['a city field that goes on into the town', { city: '千代田区丸の内', address_line1: '1-1-1' }, [], { city: '千代田区丸の内' }],
    ['full-width digits and hyphens', { postal_code: '１００－０００５', address_line1: '丸の内１ー１ー１' }, [], { addressLine1: '丸の内1-1-1' }],
  ])('%s', (_what, over, fixes, expected) => {
    const r = check(over);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.fixes.map((f) => [f.field, f.before, f.after])).toEqual(fixes);
    expect(r.address).toMatchObject(expected);
    expect(r.address.name).toBe(base.name);
  });

  it.each<[string, Partial<AddressInput>, RegExp, string | null]>([
    ['a code whose city disagrees', { city: '渋谷区' }, /city "渋谷区" is not where postal code 100-0005 is \(東京都千代田区\)/, '千代田区'],
    ['a code in another prefecture', { prefecture: '大阪府' }, /postal code 100-0005 is not in 大阪府 \(it is in 東京都\)/, '東京都'],
    ['a code that does not exist', { postal_code: '999-9999' }, /postal code 999-9999 does not exist/, null],
    ['a prefecture that is none', { prefecture: '東京府' }, /"東京府" is not one of the 47 prefectures/, '東京都'],
    ['no address line', { address_line1: '' }, /address_line1 is missing/, null],
  ])('refuses %s, with a suggestion', (_what, over, reason, suggestion) => {
    const r = check(over);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reasons.join('; ')).toMatch(reason);
    expect(r.suggestion).toBe(suggestion);
  });

  it('normalises kanji numerals and 丁目/番地/号 for the barcode, not on the letter', () => {
    const r = check({ address_line1: '丸の内一丁目二番三号' });
    expect(r.ok && r.address.addressLine1).toBe('丸の内一丁目二番三号');
    expect(addressNumber('丸の内一丁目二番三号')).toBe('1-2-3');
    expect(r.ok && letterBarcode(r.address)!.text).toBe('10000051-2-3');
    expect(customerBarcode('060-0000', '北1条西2丁目')).toBeNull(); // representative code
  });
});
