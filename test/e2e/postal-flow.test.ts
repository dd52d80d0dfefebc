// From a failed email to a letter in the vendor's hands, on real Redis, PostgreSQL and SMTP:
// 1,000 people; 10 % refused at send (550 5.1.1), 5 % bounce later by DSN to the receiver,
// 5 % have no email, and 2 % (among those refused and those without email) have an address the
// post cannot use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { freePort } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { verpAddress } from '../../src/channels/email/verp.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { catchUpCounts, countsByCampaign } from '../../src/db/counts-store.ts';
import { writeReportFile } from '../../src/campaigns/report.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { startReceiverFor, type BounceReceiver } from '../../src/bounces/receiver.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const today = new Date().toISOString().slice(0, 10);
let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let http: FastifyInstance;
let receiver: BounceReceiver;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  const port = await freePort();
  t.env.BOUNCE_SMTP_PORT = String(port);
  app = t.app({ SMTP_URL: sink.url, BOUNCE_SMTP_PORT: String(port), BATCH_MAX_SIZE: '150' });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 10 });
  receiver = await startReceiverFor(app);
  http = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
});
afterAll(async () => {
  await http?.close();
  await receiver?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

// Real postal codes of 千代田区 (Japan Post's data), so the letters sort over many codes.
const CODES = ['100-0001', '100-0002', '100-0003', '100-0004', '100-0005', '100-0006', '100-0011', '100-0012', '100-0013', '100-0014', '100-6001', '100-6002', '100-6003', '100-6004', '100-6005', '100-6006', '100-6007'];

function row(i: number): string {
  const k = i % 100;
  // A city the postal code is not in: waits in address_invalid with a suggestion. A prefecture
  // without its suffix: fixed by itself (in the ledger), and the letter goes.
  const address = k === 9 || k === 19 ? { city: '渋谷区' } : k === 8 || k === 18 ? { prefecture: '東京' } : { postal_code: CODES[i % CODES.length] };
  if (k < 10) return person(i, `nouser-${i}@example.com`, address);
  if (k < 15) return person(i, `later-${i}@example.com`, address);
  if (k < 20) return person(i, null, address);
  return person(i, `ok-${i}@example.com`, address);
}

const dsn = (to: string, rcpt: string) =>
  [
    'From: MAILER-DAEMON@mx.example.net', `To: ${to}`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'Delivery failed.', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '', `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed',
    'Status: 5.1.1', `Diagnostic-Code: smtp; 550 5.1.1 <${rcpt}>: User unknown`, '', '--B--', '',
  ].join('\r\n');

describe('the postal route, end to end', () => {
  it('gets every unreachable-by-email person into exactly one batch, and accounts for all 1,000', async () => {
    const vendor = await addVendor(app.db, 'Print Co');
    const other = await addVendor(app.db, 'Other Print');
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 1000 }, (_, i) => row(i + 1)));
    await app.db.query('update campaigns set vendor_id = $2 where id = $1', [id, vendor.id]);
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).emailPhaseDone, { what: 'email phase' });

    // 5 % bounce later: DSNs to their VERP addresses, through the real receiver.
    const { rows: later } = await app.db.query(`select id, email from notices where campaign_id = $1 and email like 'later-%' order by id`, [id]);
    expect(later).toHaveLength(50);
    const mta = createTransport({ host: '127.0.0.1', port: Number(t.env.BOUNCE_SMTP_PORT), secure: false, ignoreTLS: true });
    const c = app.config;
    for (const n of later) {
      const to = verpAddress(c.VERP_SECRET, c.BOUNCE_DOMAIN, n.id);
      await mta.sendMail({ envelope: { from: '', to }, raw: dsn(to, n.email) });
    }
    // A forged one is refused at RCPT and changes nothing; an auto-reply is recorded and ignored.
    await expect(mta.sendMail({ envelope: { from: '', to: `bounce+${later[0].id}.0000000000000000@${c.BOUNCE_DOMAIN}` }, raw: dsn('x', 'x@example.com') })).rejects.toThrow(/550/);
    const okAddr = verpAddress(c.VERP_SECRET, c.BOUNCE_DOMAIN, later[0].id + 1);
    await mta.sendMail({ envelope: { from: 'someone@example.com', to: okAddr }, raw: 'From: someone@example.com\r\nSubject: Out of Office\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n' });
    mta.close();
    expect(receiver.stats.forged).toBe(1);

    await waitFor(async () => {
      const s = await counts(app, id);
      return s.counts.postal_queued === 0 && s.counts.batched + s.counts.address_invalid === 200 ? s : null;
    }, { what: 'postal routing', timeoutMs: 60_000 });
    const s = await counts(app, id);
    expect(s.counts).toMatchObject({ sent: 800, batched: 180, address_invalid: 20 });
    const { rows: invalid } = await app.db.query(`select address_error from notices where campaign_id = $1 and state = 'address_invalid'`, [id]);
    expect(invalid.every((r) => /city "渋谷区" is not where postal code 100-0005 is \(東京都千代田区\) \(suggestion: 千代田区\)/.test(r.address_error))).toBe(true);
    const { rows: fixed } = await app.db.query(`select n.prefecture, e.detail from notices n join notice_events e on e.notice_id = n.id where n.campaign_id = $1 and e.detail->>'note' = 'address fixed automatically'`, [id]);
    expect(fixed).toHaveLength(20);
    expect(fixed.every((r) => r.prefecture === '東京都' && r.detail.fixes[0].before === '東京' && r.detail.fixes[0].after === '東京都')).toBe(true);
    const { rows: applied } = await app.db.query(`select class, outcome, count(*)::int as n from bounce_events group by 1, 2 order by 1`);
    expect(applied).toEqual([{ class: 'auto_reply', outcome: 'ignored', n: 1 }, { class: 'hard', outcome: 'postal', n: 50 }]);

    // Close (one full batch closed itself at 150), then the vendor pulls, acks and mails.
    const closed = notice(t.env, 'batches', 'close', '--campaign', String(id));
    expect(closed.status, closed.stderr).toBe(0);
    await waitFor(async () => (await app.db.query(`select count(*)::int as n from batches where status in ('open', 'closing')`)).rows[0].n === 0, { what: 'batches ready' });
    const auth = { authorization: `Bearer ${vendor.token}` };
    const list = await http.inject({ method: 'GET', url: '/vendor/v1/batches?status=ready', headers: auth });
    expect(list.statusCode).toBe(200);
    const batches = list.json().batches as Array<{ id: number; size: number }>;
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.reduce((a, b) => a + b.size, 0)).toBe(180);

    const seen = new Map<string, number>();
    for (const b of batches) {
      const manifest = (await http.inject({ method: 'GET', url: `/vendor/v1/batches/${b.id}`, headers: auth })).json();
      expect(manifest).toMatchObject({ batch_id: b.id, campaign_id: id, count: b.size, sort_key: ['postal_code', 'notice_id'] });
      const res = await http.inject({ method: 'GET', url: `/vendor/v1/batches/${b.id}/files/letters.csv`, headers: auth });
      expect(res.headers['x-content-sha256']).toBe(manifest.files.find((f: { name: string }) => f.name === 'letters.csv').sha256);
      const rows = parse(res.body, { columns: true }) as Array<Record<string, string>>;
      expect(rows.map((r) => r.postal_code)).toEqual([...rows.map((r) => r.postal_code)].sort());
      for (const r of rows) seen.set(r.notice_id, (seen.get(r.notice_id) ?? 0) + 1);
      // Another vendor cannot see it.
      expect((await http.inject({ method: 'GET', url: `/vendor/v1/batches/${b.id}`, headers: { authorization: `Bearer ${other.token}` } })).statusCode).toBe(404);
      expect((await http.inject({ method: 'POST', url: `/vendor/v1/batches/${b.id}/ack`, headers: auth })).json()).toEqual({ printed: b.size });
      expect((await http.inject({ method: 'POST', url: `/vendor/v1/batches/${b.id}/mailed`, headers: auth, payload: { mailed_at: today } })).json()).toEqual({ mailed: b.size });
    }
    expect(seen.size).toBe(180);
    expect([...seen.values()].every((v) => v === 1)).toBe(true);
    const { rows: dupes } = await app.db.query('select notice_id from batch_items group by notice_id having count(*) > 1');
    expect(dupes).toEqual([]);

    // The report: one row per person, none unaccounted, with the postal evidence.
    const out = path.join(t.tmp, 'report.csv');
    await writeReportFile(app.db, id, out);
    const report = parse(readFileSync(out), { columns: true, comment: '#' }) as Array<Record<string, string>>;
    expect(report).toHaveLength(1000);
    expect(report.filter((r) => r.accounted !== 't')).toEqual([]);
    const mailedRows = report.filter((r) => r.final_state === 'mailed');
    expect(mailedRows).toHaveLength(180);
    expect(mailedRows.every((r) => r.batch_id && r.batch_seq && r.mailed_at === today && r.channel === 'postal')).toBe(true);
    const final = await counts(app, id);
    expect(final.counts).toMatchObject({ sent: 800, mailed: 180, address_invalid: 20 });
    expect(final.notified).toBe(980);
    // The counts kept from the ledger (what dashboards and Prometheus read) equal an exact count,
    // after every transition this campaign went through: launch, sends, bounces, post, vendor.
    // They may lag while any transaction in the cluster is open (another test file holding one,
    // say: the watermark is the snapshot's xmin), never be wrong: so they must arrive at it.
    await waitFor(async () => {
      await catchUpCounts(app.db);
      return JSON.stringify((await countsByCampaign(app.db, [id])).get(id)) === JSON.stringify(final.counts);
    }, { timeoutMs: 30_000, what: 'the kept counts to catch up' }).catch(() => {});
    expect((await countsByCampaign(app.db, [id])).get(id)).toEqual(final.counts);
  });
});
