// The one place people of a cancelled campaign are cancelled: by the cancel itself (control.ts),
// the sender finding them still queued, the postal route, and the reconciler's sweep. The ledger
// row says why the same way everywhere.
import type { NoticeState } from '../domain/notice-state.ts';
import { transition, type Queryable, type TransitionOptions, type TransitionedRow } from '../db/notice-store.ts';

export const CANCEL_REASON = 'campaign cancelled';

/** Moves `ids` still in one of `from` to cancelled on `q`; returns those moved. */
export function cancelPeople(q: Queryable, ids: readonly number[], from: readonly NoticeState[], o: { detail?: Record<string, unknown>; also?: TransitionOptions['also']; slim?: boolean } = {}): Promise<TransitionedRow[]> {
  return transition(q, { ids, from, to: 'cancelled', detail: { reason: CANCEL_REASON, ...o.detail }, also: o.also, slim: o.slim });
}
