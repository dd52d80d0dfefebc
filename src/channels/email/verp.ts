// VERP return paths: bounce+<noticeId>.<hmac>@BOUNCE_DOMAIN. The HMAC lets the bounce receiver
// refuse forged addresses without a database lookup.
import { createHmac, timingSafeEqual } from 'node:crypto';

function tag(secret: string, noticeId: number): string {
  return createHmac('sha256', secret).update(`notice:${noticeId}`).digest('hex').slice(0, 16);
}

export function verpAddress(secret: string, domain: string, noticeId: number): string {
  return `bounce+${noticeId}.${tag(secret, noticeId)}@${domain}`;
}

/** The notice id of a VERP address, or null when it is not ours or its HMAC does not match. */
export function parseVerp(secret: string, domain: string, address: string): number | null {
  const m = /^bounce\+(\d+)\.([0-9a-f]{16})@(.+)$/i.exec(address.trim());
  if (!m || m[3].toLowerCase() !== domain.toLowerCase()) return null;
  const id = Number(m[1]);
  const want = Buffer.from(tag(secret, id));
  const got = Buffer.from(m[2].toLowerCase());
  return want.length === got.length && timingSafeEqual(want, got) ? id : null;
}
