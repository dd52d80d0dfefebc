// SMTP through a pooled nodemailer transport.
import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import DKIM from 'nodemailer/lib/dkim';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config.ts';
import type { MailTransport, OutgoingMessage, SendResult } from './transport.ts';
import { SendFailureError } from './transport.ts';

export interface SmtpOptions {
  url: string;
  poolSize: number;
  timeoutMs: number;
  /** Sign every message (one signature per key: two while keys rotate). */
  dkim?: DkimKeys;
}

export interface DkimKeys {
  domainName: string;
  keys: Array<{ keySelector: string; privateKey: string }>;
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
/** The headers each signature covers: the usual ones, and ours (Feedback-ID must be signed for Gmail to use it). */
const SIGNED_HEADERS = 'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:Feedback-ID:Auto-Submitted:X-Notice-Id';

export async function buildRawMessage(m: OutgoingMessage, dkim?: DkimKeys): Promise<Buffer> {
  // Return-Path is the envelope's business (the receiving server adds it; SES sets it from Source).
  const raw = await new MailComposer(toMailOptions(m)).compile().build();
  if (!dkim?.keys.length) return raw;
  // Signed here, before the hash, so the evidence is of the bytes that leave, signature included.
  const signed = new DKIM({ keys: dkim.keys.map((k) => ({ domainName: dkim.domainName, keySelector: k.keySelector, privateKey: k.privateKey })), headerFieldNames: SIGNED_HEADERS }).sign(raw);
  const chunks: Buffer[] = [];
  for await (const c of signed) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The DKIM keys from the configuration (read once), or undefined when signing is off. */
export function dkimFromConfig(c: { DKIM_DOMAIN: string; DKIM_SELECTOR: string; DKIM_PRIVATE_KEY_FILE: string; DKIM_SELECTOR_2: string; DKIM_PRIVATE_KEY_FILE_2: string; MAIL_FROM: string }): DkimKeys | undefined {
  if (!c.DKIM_DOMAIN) return undefined;
  const from = /@([^>\s]+)>?\s*$/.exec(c.MAIL_FROM)?.[1]?.toLowerCase() ?? '';
  const d = c.DKIM_DOMAIN.toLowerCase();
  // DMARC relaxed alignment: the From domain is the signing domain or under it.
  if (from !== d && !from.endsWith(`.${d}`)) throw new ConfigError([`DKIM_DOMAIN: ${d} does not align with the From domain ${from || '(none)'} (MAIL_FROM): DMARC would fail`]);
  const keys = [[c.DKIM_SELECTOR, c.DKIM_PRIVATE_KEY_FILE], [c.DKIM_SELECTOR_2, c.DKIM_PRIVATE_KEY_FILE_2]]
    .filter(([sel, file]) => sel || file)
    .map(([sel, file]) => {
      if (!sel || !file) throw new ConfigError([`DKIM: a selector needs its key file and a key file its selector (${sel || '?'} / ${file || '?'})`]);
      try {
        return { keySelector: sel, privateKey: readFileSync(file, 'utf8') };
      } catch (err) {
        throw new ConfigError([`DKIM_PRIVATE_KEY_FILE: cannot read ${file}: ${(err as Error).message}`]);
      }
    });
  if (!keys.length) throw new ConfigError(['DKIM_DOMAIN: is set but no DKIM_SELECTOR / DKIM_PRIVATE_KEY_FILE']);
  return { domainName: d, keys };
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
      const raw = await buildRawMessage(m, o.dkim);
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
