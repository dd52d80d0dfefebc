// Thin processor for the bounce queue: apply one stored event; an early one waits (delayed).
import { DelayedError, Worker, type Job } from 'bullmq';
import { bounceJobSchema, type BounceJob } from '../queues/jobs.ts';
import { QUEUE } from '../queues/names.ts';
import type { BounceOutcome, BounceResult } from '../src/bounces/apply-bounce.ts';
import { options, type Common } from './common.ts';

export function makeBounceWorker(o: Common & { applyBounce: (id: number) => Promise<BounceResult> }) {
  return new Worker<BounceJob, BounceOutcome>(
    QUEUE.bounce,
    async (job: Job<BounceJob>, token?: string) => {
      const r = await o.applyBounce(bounceJobSchema.parse(job.data).bounceEventId);
      if (r.outcome === 'waiting') {
        // Early: its person is not yet in a state it applies to. Ask again later (the same job;
        // if Redis loses it, the reconciler re-queues every unapplied event from PostgreSQL).
        await job.moveToDelayed(Date.now() + (r.retryInMs ?? 1000), token);
        throw new DelayedError();
      }
      return r.outcome;
    },
    options(o),
  );
}
