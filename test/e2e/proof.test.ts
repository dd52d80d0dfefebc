// Proof, from the auditor's side. Four people: one emailed, one whose mail server confirmed
// delivery by DSN, one whose address bounced and who got a letter, one whose letter came back.
// Each person's evidence (JSON and a one-page PDF, rendered to PNG in test-artifacts/) holds every
// step; the email's sha256 in it is the sha256 of the bytes the mail server received; publishing
// the public announcement covers the unreachable person and moves the regulator's figures, which
// equal the per-person report's counts; the announcement page (screenshot in test-artifacts/)
// names nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import { parse } from 'csv-parse/sync';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root } from '../support/fixtures.ts';
import { freePort } from '../support/processes.ts';
import { notice } from '../support/cli.ts';
import { testServer } from '../support/setup.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { startReceiverFor, type BounceReceiver } from '../../src/bounces/receiver.ts';
import { verpAddress } from '../../src/channels/email/verp.ts';
import { setCampaignVendor } from '../../src/db/campaign-store.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { batchesToClose } from '../../src/channels/post/batch-store.ts';
import { closeBatch } from '../../src/channels/post/close-batch.ts';
import { ack, mailed, returns } from '../../src/channels/post/vendor-actions.ts';
import { enqueuePostal } from '../../src/dispatch/enqueue.ts';
import { addOperator } from '../../src/auth/operator-store.ts';
import { evidenceOf, evidencePdf, type Evidence } from '../../src/campaigns/evidence.ts';
import { regulatorReport } from '../../src/campaigns/regulator.ts';
import { writeReportFile } from '../../src/campaigns/report.ts';
import { verifyLedger } from '../../src/db/ledger-chain.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';
import type { App } from '../../src/app.ts';

const artifacts = path.join(root, 'test-artifacts');
let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let receiver: BounceReceiver;
let server: FastifyInstance;
let base: string;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  t = await makeTestEnv();
  sink = await startSmtpSink({ keep: true });
  app = t.app({ SMTP_URL: sink.url, BOUNCE_SMTP_PORT: String(await freePort()) });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 4 });
  receiver = await startReceiverFor(app);
  server = await testServer(app);
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

let seq = 0;
function dsn(to: string, rcpt: string, action: 'delivered' | 'failed') {
  const status = action === 'delivered' ? '2.0.0' : '5.1.1';
  const diag = action === 'delivered' ? 'smtp; 250 2.0.0 Ok: delivered to mailbox' : 'smtp; 550 5.1.1 <x>: Recipient address rejected: User unknown';
  return [
    `From: MAILER-DAEMON@mx.${action}.example`, `To: ${to}`, `Message-ID: <dsn-${++seq}@mx.example>`, `Subject: ${action === 'delivered' ? 'Successful Mail Delivery Report' : 'Undelivered Mail Returned to Sender'}`, 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', action === 'delivered' ? 'Your message was delivered.' : 'Delivery failed.', '',
    '--B', 'Content-Type: message/delivery-status', '', `Reporting-MTA: dns; mx.${action}.example`, '', `Final-Recipient: rfc822; ${rcpt}`, `Action: ${action}`,
    `Status: ${status}`, `Diagnostic-Code: ${diag}`, '', '--B--', '',
  ].join('\r\n');
}

async function sendDsn(noticeId: number, rcpt: string, action: 'delivered' | 'failed') {
  const c = app.config;
  const to = verpAddress(c.VERP_SECRET, c.BOUNCE_DOMAIN, noticeId);
  const mta = createTransport({ host: '127.0.0.1', port: c.BOUNCE_SMTP_PORT, secure: false, ignoreTLS: true });
  await mta.sendMail({ envelope: { from: '', to }, raw: dsn(to, rcpt, action) });
  mta.close();
}

async function pdfPng(e: Evidence, name: string): Promise<string> {
  const pdf = await evidencePdf(e, { fontPath: app.config.PDF_FONT, organisation: app.config.ORGANISATION_NAME });
  const file = path.join(artifacts, `${name}.pdf`);
  writeFileSync(file, pdf);
  expect(execFileSync('pdfinfo', [file]).toString()).toMatch(/Pages:\s+1\n/);
  execFileSync('pdftoppm', ['-png', '-r', '70', '-singlefile', file, path.join(artifacts, name)]);
  return execFileSync('pdftotext', ['-layout', file, '-']).toString();
}

describe('proof', () => {
  it('evidence per person, the public announcement and the regulator figures add up to the report', async () => {
    const { id } = await campaignWith(app, t.tmp, [
      person(1, 'emailed@example.com'), person(2, 'confirmed@example.com'), person(3, 'gone@example.com'), person(4, null),
    ]);
    const vendor = await addVendor(app.db, 'proof printer');
    await setCampaignVendor(app.db, id, vendor.id);
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent === 3, { what: 'three emailed' });
    const { rows } = await app.db.query('select id, customer_id, email, notice_code, name from notices where campaign_id = $1 order by id', [id]);
    const [a, b, c, d] = rows;

    // B's mail server confirms delivery; C's address does not exist.
    await sendDsn(b.id, b.email, 'delivered');
    await sendDsn(c.id, c.email, 'failed');
    await waitFor(async () => (await counts(app, id)).counts.delivered === 1 && (await counts(app, id)).counts.postal_queued + (await counts(app, id)).counts.batched === 2, { what: 'B delivered, C and D on the postal route' });
    await waitFor(async () => (await counts(app, id)).counts.batched === 2, { what: 'two letters batched' });
    for (const batchId of await batchesToClose(app.db, id)) {
      await closeBatch({ db: app.db, templates: app.templates, fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS }, batchId);
      await ack(app.db, vendor.id, batchId);
      await mailed(app.db, vendor.id, batchId, new Date().toISOString().slice(0, 10));
    }
    expect(await returns(app.db, vendor.id, [{ notice_id: d.id, reason: '宛所に尋ねあたりません' }], (n) => enqueuePostal(app.queues, n))).toEqual([{ notice_id: d.id, outcome: 'unreachable', ref: { notice_id: d.id } }]);
    expect((await counts(app, id)).counts).toMatchObject({ sent: 1, delivered: 1, mailed: 1, unreachable: 1 });

    // A: emailed. The sha256 in the evidence is the sha256 of what the mail server received.
    const ea = await evidenceOf(app.db, a.id);
    const received = sink.messages.find((m) => m.to.includes(a.email))!;
    expect(ea.email.message_sha256).toBe(createHash('sha256').update(received.raw).digest('hex'));
    // We asked the relay for delivery reports: success, failure and delay, headers only, the envelope id naming the notice.
    expect(received.dsn).toEqual({ ret: 'HDRS', envid: received.from.split('@')[0], rcpt: [{ notify: ['SUCCESS', 'FAILURE', 'DELAY'], orcpt: `rfc822;${a.email}` }] });
    expect(ea.outcome).toMatchObject({ state: 'sent', notified: true, level: 'accepted_by_our_relay' });
    expect(ea.import).toMatchObject({ line: 2, file_name: `c${id}.csv`, file_sha256: createHash('sha256').update(readFileSync(path.join(t.tmp, `c${id}.csv`))).digest('hex') });
    expect(ea.email.attempts).toEqual([expect.objectContaining({ outcome: 'sent', reply: expect.stringMatching(/^250/) })]);
    expect(ea.ledger.map((e) => e.to_state)).toEqual(['queued', 'sending', 'sent']);
    expect(ea.chain.head).toBe(ea.ledger.at(-1)!.hash);
    const textA = await pdfPng(ea, 'evidence-emailed');
    expect(textA).toContain(a.notice_code);
    expect(textA).toContain(ea.email.message_sha256!);

    // B: delivered, with the server that said so.
    const eb = await evidenceOf(app.db, b.id);
    expect(eb.outcome).toMatchObject({ state: 'delivered', level: 'delivered' });
    expect(eb.reports).toEqual([expect.objectContaining({ source: 'dsn', action: 'delivered', status: '2.0.0', reporting_mta: 'mx.delivered.example' })]);
    expect(await pdfPng(eb, 'evidence-delivered')).toContain('mx.delivered.example');

    // C: bounced, then a letter: batch, number, the letter's and the batch files' sha256, vendor reports.
    const ec = await evidenceOf(app.db, c.id);
    expect(ec.outcome).toMatchObject({ state: 'mailed', channel: 'postal', level: 'letter_mailed' });
    expect(ec.reports).toEqual([expect.objectContaining({ action: 'failed', status: '5.1.1', reporting_mta: 'mx.failed.example', class: 'hard' })]);
    expect(ec.letters).toHaveLength(1);
    const letter = ec.letters[0];
    expect(letter.letter_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(letter.seq).toBeGreaterThan(0);
    expect(letter.batch_files.map((f) => f.name)).toEqual(expect.arrayContaining(['letters.csv', 'letters.pdf']));
    expect(letter.vendor_ledger.map((e) => e.action)).toEqual(['closed', 'ack', 'mailed']);
    expect(ec.ledger.map((e) => e.to_state)).toEqual(['queued', 'sending', 'sent', 'postal_queued', 'batched', 'printed', 'mailed']);
    const textC = await pdfPng(ec, 'evidence-letter');
    expect(textC).toContain('proof printer');

    // D: no email, a letter, returned: unreachable, not yet covered.
    let ed = await evidenceOf(app.db, d.id);
    expect(ed.outcome).toMatchObject({ state: 'unreachable', notified: false, level: 'letter_returned', covered_by_announcement: null });
    expect(ed.letters[0].vendor_ledger.map((e) => e.action)).toEqual(['closed', 'ack', 'mailed']);

    const before = await regulatorReport(app.db, id);
    expect(before).toMatchObject({ affected: 4, notified: { total: 3, post: 1, email: { total: 2, delivered_confirmed: 1, accepted_by_our_relay: 1 } }, public_announcement: { covered: 0, unreachable_not_covered: 1, published_at: null }, adds_up: true });

    // The operator publishes the announcement: D is covered from now, in their ledger and the figures.
    const op = (await addOperator(app.db, 'proof-op', 'operator')).token;
    const res = await fetch(`${base}/api/v1/campaigns/${id}/announcement`, { method: 'POST', headers: { authorization: `Bearer ${op}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ covered: 1, url: `/announcements/${id}` });
    ed = await evidenceOf(app.db, d.id);
    expect(ed.outcome.level).toBe('public_announcement');
    expect(ed.outcome.covered_by_announcement).not.toBeNull();
    expect(ed.ledger.at(-1)).toMatchObject({ to_state: 'unreachable', channel: 'announcement', detail: { covered_by: 'public_announcement' } });
    await pdfPng(ed, 'evidence-unreachable');

    const after = await regulatorReport(app.db, id);
    expect(after.public_announcement).toMatchObject({ covered: 1, unreachable_not_covered: 0 });
    expect(after.dates.announcement).not.toBeNull();
    expect(after.adds_up).toBe(true);

    // The figures are the per-person report's counts.
    const reportFile = path.join(t.tmp, 'report.csv');
    await writeReportFile(app.db, id, reportFile);
    const people = (parse(readFileSync(reportFile, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n'), { columns: true }) as Array<Record<string, string>>);
    const by = (f: (r: Record<string, string>) => boolean) => people.filter(f).length;
    expect(people.map((r) => r.evidence_level)).toEqual(['accepted_by_our_relay', 'delivered', 'letter_mailed', 'public_announcement']);
    expect(after.affected).toBe(people.length);
    expect(after.notified.email.total).toBe(by((r) => ['sent', 'delivered'].includes(r.final_state)));
    expect(after.notified.email.delivered_confirmed).toBe(by((r) => r.final_state === 'delivered'));
    expect(after.notified.post).toBe(by((r) => r.final_state === 'mailed'));
    expect(after.notified.total).toBe(by((r) => r.notified === 't'));
    expect(after.public_announcement.covered).toBe(by((r) => r.final_state === 'unreachable' && r.covered_by_announcement !== ''));
    expect(after.in_progress.total + after.excluded.total).toBe(by((r) => !['sent', 'delivered', 'mailed', 'unreachable'].includes(r.final_state)));

    // The public page: anyone may read it; it names nobody.
    const page = await browser.newPage();
    const shown = await page.goto(`${base}/announcements/${id}`);
    expect(shown!.status()).toBe(200);
    await page.screenshot({ path: path.join(artifacts, 'announcement.png'), fullPage: true });
    const html = await page.content();
    await page.goto(`${base}/announcements/${id}?lang=en`);
    await page.screenshot({ path: path.join(artifacts, 'announcement-en.png'), fullPage: true });
    const htmlEn = await page.content();
    await page.close();
    expect(html).toContain('お問い合わせ窓口');
    expect(html).toContain(app.config.ENQUIRY_DESK.split(' ')[0]);
    for (const r of rows) for (const v of [r.name, r.email, r.notice_code, r.customer_id].filter(Boolean)) {
      expect(html).not.toContain(v);
      expect(htmlEn).not.toContain(v);
    }
    const pdf = await fetch(`${base}/announcements/${id}?format=pdf`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');

    // Everyone accounted for: the dashboard shows the campaign completed.
    const dash = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1400, height: 900 } });
    const dp = await dash.newPage();
    await dp.goto(`${base}/signin?next=/dashboard`);
    await dp.fill('#token', op);
    await dp.click('button[type=submit]');
    await dp.waitForURL(`${base}/dashboard`);
    await dp.locator(`#campaign-${id} [data-state="completed"]`).waitFor();
    expect(await dp.locator(`#campaign-${id} [data-state]`).textContent()).toBe('完了');
    await dp.screenshot({ path: path.join(artifacts, 'dashboard-completed.png'), fullPage: true });
    await dash.close();

    // Operators find people the way they ask; viewers see the state only; evidence is operator-only.
    const viewer = (await addOperator(app.db, 'proof-viewer', 'viewer')).token;
    const asViewer = await (await fetch(`${base}/api/v1/campaigns/${id}/people?code=${c.notice_code}`, { headers: { authorization: `Bearer ${viewer}` } })).json();
    expect(asViewer).toEqual({ people: [{ notice_id: Number(c.id), state: 'mailed', channel: 'postal' }] });
    const asOp = await (await fetch(`${base}/api/v1/campaigns/${id}/people?email=${encodeURIComponent(b.email)}`, { headers: { authorization: `Bearer ${op}` } })).json();
    expect(asOp.people[0]).toMatchObject({ notice_id: Number(b.id), state: 'delivered', level: 'delivered' });
    expect((await fetch(`${base}/api/v1/notices/${a.id}/evidence`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(403);
    const viaApi = await (await fetch(`${base}/api/v1/notices/${a.id}/evidence`, { headers: { authorization: `Bearer ${op}` } })).json();
    expect(viaApi.email.message_sha256).toBe(ea.email.message_sha256);

    // The CLI: evidence by notice code, the figures, and the whole ledger verifies.
    const cli = notice(t.env, 'evidence', String(id), '--code', c.notice_code);
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).letters[0].letter_sha256).toBe(letter.letter_sha256);
    const figures = notice(t.env, 'campaign', 'regulator-report', String(id), '--json');
    expect(JSON.parse(figures.stdout)).toMatchObject({ affected: 4, public_announcement: { covered: 1 }, adds_up: true });
    const found = notice(t.env, 'find', String(id), '--customer', String(d.customer_id));
    expect(found.stdout).toContain('evidence: public_announcement');
    // The whole campaign for an auditor: one evidence document per line, gzipped.
    const archive = path.join(t.tmp, 'evidence.jsonl.gz');
    const all = notice(t.env, 'evidence', String(id), '--all', '--out', archive);
    expect(all.status, all.stderr).toBe(0);
    const docs = gunzipSync(readFileSync(archive)).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(docs.map((x) => x.person.notice_id)).toEqual(rows.map((r) => Number(r.id)));
    expect(docs.every((x) => x.evidence_version === 1 && x.chain.head)).toBe(true);
    for (const ledger of ['notice_events', 'campaign_events', 'batch_events'] as const) expect((await verifyLedger(app.db, ledger, { campaignId: id })).broken).toBeNull();
  });
});
