// Thin processor for the postal queue: put one person's letter in a print batch.
import { DelayedError, Worker, type Job } from 'bullmq';
import { postalJobSchema, type PostalJob } from '../queues/jobs.ts';
import { QUEUE } from '../queues/names.ts';
import type { PostalOutcome } from '../src/channels/post/route-postal.ts';
import { options, type Common } from './common.ts';

export function makePostalWorker(o: Common & { route: (noticeId: number) => Promise<PostalOutcome>; onFull: (batchId: number) => Promise<void>; noVendorRetryMs: number }) {
  return new Worker<PostalJob, PostalOutcome>(
    QUEUE.postal,
    async (job: Job<PostalJob>, token?: string) => {
      const outcome = await o.route(postalJobSchema.parse(job.data).noticeId);
      if (outcome.kind === 'no_vendor') {
        // Ops have not named a printing vendor for this campaign yet: wait, lose nobody.
        await job.moveToDelayed(Date.now() + o.noVendorRetryMs, token);
        throw new DelayedError();
      }
      if (outcome.kind === 'batched' && outcome.full) await o.onFull(outcome.batchId);
      return outcome;
    },
    options(o),
  );
}
