// The outbox relay: launching twice, or after a crash half-way, enqueues nobody twice and nobody
// is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { launch } from '../../src/producer/campaign-control.ts';
import { reconcile } from '../../src/producer/reconciler.ts';
import { transition } from '../../src/db/notice-store.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
beforeAll(async () => {
  t = await makeTestEnv();
  app = t.app();
});
afterAll(async () => t?.teardown());

const jobIds = async () => (await app.queues.email.getJobs(['wait', 'delayed', 'active', 'prioritized'], 0, -1)).map((j) => j.id);

describe('launch', () => {
  it('enqueues each person once, however often it runs', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => person(i + 1, i % 10 === 0 ? null : `r${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    const deps = { db: app.db, queues: app.queues, pageSize: 250 };
    const first = await launch(deps, id);
    expect(first).toMatchObject({ changed: true, state: 'running', relay: { queued: 1080, postal: 120 } });
    const again = await launch(deps, id);
    expect(again).toMatchObject({ changed: false, message: `campaign ${id} already running`, relay: { queued: 0, postal: 0 } });
    const ids = await jobIds();
    expect(ids).toHaveLength(1080);
    expect(new Set(ids).size).toBe(1080);
    expect((await app.queues.postal.getJobCounts('wait')).wait).toBe(120);
    // Ids only in Redis: no personal data travels with a job.
    const [job] = await app.queues.email.getJobs(['wait'], 0, 0);
    expect(Object.keys(job.data).sort()).toEqual(['campaignId', 'noticeId']);
    expect((await counts(app, id)).counts).toMatchObject({ queued: 1080, postal_queued: 120, pending: 0 });
    await app.queues.email.obliterate({ force: true });
  });

  it('after a relay crashed between commit and enqueue, a rerun enqueues the stranded and the rest once', async () => {
    const rows = Array.from({ length: 900 }, (_, i) => person(i + 1, `s${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    await app.db.query(`update campaigns set state = 'running' where id = $1`, [id]);
    // What a crash leaves: the first page marked queued, never enqueued.
    const { rows: page } = await app.db.query('select id from notices where campaign_id = $1 order by id limit 300', [id]);
    await transition(app.db, { ids: page.map((r) => r.id), from: ['pending'], to: 'queued', channel: 'email' });
    expect(await jobIds()).toHaveLength(0);

    const r = await reconcile({ db: app.db, queues: app.queues, redis: app.redis, pageSize: 100, leaseMs: 1000 }, id);
    expect(r).toMatchObject({ email: 300 }); // the reconciler alone would find them...
    await launch({ db: app.db, queues: app.queues, pageSize: 200 }, id); // ...and a rerun of launch too
    const ids = await jobIds();
    expect(ids).toHaveLength(900);
    expect(new Set(ids).size).toBe(900);
    expect(await reconcile({ db: app.db, queues: app.queues, redis: app.redis, pageSize: 100, leaseMs: 1000 }, id)).toMatchObject({ email: 0, postal: 0 });
  });
});
