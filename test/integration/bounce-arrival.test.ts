// Issue 16 through the real receiver: what comes back to a notice's VERP address decides that
// person's state, and what is no failure stays no failure. An out-of-office reply and a
// challenge-response are evidence the email arrived (in the ledger, the evidence file and the
// report); spam at the address is kept for ops and changes nobody; a delay warning in words
// (no DSN part) is a delay; a report naming an alias instead of the person is about the person
// the VERP address names; a forward's domain "not found" under a 4.x.x Status is emailed again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import { parse } from 'csv-parse/sync';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root, sendAll } from '../support/fixtures.ts';
import { freePort } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { startReceiverFor, type BounceReceiver } from '../../src/bounces/receiver.ts';
import { verpAddress } from '../../src/channels/email/verp.ts';
import { evidenceOf } from '../../src/campaigns/evidence.ts';
import { writeReportFile } from '../../src/campaigns/report.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let receiver: BounceReceiver;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url, BOUNCE_SMTP_PORT: String(await freePort()) });
  receiver = await startReceiverFor(app);
});
afterAll(async () => {
  await receiver?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

const fixture = (name: string) => readFileSync(path.join(root, 'test/fixtures/bounces', name), 'utf8');
const aliasDsn = (to: string) =>
  [
    'From: MAILER-DAEMON@mx.forward.example', `To: ${to}`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'Delivery failed.', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.forward.example', '', 'Final-Recipient: rfc822; alias-7@forward.example', 'Action: failed',
    'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 <alias-7@forward.example>: User unknown', '', '--B--', '',
  ].join('\r\n');

describe('what comes back to a VERP address', () => {
  it('records arrival for auto-replies and challenges, ignores spam, delays on a delay warning, answers for the person the VERP names, and emails a forwarding mailbox again on its DNS error', async () => {
    const emails = ['moved@customer.example', 'away@corp.example', 'guarded@cr.example', 'spammed@isp.example', 'slow@slowhost.example', 'quiet@fine.example', 'fwd@forwarder.example'];
    const { id } = await campaignWith(app, t.tmp, emails.map((e, i) => person(i + 1, e)));
    await sendAll(app, id, emails.length);
    const { rows } = await app.db.query('select id, email from notices where campaign_id = $1 order by id', [id]);
    const who = Object.fromEntries(rows.map((r) => [r.email, r.id as number]));
    workers = await startWorkers(app, { queues: ['bounce'], concurrency: 2, reconcile: false });

    const c = app.config;
    const mta = createTransport({ host: '127.0.0.1', port: c.BOUNCE_SMTP_PORT, secure: false, ignoreTLS: true });
    const send = async (email: string, raw: (to: string) => string, from = '') => {
      const to = verpAddress(c.VERP_SECRET, c.BOUNCE_DOMAIN, who[email]);
      await mta.sendMail({ envelope: { from, to }, raw: raw(to) });
    };
    await send('moved@customer.example', aliasDsn);
    await send('away@corp.example', () => fixture('auto-out-of-office-subject.eml'), 'yumi@corp.example');
    await send('guarded@cr.example', () => fixture('challenge-not-pre-approved.eml'));
    await send('spammed@isp.example', () => fixture('not-bounce-spam.eml'), 'winner@lottery.example.biz');
    await send('slow@slowhost.example', () => fixture('delay-attempts-will-continue.eml'));
    // A forwarding mailbox's provider could not find the forward's domain, under Status 4.0.0.
    await send('fwd@forwarder.example', () => fixture('dsn-domain-not-found-4xx.eml'));
    mta.close();
    await waitFor(async () => (await app.db.query(`select count(*)::int as n from bounce_events where applied_at is not null`)).rows[0].n === 6, { what: '6 applied' });

    const { rows: events } = await app.db.query(`select notice_id, class, reason, outcome from bounce_events order by id`);
    expect(events.map((e) => [e.notice_id, e.reason, e.outcome])).toEqual([
      [who['moved@customer.example'], 'user_unknown', 'postal'],
      [who['away@corp.example'], 'auto_reply', 'ignored'],
      [who['guarded@cr.example'], 'challenge', 'ignored'],
      [who['spammed@isp.example'], 'not_bounce', 'ignored'],
      [who['slow@slowhost.example'], 'delayed', 'delayed'],
      [who['fwd@forwarder.example'], 'temporary', 'retry'],
    ]);
    const state = async (e: string) => (await app.db.query('select state from notices where id = $1', [who[e]])).rows[0].state;
    expect(await state('moved@customer.example')).not.toBe('sent'); // handed to post
    expect((await app.db.query(`select count(*)::int as n from suppressions where email_normalized = 'moved@customer.example'`)).rows[0].n).toBe(1);
    expect(await state('away@corp.example')).toBe('sent');
    expect(await state('guarded@cr.example')).toBe('sent');
    expect(await state('spammed@isp.example')).toBe('sent');
    expect(await state('slow@slowhost.example')).toBe('delayed');
    // Emailed again (the next answer decides), not sent to post, never suppressed.
    expect(await state('fwd@forwarder.example')).toBe('queued');
    expect((await app.db.query(`select count(*)::int as n from suppressions where email_normalized = 'fwd@forwarder.example'`)).rows[0].n).toBe(0);

    // The delayed one's mailbox then answers (out of office): it arrived, the delay is over, and no
    // letter goes at the confirmation deadline.
    const mta2 = createTransport({ host: '127.0.0.1', port: c.BOUNCE_SMTP_PORT, secure: false, ignoreTLS: true });
    const slowTo = verpAddress(c.VERP_SECRET, c.BOUNCE_DOMAIN, who['slow@slowhost.example']);
    await mta2.sendMail({ envelope: { from: 'yumi@corp.example', to: slowTo }, raw: fixture('auto-out-of-office-subject.eml').replace('AUTO: Tanaka', 'AUTO: Slow') });
    mta2.close();
    await waitFor(async () => (await app.db.query(`select count(*)::int as n from bounce_events where applied_at is not null`)).rows[0].n === 7, { what: '7 applied' });
    expect(await state('slow@slowhost.example')).toBe('sent');
    expect((await app.db.query(`select outcome from bounce_events order by id desc limit 1`)).rows[0].outcome).toBe('relayed');

    // Arrival is in the person's ledger and in their evidence.
    const notes = async (e: string) => (await app.db.query(`select detail->>'note' as note from notice_events where notice_id = $1 and detail ? 'note' order by id`, [who[e]])).rows.map((r) => r.note);
    expect(await notes('away@corp.example')).toContain('auto_reply');
    expect(await notes('guarded@cr.example')).toContain('challenge');
    expect(await notes('spammed@isp.example')).toContain('not_bounce');
    expect((await evidenceOf(app.db, who['away@corp.example'])).outcome.level).toBe('auto_reply_from_mailbox');
    expect((await evidenceOf(app.db, who['guarded@cr.example'])).outcome.level).toBe('auto_reply_from_mailbox');
    expect((await evidenceOf(app.db, who['spammed@isp.example'])).outcome.level).toBe('accepted_by_our_relay');

    const file = path.join(t.tmp, 'report.csv');
    await writeReportFile(app.db, id, file);
    const people = parse(readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n'), { columns: true }) as Array<Record<string, string>>;
    expect(people.map((p) => p.evidence_level)).toEqual(['none', 'auto_reply_from_mailbox', 'auto_reply_from_mailbox', 'accepted_by_our_relay', 'auto_reply_from_mailbox', 'accepted_by_our_relay', 'none']);
    const s = await counts(app, id);
    expect(s.counts.sent).toBe(5);
  });
});
