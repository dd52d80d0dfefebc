// What an asynchronous event about a person does in each state the person can be in: apply it,
// wait (it is early: the state it refers to is not recorded yet), or record it only (it is late:
// a later fact stands, and the event goes into the person's ledger as evidence). One table, read
// by the bounce worker; an event is never consumed without effect unless the table says "record".
//
// `sending` is where early events wait: the provider has accepted the message (a DSN, an SES
// Delivery or Bounce can only follow that), but our record of the send has not committed yet
// (sent records are grouped; during a PostgreSQL restart they are retried). A DSN for attempt 1
// that arrives while attempt 2 is in flight waits the same way, and applies to what attempt 2
// leaves. Vendor reports are synchronous and not in this table: an early one (a return before
// the batch is reported mailed) is answered `not_mailed` to the vendor, who still holds it.
import { NOTICE_STATES, type NoticeState } from './notice-state.ts';
import type { BounceRoute } from './bounce-rules.ts';

export type EventEffect = 'apply' | 'wait' | 'record';

const row = (apply: readonly NoticeState[], wait: readonly NoticeState[] = ['sending']) => (s: NoticeState): EventEffect =>
  apply.includes(s) ? 'apply' : wait.includes(s) ? 'wait' : 'record';

const RULES: Record<BounceRoute, (s: NoticeState) => EventEffect> = {
  // A dead address: a letter, also for a person queued again after an earlier soft bounce.
  post_now: row(['sent', 'delayed', 'delivered', 'queued']),
  // Try email again: only once the send it answers is recorded; queued means a retry is already due.
  retry_then_post: row(['sent', 'delayed', 'delivered']),
  // A message or content problem: needs review.
  review: row(['sent', 'delayed', 'delivered', 'queued']),
  // Our setup blamed: counted toward the pause, the person put back in the queue.
  pause_if_confirmed: row(['sent', 'delayed', 'delivered']),
  // Told, and did not want it: suppress further email whatever the state (the letter still goes).
  complaint: row(['pending', 'queued', 'sending', 'sent', 'delayed', 'delivered', 'postal_queued', 'address_invalid', 'batched', 'printed', 'mailed', 'returned', 'unreachable', 'cancelled', 'needs_review'], []),
  // In the mailbox: sent or delayed → delivered. Later (a letter already on its way) it is evidence only.
  delivered: row(['sent', 'delayed']),
  // A delay warning: sent → delayed (not notified until a final answer, or the deadline's letter).
  // A second warning, or one after the final answer, is evidence only.
  delay: row(['sent']),
  // Relayed on to the person's own server: ends a delay (delayed → sent); otherwise evidence only.
  relayed: row(['delayed']),
  // An auto-reply or a challenge from the person's mail system: the email arrived. It ends a delay
  // (delayed → sent: no letter for the deadline); otherwise evidence only.
  arrived: row(['delayed']),
  // Not about a delivery: evidence only.
  ignore: row([], []),
};

export function eventEffect(route: BounceRoute, state: NoticeState): EventEffect {
  return RULES[route](state);
}

/** The states an event of this route moves a person from (the transition's `from`). */
export function appliesIn(route: BounceRoute): NoticeState[] {
  return NOTICE_STATES.filter((s) => RULES[route](s) === 'apply');
}
