// What every queue's worker is given, and the BullMQ options they share.
import type { Redis } from 'ioredis';

export interface Common {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockMs: number;
}

export const options = (o: Common) => ({ connection: o.connection, prefix: o.prefix, concurrency: o.concurrency, lockDuration: o.lockMs, maxStalledCount: 1000 });
