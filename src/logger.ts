// pino, with personal data redacted wherever it might be logged by mistake. We log ids, never
// payloads; the redaction is the safety net, not the method.
import { pino, type Logger } from 'pino';

const PERSONAL = ['email', 'email_normalized', 'name', 'to', 'address', 'postal_code', 'prefecture', 'city', 'address_line1', 'address_line2', 'phone', 'extra', 'html', 'text', 'subject'];

export const redactPaths = [...PERSONAL, ...PERSONAL.map((k) => `*.${k}`)];

export type { Logger };

export function makeLogger(opts: { level: string; file?: string; name?: string }): Logger {
  const destination = opts.file ? pino.destination({ dest: opts.file, mkdir: true, sync: false }) : pino.destination(2);
  return pino(
    { level: opts.level, redact: { paths: redactPaths, censor: '[redacted]' }, base: { pid: process.pid } },
    destination,
  );
}
