// Replies from mail servers often quote the recipient ("550 5.1.1 <taro@example.jp>: User
// unknown"). Before such a text reaches a log line or a pause reason, addresses are masked; the
// full reply stays in PostgreSQL (the ledger), where personal data belongs.
const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

export function redactAddresses(text: string): string {
  return text.replace(EMAIL, '[address]');
}
