// Taking in a bounce, from the SMTP receiver or the SES webhook: record it in Postgres (personal
// data stays there), then queue its id for the bounce worker.
import type { Queryable } from '../db/pool.ts';
import type { Queues } from '../../queues/queues.ts';
import { enqueueBounce } from '../dispatch/enqueue.ts';
import { recordBounce, type NewBounceEvent } from './bounce-store.ts';

/** Returns false when this bounce was recorded before (a retry or a duplicate delivery). */
export function makeBounceAcceptor(app: { db: Queryable; queues: Queues }) {
  return async (e: NewBounceEvent): Promise<boolean> => {
    const id = await recordBounce(app.db, e);
    if (id === null) return false;
    await enqueueBounce(app.queues, id);
    return true;
  };
}
