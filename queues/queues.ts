import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE } from './names.ts';
import type { BounceJob, EmailQueueJob, PostalJob, PrintJob } from './jobs.ts';

export interface Queues {
  email: Queue<EmailQueueJob>;
  postal: Queue<PostalJob>;
  bounce: Queue<BounceJob>;
  print: Queue<PrintJob>;
  close(): Promise<void>;
}

// Jobs are removed when they finish, completed or failed, so that a notice can always be
// enqueued again under the same id (resume, reconcile): Postgres, not Redis, keeps the history,
// and a failure is logged by the worker. An unexpected error (say, PostgreSQL restarting) is
// retried a few times with backoff before the job gives up and the reconciler takes over.
export const defaultJobOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 5,
  backoff: { type: 'exponential', delay: 5000, jitter: 0.5 },
} as const;

export function makeQueues(connection: Redis, prefix: string): Queues {
  const email = new Queue<EmailQueueJob>(QUEUE.email, { connection, prefix, defaultJobOptions });
  const postal = new Queue<PostalJob>(QUEUE.postal, { connection, prefix, defaultJobOptions });
  const bounce = new Queue<BounceJob>(QUEUE.bounce, { connection, prefix, defaultJobOptions });
  const print = new Queue<PrintJob>(QUEUE.print, { connection, prefix, defaultJobOptions });
  // Connection errors are the connection's to report (the app logs them once a second); without
  // a listener BullMQ prints every one to the console.
  for (const q of [email, postal, bounce, print]) q.on('error', () => {});
  return {
    email,
    postal,
    bounce,
    print,
    async close() {
      await Promise.all([email.close(), postal.close(), bounce.close(), print.close()]);
    },
  };
}
