// SMTP through a pooled nodemailer transport.
import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { MailTransport, OutgoingMessage, SendResult } from './transport.ts';
import { SendFailureError } from './transport.ts';

export interface SmtpOptions {
  url: string;
  poolSize: number;
  timeoutMs: number;
}

export function toMailOptions(m: OutgoingMessage) {
  return {
    from: m.from,
    to: { name: m.to.name, address: m.to.address },
    subject: m.subject,
    html: m.html,
    text: m.text,
    messageId: m.messageId,
    headers: m.headers,
    envelope: { from: m.returnPath, to: [m.to.address] },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * The message exactly as it goes on the wire (MIME built by nodemailer's composer): both
 * transports send these bytes, and their sha256 is the person's evidence of what they were sent.
 */
export function buildRawMessage(m: OutgoingMessage): Promise<Buffer> {
  // Return-Path is the envelope's business (the receiving server adds it; SES sets it from Source).
  return new MailComposer(toMailOptions(m)).compile().build();
}

export const sha256Of = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

export function makeSmtpTransport(o: SmtpOptions): MailTransport {
  const transport = createTransport({
    url: o.url,
    pool: true,
    maxConnections: o.poolSize,
    maxMessages: 1000,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
  });
  return {
    async send(m): Promise<SendResult> {
      const raw = await buildRawMessage(m);
      try {
        // Delivery status notifications where the relay offers them (RFC 3461): a success DSN is
        // evidence the message reached the mailbox, a delay one that it has not yet. Ignored by
        // relays without the DSN extension.
        const dsn = { ret: 'HDRS', envid: m.envId ?? null, notify: ['SUCCESS', 'FAILURE', 'DELAY'], orcpt: `rfc822;${m.to.address}` };
        const info = await transport.sendMail({ envelope: { from: m.returnPath, to: [m.to.address] }, raw, dsn });
        const reply = String(info.response ?? '250');
        const queued = /queued as ([A-Za-z0-9]+)/i.exec(reply);
        return { providerMessageId: queued ? queued[1] : null, reply: reply.replace(/[\r\n]+/g, ' '), sha256: sha256Of(raw) };
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; response?: string; command?: string; message?: string };
        throw new SendFailureError(
          { transport: 'smtp', code: e.code, responseCode: e.responseCode, response: e.response, command: e.command, message: e.message ?? String(err) },
          { cause: err },
        );
      }
    },
    async close() {
      transport.close();
    },
  };
}
