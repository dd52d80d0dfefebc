// Recording accepted sends in groups: one statement for up to `maxBatch` notices that finished
// within `maxWaitMs` of each other, instead of one each. Each caller still waits for the commit
// that records its notice, so a job completes only once Postgres knows; the group only shares the
// round trip (and the WAL flush).
//
// The message has left by the time we record it: if PostgreSQL is restarting, the group waits and
// tries again (up to `retryForMs`) rather than failing the job, because a failed job would be
// claimed again after its lease and the person emailed twice.
import { isConnectionError, type Db } from '../../db/pool.ts';
import { recordSent, type SentRecord } from '../../db/notice-store.ts';

export type { SentRecord };

export function makeSentRecorder(db: Db, o: { maxBatch: number; maxWaitMs: number; retryForMs?: number; onRetry?: (err: Error) => void }) {
  let pending: Array<{ r: SentRecord; resolve: (recorded: boolean) => void; reject: (e: unknown) => void }> = [];
  let timer: NodeJS.Timeout | null = null;

  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const group = pending;
    pending = [];
    if (!group.length) return;
    const rs = group.map((g) => g.r);
    const giveUpAt = Date.now() + (o.retryForMs ?? 60_000);
    for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5000)) {
      try {
        const done = await recordSent(db, rs);
        for (const g of group) g.resolve(done.has(g.r.id));
        return;
      } catch (err) {
        if (!isConnectionError(err) || Date.now() + delayMs > giveUpAt) {
          for (const g of group) g.reject(err);
          return;
        }
        o.onRetry?.(err as Error);
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  };

  return {
    /** Resolves true once committed as sent; false if the notice was no longer 'sending'. */
    record(r: SentRecord): Promise<boolean> {
      return new Promise((resolve, reject) => {
        pending.push({ r, resolve, reject });
        if (pending.length >= o.maxBatch) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), o.maxWaitMs);
      });
    },
    flush,
  };
}
export type SentRecorder = ReturnType<typeof makeSentRecorder>;
