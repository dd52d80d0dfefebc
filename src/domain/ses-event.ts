// Amazon SES notifications (via SNS), in both shapes: `notificationType` (identity notifications)
// and `eventType` (configuration-set event publishing). One event per recipient. Pure.
import { classifyBounce, statusFromText, type BounceClass } from './bounce.ts';

export interface SesRecipientEvent {
  sesMessageId: string | null;
  noticeIdHeader: number | null;
  recipient: string;
  class: BounceClass;
  status: string | null;
  diagnostic: string | null;
  action: string | null;
  /** Stable across SNS retries. */
  dedupeKey: string;
}

interface SesMessage {
  notificationType?: string;
  eventType?: string;
  mail?: { messageId?: string; headers?: Array<{ name: string; value: string }> };
  bounce?: { bounceType?: string; bounceSubType?: string; feedbackId?: string; bouncedRecipients?: Array<{ emailAddress: string; status?: string; diagnosticCode?: string; action?: string }> };
  complaint?: { feedbackId?: string; complaintFeedbackType?: string; complainedRecipients?: Array<{ emailAddress: string }> };
  delivery?: { recipients?: string[]; smtpResponse?: string };
}

function bounceClass(type: string | undefined, subType: string | undefined, status: string | null, diagnostic: string | null): BounceClass {
  if (subType === 'ContentRejected' || subType === 'MessageTooLarge' || subType === 'AttachmentRejected') return 'message';
  if (subType === 'MailboxFull') return 'soft';
  if (type === 'Permanent') return subType === 'General' || subType === 'NoEmail' || subType === 'Suppressed' || subType === 'OnAccountSuppressionList' ? 'hard' : classifyBounce(status, diagnostic) === 'message' ? 'message' : 'hard';
  return 'soft'; // Transient, Undetermined
}

export function parseSesMessage(raw: string, snsMessageId: string): SesRecipientEvent[] {
  let m: SesMessage;
  try {
    m = JSON.parse(raw) as SesMessage;
  } catch {
    return [];
  }
  const type = m.notificationType ?? m.eventType;
  const sesMessageId = m.mail?.messageId ?? null;
  const header = m.mail?.headers?.find((h) => h.name.toLowerCase() === 'x-notice-id')?.value;
  const noticeIdHeader = header && /^\d+$/.test(header) ? Number(header) : null;
  const base = { sesMessageId, noticeIdHeader };
  if (type === 'Bounce' && m.bounce) {
    const key = m.bounce.feedbackId ?? snsMessageId;
    return (m.bounce.bouncedRecipients ?? []).map((r) => {
      const status = r.status ?? statusFromText(r.diagnosticCode);
      const diagnostic = r.diagnosticCode ?? null;
      return { ...base, recipient: r.emailAddress.toLowerCase(), status, diagnostic, action: r.action ?? 'failed', class: bounceClass(m.bounce!.bounceType, m.bounce!.bounceSubType, status, diagnostic), dedupeKey: `ses:bounce:${key}:${r.emailAddress.toLowerCase()}` };
    });
  }
  if (type === 'Complaint' && m.complaint) {
    const key = m.complaint.feedbackId ?? snsMessageId;
    return (m.complaint.complainedRecipients ?? []).map((r) => ({ ...base, recipient: r.emailAddress.toLowerCase(), status: null, diagnostic: m.complaint!.complaintFeedbackType ?? null, action: 'complaint', class: 'complaint' as const, dedupeKey: `ses:complaint:${key}:${r.emailAddress.toLowerCase()}` }));
  }
  if (type === 'Delivery' && m.delivery) {
    return (m.delivery.recipients ?? []).map((r) => ({ ...base, recipient: r.toLowerCase(), status: statusFromText(m.delivery!.smtpResponse), diagnostic: m.delivery!.smtpResponse ?? null, action: 'delivered', class: 'delivery' as const, dedupeKey: `ses:delivery:${sesMessageId ?? snsMessageId}:${r.toLowerCase()}` }));
  }
  return [];
}
