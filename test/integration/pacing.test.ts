// Send windows and hourly caps, with a fake clock: nothing is sent inside the quiet hours and
// everything after them; a cap lets through that many an hour and the rest wait. Waiting is never
// failing: no attempt is counted and nobody goes to post for it.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { setCampaignPacing } from '../../src/db/campaign-store.ts';
import { enqueueEmailChunks } from '../../src/dispatch/enqueue.ts';
import { campaignStatus } from '../../src/campaigns/status.ts';

const env = useEnvWithSink();

const settle = () => new Promise((r) => setTimeout(r, 1500));

describe('quiet hours', () => {
  it('sends nothing between 21:00 and 08:00 Tokyo time, and everyone once the window opens, even after Redis lost the waiting jobs', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, PACING_RECHECK_MS: '200', RELAY_TOPUP_MS: '100' });
    let now = new Date('2026-11-28T14:00:00Z'); // 23:00 in Tokyo
    app.clock.now = () => now;
    const people = Array.from({ length: 30 }, (_, i) => person(i + 1, `quiet${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, people);
    await setCampaignPacing(app.db, id, { quietFrom: '21:00', quietTo: '08:00', timeZone: 'Asia/Tokyo', hourlyCap: null });
    const workers = await startWorkers(app, { concurrency: 2 });
    try {
      await launch(steeringDeps(app), id);
      // A chunk the relay queued before the quiet hours began (it adds none inside them).
      const { rows } = await app.db.query('select id from notices where campaign_id = $1 order by id limit 10', [id]);
      await enqueueEmailChunks(app.queues, id, rows.map((r) => r.id), 10);
      await app.db.query('update campaigns set relay_cursor = $2 where id = $1', [id, rows[9].id]);
      await waitFor(async () => (await app.queues.email.getDelayedCount()) > 0, { what: 'the held chunk to wait, delayed' });
      await settle();
      const inside = await counts(app, id);
      expect(inside.counts.sent).toBe(0);
      expect(inside.counts.queued).toBe(30);
      expect(await app.queues.email.getFailedCount()).toBe(0);
      const s = (await campaignStatus(app.db, id, { now }))!;
      expect(s.pacing.inQuietHours).toBe(true);
      expect(s.pacing.windowOpensAt).toBe('2026-11-28T23:00:00.000Z'); // 08:00 in Tokyo
      expect(s.waiting.map((w) => w.code)).toContain('quiet_hours');
      // Nothing is sent in the quiet hours: no rate is claimed for them.
      expect(s.ratePerSec).toBe(0);
      expect(sink.received).toBe(0);

      // Redis loses everything of ours, the delayed chunk with it: PostgreSQL still has them queued.
      const keys = await app.redis.keys(`{${t.name}}*`);
      if (keys.length) await app.redis.del(...keys);
      expect(await app.queues.email.getDelayedCount()).toBe(0);

      now = new Date('2026-11-28T23:00:30Z'); // 08:00:30 in Tokyo
      const after = await waitFor(async () => {
        const c = await counts(app, id);
        return c.counts.sent === 30 ? c : null;
      }, { what: 'everyone sent after the window opens', timeoutMs: 30_000 });
      expect(after.counts.postal_queued + after.counts.needs_review).toBe(0);
      for (let i = 1; i <= 30; i++) expect(sink.deliveredTo.get(`quiet${i}@example.com`)).toBe(1);
      const { rows: tries } = await app.db.query('select max(attempts)::int as most from notices where campaign_id = $1', [id]);
      expect(tries[0].most).toBeLessThanOrEqual(1);
    } finally {
      await workers.close();
    }
  });
});

describe('hourly cap', () => {
  it('lets through the cap each hour and the rest wait for the next', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, PACING_RECHECK_MS: '200', RELAY_TOPUP_MS: '100', EMAIL_CHUNK_SIZE: '4' });
    let now = new Date('2026-11-28T01:10:00Z'); // 10:10 in Tokyo
    app.clock.now = () => now;
    const people = Array.from({ length: 12 }, (_, i) => person(i + 1, `cap${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, people);
    await setCampaignPacing(app.db, id, { quietFrom: null, quietTo: null, timeZone: 'Asia/Tokyo', hourlyCap: 5 });
    const sent = async () => (await counts(app, id)).counts.sent;
    const workers = await startWorkers(app, { concurrency: 3 });
    try {
      await launch(steeringDeps(app), id);
      await waitFor(async () => (await sent()) === 5, { what: 'the first hour\'s five' });
      await settle();
      expect(await sent()).toBe(5);
      now = new Date('2026-11-28T02:00:05Z');
      await waitFor(async () => (await sent()) === 10, { what: 'the second hour\'s five' });
      await settle();
      expect(await sent()).toBe(10);
      now = new Date('2026-11-28T03:00:05Z');
      await waitFor(async () => (await sent()) === 12, { what: 'the last two' });
      for (let i = 1; i <= 12; i++) expect(sink.deliveredTo.get(`cap${i}@example.com`)).toBe(1);
      expect(await app.queues.email.getFailedCount()).toBe(0);
    } finally {
      await workers.close();
    }
  });
});
