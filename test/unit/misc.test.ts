import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/domain/backoff.ts';
import { parseVerp, verpAddress } from '../../src/channels/email/verp.ts';
import { copyLine } from '../../src/intake/copy-text.ts';
import { newNoticeCode } from '../../src/intake/notice-code.ts';

describe('backoff', () => {
  it('doubles, caps, and jitters within [half, full]', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('VERP', () => {
  const secret = 'a-secret-of-enough-length';
  it('round-trips and refuses forgeries', () => {
    const a = verpAddress(secret, 'bounce.example.com', 42);
    expect(a).toMatch(/^bounce\+42\.[0-9a-f]{16}@bounce\.example\.com$/);
    expect(parseVerp(secret, 'bounce.example.com', a)).toBe(42);
    expect(parseVerp(secret, 'bounce.example.com', a.replace('+42.', '+43.'))).toBeNull();
    expect(parseVerp('another-secret-entirely', 'bounce.example.com', a)).toBeNull();
    expect(parseVerp(secret, 'other.example.com', a)).toBeNull();
  });
});

describe('COPY text', () => {
  it('escapes what COPY would misread', () => {
    expect(copyLine(['a\tb', 'c\\d', 'e\r\nf', null, 3])).toBe('a\\tb\tc\\\\d\te\\r\\nf\t\\N\t3\n');
  });
});

describe('notice codes', () => {
  it('are 12 unambiguous characters in groups of four', () => {
    const codes = new Set(Array.from({ length: 2000 }, newNoticeCode));
    expect(codes.size).toBe(2000);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });
});
