// `notice worker`: the email, bounce, postal and print workers, the relay's top-up, the periodic
// reconciler and a heartbeat, in one stateless process that listens on no port of its own
// but its optional /metrics (the bounce receiver is `notice receive`). Run as many as needed,
// several per machine; they coordinate through Redis and Postgres only.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { App } from '../src/app.ts';
import { makeNoticeSender, type NoticeSender } from '../src/channels/email/send-notice.ts';
import { makeSentRecorder } from '../src/channels/email/sent-recorder.ts';
import { enqueueBounce, enqueueCloseBatch, enqueueEmail, enqueueChunkLater, enqueueEmailLater, enqueuePostal } from '../src/dispatch/enqueue.ts';
import { topUpExclusive } from '../src/dispatch/relay.ts';
import { steeringDeps } from '../src/campaigns/control.ts';
import { makeSendRateLimiter } from '../src/channels/email/rate-limiter.ts';
import type { PacingGate } from '../src/dispatch/pacing-gate.ts';
import { messageSettings } from '../src/channels/email/message.ts';
import { reconcileExclusive } from '../src/dispatch/reconciler.ts';
import { makeEmailWorker } from './email-worker.ts';
import { makeBounceWorker } from './bounce-worker.ts';
import { makePostalWorker } from './postal-worker.ts';
import { makePrintWorker } from './print-worker.ts';
import { applyBounceEvent } from '../src/bounces/apply-bounce.ts';
import { unappliedBounces } from '../src/bounces/bounce-store.ts';
import { batchesDue } from '../src/channels/post/batch-store.ts';
import { closeBatch } from '../src/channels/post/close-batch.ts';
import { routePostal, windowFit } from '../src/channels/post/route-postal.ts';
import { beat, leave, pruneWorkers } from '../src/db/worker-store.ts';

export interface RunningWorkers {
  workers: Worker[];
  /** This process's id in the heartbeat table. */
  id: string;
  /** Stop taking jobs, let the ones in flight finish, stop the reconciler and the heartbeat. */
  close(): Promise<void>;
}

export interface WorkerOptions {
  queues?: string[];
  concurrency?: number;
  reconcile?: boolean;
  /** Where this process answers Prometheus (recorded with its heartbeat), if anywhere. */
  metricsPort?: number | null;
}

const HEARTBEAT_MS = 5000;


async function emailSender(app: App, maxInFlight: number, pacing: PacingGate | undefined): Promise<NoticeSender> {
  const c = app.config;
  const m = app.metrics;
  const limiter = makeSendRateLimiter(app.redis, { keyPrefix: c.QUEUE_PREFIX, perSecond: c.SEND_RATE_PER_SEC });
  return makeNoticeSender({
    db: app.db,
    transport: await app.transport(),
    templates: app.templates,
    message: messageSettings(c),
    policy: {
      maxAttempts: c.SEND_ATTEMPTS, backoffBaseMs: c.BACKOFF_BASE_MS, backoffMaxMs: c.BACKOFF_MAX_MS, infraRetryMs: c.INFRA_RETRY_MS,
      outagePauseMs: c.OUTAGE_PAUSE_MS, throttleBackoffMs: c.THROTTLE_BACKOFF_MS, errorBudget: c.ERROR_BUDGET, leaseMs: c.SEND_LEASE_MS,
    },
    enqueuePostal: (notices) => enqueuePostal(app.queues, notices),
    clock: app.clock,
    recordSent: makeSentRecorder(app.db, {
      maxBatch: 50, maxWaitMs: 5, retryForMs: Math.floor(c.SEND_LEASE_MS / 2),
      onRetry: (err) => app.log.warn({ err: err.message }, 'recording accepted sends: PostgreSQL unavailable, retrying'),
    }).record,
    observe: (e) => {
      m.sendSeconds.observe({ result: e.failureClass ? 'failed' : 'accepted' }, e.seconds);
      if (e.failureClass) m.sendFailures.inc({ class: e.failureClass });
    },
    acquire: () => limiter.acquire(),
    pacing,
    throttle: (ms) => limiter.pause(ms),
    maxInFlight,
    log: app.log.child({ queue: 'email' }),
  });
}

export async function startWorkers(app: App, opts: WorkerOptions = {}): Promise<RunningWorkers> {
  const c = app.config;
  const m = app.metrics;
  const names = opts.queues ?? ['email'];
  const concurrency = opts.concurrency ?? c.WORKER_CONCURRENCY;
  const common = { connection: app.redis, prefix: c.QUEUE_PREFIX, concurrency, lockMs: c.WORKER_LOCK_MS };
  // One set of relay deps (and one pacing gate, whose cache the sender and the relay share).
  const steer = steeringDeps(app);
  const closeDue = (batchId: number) => enqueueCloseBatch(app.queues, batchId);
  const workers: Worker[] = [];
  if (names.includes('email')) {
    // Sends in flight are capped by `concurrency`; a few chunk jobs at once keep that many busy.
    workers.push(makeEmailWorker({
      ...common,
      concurrency: Math.max(3, Math.ceil((3 * concurrency) / c.EMAIL_CHUNK_SIZE)),
      sender: await emailSender(app, concurrency, steer.pacing),
      retryLater: (items) => enqueueEmailLater(app.queues, items),
      waitLater: (campaignId, ids, delayMs) => enqueueChunkLater(app.queues, campaignId, ids, delayMs),
      observe: (outcome) => {
        m.sends.inc({ outcome: outcome.kind });
        if (outcome.kind === 'throttled') m.throttled.inc();
      },
    }));
  }
  if (names.includes('bounce')) {
    const deps = {
      db: app.db, softBounceLimit: c.SOFT_BOUNCE_LIMIT, errorBudget: c.ERROR_BUDGET, retryDelayMs: c.BACKOFF_BASE_MS,
      configBounceDomains: c.CONFIG_BOUNCE_DOMAINS, configBounceMinPeople: c.CONFIG_BOUNCE_MIN_PEOPLE, configBounceShare: c.CONFIG_BOUNCE_SHARE, configBounceWindowMs: c.CONFIG_BOUNCE_WINDOW_MS,
      enqueuePostal: (n: Parameters<typeof enqueuePostal>[1]) => enqueuePostal(app.queues, n),
      enqueueEmail: (n: Parameters<typeof enqueueEmail>[1], delayMs: number) => enqueueEmail(app.queues, n, delayMs),
    };
    workers.push(makeBounceWorker({
      ...common,
      applyBounce: async (id) => {
        const r = await applyBounceEvent(deps, id);
        m.bouncesApplied.inc({ outcome: r.outcome });
        return r;
      },
    }));
  }
  if (names.includes('postal')) {
    workers.push(makePostalWorker({ ...common, route: (id) => routePostal(app.db, id, c.BATCH_MAX_SIZE, { fits: windowFit(app.db, c.PDF_FONT) }), onFull: closeDue, noVendorRetryMs: 600_000 }));
  }
  if (names.includes('print')) {
    workers.push(makePrintWorker({ ...common, close: (id) => closeBatch({ db: app.db, templates: app.templates, fontPath: c.PDF_FONT, returnAddress: c.RETURN_ADDRESS, clock: app.clock }, id) }));
  }
  for (const w of workers) {
    w.on('completed', () => m.jobs.inc({ queue: w.name, result: 'completed' }));
    w.on('failed', (job, err) => {
      m.jobs.inc({ queue: w.name, result: 'failed' });
      app.log.error({ queue: w.name, jobId: job?.id, err: err.message }, 'job failed');
    });
    w.on('error', (err) => app.log.error({ queue: w.name, err: err.message }, 'worker error'));
  }

  // The heartbeat: alive, which queues, where its metrics are.
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const me = { id, host: hostname(), pid: process.pid, queues: names, metricsPort: opts.metricsPort ?? null };
  const heartbeat = async () => {
    try {
      await beat(app.db, me);
      m.heartbeat.set(Date.now() / 1000);
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  };
  await heartbeat();
  const beatTimer = setInterval(() => void heartbeat(), HEARTBEAT_MS);
  beatTimer.unref();

  // The relay's window: one process at a time tops it up (an advisory lock decides which).
  let topping: Promise<unknown> = Promise.resolve();
  const topUpTimer = names.includes('email') ? setInterval(() => {
    topping = topUpExclusive(steer).catch((err) => app.log.error({ err: (err as Error).message }, 'relay top-up failed'));
  }, c.RELAY_TOPUP_MS) : null;
  topUpTimer?.unref();

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  if (opts.reconcile !== false) {
    const tick = () => {
      running = (async () => {
        try {
          const r = await reconcileExclusive({ ...steer, pageSize: 1000 });
          if (r && (r.email || r.postal)) {
            m.requeued.inc({ queue: 'email' }, r.email);
            m.requeued.inc({ queue: 'postal' }, r.postal);
            app.log.warn({ ...r }, 'reconciler re-enqueued notices with no live job');
          }
          if (r?.cancelled) app.log.info({ cancelled: r.cancelled }, 'reconciler cancelled people of cancelled campaigns');
          if (names.includes('print')) for (const b of await batchesDue(app.db, c.BATCH_MAX_SIZE, c.BATCH_MAX_AGE_MS, app.clock.now())) await closeDue(b);
          if (names.includes('bounce')) {
            // Bounces recorded but never applied (their job lost with Redis): queue them again.
            for (const b of await unappliedBounces(app.db, 60_000, 1000)) await enqueueBounce(app.queues, b);
          }
          if (r) await pruneWorkers(app.db);
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
    id,
    async close() {
      clearInterval(beatTimer);
      if (timer) clearInterval(timer);
      if (topUpTimer) clearInterval(topUpTimer);
      await topping;
      await Promise.all(workers.map((w) => w.close()));
      await running;
      await leave(app.db, id).catch(() => {});
    },
  };
}
