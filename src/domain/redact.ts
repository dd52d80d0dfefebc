// Replies from mail servers often quote the recipient ("550 5.1.1 <taro@example.jp>: User
// unknown"). Before such a text reaches a log line or a pause reason, addresses are masked; the
// full reply stays in PostgreSQL (the ledger), where personal data belongs.
/** An email address anywhere in a text; the same pattern serves JavaScript and PostgreSQL (ARE). */
export const EMAIL_PATTERN = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+";
const EMAIL = new RegExp(EMAIL_PATTERN, 'g');

export function redactAddresses(text: string): string {
  return text.replace(EMAIL, '[address]');
}

/** Keys of a ledger row's detail that hold a person's data (an address fix's before/after…). */
const PERSONAL_KEYS = new Set(['name', 'email', 'to', 'address', 'before', 'after', 'postal_code', 'prefecture', 'city', 'address_line1', 'address_line2', 'notice_code', 'recipient']);

/**
 * A ledger detail as a viewer may see it: personal fields hidden, addresses in any text (SMTP
 * replies, diagnostics) masked. Operators see the ledger as it is.
 */
export function viewerDetail(value: unknown, key = ''): unknown {
  if (PERSONAL_KEYS.has(key)) return '[hidden]';
  if (typeof value === 'string') return redactAddresses(value);
  if (Array.isArray(value)) return value.map((v) => viewerDetail(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, viewerDetail(v, k)]));
  return value;
}
