// The notice code printed on every email and letter: 12 characters of Crockford base32 (60 random
// bits), grouped in fours. Unguessable, easy to read over the phone (no I, L, O, U).
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const POOL_CODES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

export function newNoticeCode(): string {
  if (offset + 12 > pool.length) {
    pool = randomBytes(12 * POOL_CODES); // one call to the CSPRNG per 4,096 codes
    offset = 0;
  }
  const bytes = pool.subarray(offset, (offset += 12));
  let out = '';
  for (let i = 0; i < 12; i++) {
    out += ALPHABET[bytes[i] & 31];
    if (i === 3 || i === 7) out += '-';
  }
  return out;
}
