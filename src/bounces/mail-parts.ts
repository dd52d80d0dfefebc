// Raw message → the MailParts the domain reads. mailparser decodes MIME and charsets (ISO-2022-JP,
// Shift_JIS, UTF-8); report parts (message/delivery-status, feedback reports, returned headers)
// come out as attachments, which we hand on as text.
import { simpleParser } from 'mailparser';
import type { MailParts } from '../domain/bounce.ts';

export async function toMailParts(raw: Buffer | string): Promise<MailParts> {
  const mail = await simpleParser(raw, { skipHtmlToText: false, skipImageLinks: true, skipTextLinks: true });
  const headers = new Map<string, string>();
  for (const { key, line } of mail.headerLines) {
    if (headers.has(key)) continue;
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    headers.set(key, value);
  }
  // Decoded values where mailparser has them (encoded-word subjects).
  if (mail.subject) headers.set('subject', mail.subject);
  if (mail.from?.text) headers.set('from', mail.from.text);
  const parts = mail.attachments.map((a) => ({ contentType: a.contentType.toLowerCase(), content: a.content.toString('utf8') }));
  let text = mail.text ?? '';
  // A broken MIME structure (a boundary that never appears) leaves mailparser with nothing: read
  // the raw body as text rather than drop the report.
  if (!text.trim() && !parts.length) {
    const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const at = buf.indexOf('\r\n\r\n') >= 0 ? buf.indexOf('\r\n\r\n') + 4 : buf.indexOf('\n\n') + 2;
    text = at > 1 ? buf.subarray(at).toString('utf8') : '';
  }
  // mailparser folds message/delivery-status and message/feedback-report into the text body;
  // give the domain those reports back as parts.
  const dsn = /^(Reporting-MTA|Final-Recipient|Original-Recipient|Arrival-Date):/im.exec(text);
  if (dsn && !parts.some((p) => p.contentType === 'message/delivery-status')) parts.push({ contentType: 'message/delivery-status', content: text.slice(dsn.index) });
  // A bounce forwarded by a person, inside a message/rfc822 part or quoted ("> Final-Recipient:"):
  // the inner report is the one (its Final-Recipient, its status).
  if (!parts.some((p) => p.contentType === 'message/delivery-status')) {
    const inner = parts.find((p) => p.contentType === 'message/rfc822' && /^Final-Recipient:/im.test(p.content));
    const quoted = /^>[ \t]?(Reporting-MTA|Final-Recipient):/im.exec(text);
    if (inner) parts.push({ contentType: 'message/delivery-status', content: inner.content.slice(/^(Reporting-MTA|Final-Recipient|Original-Recipient):/im.exec(inner.content)!.index) });
    else if (quoted) parts.push({ contentType: 'message/delivery-status', content: text.slice(quoted.index).replace(/^>[ \t]?/gm, '') });
  }
  const arf = /^Feedback-Type:/im.exec(text);
  if (arf && !parts.some((p) => p.contentType === 'message/feedback-report')) parts.push({ contentType: 'message/feedback-report', content: text.slice(arf.index) });
  return { headers, text, parts };
}
