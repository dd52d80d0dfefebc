// The composition root: the one place that builds real adapters from config. Everything else
// receives what it needs. Nothing connects at import time; close() releases all of it.
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { makePool, type Db } from './db/pool.ts';
import { makeLogger, type Logger } from './logger.ts';
import { makeSesTransport } from './mail/ses.ts';
import { makeSmtpTransport } from './mail/smtp.ts';
import type { MailTransport } from './mail/transport.ts';
import { makeTemplateCache, type TemplateCache } from './templates/template-store.ts';
import { makeRedis } from '../queues/connection.ts';
import { makeQueues, type Queues } from '../queues/queues.ts';

export interface App {
  config: Config;
  db: Db;
  redis: Redis;
  queues: Queues;
  templates: TemplateCache;
  log: Logger;
  /** Built on first use: commands that never send never open a mail connection. */
  transport(): MailTransport;
  close(): Promise<void>;
}

export function makeTransport(config: Config): MailTransport {
  return config.MAIL_TRANSPORT === 'ses'
    ? makeSesTransport({ region: config.SES_REGION, endpoint: config.SES_ENDPOINT, accessKeyId: config.SES_ACCESS_KEY_ID, secretAccessKey: config.SES_SECRET_ACCESS_KEY })
    : makeSmtpTransport({ url: config.SMTP_URL, poolSize: config.SMTP_POOL_SIZE, timeoutMs: config.SMTP_TIMEOUT_MS });
}

export function makeApp(config: Config, opts: { log?: Logger; dbPoolSize?: number } = {}): App {
  const log = opts.log ?? makeLogger({ level: config.LOG_LEVEL, file: config.LOG_FILE });
  const db = makePool(config.DATABASE_URL, opts.dbPoolSize ?? Math.max(4, config.WORKER_CONCURRENCY + 4));
  const redis = makeRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queues = makeQueues(redis, config.QUEUE_PREFIX);
  let transport: MailTransport | null = null;
  return {
    config,
    db,
    redis,
    queues,
    templates: makeTemplateCache(db),
    log,
    transport: () => (transport ??= makeTransport(config)),
    async close() {
      await queues.close();
      await transport?.close();
      await db.end();
      redis.disconnect();
      log.flush?.();
    },
  };
}
