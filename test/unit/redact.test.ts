import { describe, expect, it } from 'vitest';
import { redactAddresses } from '../../src/domain/redact.ts';

describe('redactAddresses', () => {
  it('masks every address a mail server quotes, and keeps the rest', () => {
    expect(redactAddresses('550 5.1.1 <taro.yamada+x@customer.example.jp>: Recipient address rejected: User unknown'))
      .toBe('550 5.1.1 <[address]>: Recipient address rejected: User unknown');
    expect(redactAddresses('relay denied for a@b.co and c@d.example')).toBe('relay denied for [address] and [address]');
    expect(redactAddresses('421 4.7.0 try later')).toBe('421 4.7.0 try later');
  });
});
