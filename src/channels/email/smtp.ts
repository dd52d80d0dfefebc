// SMTP through a pooled nodemailer transport.
import { createTransport } from 'nodemailer';
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
      try {
        const info = await transport.sendMail(toMailOptions(m));
        const reply = String(info.response ?? '250');
        const queued = /queued as ([A-Za-z0-9]+)/i.exec(reply);
        return { providerMessageId: queued ? queued[1] : null, reply: reply.replace(/[\r\n]+/g, ' ') };
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
