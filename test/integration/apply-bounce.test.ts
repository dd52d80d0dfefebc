// What each class of late bounce does to a person who was already sent their email.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { applyBounce } from '../../src/bounces/apply-bounce.ts';
import { recordBounce } from '../../src/bounces/bounce-store.ts';
import { enqueueEmail, enqueuePostal } from '../../src/dispatch/enqueue.ts';
import { isSuppressed } from '../../src/db/notice-store.ts';
import type { BounceClass } from '../../src/domain/bounce.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let ids: Record<string, number>;
let campaignId: number;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url });
  workers = await startWorkers(app, { concurrency: 4 }); // email only: postal jobs stay queued
  const names = ['soft', 'hard', 'message', 'config', 'complaint', 'delivery', 'auto'];
  const c = await campaignWith(app, t.tmp, names.map((n, i) => person(i + 1, `${n}@example.com`)));
  campaignId = c.id;
  await launch(steeringDeps(app), campaignId);
  await waitFor(async () => (await counts(app, campaignId)).emailPhaseDone);
  const { rows } = await app.db.query('select id, email from notices where campaign_id = $1', [campaignId]);
  ids = Object.fromEntries(rows.map((r) => [r.email.split('@')[0], r.id]));
});
afterAll(async () => {
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

let n = 0;
async function bounce(who: string, cls: BounceClass, status: string | null = null) {
  const id = await recordBounce(app.db, { noticeId: ids[who], source: 'dsn', class: cls, reason: ({ hard: 'user_unknown', soft: 'mailbox_full', message: 'content', config: 'our_authentication', complaint: 'complaint', delivery: 'delivered', auto_reply: 'auto_reply', not_bounce: 'not_bounce' } as const)[cls], action: 'failed', status, diagnostic: `${status ?? ''} test`, dedupeKey: `t-${++n}` });
  return applyBounce({
    db: app.db, softBounceLimit: 2, errorBudget: 50, retryDelayMs: 10, configBounceDomains: 3, configBounceMinPeople: 10, configBounceShare: 0.02, configBounceWindowMs: 3_600_000,
    enqueuePostal: (x) => enqueuePostal(app.queues, x), enqueueEmail: (x, d) => enqueueEmail(app.queues, x, d),
  }, id!);
}
const state = async (who: string) => (await app.db.query('select state, soft_bounces from notices where id = $1', [ids[who]])).rows[0];

describe('late bounces', () => {
  it('soft: the email is tried again, and after the limit the person gets a letter', async () => {
    expect(await bounce('soft', 'soft', '4.2.2')).toBe('retry');
    await waitFor(async () => (await state('soft')).state === 'sent', { what: 'resent' });
    expect(sink.deliveredTo.get('soft@example.com')).toBe(2);
    expect(await bounce('soft', 'soft', '4.2.2')).toBe('postal');
    expect(await state('soft')).toEqual({ state: 'postal_queued', soft_bounces: 2 });
  });

  it('hard: suppressed, and a letter', async () => {
    expect(await bounce('hard', 'hard', '5.1.1')).toBe('postal');
    expect((await state('hard')).state).toBe('postal_queued');
    expect(await isSuppressed(app.db, 'hard@example.com')).toBe(true);
  });

  it('message problem: needs review, the recipient is not blamed', async () => {
    expect(await bounce('message', 'message', '5.7.1')).toBe('needs_review');
    expect(await isSuppressed(app.db, 'message@example.com')).toBe(false);
  });

  it('our configuration, from one receiving domain: unconfirmed, so a soft bounce; the campaign goes on', async () => {
    expect(await bounce('config', 'config', '5.7.26')).toBe('retry');
    expect(await state('config')).toEqual({ state: 'queued', soft_bounces: 1 });
    expect((await counts(app, campaignId)).state).toBe('running');
  });

  it('complaint: suppressed, still notified; delivery: delivered; auto-reply and duplicates: nothing', async () => {
    expect(await bounce('complaint', 'complaint')).toBe('suppressed');
    expect((await state('complaint')).state).toBe('sent');
    expect(await isSuppressed(app.db, 'complaint@example.com')).toBe(true);
    expect(await bounce('delivery', 'delivery')).toBe('delivered');
    expect(await bounce('auto', 'auto_reply')).toBe('ignored');
    expect((await state('auto')).state).toBe('sent');
    const again = await recordBounce(app.db, { noticeId: ids.hard, source: 'dsn', class: 'hard', reason: 'user_unknown', action: 'failed', status: '5.1.1', diagnostic: null, dedupeKey: 't-3' }); // the hard bounce, delivered again
    expect(again).toBeNull();
  });
});
