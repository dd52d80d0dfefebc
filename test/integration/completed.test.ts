// A campaign that has told everyone finishes: status, the CLI, the API's status and /metrics say
// completed, and the "no worker alive" alert stops counting it; a late hard bounce reopens it
// visibly (someone is on the postal route again) until their letter is accounted for.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person, sendAll } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { recordBounce } from '../../src/bounces/bounce-store.ts';
import { applyBounce } from '../../src/bounces/apply-bounce.ts';
import { enqueueEmail, enqueuePostal } from '../../src/dispatch/enqueue.ts';
import { makeServeMetrics } from '../../src/metrics/serve-metrics.ts';
import { formatStatus } from '../../src/cli/output.ts';

const env = useEnvWithSink();

describe('campaigns that finish', () => {
  it('shows completed when everyone is accounted for, and open again after a late bounce', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url });
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 6 }, (_, i) => person(i + 1, `done${i + 1}@example.com`)));
    const metric = async (name: string) => {
      const text = await makeServeMetrics(app).metrics();
      return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
    };
    expect((await counts(app, id)).completed).toBe(false); // a draft is not completed
    await sendAll(app, id, 6);
    const done = await counts(app, id);
    expect(done).toMatchObject({ state: 'running', completed: true });
    expect(formatStatus(done)).toContain('running (completed: everyone is accounted for)');
    const cli = notice(t.env, 'campaign', 'status', String(id), '--json');
    expect(JSON.parse(cli.stdout)).toMatchObject({ completed: true });
    await waitFor(async () => / 1$/.test(await metric(`notice_campaign_completed{campaign="${id}"}`)), { what: 'completed 1 in /metrics' });
    expect(await metric('notice_campaigns_running')).toMatch(/notice_campaigns_running 0$/m);

    // A late hard bounce: a letter is now owed; the campaign is open again.
    const { rows: [p] } = await app.db.query('select id from notices where campaign_id = $1 order by id limit 1', [id]);
    const ev = await recordBounce(app.db, { noticeId: p.id, source: 'dsn', class: 'hard', reason: 'user_unknown', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 user unknown', dedupeKey: 'late-1' });
    expect(await applyBounce({
      db: app.db, softBounceLimit: 2, errorBudget: 50, retryDelayMs: 10, configBounceDomains: 3, configBounceMinPeople: 10, configBounceShare: 0.02, configBounceWindowMs: 3_600_000,
      enqueuePostal: (x) => enqueuePostal(app.queues, x), enqueueEmail: (x, d) => enqueueEmail(app.queues, x, d),
    }, ev!)).toBe('postal');
    const reopened = await counts(app, id);
    expect(reopened).toMatchObject({ completed: false, counts: { postal_queued: 1 } });
    // /metrics reads the ledger-kept counts, which trail while other transactions in the cluster are open.
    await waitFor(async () => / 0$/.test(await metric(`notice_campaign_completed{campaign="${id}"}`)), { what: 'completed 0 in /metrics' });
    expect(await metric('notice_campaigns_running')).toMatch(/notice_campaigns_running 1$/m);
    await app.close();
  });
});
