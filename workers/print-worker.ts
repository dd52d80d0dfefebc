// Thin processor for the print queue: close one batch (its files, its letters).
import { Worker, type Job } from 'bullmq';
import { printJobSchema, type PrintJob } from '../queues/jobs.ts';
import { QUEUE } from '../queues/names.ts';
import type { CloseResult } from '../src/channels/post/close-batch.ts';
import { options, type Common } from './common.ts';

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
