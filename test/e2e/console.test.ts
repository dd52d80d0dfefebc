// The operations console in a real browser (headless Chromium through playwright-core): a whole
// campaign run through the console alone — sign in, create from the template files (a broken set
// first: every problem listed), upload a CSV with bad rows (the report shown line by line), dry
// run, preview, test send, launch, pause with a reason, resume, fix an address_invalid person,
// close the batch, find a person by notice code, download the report — and the states it shows
// equal the API's. Every console action is in the campaign ledger as operator:NAME. Screenshots of
// every page, in Japanese and in English, are kept in test-artifacts/console-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { demoTemplates, HEADER, person, root, writeCsv } from '../support/fixtures.ts';
import { freePort } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import { addOperator } from '../../src/auth/operator-store.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { campaignStatus } from '../../src/campaigns/status.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const artifacts = path.join(root, 'test-artifacts');

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let http: FastifyInstance;
let browser: Browser;
let page: Page;
let base: string;
let token: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 4 });
  http = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
  const port = await freePort();
  await http.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  token = (await addOperator(app.db, 'console-op', 'operator')).token;
  await addVendor(app.db, 'Console Print');
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP', acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
});
afterAll(async () => {
  await browser?.close();
  await http?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `console-${name}.png`), fullPage: true });
const tab = async (id: number, name: string) => {
  await page.click(`button[data-tab="${name}"]`);
  await page.waitForURL(`${base}/console#/c/${id}/${name}`);
};

describe('the operations console', () => {
  let id = 0;
  it('runs a whole campaign, and shows what the API says', async () => {
    // Sign in once.
    await page.goto(`${base}/console`);
    await page.waitForURL(/\/signin\?next=\/console/);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/console`);
    await page.getByRole('heading', { name: 'キャンペーン' }).waitFor();

    // Create: a broken set first (every problem at once), then the whole set.
    await page.click('a[href="#/new"]');
    await page.fill('input[name=name]', 'コンソール通販');
    await page.fill('input[name=vendor]', 'Console Print');
    const files = readdirSync(demoTemplates).map((f) => path.join(demoTemplates, f));
    await page.setInputFiles('input[name=templates]', files.filter((f) => !/letterhead|card\.ja\.html/.test(f)));
    await page.click('form button.primary');
    await page.locator('ul.problems li').first().waitFor();
    const problems = await page.locator('ul.problems li').allInnerTexts();
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/letterhead\.json is missing/)]));
    await shot('new-problems-ja');
    await page.setInputFiles('input[name=templates]', files);
    await page.click('form button.primary');
    await page.waitForURL(/#\/c\/\d+$/);
    id = Number(/#\/c\/(\d+)/.exec(page.url())![1]);
    // Settings later: the discovery date (the deadline clock) and quiet hours.
    await page.click('details summary:has-text("設定")');
    await page.fill('form.settings input[name=discovered]', '2026-11-20');
    await page.click('form.settings button.primary');
    await page.locator('.ok:has-text("保存しました")').waitFor();
    await page.locator('text=/残り\\d+日/').first().waitFor();
    await shot('overview-draft-ja');

    // Import a CSV with bad rows: the report, line by line.
    const csv = writeCsv(t.tmp, 'console.csv', [
      person(1, 'p1@example.com'), person(2, null), person(3, null), person(4, null, { city: '渋谷区' }),
      person(5, 'p5@example.com'), person(6, 'p6@example.com'),
      person(7, 'not-an-email'), person(1, 'dup@example.com'), person(8, 'p8@example.com', { name: '4111 1111 1111 1111' }),
    ]);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe(HEADER);
    await tab(id, 'import');
    await page.setInputFiles('input[name=csv]', csv);
    await page.click('button.primary:has-text("アップロード")');
    await page.locator('.import-summary').waitFor();
    const summary = await page.locator('.import-summary').innerText();
    expect(summary).toMatch(/取込 7/);
    const reportRows = await page.locator('table.import-report tbody tr').allInnerTexts();
    expect(reportRows.some((r) => /^9\t/.test(r) && /重複/.test(r))).toBe(true);
    expect(reportRows.some((r) => /^10\t/.test(r) && /除外/.test(r))).toBe(true);
    await shot('import-ja');

    await tab(id, 'dryRun');
    await page.locator('table.dry-run').waitFor();
    await shot('dry-run-ja');

    await tab(id, 'preview');
    await page.fill('input[name=who]', 'C1');
    await page.click('form button:has-text("表示")');
    await page.locator('.subject').waitFor();
    expect(await page.locator('.subject').innerText()).toMatch(/お詫び/);
    expect(await page.locator('pre.text').innerText()).toMatch(/山田 1 様/);
    expect(await page.frameLocator('iframe.mail').locator('body').innerText()).toMatch(/お問い合わせ番号|notice/i);
    await shot('preview-ja');

    await tab(id, 'testSend');
    const before = sink.deliveredTo.get('ops-check@example.com') ?? 0;
    await page.fill('input[name=to]', 'ops-check@example.com');
    await page.click('form button.primary');
    await page.locator('.ok').waitFor();
    await waitFor(async () => (sink.deliveredTo.get('ops-check@example.com') ?? 0) > before, { what: 'the test send at the sink' });
    await shot('test-send-ja');

    // Launch, pause with a reason, resume: each after a confirmation that says how many.
    await tab(id, 'overview');
    await page.click('button:has-text("送信開始")');
    expect(await page.locator('.dialog p').innerText()).toMatch(/7人への通知を開始します/);
    await shot('confirm-launch-ja');
    await page.click('.dialog button.primary');
    await page.locator('.ok').waitFor();
    await waitFor(async () => (await campaignStatus(app.db, id))!.counts.sent === 3, { what: 'three emails sent' });
    await page.locator('button:has-text("一時停止")').waitFor();
    await page.click('button:has-text("一時停止")');
    await page.fill('.dialog input[name=reason]', '法務確認のため');
    await page.click('.dialog button.primary');
    await page.locator('.badge.paused').waitFor();
    await shot('paused-ja');
    await page.click('button:has-text("再開")');
    await page.click('.dialog button.primary');
    await page.locator('.badge:not(.paused)').first().waitFor();

    // The one with an address the postal code disagrees with: fixed in the console.
    await waitFor(async () => (await campaignStatus(app.db, id))!.counts.address_invalid === 1, { what: 'address_invalid' });
    await tab(id, 'attention');
    await page.locator('table.attention').waitFor();
    expect(await page.locator('table.attention').innerText()).toMatch(/渋谷区/);
    await shot('attention-ja');
    await page.click('table.attention button:has-text("修正")');
    await page.fill('form.fix input[name=city]', '千代田区');
    await shot('fix-ja');
    await page.click('form.fix button.primary');
    await page.locator('.ok:has-text("修正しました")').waitFor();
    await waitFor(async () => (await campaignStatus(app.db, id))!.counts.batched === 4, { what: 'four letters batched' });

    await tab(id, 'batches');
    await page.click('button.close-now');
    await page.locator('table.batches a:has-text("letters.pdf")').waitFor();
    await shot('batches-ja');
    const pdf = await page.request.get(`${base}${await page.locator('table.batches a:has-text("letters.pdf")').getAttribute('href')}`);
    expect(pdf.status()).toBe(200);
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');

    // Find a person by notice code: state and ledger.
    const { rows: [someone] } = await app.db.query(`select notice_code, state from notices where campaign_id = $1 and customer_id = 'C2'`, [id]);
    await tab(id, 'find');
    await page.fill('input[name=value]', someone.notice_code);
    await page.click('form button:has-text("検索")');
    await page.locator('table.ledger').waitFor();
    expect(await page.locator('.person-state').innerText()).toBe(someone.state);
    await shot('find-ja');

    await tab(id, 'report');
    await page.locator('.reconciliation').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a.report-csv')]);
    const reportCsv = readFileSync((await download.path())!, 'utf8');
    expect(reportCsv.split('\n')[0]).toMatch(/^notice_id,notice_code,customer_id/);
    await shot('report-ja');

    // What the console shows is what the API says.
    await tab(id, 'overview');
    // (The page refreshes itself every 4 s; the API's exact counts are the reference.)
    const api = (await campaignStatus(app.db, id))!;
    const expected = Object.fromEntries(Object.entries(api.counts).filter(([, n]) => n));
    const shownCounts = async () => Object.fromEntries((await page.locator('table.counts td').allInnerTexts()).map((x) => x.split('\n')).map(([k, n]) => [k, Number(n.replace(/,/g, ''))]));
    await waitFor(async () => JSON.stringify(await shownCounts()) === JSON.stringify(expected), { what: 'the console showing the API\'s counts', timeoutMs: 15_000 });
    expect(await shownCounts()).toEqual(expected);

    // Every console action is in the campaign ledger as the operator who signed in.
    await tab(id, 'ledger');
    await page.locator('table.campaign-ledger').waitFor();
    await shot('ledger-ja');
    const { rows: ledger } = await app.db.query(`select verb, actor from campaign_events where campaign_id = $1 order by id`, [id]);
    for (const verb of ['create', 'deadline', 'launch', 'pause', 'resume', 'test_send', 'address_fix', 'close_batches']) {
      expect(ledger.find((e) => e.verb === verb), verb).toMatchObject({ actor: 'operator:console-op' });
    }
  });

  it('speaks English too (every page looked at in both)', async () => {
    await page.goto(`${base}/console#/`);
    await page.click('#lang');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await shot('list-en');
    await page.click('#lang');
    await page.getByRole('heading', { name: 'キャンペーン' }).waitFor();
    await shot('list-ja');
    await page.click('#lang');
    for (const name of ['overview', 'import', 'dryRun', 'preview', 'testSend', 'attention', 'batches', 'find', 'report', 'ledger']) {
      await page.goto(`${base}/console#/c/${id}/${name}`);
      await page.locator(`button[data-tab="${name}"].on`).waitFor();
      await page.waitForTimeout(300);
      await shot(`${name}-en`);
    }
    await page.goto(`${base}/console#/unmatched`);
    await page.getByRole('heading', { name: 'Unmatched bounces' }).waitFor();
    await shot('unmatched-en');
    await page.goto(`${base}/console#/new`);
    await shot('new-en');
    expect(await page.locator('h2').innerText()).toBe('New campaign');
  });
});
