// What every queue's worker is given, and the BullMQ options they share.
import type { Redis } from 'ioredis';

export interface Common {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockMs: number;
}

// A job whose worker died is found again when its lock runs out: checked every half lock (as the
// email worker does), not BullMQ's default 30 s.
export const options = (o: Common) => ({ connection: o.connection, prefix: o.prefix, concurrency: o.concurrency, lockDuration: o.lockMs, stalledInterval: Math.max(1000, Math.floor(o.lockMs / 2)), maxStalledCount: 1000 });
