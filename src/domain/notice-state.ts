// Notice states and what they mean to a report. See DESIGN.md "Notice states".
export const NOTICE_STATES = [
  'pending', 'queued', 'sending', 'sent', 'delivered', 'postal_queued', 'address_invalid',
  'batched', 'printed', 'mailed', 'returned', 'unreachable', 'cancelled', 'needs_review',
] as const;
export type NoticeState = (typeof NOTICE_STATES)[number];

/** States in which the person has been told. */
export const NOTIFIED: readonly NoticeState[] = ['sent', 'delivered', 'mailed'];

/** States that need nothing more from us (a later bounce or return can still reopen sent/mailed). */
export const TERMINAL: readonly NoticeState[] = ['sent', 'delivered', 'mailed', 'unreachable', 'cancelled', 'needs_review'];

/** Email work still to do; a campaign's email phase is over when none are left. */
export const EMAIL_OPEN: readonly NoticeState[] = ['pending', 'queued', 'sending'];

/** States a person may be cancelled from (nothing has left the building yet). */
export const CANCELLABLE: readonly NoticeState[] = ['pending', 'queued', 'postal_queued', 'address_invalid'];

/** Settled for the email phase: terminal, or handed to the postal route. */
export function isSettled(state: NoticeState): boolean {
  return !EMAIL_OPEN.includes(state);
}
