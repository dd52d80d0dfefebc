import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * REDIS_URL names one server (redis://host:port/db) or the nodes of a Redis Cluster, separated by
 * commas (redis://10.0.0.1:7000,redis://10.0.0.2:7000,…): then every key of a queue carries the
 * QUEUE_PREFIX hash tag ({notice}) and lives in one slot.
 */
export function clusterNodes(url: string): Array<{ host: string; port: number }> | null {
  const parts = url.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length < 2) return null;
  return parts.map((p) => {
    const u = new URL(p.includes('://') ? p : `redis://${p}`);
    return { host: u.hostname, port: Number(u.port || 6379) };
  });
}

/**
 * 'process': BullMQ workers need maxRetriesPerRequest null, and a long-running process should
 * ride out a Redis restart (commands wait for the reconnect). 'command': a CLI call fails after a
 * few tries rather than hanging when Redis goes away mid-command.
 */
export function makeRedis(url: string, mode: 'process' | 'command' = 'process'): Redis {
  const options: RedisOptions = mode === 'process'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false }
    : { maxRetriesPerRequest: 3, enableReadyCheck: true, lazyConnect: false, connectTimeout: 5000 };
  const nodes = clusterNodes(url);
  if (!nodes) return new Redis(url, options);
  // A Cluster speaks the same commands (BullMQ takes either); typed as Redis for the callers.
  return new Cluster(nodes, { redisOptions: options, enableReadyCheck: true }) as unknown as Redis;
}
