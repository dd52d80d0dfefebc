// The windowed relay: launch marks everyone queued in PostgreSQL and puts only a window of them
// in Redis (chunks of ids); topping up adds the next people as the window drains, each person
// once; after a relay crashed between commit and enqueue, nobody is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { reconcile } from '../../src/dispatch/reconciler.ts';
import { topUp } from '../../src/dispatch/relay.ts';
import { transition } from '../../src/db/notice-store.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
beforeAll(async () => {
  t = await makeTestEnv();
  app = t.app({ RELAY_WINDOW: '500', EMAIL_CHUNK_SIZE: '50' });
});
afterAll(async () => t?.teardown());

const liveJobs = () => app.queues.email.getJobs(['wait', 'delayed', 'active', 'prioritized'], 0, -1);
const noticesInJobs = async () => (await liveJobs()).flatMap((j) => ('noticeIds' in j.data ? j.data.noticeIds : [j.data.noticeId]));

describe('the windowed relay', () => {
  it('launch queues everyone in PostgreSQL and only a window in Redis, each person once', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => person(i + 1, i % 10 === 0 ? null : `r${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    const first = await launch(steeringDeps(app), id);
    expect(first).toMatchObject({ changed: true, state: 'running', relay: { queued: 1080, postal: 120 } });
    expect((await counts(app, id)).counts).toMatchObject({ queued: 1080, postal_queued: 120, pending: 0 });
    // The window: 500 people in 10 jobs of 50, in id order; the other 580 wait in PostgreSQL.
    const jobs = await liveJobs();
    expect(jobs).toHaveLength(10);
    const ids = await noticesInJobs();
    expect(ids).toHaveLength(500);
    expect(new Set(ids).size).toBe(500);
    // Ids only in Redis: no personal data travels with a job.
    expect(Object.keys(jobs[0].data).sort()).toEqual(['campaignId', 'noticeIds']);
    expect((await app.queues.postal.getJobCounts('wait')).wait).toBe(120);

    // A second launch changes nothing, and a full window takes nothing more.
    expect(await launch(steeringDeps(app), id)).toMatchObject({ changed: false, message: `campaign ${id} already running`, relay: { queued: 0, postal: 0 } });
    expect(await topUp(steeringDeps(app))).toBe(0);
    expect(await liveJobs()).toHaveLength(10);

    // As the window drains (here: the jobs are taken away), the next people go in, nobody twice.
    const seen = new Set(ids);
    for (;;) {
      await app.queues.email.drain();
      if (!(await topUp(steeringDeps(app)))) break;
      for (const n of await noticesInJobs()) {
        expect(seen.has(n)).toBe(false);
        seen.add(n);
      }
    }
    expect(seen.size).toBe(1080);
    await app.queues.email.obliterate({ force: true });
    await app.queues.postal.obliterate({ force: true });
  });

  it('after a relay crashed between commit and enqueue, the reconciler puts the stranded back', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => person(i + 1, `s${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    // What a crash leaves: everyone marked queued, the cursor moved past the first 100, no job.
    await app.db.query(`update campaigns set state = 'running' where id = $1`, [id]);
    const { rows: all } = await app.db.query('select id from notices where campaign_id = $1 order by id', [id]);
    await transition(app.db, { ids: all.map((r) => r.id), from: ['pending'], to: 'queued', channel: 'email' });
    await app.db.query('update campaigns set relay_cursor = $2 where id = $1', [id, all[99].id]);
    expect(await liveJobs()).toHaveLength(0);

    // The reconciler finds the 100 the relay had passed (and only those: the rest wait for the window)...
    expect(await reconcile(steeringDeps(app), id)).toMatchObject({ email: 100 });
    expect(await reconcile(steeringDeps(app), id)).toMatchObject({ email: 0 }); // ...once
    // ...and the relay brings the other 200.
    expect(await topUp(steeringDeps(app))).toBe(200);
    const ids = await noticesInJobs();
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
  });
});
