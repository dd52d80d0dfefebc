// Thin processors for the bounce, postal and print queues.
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { bounceJobSchema, postalJobSchema, printJobSchema, type BounceJob, type PostalJob, type PrintJob } from '../queues/jobs.ts';
import { QUEUE } from '../queues/names.ts';
import type { BounceOutcome, BounceResult } from '../src/bounces/apply-bounce.ts';
import type { PostalOutcome } from '../src/postal/route-postal.ts';
import type { CloseResult } from '../src/postal/close-batch.ts';

interface Common {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockMs: number;
}

const options = (o: Common) => ({ connection: o.connection, prefix: o.prefix, concurrency: o.concurrency, lockDuration: o.lockMs, maxStalledCount: 1000 });

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

export function makePrintWorker(o: Common & { close: (batchId: number) => Promise<CloseResult | null> }) {
  return new Worker<PrintJob, { letters: number; exceptions: number } | null>(
    QUEUE.print,
    async (job: Job<PrintJob>) => {
      const r = await o.close(printJobSchema.parse(job.data).batchId);
      return r && { letters: r.letters, exceptions: r.exceptions };
    },
    { ...options(o), concurrency: 1, lockDuration: Math.max(o.lockMs, 300_000) },
  );
}
