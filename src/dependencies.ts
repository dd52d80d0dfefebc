// Before a command changes anything, it checks that what it needs answers: PostgreSQL, Redis.
// An unreachable dependency is one clear line naming the server and the setting, within
// DEPENDENCY_TIMEOUT_MS, not a hang or a page of stack traces.
import { RetryableError } from './domain/errors.ts';
import { Redis } from 'ioredis';
import type { Db } from './db/pool.ts';
import { dbTarget, ping } from './db/pool.ts';
import { clusterNodes } from '../queues/connection.ts';

export class DependencyError extends RetryableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/** redis://host:port/db without a password (for messages). */
export function redisTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer)) as Promise<T>;
}

export async function checkPostgres(db: Db, databaseUrl: string, timeoutMs: number): Promise<void> {
  try {
    await withTimeout(ping(db), timeoutMs);
  } catch (err) {
    throw new DependencyError(`cannot reach PostgreSQL at ${dbTarget(databaseUrl)} (DATABASE_URL): ${(err as Error).message}`, { cause: err });
  }
}

/** A short-lived connection of its own, so a failure leaves no client retrying in the background. */
export async function checkRedis(url: string, timeoutMs: number): Promise<void> {
  // A cluster is checked through its first node (it answers PING like any server).
  const first = clusterNodes(url)?.[0];
  const probe = new Redis(first ? `redis://${first.host}:${first.port}` : url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: Error | null = null;
  probe.on('error', (err: Error) => (lastError = err));
  try {
    await withTimeout(probe.connect().then(() => probe.ping()), timeoutMs);
  } catch (err) {
    const reason = (lastError as Error | null)?.message ?? (err as Error).message;
    throw new DependencyError(`cannot reach Redis at ${redisTarget(url)} (REDIS_URL): ${reason}`, { cause: err });
  } finally {
    probe.disconnect();
  }
}

/** A server that cannot listen says where and which setting, in one line. */
export function listenError(err: unknown, host: string, port: number, setting: string): Error {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'EADDRINUSE' ? 'address already in use (another process listens there)' : e.code === 'EACCES' ? 'permission denied' : e.message;
  return new DependencyError(`cannot listen on ${host}:${port} (${setting}): ${why}`, { cause: err });
}
