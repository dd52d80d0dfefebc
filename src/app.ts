// The composition root: the one place that builds real adapters from config. Everything else
// receives what it needs. Nothing connects at import time, and Redis not until something asks for
// it: a command that needs only PostgreSQL never touches Redis. close() releases all of it.
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { makePool, type Db } from './db/pool.ts';
import { checkPostgres, checkRedis } from './dependencies.ts';
import { makeLogger, type Logger } from './logger.ts';
import type { MailTransport } from './channels/email/transport.ts';
import { makeTemplateCache, type TemplateCache } from './db/template-store.ts';
import { makeWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.ts';
import { makeRedis } from '../queues/connection.ts';
import { makeQueues, type Queues } from '../queues/queues.ts';

export interface App {
  config: Config;
  db: Db;
  /** Opened on first use. */
  readonly redis: Redis;
  /** Opened on first use. */
  readonly queues: Queues;
  templates: TemplateCache;
  log: Logger;
  /** What this process counts about its own work (Prometheus). */
  metrics: WorkerMetrics;
  /** The time (send windows, hourly caps): tests set their own. */
  clock: { now(): Date };
  /** Built on first use: commands that never send never load a mail library or open a connection. */
  transport(): Promise<MailTransport>;
  /** Fail fast, with one clear line, when a dependency this process needs does not answer. */
  ready(needs: { redis: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  dbPoolSize?: number;
  /**
   * 'process' (workers, serve): Redis commands wait through a Redis restart. 'command' (one CLI
   * call): they fail after a few tries instead of hanging.
   */
  mode?: 'process' | 'command';
}

export async function makeTransport(config: Config): Promise<MailTransport> {
  if (config.MAIL_TRANSPORT === 'ses') {
    const [{ makeSesTransport }, { dkimFromConfig }] = await Promise.all([import('./channels/email/ses.ts'), import('./channels/email/smtp.ts')]);
    return makeSesTransport({ dkim: dkimFromConfig(config), region: config.SES_REGION, endpoint: config.SES_ENDPOINT, accessKeyId: config.SES_ACCESS_KEY_ID, secretAccessKey: config.SES_SECRET_ACCESS_KEY, requestTimeoutMs: Math.min(30_000, Math.floor(config.SEND_LEASE_MS / 2)) });
  }
  const { makeSmtpTransport, dkimFromConfig } = await import('./channels/email/smtp.ts');
  return makeSmtpTransport({ dkim: dkimFromConfig(config), url: config.SMTP_URL, poolSize: config.SMTP_POOL_SIZE, timeoutMs: config.SMTP_TIMEOUT_MS });
}

export function makeApp(config: Config, opts: AppOptions = {}): App {
  const log = opts.log ?? makeLogger({ level: config.LOG_LEVEL, file: config.LOG_FILE });
  let lastDbError = 0;
  const db = makePool(config.DATABASE_URL, {
    max: opts.dbPoolSize ?? Math.max(4, config.WORKER_CONCURRENCY + 4),
    connectTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
    onError: (err) => {
      // A restart breaks every connection at once: say it once a second, not once per client.
      if (Date.now() - lastDbError > 1000) log.warn({ err: err.message }, 'postgres connection error');
      lastDbError = Date.now();
    },
  });
  let redis: Redis | null = null;
  let queues: Queues | null = null;
  let transport: Promise<MailTransport> | null = null;
  const openRedis = (): Redis => {
    if (!redis) {
      redis = makeRedis(config.REDIS_URL, opts.mode ?? 'process');
      let lastError = 0;
      redis.on('error', (err: Error) => {
        if (Date.now() - lastError > 1000) log.warn({ err: err.message }, 'redis connection error');
        lastError = Date.now();
      });
    }
    return redis;
  };
  return {
    config,
    db,
    get redis() {
      return openRedis();
    },
    get queues() {
      return (queues ??= makeQueues(openRedis(), config.QUEUE_PREFIX));
    },
    templates: makeTemplateCache(db),
    log,
    metrics: makeWorkerMetrics(),
    clock: { now: () => new Date() },
    transport: () => (transport ??= makeTransport(config)),
    async ready(needs) {
      await checkPostgres(db, config.DATABASE_URL, config.DEPENDENCY_TIMEOUT_MS);
      if (needs.redis) await checkRedis(config.REDIS_URL, config.DEPENDENCY_TIMEOUT_MS);
    },
    async close() {
      await queues?.close();
      await (await transport)?.close();
      await db.end();
      redis?.disconnect();
      log.flush?.();
    },
  };
}
