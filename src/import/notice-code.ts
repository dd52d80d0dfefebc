// The notice code printed on every email and letter: 12 characters of Crockford base32 (60 random
// bits), grouped in fours. Unguessable, easy to read over the phone (no I, L, O, U).
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newNoticeCode(): string {
  const bytes = randomBytes(12);
  let out = '';
  for (let i = 0; i < 12; i++) {
    out += ALPHABET[bytes[i] & 31];
    if (i === 3 || i === 7) out += '-';
  }
  return out;
}
