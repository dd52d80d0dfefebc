// Thin: parse the job, ask the sender, map the outcome to BullMQ.
import { DelayedError, RateLimitError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { emailJobSchema, type EmailJob } from '../queues/jobs.ts';
import { QUEUE } from '../queues/names.ts';
import type { Queues } from '../queues/queues.ts';
import type { SendOutcome } from '../src/mail/send-notice.ts';

export interface EmailWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockMs: number;
  queues: Queues;
  sendNotice: (noticeId: number) => Promise<SendOutcome>;
}

export function makeEmailWorker(o: EmailWorkerOptions): Worker<EmailJob, SendOutcome> {
  return new Worker<EmailJob, SendOutcome>(
    QUEUE.email,
    async (job: Job<EmailJob>, token?: string) => {
      const { noticeId } = emailJobSchema.parse(job.data);
      const outcome = await o.sendNotice(noticeId);
      if (outcome.kind === 'retry') {
        // Retries are counted in Postgres (notices.attempts), not by BullMQ: a delayed job keeps its id.
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      }
      if (outcome.kind === 'throttled') {
        await o.queues.email.rateLimit(outcome.delayMs);
        throw new RateLimitError();
      }
      return outcome;
    },
    {
      connection: o.connection,
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: Math.max(1000, Math.floor(o.lockMs / 2)),
      maxStalledCount: 1000, // a stalled send is safe to retry: the claim decides
      autorun: true,
    },
  );
}
