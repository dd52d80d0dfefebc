// SES through the real AWS SDK against a local SES-speaking endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startSesEndpoint, type SesEndpoint } from '../support/ses-endpoint.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, resume, steeringDeps } from '../../src/campaigns/control.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let ses: SesEndpoint;
let app: App;
let workers: RunningWorkers;
const relay = () => steeringDeps(app);
const settled = (id: number) => waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { what: 'settle' });

beforeAll(async () => {
  t = await makeTestEnv();
  ses = await startSesEndpoint();
  app = t.app({ MAIL_TRANSPORT: 'ses', SES_ENDPOINT: ses.url, SES_ACCESS_KEY_ID: 'AKIDLOCAL', SES_SECRET_ACCESS_KEY: 'local-secret', SES_REGION: 'ap-northeast-1', WORKER_CONCURRENCY: '5' });
  workers = await startWorkers(app);
});
afterAll(async () => {
  await workers?.close();
  await ses?.close();
  await t?.teardown();
});

describe('the SES transport', () => {
  it('sends raw MIME with the stable Message-ID and records the SES MessageId', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'ses1@example.com'), person(2, 'ses2@example.com')]);
    await launch(relay(), id);
    const s = await settled(id);
    expect(s.counts.sent).toBe(2);
    const msg = ses.sent.find((m) => m.destinations.includes('ses1@example.com'))!;
    expect(msg.raw).toMatch(/^Message-ID: <notice-\d+-\d+\.[0-9a-f]{12}@example\.com>/m);
    expect(msg.source).toMatch(/^bounce\+\d+\.[0-9a-f]{16}@bounce\.example\.com$/);
    const { rows } = await app.db.query('select provider_message_id from notices where campaign_id = $1 order by id', [id]);
    expect(rows[0].provider_message_id).toBe(msg.id);
  });

  it('slows down on Throttling and still sends everyone once, without using up attempts', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => person(i + 1, `thr${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    ses.failNext = { count: 10, code: 'Throttling', message: 'Maximum sending rate exceeded.', status: 400 };
    const before = ses.sent.length;
    await launch(relay(), id);
    const s = await settled(id);
    expect(s.counts.sent).toBe(30);
    expect(ses.failNext.count).toBe(0);
    expect(ses.sent.length - before).toBe(30);
    const { rows: r } = await app.db.query('select max(attempts) as m from notices where campaign_id = $1', [id]);
    expect(r[0].m).toBe(1);
    const { rows: ev } = await app.db.query(`select count(*)::int as n from notice_events where campaign_id = $1 and detail->>'class' = 'throttled'`, [id]);
    expect(ev[0].n).toBe(10);
  });

  it('pauses on AccountSendingPausedException and reroutes nobody', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'p1@example.com'), person(2, 'p2@example.com')]);
    ses.failNext = { count: 1000, code: 'AccountSendingPausedException', message: 'Email sending is disabled for your account.', status: 400 };
    await launch(relay(), id);
    await waitFor(async () => (await counts(app, id)).state === 'paused');
    await waitFor(async () => (await counts(app, id)).counts.sending === 0);
    expect((await counts(app, id)).counts).toMatchObject({ postal_queued: 0, sent: 0, queued: 2 });
    ses.failNext.count = 0;
    await resume(relay(), id);
    expect((await settled(id)).counts.sent).toBe(2);
  });

  it('marks content rejections (MessageRejected) for review, not for post', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'rej@example.com')]);
    ses.failNext = { count: 1, code: 'MessageRejected', message: 'Email rejected: content policy', status: 400 };
    await launch(relay(), id);
    const s = await settled(id);
    expect(s.counts).toMatchObject({ needs_review: 1, postal_queued: 0 });
  });
});
