// The notice state machine: every move a person can make, as data. One row per move: the event
// that causes it, the states it leaves from, the state it reaches, and the channel it puts the
// person on (null: unchanged). The one writer of state and ledger (src/db/notice-store.ts) and
// the two statements that set state themselves (the claim, the sent record) refuse any move that
// is not here. What an asynchronous event does in each state is src/domain/event-rules.ts; its
// moves are rows of this table too (a unit test holds the two together).
import type { NoticeState } from './notice-state.ts';

export type Channel = 'email' | 'postal';

export interface Move {
  event: string;
  from: readonly NoticeState[];
  to: NoticeState;
  channel: Channel | null;
}

export const MOVES: readonly Move[] = [
  // Launch: the relay queues everyone; who has no email goes straight to post.
  { event: 'launch', from: ['pending'], to: 'queued', channel: 'email' },
  { event: 'launch_without_email', from: ['pending'], to: 'postal_queued', channel: 'postal' },
  // The email worker.
  { event: 'claim', from: ['queued', 'sending'], to: 'sending', channel: 'email' }, // sending: its lease ran out
  { event: 'accepted', from: ['sending'], to: 'sent', channel: 'email' },
  { event: 'transient', from: ['sending'], to: 'queued', channel: 'email' },
  { event: 'undeliverable', from: ['queued', 'sending'], to: 'postal_queued', channel: 'postal' }, // no/suppressed email, hard at send, attempts used up
  { event: 'message_problem', from: ['sending'], to: 'needs_review', channel: null },
  // Asynchronous events about an email (DSN, SES): see event-rules.ts for when each applies.
  { event: 'delay', from: ['sent'], to: 'delayed', channel: null }, // the receiving side is still trying: not notified
  { event: 'delivered', from: ['sent', 'delayed'], to: 'delivered', channel: null },
  { event: 'relayed_after_delay', from: ['delayed'], to: 'sent', channel: null }, // the delay ended: passed on to the person's own server
  { event: 'hard_bounce', from: ['sent', 'delayed', 'delivered', 'queued'], to: 'postal_queued', channel: 'postal' },
  { event: 'soft_bounce', from: ['sent', 'delayed', 'delivered'], to: 'queued', channel: 'email' },
  { event: 'soft_exhausted', from: ['queued'], to: 'postal_queued', channel: 'postal' },
  { event: 'content_bounce', from: ['sent', 'delayed', 'delivered', 'queued'], to: 'needs_review', channel: null },
  { event: 'config_bounce', from: ['sent', 'delayed', 'delivered'], to: 'queued', channel: 'email' },
  { event: 'unconfirmed', from: ['delayed'], to: 'postal_queued', channel: 'postal' }, // no final answer by the deadline: a letter
  // The postal route.
  { event: 'batched', from: ['postal_queued'], to: 'batched', channel: 'postal' },
  { event: 'address_invalid', from: ['postal_queued'], to: 'address_invalid', channel: 'postal' },
  { event: 'address_fixed', from: ['address_invalid', 'unreachable'], to: 'postal_queued', channel: 'postal' },
  { event: 'printed', from: ['batched'], to: 'printed', channel: 'postal' },
  { event: 'mailed', from: ['printed'], to: 'mailed', channel: 'postal' },
  { event: 'returned', from: ['mailed'], to: 'returned', channel: 'postal' },
  { event: 'remail', from: ['returned'], to: 'postal_queued', channel: 'postal' },
  { event: 'unreachable', from: ['returned'], to: 'unreachable', channel: 'postal' },
  // Cancel: everyone not yet told (a send in flight that comes back unsent; a letter not yet printed).
  { event: 'cancel', from: ['pending', 'queued', 'sending', 'postal_queued', 'address_invalid', 'batched'], to: 'cancelled', channel: null },
];

const ALLOWED = new Set(MOVES.flatMap((m) => m.from.map((f) => `${f}>${m.to}`)));

export const isMove = (from: NoticeState, to: NoticeState) => ALLOWED.has(`${from}>${to}`);

/** Throws (a programming error, not bad input) unless every from → to is a move of the machine. */
export function assertMoves(from: readonly NoticeState[], to: NoticeState): void {
  const bad = from.filter((f) => !isMove(f, to));
  if (bad.length) throw new Error(`not a move of the notice machine: ${bad.map((f) => `${f} → ${to}`).join(', ')}`);
}

/** The states a person can move to from `from`. */
export const nextStates = (from: NoticeState): NoticeState[] => [...new Set(MOVES.filter((m) => m.from.includes(from)).map((m) => m.to))];
