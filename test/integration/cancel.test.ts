// Cancelling a campaign mid-send, with letters on their way: no new letters, and nobody left
// waiting with no job (every person cancelled, or already told).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { cancel, launch, steeringDeps } from '../../src/campaigns/control.ts';
import { reconcile } from '../../src/dispatch/reconciler.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { setCampaignVendor } from '../../src/db/campaign-store.ts';
import { ACCOUNTED, NOTICE_STATES } from '../../src/domain/notice-state.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink({ tempfailTimes: 1 });
  app = t.app({ SMTP_URL: sink.url, BATCH_MAX_SIZE: '100000', BACKOFF_BASE_MS: '300', RECONCILE_INTERVAL_MS: '500' });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 6 });
});
afterAll(async () => {
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

describe('cancel mid-campaign', () => {
  it('stops email and letters; everyone ends cancelled or already told', async () => {
    // 600 by email (every fifth greylisted: its retry is in flight when we cancel), 150 by post.
    const rows = Array.from({ length: 750 }, (_, i) => (i < 600 ? person(i + 1, i % 5 === 0 ? `greylist-c${i}@example.com` : `c${i}@example.com`) : person(i + 1, null)));
    const { id } = await campaignWith(app, t.tmp, rows);
    await setCampaignVendor(app.db, id, (await addVendor(app.db, 'Cancel Print')).id);
    sink.mode.delayMs = 15;
    await launch(steeringDeps(app), id);
    await waitFor(async () => {
      const c = (await counts(app, id)).counts;
      return c.sent >= 100 && c.batched >= 20;
    }, { intervalMs: 20, what: 'some sent, some letters batched' });
    const r = await cancel(app.db, id, { actor: 'test' }, 'wrong customer list');
    expect(r.state).toBe('cancelled');
    sink.mode.delayMs = 0;

    const WAITING = ['pending', 'queued', 'sending', 'postal_queued', 'batched'] as const;
    const s = await waitFor(async () => {
      const c = await counts(app, id);
      return WAITING.every((st) => c.counts[st] === 0) ? c : null;
    }, { timeoutMs: 30_000, what: 'nobody left waiting' });
    const unaccounted = NOTICE_STATES.filter((st) => !ACCOUNTED.includes(st)).reduce((a, st) => a + s.counts[st], 0);
    expect(unaccounted).toBe(0);
    expect(s.counts.cancelled).toBeGreaterThan(0);
    expect(s.counts.sent + s.counts.cancelled).toBe(750);

    // No letter of this campaign is in any batch, and none will close: the vendor gets nothing.
    const { rows: items } = await app.db.query(`select count(*)::int as n from batch_items bi join batches b on b.id = bi.batch_id where b.campaign_id = $1`, [id]);
    expect(items[0].n).toBe(0);
    const { rows: ready } = await app.db.query(`select count(*)::int as n from batches where campaign_id = $1 and status <> 'open'`, [id]);
    expect(ready[0].n).toBe(0);
    // The reconciler finds nothing to put back for a cancelled campaign, and nobody moves.
    expect(await reconcile(steeringDeps(app), id)).toMatchObject({ email: 0, postal: 0, cancelled: 0 });
    expect((await counts(app, id)).counts).toEqual(s.counts);
  });
});
