// A campaign many times the relay's window: Redis holds the window, not the campaign, while
// pause, resume, a Redis flush and cancel keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startPrivateRedis } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { cancel, launch, pause, resume, steeringDeps } from '../../src/campaigns/control.ts';
import { queueDepth } from '../../src/dispatch/relay.ts';
import { enqueueEmailLater } from '../../src/dispatch/enqueue.ts';
import type { App } from '../../src/app.ts';

const WINDOW = 400;
const CHUNK = 40;
const PEOPLE = 8000; // 20 windows

let t: TestEnv;
let sink: SmtpSink;
let redis: { url: string; restart(): Promise<void>; stop(): Promise<void> };
let admin: Redis;
let app: App;
let workers: RunningWorkers;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  redis = await startPrivateRedis();
  admin = new Redis(redis.url);
  app = t.app({ SMTP_URL: sink.url, REDIS_URL: redis.url, RELAY_WINDOW: String(WINDOW), EMAIL_CHUNK_SIZE: String(CHUNK), RELAY_TOPUP_MS: '100', RECONCILE_INTERVAL_MS: '500', WORKER_CONCURRENCY: '10' });
  workers = await startWorkers(app, { concurrency: 10 });
});
afterAll(async () => {
  await workers?.close();
  await app?.close();
  admin?.disconnect();
  await redis?.stop();
  await sink?.close();
  await t?.teardown();
});

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
const settled = (id: number, timeoutMs = 120_000) => waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { timeoutMs, what: `campaign ${id} settled` });

describe('the relay window', () => {
  it('keeps Redis to the window while a campaign 20 windows long runs; pause and resume, a flush, all sent once', async () => {
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: PEOPLE }, (_, i) => person(i + 1, `w${i + 1}@example.com`)));
    const before = await usedMemory();
    let maxDepth = 0;
    let maxMemory = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxDepth = Math.max(maxDepth, await queueDepth(app.redis, app.queues, CHUNK));
        maxMemory = Math.max(maxMemory, (await usedMemory()) - before);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    sink.mode.delayMs = 1;
    await launch(steeringDeps(app), id);

    // Pause a quarter of the way: sends stop, nobody is lost, resume finishes the rest.
    await waitFor(async () => (await counts(app, id)).counts.sent >= PEOPLE / 4, { intervalMs: 20, timeoutMs: 60_000 });
    await pause(app.db, id, { actor: 'test' }, 'quarter way');
    const paused = await waitFor(async () => {
      const c = await counts(app, id);
      return c.counts.sending === 0 && (await queueDepth(app.redis, app.queues, CHUNK)) === 0 ? c : null;
    }, { what: 'the window to drain while paused' });
    expect(paused.counts.sent).toBeLessThan(PEOPLE);
    expect(sink.received).toBe(paused.counts.sent);
    await resume(steeringDeps(app), id, { actor: 'test' });

    // Halfway, Redis loses everything: PostgreSQL and the relay's cursor bring the work back.
    await waitFor(async () => (await counts(app, id)).counts.sent >= PEOPLE / 2, { intervalMs: 20, timeoutMs: 60_000 });
    await admin.flushall();

    const s = await settled(id);
    sampling = false;
    await sampler;
    sink.mode.delayMs = 0;
    expect(s.counts.sent).toBe(PEOPLE);
    for (let i = 1; i <= PEOPLE; i += 97) expect(sink.deliveredTo.get(`w${i}@example.com`)).toBe(1);

    // The bound: the email queue never held more than the window (plus the chunk being topped
    // up), and Redis grew by a window's worth, not by the campaign's.
    expect(maxDepth).toBeLessThanOrEqual(WINDOW + CHUNK);
    await app.queues.email.obliterate({ force: true });
    const m0 = await usedMemory();
    await enqueueEmailLater(app.queues, Array.from({ length: PEOPLE }, (_, i) => ({ noticeId: 1_000_000 + i, campaignId: id, delayMs: 0 })));
    const everyoneAtOnce = (await usedMemory()) - m0;
    await app.queues.email.obliterate({ force: true });
    console.log(`window ${WINDOW}: peak Redis growth ${Math.round(maxMemory / 1024)} KB; the same ${PEOPLE} people as one job each: ${Math.round(everyoneAtOnce / 1024)} KB`);
    expect(maxMemory).toBeLessThan(everyoneAtOnce / 4);
  });

  it('cancel with the window in flight leaves nobody waiting', async () => {
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 3000 }, (_, i) => person(i + 1, `wc${i + 1}@example.com`)));
    sink.mode.delayMs = 2;
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent >= 500, { intervalMs: 20, timeoutMs: 60_000 });
    await cancel(app.db, id, { actor: 'test' });
    const s = await waitFor(async () => {
      const c = await counts(app, id);
      return c.counts.queued + c.counts.sending + c.counts.pending === 0 ? c : null;
    }, { what: 'nobody waiting after cancel' });
    sink.mode.delayMs = 0;
    expect(s.counts.sent + s.counts.cancelled).toBe(3000);
    expect(sink.received - PEOPLE).toBe(s.counts.sent);
  });
});
