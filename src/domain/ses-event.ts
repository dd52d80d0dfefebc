// Amazon SES notifications (via SNS), in both shapes: `notificationType` (identity notifications)
// and `eventType` (configuration-set event publishing). One event per recipient. Pure.
import { classifyFailure, REASONS, statusFromText, type BounceClass, type BounceReason } from './bounce-rules.ts';

export interface SesRecipientEvent {
  sesMessageId: string | null;
  noticeIdHeader: number | null;
  recipient: string;
  class: BounceClass;
  reason: BounceReason;
  status: string | null;
  diagnostic: string | null;
  action: string | null;
  /** The mail server SES reports for the bounce or delivery, when it says. */
  reportingMta?: string | null;
  /** Stable across SNS retries. */
  dedupeKey: string;
}

interface SesMessage {
  notificationType?: string;
  eventType?: string;
  mail?: { messageId?: string; headers?: Array<{ name: string; value: string }> };
  bounce?: { bounceType?: string; bounceSubType?: string; feedbackId?: string; reportingMTA?: string; bouncedRecipients?: Array<{ emailAddress: string; status?: string; diagnosticCode?: string; action?: string }> };
  complaint?: { feedbackId?: string; complaintFeedbackType?: string; complainedRecipients?: Array<{ emailAddress: string }> };
  delivery?: { recipients?: string[]; smtpResponse?: string; reportingMTA?: string };
}

/** SES's bounce type and subtype, refined by the diagnostic where SES leaves it open. */
function bounceReason(type: string | undefined, subType: string | undefined, status: string | null, diagnostic: string | null): BounceReason {
  if (subType === 'ContentRejected' || subType === 'AttachmentRejected') return 'content';
  if (subType === 'MessageTooLarge') return 'too_large';
  if (subType === 'MailboxFull') return 'mailbox_full';
  const fromText = classifyFailure(status, diagnostic).reason;
  if (type === 'Permanent') {
    // NoEmail, Suppressed (SES's own list of addresses that hard-bounced), OnAccountSuppressionList.
    if (subType === 'NoEmail' || subType === 'Suppressed' || subType === 'OnAccountSuppressionList') return 'user_unknown';
    // General: the diagnostic says which; a permanent failure of unknown kind is still permanent.
    return fromText === 'unknown_failure' || fromText === 'temporary' || fromText === 'rejected' ? 'user_unknown' : fromText;
  }
  if (type === 'Transient') return fromText === 'unknown_failure' || REASONS[fromText].class === 'hard' ? 'temporary' : fromText;
  return 'unknown_failure'; // Undetermined
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
      const reason = bounceReason(m.bounce!.bounceType, m.bounce!.bounceSubType, status, diagnostic);
      return { ...base, recipient: r.emailAddress.toLowerCase(), status, diagnostic, action: r.action ?? 'failed', class: REASONS[reason].class, reason, reportingMta: m.bounce!.reportingMTA ?? null, dedupeKey: `ses:bounce:${key}:${r.emailAddress.toLowerCase()}` };
    });
  }
  if (type === 'Complaint' && m.complaint) {
    const key = m.complaint.feedbackId ?? snsMessageId;
    return (m.complaint.complainedRecipients ?? []).map((r) => ({ ...base, recipient: r.emailAddress.toLowerCase(), status: null, diagnostic: m.complaint!.complaintFeedbackType ?? null, action: 'complaint', class: 'complaint' as const, reason: 'complaint' as const, dedupeKey: `ses:complaint:${key}:${r.emailAddress.toLowerCase()}` }));
  }
  if (type === 'Delivery' && m.delivery) {
    return (m.delivery.recipients ?? []).map((r) => ({ ...base, recipient: r.toLowerCase(), status: statusFromText(m.delivery!.smtpResponse), diagnostic: m.delivery!.smtpResponse ?? null, action: 'delivered', class: 'delivery' as const, reason: 'delivered' as const, reportingMta: m.delivery!.reportingMTA ?? null, dedupeKey: `ses:delivery:${sesMessageId ?? snsMessageId}:${r.toLowerCase()}` }));
  }
  return [];
}
