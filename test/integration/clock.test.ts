// Time is injected: leases, outages and batch age are measured against the clock the caller
// passes (the app's clock), not PostgreSQL's now(), so a test moves a campaign through hours in
// milliseconds. A worker that died mid-send two hours ago; a relay down past the outage limit; a
// print batch older than its limit: each is seen exactly when the clock says so, and not before.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { getCampaign, noteOutage, setCampaignVendor } from '../../src/db/campaign-store.ts';
import { claimForSend, idsInStates } from '../../src/db/notice-store.ts';
import { reconcile } from '../../src/dispatch/reconciler.ts';
import { batchesDue, startClosing } from '../../src/channels/post/batch-store.ts';
import { routePostal } from '../../src/channels/post/route-postal.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';

const env = useEnvWithSink();
const HOUR = 3_600_000;

describe('an injected clock', () => {
  it('a send claimed by a worker that died is claimed again once the lease has passed on the clock, and sent once', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, SEND_LEASE_MS: '120000' });
    const t0 = new Date('2026-03-01T00:00:00Z');
    let now = t0;
    app.clock.now = () => now;
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 5 }, (_, i) => person(i + 1, `lease${i + 1}@example.com`)));
    await launch({ ...steeringDeps(app), window: 0 }, id); // everyone queued, nothing in Redis yet
    const ids = await idsInStates(app.db, id, ['queued'], 100);
    // A worker claims all five at t0 and dies before any outcome.
    expect((await claimForSend(app.db, ids, app.config.SEND_LEASE_MS, t0)).map((n) => n.id)).toEqual(ids);

    now = new Date(t0.getTime() + 119_000); // inside the lease: still theirs
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).email).toBe(0);
    expect(await claimForSend(app.db, ids, app.config.SEND_LEASE_MS, now)).toEqual([]);

    now = new Date(t0.getTime() + 2 * HOUR); // two hours later, in a millisecond
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).email).toBe(5);
    const workers = await startWorkers(app, { queues: ['email'], concurrency: 2, reconcile: false });
    try {
      await waitFor(async () => (await counts(app, id)).counts.sent === 5, { what: 'all five sent', timeoutMs: 20_000 });
    } finally {
      await workers.close();
    }
    for (let i = 1; i <= 5; i++) expect(sink.deliveredTo.get(`lease${i}@example.com`)).toBe(1);
    // Each ledger: claimed at t0, claimed again two hours later (on the clock), sent once.
    const { rows } = await app.db.query(
      `select count(*) filter (where to_state = 'sending')::int as claims, count(*) filter (where to_state = 'sent')::int as sent, max(n.attempts) as attempts
       from notices n join notice_events e on e.notice_id = n.id where n.campaign_id = $1 group by n.id`, [id]);
    expect(rows).toEqual(Array(5).fill({ claims: 2, sent: 1, attempts: 2 }));
    await app.close();
  });

  it('a relay outage pauses the campaign when it has lasted the limit on the clock, not before', async () => {
    const { t } = env;
    const app = t.app({ OUTAGE_PAUSE_MS: String(10 * 60_000) });
    const { id } = await campaignWith(app, t.tmp, [person(1, 'outage1@example.com')]);
    await launch({ ...steeringDeps(app), window: 0 }, id);
    const t0 = new Date('2026-03-01T09:00:00Z');
    expect(await noteOutage(app.db, id, app.config.OUTAGE_PAUSE_MS, '421 try later', t0)).toBe(false);
    expect(await noteOutage(app.db, id, app.config.OUTAGE_PAUSE_MS, '421 try later', new Date(t0.getTime() + 9 * 60_000))).toBe(false);
    expect((await getCampaign(app.db, id))!.state).toBe('running');
    expect(await noteOutage(app.db, id, app.config.OUTAGE_PAUSE_MS, '421 try later', new Date(t0.getTime() + 10 * 60_000 + 1000))).toBe(true);
    const c = (await getCampaign(app.db, id))!;
    expect([c.state, c.paused_by]).toEqual(['paused', 'system:outage']);
    expect(c.outage_since!.toISOString()).toBe(t0.toISOString());
    await app.close();
  });

  it('a print batch is due when its first letter is older than the limit on the clock', async () => {
    const { t } = env;
    const app = t.app();
    const { id } = await campaignWith(app, t.tmp, [person(1, null), person(2, null)]);
    const vendor = await addVendor(app.db, 'clock printer');
    await setCampaignVendor(app.db, id, vendor.id);
    await launch({ ...steeringDeps(app), window: 0 }, id);
    for (const n of await idsInStates(app.db, id, ['postal_queued'], 10)) expect((await routePostal(app.db, n, 100)).kind).toBe('batched');
    const { rows: [b] } = await app.db.query('select id, created_at from batches where campaign_id = $1', [id]);
    const made = new Date(b.created_at).getTime();
    const maxAge = app.config.BATCH_MAX_AGE_MS;
    expect(await batchesDue(app.db, 100, maxAge, new Date(made + maxAge - 1000))).not.toContain(b.id);
    expect(await batchesDue(app.db, 100, maxAge, new Date(made + maxAge + 1000))).toContain(b.id);
    // Closing stamps the clock's time; one left closing is due again ten minutes later on it.
    const closingAt = new Date(made + maxAge + 2000);
    expect(await startClosing(app.db, b.id, closingAt)).toBe(true);
    expect(await batchesDue(app.db, 100, maxAge, new Date(closingAt.getTime() + 9 * 60_000))).not.toContain(b.id);
    expect(await batchesDue(app.db, 100, maxAge, new Date(closingAt.getTime() + 11 * 60_000))).toContain(b.id);
    await app.close();
  });
});
