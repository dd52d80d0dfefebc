// Reputation brakes. A list with 12 % dead addresses pauses with the figure; resuming acknowledges
// it (no pause again until it gets worse; worse, it pauses again). A list with 6 % is slowed: it
// keeps sending, under the slow hourly cap, and says why. Windows of 50 sends here (1,000 by default).
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person, sendAll, writeCsv } from '../support/fixtures.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, resume, steeringDeps } from '../../src/campaigns/control.ts';
import { checkReputation } from '../../src/dispatch/reputation.ts';
import { makePacingGate } from '../../src/dispatch/pacing-gate.ts';
import { recordBounce } from '../../src/bounces/bounce-store.ts';
import { applyBounce } from '../../src/bounces/apply-bounce.ts';
import { enqueueEmail, enqueuePostal } from '../../src/dispatch/enqueue.ts';
import { getCampaign } from '../../src/db/campaign-store.ts';
import { importCsv } from '../../src/intake/importer.ts';
import { relayPending } from '../../src/dispatch/relay.ts';
import type { App } from '../../src/app.ts';

const env = useEnvWithSink();
const brakes = { window: 50, warnHard: 0.05, pauseHard: 0.1, warnComplaint: 0.001, pauseComplaint: 0.003 };

async function sentCampaign(app: App, dir: string, dead: number, tag: string) {
  // `nouser…` addresses are refused with 550 5.1.1 by the sink: hard at send time.
  const { id } = await campaignWith(app, dir, Array.from({ length: 50 }, (_, i) => person(i + 1, i < dead ? `nouser${i}-${tag}@example.com` : `${tag}${i}@example.com`)));
  await sendAll(app, id, 50 - dead);
  return id;
}

describe('reputation brakes', () => {
  it('a list with 12 % hard bounces slows, then pauses with the figure; resume acknowledges it; worse pauses again', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url });
    const row = (i: number, dead: boolean) => person(i, dead ? `nouser${i}-pause@example.com` : `pause${i}@example.com`);
    // The first 25: 2 dead (8 %): above the warning level, below the pause level.
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 25 }, (_, i) => row(i + 1, i < 2)));
    const workers = await startWorkers(app, { queues: ['email'], concurrency: 2, reconcile: false });
    try {
      await launch(steeringDeps(app), id);
      await waitFor(async () => (await counts(app, id)).counts.sent === 23, { what: 'the first 23 sent' });
      const [first] = await checkReputation(app.db, brakes, new Date(), id);
      expect(first).toMatchObject({ level: 'slowed', sends: 25 });
      expect((await counts(app, id)).state).toBe('running');
      // The next 25 (4 more dead): 6 of the last 50, 12 %.
      await importCsv(app.db, app.templates, { campaignId: id, file: writeCsv(t.tmp, 'more.csv', Array.from({ length: 25 }, (_, i) => row(i + 26, i < 4))), encoding: 'utf8' });
      await relayPending(steeringDeps(app), id);
      await waitFor(async () => (await counts(app, id)).counts.sent === 44, { what: 'all sent' });
    } finally {
      await workers.close();
    }
    const [v] = await checkReputation(app.db, brakes, new Date(), id);
    expect(v).toMatchObject({ level: 'pause', sends: 50 });
    expect(v.hardRate).toBeCloseTo(0.12);
    const c = (await getCampaign(app.db, id))!;
    expect(c.state).toBe('paused');
    expect(c.paused_by).toBe('system:reputation');
    expect(c.pause_reason).toContain('hard bounces 12.0% and complaints 0.00% of the last 50 sends');

    await resume(steeringDeps(app), id); // the operator looked, and goes on
    expect((await getCampaign(app.db, id))!.reputation_ack).toMatchObject({ hardRate: 0.12 });
    expect((await checkReputation(app.db, brakes, new Date(), id))[0].level).not.toBe('pause');
    expect((await getCampaign(app.db, id))!.state).toBe('running');

    // Worse than acknowledged: three more of the sent addresses bounce hard (18 %).
    const { rows } = await app.db.query(`select id from notices where campaign_id = $1 and state = 'sent' order by id limit 3`, [id]);
    for (const [i, r] of rows.entries()) {
      const ev = await recordBounce(app.db, { noticeId: r.id, source: 'dsn', class: 'hard', reason: 'user_unknown', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 user unknown', dedupeKey: `rep-${id}-${i}` });
      await applyBounce({ db: app.db, softBounceLimit: 2, errorBudget: 50, retryDelayMs: 10, configBounceDomains: 3, configBounceMinPeople: 10, configBounceShare: 0.02, configBounceWindowMs: 3_600_000, enqueuePostal: (x) => enqueuePostal(app.queues, x), enqueueEmail: (x, d) => enqueueEmail(app.queues, x, d) }, ev!);
    }
    const [worse] = await checkReputation(app.db, brakes, new Date(), id);
    expect(worse.level).toBe('pause');
    expect(worse.hardRate).toBeCloseTo(0.18);
    expect((await getCampaign(app.db, id))!.state).toBe('paused');
    await app.close();
  });

  it('6 % slows the campaign: it runs under the slow cap and says why', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, REPUTATION_SLOW_HOURLY: '20' });
    const id = await sentCampaign(app, t.tmp, 3, 'slow');
    const [v] = await checkReputation(app.db, brakes, new Date(), id);
    expect(v.level).toBe('slowed');
    const s = await counts(app, id);
    expect(s.state).toBe('running');
    expect(s.waiting.find((w) => w.code === 'reputation')?.why).toMatch(/hard bounces 6\.0% .* above the warning level .*: sending slowed/);
    const gate = makePacingGate({ db: app.db, redis: app.redis, keyPrefix: `${app.config.QUEUE_PREFIX}-rep`, slowHourlyCap: 20 });
    expect(await gate.room(id)).toBe(20);
    const admitted = await gate.admit(id, Array.from({ length: 30 }, (_, i) => i + 1));
    expect(admitted).toMatchObject({ why: 'hourly_cap' });
    expect(admitted.admitted).toHaveLength(20);
    await app.close();
  });
});
