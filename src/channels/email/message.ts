// From a notice to the message that leaves: variables, rendering, Message-ID, VERP.
import { createHmac } from 'node:crypto';
import type { NoticeRow } from '../../db/notice-store.ts';
import type { Config } from '../../config.ts';
import { letterheadVariables, renderVariant, type Letterhead, type TemplateSet } from '../../domain/template.ts';
import type { OutgoingMessage } from './transport.ts';
import { verpAddress } from './verp.ts';

export interface MessageSettings {
  from: string;
  bounceDomain: string;
  verpSecret: string;
  /** The Feedback-ID sender id (Gmail's feedback loop); the From domain when unset. */
  feedbackSender?: string;
}

/** The settings every message is built with, from the configuration. */
export function messageSettings(c: Pick<Config, 'MAIL_FROM' | 'BOUNCE_DOMAIN' | 'VERP_SECRET'> & Partial<Pick<Config, 'FEEDBACK_ID_SENDER'>>): MessageSettings {
  return { from: c.MAIL_FROM, bounceDomain: c.BOUNCE_DOMAIN, verpSecret: c.VERP_SECRET, feedbackSender: c.FEEDBACK_ID_SENDER || undefined };
}

export type TemplateSource = Pick<NoticeRow, 'extra' | 'customer_id' | 'name' | 'email' | 'notice_code' | 'postal_code' | 'prefecture' | 'city' | 'address_line1' | 'address_line2' | 'locale' | 'segment'>;

export function templateVariables(n: TemplateSource, campaignName: string, letterhead: Letterhead | null = null): Record<string, string> {
  return {
    ...letterheadVariables(letterhead, n.locale),
    ...n.extra,
    customer_id: n.customer_id,
    name: n.name,
    email: n.email ?? '',
    notice_code: n.notice_code,
    postal_code: n.postal_code ?? '',
    prefecture: n.prefecture,
    city: n.city,
    address_line1: n.address_line1,
    address_line2: n.address_line2,
    locale: n.locale,
    segment: n.segment,
    campaign_name: campaignName,
  };
}

export function domainOf(from: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(from);
  return m ? m[1] : 'localhost';
}

/**
 * Stable per notice (a resend after a crash carries the same Message-ID) and opaque: the notice
 * code, which proves a notice genuine, stays in the body and the letter, never in a header that
 * every mail server on the way logs.
 */
export function messageIdFor(n: Pick<NoticeRow, 'id' | 'campaign_id'>, from: string, secret: string): string {
  const tag = createHmac('sha256', secret).update(`message-id:${n.id}`).digest('hex').slice(0, 12);
  return `<notice-${n.campaign_id}-${n.id}.${tag}@${domainOf(from)}>`;
}

export function buildMessage(n: NoticeRow, campaignName: string, templates: TemplateSet, s: MessageSettings): OutgoingMessage {
  const rendered = renderVariant(templates, n.segment, n.locale, templateVariables(n, campaignName, templates.letterhead));
  return {
    from: s.from,
    // eslint-disable-next-line no-control-regex
    to: { name: n.name.replace(/[\u0000-\u001f\u007f]+/g, ' '), address: n.email! },
    returnPath: verpAddress(s.verpSecret, s.bounceDomain, n.id),
    envId: verpAddress(s.verpSecret, s.bounceDomain, n.id).split('@')[0],
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    messageId: messageIdFor(n, s.from, s.verpSecret),
    // Feedback-ID (Gmail's feedback loop: complaint rates per campaign and segment; DKIM-signed).
    // No List-Unsubscribe: a legal notice of a breach is not a subscription (README).
    headers: { 'X-Notice-Id': String(n.id), 'Auto-Submitted': 'auto-generated', 'Feedback-ID': `${n.campaign_id}:${n.segment}:notice:${s.feedbackSender ?? domainOf(s.from)}` },
  };
}
