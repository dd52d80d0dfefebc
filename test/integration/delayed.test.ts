// Delayed is not notified. A delay warning moves a sent person to `delayed` (not counted as
// notified on status, report and regulator figures); a final answer settles them; with none by
// the confirmation deadline they get a letter — at the deadline on the clock, not before, exactly
// once — and a delivery that comes later is evidence only (no second letter, the ledger says both).
import { describe, expect, it } from 'vitest';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person, sendAll } from '../support/fixtures.ts';
import { steeringDeps } from '../../src/campaigns/control.ts';
import { recordBounce, type NewBounceEvent } from '../../src/bounces/bounce-store.ts';
import { applyBounceEvent, type ApplyBounceDeps } from '../../src/bounces/apply-bounce.ts';
import { enqueueEmail, enqueuePostal } from '../../src/dispatch/enqueue.ts';
import { reconcile } from '../../src/dispatch/reconciler.ts';
import { setCampaignConfirmDeadline } from '../../src/db/campaign-store.ts';
import { ledgerOf } from '../../src/db/notice-store.ts';
import { regulatorReport } from '../../src/campaigns/regulator.ts';
import type { App } from '../../src/app.ts';

const env = useEnvWithSink();
const HOUR = 3_600_000;
let n = 0;

function deps(app: App): ApplyBounceDeps {
  return {
    db: app.db, softBounceLimit: 2, errorBudget: 50, retryDelayMs: 10, configBounceDomains: 3, configBounceMinPeople: 10, configBounceShare: 0.02, configBounceWindowMs: 3_600_000,
    enqueuePostal: (x) => enqueuePostal(app.queues, x), enqueueEmail: (x, d) => enqueueEmail(app.queues, x, d),
  };
}
const delay = (noticeId: number): NewBounceEvent => ({ noticeId, source: 'dsn', class: 'not_bounce', reason: 'delayed', action: 'delayed', status: '4.2.2', diagnostic: 'smtp; 452 4.2.2 mailbox full; will keep trying', dedupeKey: `delay-${++n}` });
const delivered = (noticeId: number): NewBounceEvent => ({ noticeId, source: 'dsn', class: 'delivery', reason: 'delivered', action: 'delivered', status: '2.0.0', diagnostic: 'smtp; 250 2.0.0 delivered', dedupeKey: `deliv-${++n}`, reportingMta: 'mx.slow.example' });

describe('delayed mail', () => {
  it('is not notified; at the deadline on the clock it gets a letter, once; a late delivery is evidence only', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, EMAIL_CONFIRM_DEADLINE_MS: String(48 * HOUR) });
    const { id } = await campaignWith(app, t.tmp, [person(1, 'slow@example.com'), person(2, 'later@example.com'), person(3, 'fine@example.com')]);
    await sendAll(app, id, 3);
    const { rows } = await app.db.query('select id from notices where campaign_id = $1 order by id', [id]);
    const [slow, later] = rows.map((r) => Number(r.id));
    const apply = async (e: NewBounceEvent) => (await applyBounceEvent(deps(app), (await recordBounce(app.db, e))!)).outcome;

    expect(await apply(delay(slow))).toBe('delayed');
    expect(await apply(delay(later))).toBe('delayed');
    expect(await apply(delay(slow))).toBe('recorded'); // a second warning changes nothing
    let s = await counts(app, id);
    expect(s.counts).toMatchObject({ sent: 1, delayed: 2 });
    expect(s.notified).toBe(1);
    expect(s.completed).toBe(false);
    expect(s.waiting.find((w) => w.code === 'delayed')).toMatchObject({ count: 2 });
    expect((await regulatorReport(app.db, id))).toMatchObject({ notified: { total: 1 }, in_progress: { by_state: { delayed: 2 } }, adds_up: true });

    // `later` gets its final answer before the deadline: delivered, with the server that said so.
    expect(await apply(delivered(later))).toBe('delivered');

    const realNow = Date.now();
    app.clock.now = () => new Date(realNow + 47 * HOUR);
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).unconfirmed).toBe(0);
    expect((await counts(app, id)).counts.delayed).toBe(1);

    app.clock.now = () => new Date(realNow + 48 * HOUR + 60_000);
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).unconfirmed).toBe(1);
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).unconfirmed).toBe(0); // exactly once
    s = await counts(app, id);
    expect(s.counts).toMatchObject({ sent: 1, delivered: 1, postal_queued: 1, delayed: 0 });
    const ledger = await ledgerOf(app.db, slow);
    expect(ledger.at(-1)).toMatchObject({ from_state: 'delayed', to_state: 'postal_queued', detail: { reason: 'email_unconfirmed' } });
    expect(await app.queues.postal.getJob(`p-${slow}`)).toBeTruthy();

    // The delivery comes after all: evidence in the ledger; the letter stands, no second one.
    expect(await apply(delivered(slow))).toBe('recorded');
    const after = await ledgerOf(app.db, slow);
    expect(after.at(-1)).toMatchObject({ to_state: 'postal_queued', detail: { note: 'late_event', bounce_reason: 'delivered' } });
    expect(after.filter((e) => e.to_state === 'postal_queued' && e.from_state !== 'postal_queued')).toHaveLength(1);
    await app.close();
  });

  it("a campaign's own deadline (notice campaign confirm-deadline) wins over the default", async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, EMAIL_CONFIRM_DEADLINE_MS: String(48 * HOUR) });
    const { id } = await campaignWith(app, t.tmp, [person(1, 'slow2@example.com')]);
    await setCampaignConfirmDeadline(app.db, id, 2 * HOUR, 'test');
    await sendAll(app, id, 1);
    const { rows: [p] } = await app.db.query('select id from notices where campaign_id = $1', [id]);
    expect((await applyBounceEvent(deps(app), (await recordBounce(app.db, delay(p.id)))!)).outcome).toBe('delayed');
    const realNow = Date.now();
    app.clock.now = () => new Date(realNow + HOUR);
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).unconfirmed).toBe(0);
    app.clock.now = () => new Date(realNow + 2 * HOUR + 60_000);
    expect((await reconcile({ ...steeringDeps(app), pageSize: 100 }, id)).unconfirmed).toBe(1);
    await app.close();
  });
});
