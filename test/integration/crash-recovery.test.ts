// Postgres is the truth: a worker killed mid-send, or Redis losing everything, must not lose a
// single person.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { exited, spawnWorker, startPrivateRedis } from '../support/processes.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';

const ctx = useEnvWithSink();

describe('recovery', () => {
  it('finishes a campaign after a worker process is killed with SIGKILL mid-send', async () => {
    const app = ctx.t.app({ SMTP_URL: ctx.sink.url });
    const n = 600;
    const { id } = await campaignWith(app, ctx.t.tmp, Array.from({ length: n }, (_, i) => person(i + 1, `kill${i + 1}@example.com`)));
    ctx.sink.mode.delayMs = 20; // slow enough that the kill lands with sends in flight
    const env = { ...ctx.t.env, SMTP_URL: ctx.sink.url, WORKER_CONCURRENCY: '10' };
    const first = spawnWorker(env);
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent >= 100, { intervalMs: 20, what: 'first sends' });
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await counts(app, id);
    expect(atKill.counts.sent).toBeLessThan(n);

    const second = spawnWorker(env);
    try {
      const s = await waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { timeoutMs: 90_000, what: 'completion after kill' });
      expect(s.counts.sent).toBe(n);
      let doubled = 0;
      for (let i = 1; i <= n; i++) {
        const got = ctx.sink.deliveredTo.get(`kill${i}@example.com`) ?? 0;
        expect(got).toBeGreaterThanOrEqual(1);
        doubled += got - 1;
      }
      // Only a send the provider accepted just before the kill, and not yet recorded, can repeat,
      // and it carries the same Message-ID; there are at most as many as were in flight.
      expect(doubled).toBeLessThanOrEqual(10);
    } finally {
      second.kill('SIGTERM');
      await exited(second);
      ctx.sink.mode.delayMs = 0;
    }
  });

  it('finishes a campaign after Redis is flushed (FLUSHALL) mid-campaign', async () => {
    const redis = await startPrivateRedis();
    const app = ctx.t.app({ SMTP_URL: ctx.sink.url, REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '500' });
    const n = 800;
    const { id } = await campaignWith(app, ctx.t.tmp, Array.from({ length: n }, (_, i) => person(i + 1, `flush${i + 1}@example.com`)));
    ctx.sink.mode.delayMs = 5;
    const workers = await startWorkers(app, { concurrency: 10 });
    try {
      await launch(steeringDeps(app), id);
      await waitFor(async () => (await counts(app, id)).counts.sent >= 150, { intervalMs: 20 });
      const admin = new Redis(redis.url);
      await admin.flushall();
      admin.disconnect();
      const s = await waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { timeoutMs: 90_000, what: 'completion after flush' });
      expect(s.counts.sent).toBe(n);
      for (let i = 1; i <= n; i++) expect(ctx.sink.deliveredTo.get(`flush${i}@example.com`)).toBe(1);
      // It was the reconciler, reading Postgres, that put the lost work back.
      await waitFor(() => readFileSync(ctx.t.logFile, 'utf8').includes('reconciler re-enqueued notices with no live job'), { what: 'reconciler log line' });
    } finally {
      ctx.sink.mode.delayMs = 0;
      await workers.close();
      await app.close();
      await redis.stop();
    }
  });
});
