import { Redis } from 'ioredis';

/**
 * 'process': BullMQ workers need maxRetriesPerRequest null, and a long-running process should
 * ride out a Redis restart (commands wait for the reconnect). 'command': a CLI call fails after a
 * few tries rather than hanging when Redis goes away mid-command.
 */
export function makeRedis(url: string, mode: 'process' | 'command' = 'process'): Redis {
  return mode === 'process'
    ? new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false })
    : new Redis(url, { maxRetriesPerRequest: 3, enableReadyCheck: true, lazyConnect: false, connectTimeout: 5000 });
}
