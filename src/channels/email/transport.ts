// The port the email worker sends through. Adapters: smtp.ts (nodemailer pool), ses.ts.
import type { SendFailure } from '../../domain/send-error.ts';

export interface OutgoingMessage {
  from: string;
  to: { name: string; address: string };
  /** Envelope sender (VERP return path). */
  returnPath: string;
  subject: string;
  html: string;
  text: string;
  /** Stable per notice, so a receiver can fold a rare duplicate. */
  messageId: string;
  headers: Record<string, string>;
  /** The DSN envelope id (ENVID): names the notice, signed like the return path. */
  envId?: string;
}

export interface SendResult {
  /** The provider's id (SES MessageId, or the queue id in the SMTP reply). */
  providerMessageId: string | null;
  /** The final reply line, e.g. "250 2.0.0 Ok: queued as 4Fq". */
  reply: string;
  /** sha256 of the exact bytes sent (the MIME message), when the transport knows them. */
  sha256?: string;
}

export class SendFailureError extends Error {
  readonly failure: SendFailure;
  constructor(failure: SendFailure, options?: { cause?: unknown }) {
    super(failure.message, options);
    this.name = 'SendFailureError';
    this.failure = failure;
  }
}

export interface MailTransport {
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): Promise<void>;
}
