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

  it('routes every letter once after the postal worker is killed while it puts addresses right', async () => {
    const app = ctx.t.app({ SMTP_URL: ctx.sink.url });
    const n = 800;
    // No email: all go to post. Most need their prefecture put right (東京 → 東京都, in the same
    // transaction as joining the batch); every tenth has a city its code is not in.
    const { id } = await campaignWith(app, ctx.t.tmp, Array.from({ length: n }, (_, i) => person(i + 1, null, i % 10 === 9 ? { city: '渋谷区' } : { prefecture: '東京' })));
    const { rows: [v] } = await app.db.query(`insert into vendors (name, token_hash) values ('kill print', 'x') returning id`);
    await app.db.query('update campaigns set vendor_id = $2 where id = $1', [id, v.id]);
    const env = { ...ctx.t.env, SMTP_URL: ctx.sink.url, WORKER_CONCURRENCY: '10', BATCH_MAX_SIZE: '100000', WORKER_LOCK_MS: '4000' };
    const first = spawnWorker(env);
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.batched >= 150, { intervalMs: 20, what: 'first letters batched' });
    first.kill('SIGKILL');
    await exited(first);
    expect((await counts(app, id)).counts.batched).toBeLessThan(n - n / 10);

    const second = spawnWorker(env);
    try {
      const s = await waitFor(async () => {
        const c = await counts(app, id);
        return c.counts.batched + c.counts.address_invalid === n ? c : null;
      }, { timeoutMs: 90_000, what: 'every letter routed after the kill' });
      expect(s.counts).toMatchObject({ batched: n - n / 10, address_invalid: n / 10 });
      // Once each: one fix in the ledger, one place in a batch, the prefecture written back.
      const { rows: fixes } = await app.db.query(`select notice_id, count(*)::int as n from notice_events where campaign_id = $1 and detail->>'note' = 'address fixed automatically' group by 1`, [id]);
      expect(fixes).toHaveLength(n - n / 10);
      expect(fixes.every((f) => f.n === 1)).toBe(true);
      const { rows: [items] } = await app.db.query(`select count(*)::int as n, count(distinct bi.notice_id)::int as people from batch_items bi join notices n on n.id = bi.notice_id where n.campaign_id = $1`, [id]);
      expect(items).toEqual({ n: n - n / 10, people: n - n / 10 });
      const { rows: [left] } = await app.db.query(`select count(*)::int as n from notices where campaign_id = $1 and state = 'batched' and prefecture <> '東京都'`, [id]);
      expect(left.n).toBe(0);
    } finally {
      second.kill('SIGTERM');
      await exited(second);
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
