// Notice states and what they mean to a report. See DESIGN.md "Notice states".
export const NOTICE_STATES = [
  'pending', 'queued', 'sending', 'sent', 'delayed', 'delivered', 'postal_queued', 'address_invalid',
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

/**
 * A campaign is completed when it was launched and everyone in it is accounted for (told, or in
 * a state someone acts on by name). Derived, not stored: a late bounce or a returned letter puts
 * someone back on a route and the campaign shows as open again, visibly, with no state to reset.
 */
export function isCompleted(campaignState: string, counts: Readonly<Record<NoticeState, number>>): boolean {
  if (campaignState !== 'running' && campaignState !== 'paused') return false;
  let total = 0;
  for (const s of NOTICE_STATES) {
    total += counts[s];
    if (counts[s] > 0 && !ACCOUNTED.includes(s)) return false;
  }
  return total > 0;
}
