// The operator's dashboard in a real browser (headless Chromium through playwright-core), during
// a campaign: its counts are those of `notice campaign status --json`, the rate chart moves, a
// pause shows as paused with its reason, and the letters waiting for a vendor never named say so.
// A screenshot is kept in test-artifacts/dashboard.png for a person to look at.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { freePort } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, pause, steeringDeps } from '../../src/campaigns/control.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import { addOperator } from '../../src/auth/operator-store.ts';
import { setCampaignDeadline } from '../../src/db/campaign-store.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const artifacts = path.join(root, 'test-artifacts');

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let http: FastifyInstance;
let browser: Browser;
let base: string;
let token: string;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url, DASHBOARD_SAMPLE_MS: '500' });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 4 });
  http = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
  const port = await freePort();
  await http.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  token = (await addOperator(app.db, 'dash-viewer', 'viewer')).token;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await http?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

const stage = (page: import('playwright-core').Page, id: number, k: string) => page.locator(`#campaign-${id} [data-stage="${k}"] .n`).getAttribute('data-count').then(Number);

describe('the dashboard', () => {
  it('shows a live campaign as campaign status does, with a moving rate chart, a pause and its reason', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => (i % 20 === 0 ? person(i + 1, null) : person(i + 1, `d${i + 1}@example.com`)));
    const { id } = await campaignWith(app, t.tmp, rows);
    await setCampaignDeadline(app.db, id, new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10), 'unauthorized_access');
    sink.mode.delayMs = 4; // about 15 s of sending: the charts get points
    await launch(steeringDeps(app), id);

    const context = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    // Not signed in: the dashboard sends the browser to the sign-in page, and back after it.
    await page.goto(`${base}/dashboard`);
    await page.waitForURL(`${base}/signin?next=/dashboard`);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/dashboard`);
    await page.locator(`#campaign-${id}`).waitFor();
    expect(await page.locator(`#campaign-${id} [data-state]`).getAttribute('data-state')).toBe('running');

    // The rate chart moves while the campaign sends.
    const chart = page.locator(`#chart-${id}-rate`);
    await waitFor(async () => Number(await chart.getAttribute('data-points')) >= 2, { what: 'chart points' });
    const first = Number(await chart.getAttribute('data-points'));
    await waitFor(async () => Number(await chart.getAttribute('data-points')) > first && Number(await chart.getAttribute('data-last')) > 0, { what: 'the rate chart to move' });

    // Letters for the people without email wait for a vendor nobody named: the page says so.
    await page.locator(`#campaign-${id} [data-code="no_vendor"]`).waitFor();

    // Pause with a reason; once quiet, the page's counts equal `campaign status --json`.
    await pause(app.db, id, { actor: 'cli:tester' }, 'checking the enquiry desk can take more calls');
    await waitFor(async () => (await counts(app, id)).counts.sending === 0, { what: 'sends in flight to finish' });
    const status = JSON.parse(notice(t.env, 'campaign', 'status', String(id), '--json').stdout);
    const pausedAt = Date.now();
    await waitFor(async () => Date.parse((await page.locator('body').getAttribute('data-generated-at')) ?? '0') > pausedAt + 200, { what: 'a refresh after the pause' });
    await page.locator(`#campaign-${id} [data-state="paused"]`).waitFor();
    expect(await page.locator(`#campaign-${id} [data-role="pause-reason"]`).textContent()).toContain('checking the enquiry desk can take more calls');
    expect(await page.locator(`#campaign-${id} [data-role="pause-reason"]`).textContent()).toContain('cli:tester');
    const c = status.counts;
    expect(await stage(page, id, 'imported')).toBe(status.total);
    expect(await stage(page, id, 'emailed')).toBe(c.sent + c.delivered);
    expect(await stage(page, id, 'toPost')).toBe(c.postal_queued + c.address_invalid + c.batched + c.printed + c.mailed + c.returned + c.unreachable);
    expect(await stage(page, id, 'needsReview')).toBe(c.needs_review);
    expect(await page.locator(`#campaign-${id} [data-code="paused"]`).count()).toBe(status.open > 0 ? 1 : 0);
    const deadline = await page.locator(`#campaign-${id} [data-role="deadline"]`).textContent();
    expect(deadline).toContain(`あと ${status.deadline.daysLeft} 日`);

    // No personal data on the page: no email address, no name.
    const html = await page.content();
    expect(html).not.toMatch(/@example\.com/);
    expect(html).not.toContain('山田');

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
    await page.locator('#lang').click();
    await page.locator(`#campaign-${id} [data-state]`).filter({ hasText: 'paused' }).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'dashboard-en.png'), fullPage: true });

    // Finding a person the way a caller asks: a viewer gets their state, nothing of their data.
    const { rows: [someone] } = await app.db.query('select id, customer_id, state from notices where campaign_id = $1 order by id limit 1', [id]);
    await page.locator('#find-campaign').selectOption(String(id));
    await page.locator('#find-by').selectOption('customer_id');
    await page.locator('#find-value').fill(someone.customer_id);
    await page.locator('#find button[type="submit"]').click();
    await page.locator('#find-result td').first().waitFor();
    const found = await page.locator('#find-result').textContent();
    expect(found).toContain(String(someone.id));
    expect(found).not.toMatch(/@example\.com/);
    await page.screenshot({ path: path.join(artifacts, 'dashboard-find.png'), fullPage: false });
    await context.close();
    sink.mode.delayMs = 0;
  });

  it('asks for an operator token: the page, its data and the queue UI are 401 without one (the page sends a browser to sign in)', async () => {
    for (const url of ['/api/v1/dashboard', '/admin/queues', '/admin/queues/api/queues']) {
      const r = await http.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(401);
      expect(r.headers['www-authenticate'], url).toMatch(/^Bearer /);
    }
    expect((await http.inject({ method: 'GET', url: '/dashboard' })).headers.location).toBe('/signin?next=/dashboard');
    const auth = { authorization: `Bearer ${token}` };
    expect((await http.inject({ method: 'GET', url: '/admin/queues', headers: auth })).statusCode).toBe(200);
    const api = await http.inject({ method: 'GET', url: '/admin/queues/api/queues?activeQueue=email&status=latest&page=1', headers: auth });
    expect(api.statusCode).toBe(200);
    // Job data is ids only.
    const jobs = (api.json().queues as Array<{ jobs: Array<{ data: Record<string, unknown> }> }>).flatMap((q) => q.jobs);
    for (const j of jobs) expect(Object.keys(j.data).every((k) => ['noticeId', 'campaignId', 'bounceEventId', 'batchId'].includes(k))).toBe(true);
    // A viewer looks; the buttons (retry, clean, pause a queue) need the operator role.
    expect((await http.inject({ method: 'PUT', url: '/admin/queues/api/queues/email/pause', headers: auth })).statusCode).toBe(403);
    const op = (await addOperator(app.db, 'dash-operator', 'operator')).token;
    expect((await http.inject({ method: 'PUT', url: '/admin/queues/api/queues/email/resume', headers: { authorization: `Bearer ${op}` } })).statusCode).toBe(200);
  });
});
