// `notice worker`: the email, bounce, postal and print workers, the periodic reconciler and the
// global rate limit, in one stateless process that listens on no port of its own (the bounce
// receiver is `notice receive`). Run as many as needed, several per machine; they coordinate
// through Redis and Postgres only.
import type { Worker } from 'bullmq';
import type { App } from './app.ts';
import { makeNoticeSender } from './mail/send-notice.ts';
import { makeSentRecorder } from './mail/sent-recorder.ts';
import { enqueueBounce, enqueueCloseBatch, enqueueEmail, enqueuePostal } from './producer/enqueue.ts';
import { reconcileExclusive } from './producer/reconciler.ts';
import { makeEmailWorker } from '../workers/email-worker.ts';
import { makeBounceWorker, makePostalWorker, makePrintWorker } from '../workers/postal-workers.ts';
import { applyBounce } from './bounces/apply-bounce.ts';
import { unappliedBounces } from './bounces/bounce-store.ts';
import { batchesDue } from './postal/batch-store.ts';
import { closeBatch } from './postal/close-batch.ts';
import { routePostal } from './postal/route-postal.ts';
import { QUEUE } from '../queues/names.ts';

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

export const ALL_QUEUES: string[] = Object.values(QUEUE);

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
      recordSent: makeSentRecorder(app.db, {
        maxBatch: 50, maxWaitMs: 5, retryForMs: Math.floor(c.SEND_LEASE_MS / 2),
        onRetry: (err) => app.log.warn({ err: err.message }, 'recording accepted sends: PostgreSQL unavailable, retrying'),
      }).record,
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

  const common = { connection: app.redis, prefix: c.QUEUE_PREFIX, concurrency: opts.concurrency ?? c.WORKER_CONCURRENCY, lockMs: c.WORKER_LOCK_MS };
  const closeDue = (batchId: number) => enqueueCloseBatch(app.queues, batchId);
  if (names.includes('bounce')) {
    workers.push(makeBounceWorker({
      ...common,
      applyBounce: (id) => applyBounce({
        db: app.db, softBounceLimit: c.SOFT_BOUNCE_LIMIT, errorBudget: c.ERROR_BUDGET, retryDelayMs: c.BACKOFF_BASE_MS,
        configBounceDomains: c.CONFIG_BOUNCE_DOMAINS, configBounceWindowMs: c.CONFIG_BOUNCE_WINDOW_MS,
        enqueuePostal: (n) => enqueuePostal(app.queues, n), enqueueEmail: (n, delayMs) => enqueueEmail(app.queues, n, delayMs),
      }, id),
    }));
  }
  if (names.includes('postal')) {
    workers.push(makePostalWorker({ ...common, route: (id) => routePostal(app.db, id, c.BATCH_MAX_SIZE), onFull: closeDue, noVendorRetryMs: 600_000 }));
  }
  if (names.includes('print')) {
    workers.push(makePrintWorker({ ...common, close: (id) => closeBatch({ db: app.db, templates: app.templates, fontPath: c.PDF_FONT, returnAddress: c.RETURN_ADDRESS }, id) }));
  }
  for (const w of workers.slice(names.includes('email') ? 1 : 0)) {
    w.on('failed', (job, err) => app.log.error({ queue: w.name, jobId: job?.id, err: err.message }, 'job failed'));
    w.on('error', (err) => app.log.error({ queue: w.name, err: err.message }, 'worker error'));
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
          if (r?.cancelled) app.log.info({ cancelled: r.cancelled }, 'reconciler cancelled people of cancelled campaigns');
          if (names.includes('print')) for (const id of await batchesDue(app.db, c.BATCH_MAX_SIZE, c.BATCH_MAX_AGE_MS)) await closeDue(id);
          if (names.includes('bounce')) {
            // Bounces recorded but never applied (their job lost with Redis): queue them again.
            for (const id of await unappliedBounces(app.db, 60_000, 1000)) await enqueueBounce(app.queues, id);
          }
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
