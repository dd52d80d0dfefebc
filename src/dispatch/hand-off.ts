// The one hand-off of a person to another channel: today email → post (no email, suppressed,
// hard bounce, soft bounces used up, attempts used up, a returned letter re-mailed, an address
// fixed). The move happens in the caller's transaction; the letters' jobs go on the postal queue
// only after that transaction commits, so a crash between the two leaves people in
// `postal_queued` with no job (which the reconciler finds), never a job for a move that rolled
// back. A third channel gets its own `to…` here, beside toPost.
import type { Db, DbClient } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { transition, type Queryable, type TransitionOptions } from '../db/notice-store.ts';
import type { NoticeState } from '../domain/notice-state.ts';
import type { NoticeRef } from './enqueue.ts';

export interface ToPost {
  ids: readonly number[];
  from: readonly NoticeState[];
  /** Why the person goes to post (in the ledger row). */
  reason: string;
  detail?: Record<string, unknown>;
  also?: TransitionOptions['also'];
  slim?: boolean;
}

export type EnqueuePostal = (refs: NoticeRef[]) => Promise<void>;

/** The move alone, on `q` (a transaction's client, or the pool for one statement). */
function movePost(q: Queryable, o: ToPost) {
  return transition(q, { ids: o.ids, from: o.from, to: 'postal_queued', channel: 'postal', detail: { ...o.detail, reason: o.reason }, also: o.also, slim: o.slim });
}

export function makeHandOff(enqueuePostal: EnqueuePostal) {
  return {
    /**
     * `fn` runs in one transaction and hands people to post with `toPost`; once it has committed,
     * everyone handed over is queued for a letter. Returns what `fn` returned.
     */
    async inTransaction<T>(db: Db, fn: (tx: DbClient, toPost: (o: ToPost) => Promise<NoticeRef[]>) => Promise<T>): Promise<T> {
      const handed: NoticeRef[] = [];
      const result = await withTransaction(db, (tx) =>
        fn(tx, async (o) => {
          const moved = await movePost(tx, o);
          handed.push(...moved);
          return moved;
        }),
      );
      if (handed.length) await enqueuePostal(handed);
      return result;
    },
    /** One statement (it commits by itself), then the letters' jobs. */
    async now(db: Db, o: ToPost): Promise<NoticeRef[]> {
      const moved = await movePost(db, o);
      if (moved.length) await enqueuePostal(moved);
      return moved;
    },
  };
}

export type HandOff = ReturnType<typeof makeHandOff>;
