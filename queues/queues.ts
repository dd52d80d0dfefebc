import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE } from './names.ts';
import type { EmailJob, PostalJob } from './jobs.ts';

export interface Queues {
  email: Queue<EmailJob>;
  postal: Queue<PostalJob>;
  close(): Promise<void>;
}

// Completed jobs are removed so that a notice can be enqueued again under the same id (resume,
// reconcile); Postgres, not Redis, keeps the history. A few failed jobs stay for inspection.
export const defaultJobOptions = {
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
  attempts: 1,
} as const;

export function makeQueues(connection: Redis, prefix: string): Queues {
  const email = new Queue<EmailJob>(QUEUE.email, { connection, prefix, defaultJobOptions });
  const postal = new Queue<PostalJob>(QUEUE.postal, { connection, prefix, defaultJobOptions });
  return {
    email,
    postal,
    async close() {
      await Promise.all([email.close(), postal.close()]);
    },
  };
}
