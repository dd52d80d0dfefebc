// `notice worker`: the email worker, the periodic reconciler and the global rate limit, in one
// stateless process. Run as many as needed; they coordinate through Redis and Postgres only.
import type { Worker } from 'bullmq';
import type { App } from './app.ts';
import { makeNoticeSender } from './mail/send-notice.ts';
import { enqueuePostal } from './producer/enqueue.ts';
import { reconcileExclusive } from './producer/reconciler.ts';
import { makeEmailWorker } from '../workers/email-worker.ts';

export interface RunningWorkers {
  workers: Worker[];
  /** Stop taking jobs, let the ones in flight finish, stop the reconciler. */
  close(): Promise<void>;
}

export async function applyGlobalRateLimit(app: App): Promise<void> {
  const rate = app.config.SEND_RATE_PER_SEC;
  if (rate > 0) await app.queues.email.setGlobalRateLimit(rate, 1000);
  else await app.queues.email.removeGlobalRateLimit();
}

export async function startWorkers(app: App, opts: { queues?: string[]; concurrency?: number; reconcile?: boolean } = {}): Promise<RunningWorkers> {
  const c = app.config;
  const names = opts.queues ?? ['email'];
  const workers: Worker[] = [];
  if (names.includes('email')) {
    const sendNotice = makeNoticeSender({
      db: app.db,
      transport: app.transport(),
      templates: app.templates,
      message: { from: c.MAIL_FROM, bounceDomain: c.BOUNCE_DOMAIN, verpSecret: c.VERP_SECRET },
      policy: {
        maxAttempts: c.SEND_ATTEMPTS, backoffBaseMs: c.BACKOFF_BASE_MS, backoffMaxMs: c.BACKOFF_MAX_MS, infraRetryMs: c.INFRA_RETRY_MS,
        outagePauseMs: c.OUTAGE_PAUSE_MS, throttleBackoffMs: c.THROTTLE_BACKOFF_MS, errorBudget: c.ERROR_BUDGET, leaseMs: c.SEND_LEASE_MS,
      },
      enqueuePostal: (notices) => enqueuePostal(app.queues, notices),
      log: app.log.child({ queue: 'email' }),
    });
    await applyGlobalRateLimit(app);
    const worker = makeEmailWorker({
      connection: app.redis, prefix: c.QUEUE_PREFIX, concurrency: opts.concurrency ?? c.WORKER_CONCURRENCY, lockMs: c.WORKER_LOCK_MS, queues: app.queues, sendNotice,
    });
    worker.on('failed', (job, err) => app.log.error({ queue: 'email', jobId: job?.id, err: err.message }, 'job failed'));
    worker.on('error', (err) => app.log.error({ queue: 'email', err: err.message }, 'worker error'));
    workers.push(worker);
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  if (opts.reconcile !== false) {
    const tick = () => {
      running = (async () => {
        try {
          await applyGlobalRateLimit(app); // Redis may have lost it
          const r = await reconcileExclusive({ db: app.db, queues: app.queues, redis: app.redis, pageSize: 1000, leaseMs: c.SEND_LEASE_MS });
          if (r && (r.email || r.postal)) app.log.warn({ ...r }, 'reconciler re-enqueued notices with no live job');
        } catch (err) {
          app.log.error({ err: (err as Error).message }, 'reconciler failed');
        }
      })();
    };
    timer = setInterval(tick, c.RECONCILE_INTERVAL_MS);
    timer.unref();
  }

  return {
    workers,
    async close() {
      if (timer) clearInterval(timer);
      await Promise.all(workers.map((w) => w.close()));
      await running;
    },
  };
}
