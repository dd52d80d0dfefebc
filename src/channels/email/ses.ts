// Amazon SES: SendRawEmail with the MIME built by nodemailer's composer, so both transports send
// byte-for-byte the same message.
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import type { MailTransport, SendResult } from './transport.ts';
import { SendFailureError } from './transport.ts';
import { buildRawMessage, sha256Of, type DkimKeys } from './smtp.ts';

export interface SesOptions {
  region: string;
  /** Sign every message (SES's own DKIM is separate: this is the From domain's). */
  dkim?: DkimKeys;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** A send that has no answer by then fails (and is retried): shorter than SEND_LEASE_MS. */
  requestTimeoutMs?: number;
}

export function makeSesTransport(o: SesOptions): MailTransport {
  const client = new SESClient({
    region: o.region,
    endpoint: o.endpoint,
    maxAttempts: 1, // retries are ours: classified, backed off, and counted in Postgres
    requestHandler: { requestTimeout: o.requestTimeoutMs ?? 30_000, connectionTimeout: Math.min(o.requestTimeoutMs ?? 30_000, 10_000), throwOnRequestTimeout: true },
    credentials: o.accessKeyId && o.secretAccessKey ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } : undefined,
  });
  return {
    async send(m): Promise<SendResult> {
      const raw = await buildRawMessage(m, o.dkim);
      try {
        const out = await client.send(
          new SendRawEmailCommand({ RawMessage: { Data: raw }, Source: m.returnPath, Destinations: [m.to.address] }),
        );
        return { providerMessageId: out.MessageId ?? null, reply: `SES accepted ${out.MessageId ?? ''}`.trim(), sha256: sha256Of(raw) };
      } catch (err) {
        const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
        throw new SendFailureError(
          { transport: 'ses', name: e.name, code: e.code, message: e.message ?? String(err), httpStatus: e.$metadata?.httpStatusCode },
          { cause: err },
        );
      }
    },
    async close() {
      client.destroy();
    },
  };
}
