// PostgreSQL and Redis restart in production (upgrades, failovers, a host reboot). Two worker
// processes mid-campaign must ride it out: stay up, reconnect, finish, send nobody to post
// because of it, and repeat at most the sends that were in flight.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { spawnWorker, startPrivatePostgres, startPrivateRedis, stop, type NoticeProcess } from '../support/processes.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import type { App } from '../../src/app.ts';

const ctx = useEnvWithSink();

const CONCURRENCY = 8;

/** Run a campaign on two worker processes and call `fault` once `atSent` people are sent. */
async function campaignThrough(app: App, env: Record<string, string>, tag: string, n: number, atSent: number, fault: () => Promise<void>) {
  const { id } = await campaignWith(app, ctx.t.tmp, Array.from({ length: n }, (_, i) => person(i + 1, `${tag}${i + 1}@example.com`)));
  const workerEnv = { ...env, SMTP_URL: ctx.sink.url, WORKER_CONCURRENCY: String(CONCURRENCY) };
  const workers: NoticeProcess[] = [spawnWorker(workerEnv), spawnWorker(workerEnv)];
  try {
    await waitFor(() => workers.every((w) => w.stderrText().includes('worker') && w.stderrText().includes('started')), { what: 'workers started' });
    ctx.sink.mode.delayMs = 10; // sends in flight when the fault lands
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent >= atSent, { intervalMs: 20, what: `${atSent} sent` });
    await fault();
    const s = await waitFor(async () => {
      const c = await counts(app, id).catch(() => null);
      return c?.emailPhaseDone ? c : null;
    }, { timeoutMs: 90_000, what: 'campaign to finish after the fault' });
    // Both worker processes are still running: nothing killed them.
    for (const w of workers) expect(w.exitCode, w.stderrText().slice(-2000)).toBeNull();
    expect(s.counts.sent).toBe(n);
    expect(s.counts.postal_queued + s.counts.batched + s.counts.needs_review).toBe(0); // nobody to post for our outage
    let repeats = 0;
    for (let i = 1; i <= n; i++) {
      const got = ctx.sink.deliveredTo.get(`${tag}${i}@example.com`) ?? 0;
      expect(got).toBeGreaterThanOrEqual(1);
      repeats += got - 1;
    }
    expect(repeats).toBeLessThanOrEqual(2 * CONCURRENCY); // at most what was in flight
    for (const w of workers) expect(w.stderrText()).not.toMatch(/Unhandled 'error' event|uncaughtException/);
  } finally {
    ctx.sink.mode.delayMs = 0;
    const codes = await Promise.all(workers.map((w) => stop(w)));
    expect(codes).toEqual([0, 0]); // and they stop cleanly on SIGTERM
  }
}

describe('restarts mid-campaign, two worker processes', () => {
  it('PostgreSQL restarts: workers stay up, reconnect and finish', async () => {
    const pg = await startPrivatePostgres();
    const env = { ...ctx.t.env, DATABASE_URL: pg.url };
    const app = ctx.t.app({ DATABASE_URL: pg.url });
    try {
      // A connection checked out at that moment (a transaction, a COPY, the reconciler's lock)
      // loses its server: that must be an error for its caller, never a crash of the process.
      const held = await app.db.connect();
      await campaignThrough(app, env, 'pgr', 1200, 300, () => pg.restart());
      await expect(held.query('select 1')).rejects.toThrow();
      held.release(true);
      expect((await app.db.query('select 1 as ok')).rows[0].ok).toBe(1);
    } finally {
      await app.close();
      await pg.stop();
    }
  });

  it('Redis restarts (AOF on): workers stay up, reconnect and finish', async () => {
    const redis = await startPrivateRedis({ aof: true });
    const env = { ...ctx.t.env, REDIS_URL: redis.url };
    const app = ctx.t.app({ REDIS_URL: redis.url });
    try {
      await campaignThrough(app, env, 'rdr', 1200, 300, () => redis.restart());
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
