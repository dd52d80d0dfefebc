// Thin: parse the job, ask the sender, map the outcomes to BullMQ. A chunk (the relay's window)
// completes when each of its people has an outcome; those to try again later get a job of their
// own (delayed, deterministic id). A single notice that must wait is moved back to delayed.
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { emailChunkJobSchema, emailJobSchema, type EmailQueueJob } from '../queues/jobs.ts';
import { JOB, QUEUE } from '../queues/names.ts';
import type { NoticeSender, SendOutcome } from '../src/channels/email/send-notice.ts';

export interface EmailWorkerOptions {
  connection: Redis;
  prefix: string;
  /** Jobs in flight at once (each may hold a chunk of people). */
  concurrency: number;
  lockMs: number;
  sender: NoticeSender;
  /** Try these people again later, each in a job of its own. */
  retryLater: (items: Array<{ noticeId: number; campaignId: number; delayMs: number }>) => Promise<void>;
  /** People of a chunk held by the send window or the hourly cap: one delayed chunk job. */
  waitLater: (campaignId: number, noticeIds: number[], delayMs: number) => Promise<void>;
  /** Told each outcome (metrics). */
  observe?: (outcome: SendOutcome) => void;
}

export type EmailJobResult = Record<string, number>;

export function makeEmailWorker(o: EmailWorkerOptions): Worker<EmailQueueJob, EmailJobResult> {
  return new Worker<EmailQueueJob, EmailJobResult>(
    QUEUE.email,
    async (job: Job<EmailQueueJob>, token?: string) => {
      if (job.name === JOB.sendChunk) {
        const { campaignId, noticeIds } = emailChunkJobSchema.parse(job.data);
        const results = await o.sender.sendMany(campaignId, noticeIds);
        const later = results.flatMap(({ id, outcome }) => (outcome.kind === 'retry' || outcome.kind === 'throttled' ? [{ noticeId: id, campaignId, delayMs: outcome.delayMs }] : []));
        if (later.length) await o.retryLater(later);
        const waiting = results.flatMap(({ id, outcome }) => (outcome.kind === 'waiting' ? [{ id, delayMs: outcome.delayMs }] : []));
        if (waiting.length) await o.waitLater(campaignId, waiting.map((w) => w.id), waiting[0].delayMs);
        const tally: EmailJobResult = {};
        for (const r of results) {
          o.observe?.(r.outcome);
          tally[r.outcome.kind] = (tally[r.outcome.kind] ?? 0) + 1;
        }
        return tally;
      }
      const { noticeId, campaignId } = emailJobSchema.parse(job.data);
      const outcome = await o.sender.sendOne(campaignId, noticeId);
      o.observe?.(outcome);
      if (outcome.kind === 'retry' || outcome.kind === 'throttled' || outcome.kind === 'waiting') {
        // Retries are counted in Postgres (notices.attempts), not by BullMQ: a delayed job keeps its id.
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      }
      return { [outcome.kind]: 1 };
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
