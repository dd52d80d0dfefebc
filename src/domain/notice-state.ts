// Notice states and what they mean to a report. See DESIGN.md "Notice states".
export const NOTICE_STATES = [
  'pending', 'queued', 'sending', 'sent', 'delivered', 'postal_queued', 'address_invalid',
  'batched', 'printed', 'mailed', 'returned', 'unreachable', 'cancelled', 'needs_review',
] as const;
export type NoticeState = (typeof NOTICE_STATES)[number];

/** States in which the person has been told. */
export const NOTIFIED: readonly NoticeState[] = ['sent', 'delivered', 'mailed'];

/**
 * States in which a person is accounted for: told, or in a state someone must act on by name
 * (a later bounce or return can still reopen sent/mailed).
 */
export const ACCOUNTED: readonly NoticeState[] = ['sent', 'delivered', 'mailed', 'unreachable', 'cancelled', 'needs_review', 'address_invalid'];

/** Email work still to do; a campaign's email phase is over when none are left. */
export const EMAIL_OPEN: readonly NoticeState[] = ['pending', 'queued', 'sending'];

/** States a person may be cancelled from (nothing has left the building yet). */
export const CANCELLABLE: readonly NoticeState[] = ['pending', 'queued', 'postal_queued', 'address_invalid'];
