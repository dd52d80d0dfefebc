// Anyone who receives a notice can read its VERP return path and send it a "bounce". One such
// message claiming our SPF/DMARC is broken must not pause a campaign; the same complaint from
// receivers in several domains is believable, and does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { freePort } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/mail/smtp-sink.ts';
import { ALL_QUEUES, startWorkers, type RunningWorkers } from '../../src/worker-runner.ts';
import { launch, steeringDeps } from '../../src/producer/campaign-control.ts';
import { startReceiverFor, type BounceReceiver } from '../../src/bounces/receiver.ts';
import { verpAddress } from '../../src/mail/verp.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let receiver: BounceReceiver;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url, BOUNCE_SMTP_PORT: String(await freePort()), CONFIG_BOUNCE_DOMAINS: '3', SOFT_BOUNCE_LIMIT: '5', BACKOFF_BASE_MS: '60000' });
  workers = await startWorkers(app, { queues: ALL_QUEUES, concurrency: 4 });
  receiver = await startReceiverFor(app);
});
afterAll(async () => {
  await receiver?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

let seq = 0;
const dmarcDsn = (to: string, rcpt: string) =>
  [
    'From: MAILER-DAEMON@mx.example.net', `To: ${to}`, `Message-ID: <dsn-${++seq}@mx.example.net>`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'Delivery failed.', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '', `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed',
    'Status: 5.7.26', 'Diagnostic-Code: smtp; 550 5.7.26 Unauthenticated email is not accepted: DMARC policy reject, SPF fail', '', '--B--', '',
  ].join('\r\n');

async function sendDsn(noticeId: number, rcpt: string) {
  const c = app.config;
  const to = verpAddress(c.VERP_SECRET, c.BOUNCE_DOMAIN, noticeId);
  const mta = createTransport({ host: '127.0.0.1', port: c.BOUNCE_SMTP_PORT, secure: false, ignoreTLS: true });
  await mta.sendMail({ envelope: { from: '', to }, raw: dmarcDsn(to, rcpt) });
  mta.close();
}

describe('bounces that blame our own setup', () => {
  it('one, forged by a recipient, does not pause the campaign; from three receiving domains, it does', async () => {
    const emails = ['forger@evil.example', 'x@one.example', 'y@two.example', 'z@three.example', 'w@four.example'];
    const { id } = await campaignWith(app, t.tmp, emails.map((e, i) => person(i + 1, e)));
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent === 5, { what: 'all sent' });
    const { rows } = await app.db.query('select id, email from notices where campaign_id = $1 order by id', [id]);
    const who = Object.fromEntries(rows.map((r) => [r.email, r.id as number]));

    // The forger, twice (a second message from the same domain adds nothing to the count).
    await sendDsn(who['forger@evil.example'], 'forger@evil.example');
    await sendDsn(who['forger@evil.example'], 'forger@evil.example');
    await waitFor(async () => (await app.db.query(`select count(*)::int as n from bounce_events where applied_at is not null`)).rows[0].n === 2, { what: 'applied' });
    let s = await counts(app, id);
    expect(s.state).toBe('running');
    expect(s.pauseReason).toBeNull();
    // Treated as a soft bounce: the forger's notice is due to be sent again later, not sent to post.
    const forger = (await app.db.query('select state, soft_bounces from notices where id = $1', [who['forger@evil.example']])).rows[0];
    expect(forger.state).toBe('queued');
    expect(s.counts.postal_queued).toBe(0);

    // A second domain: still below three.
    await sendDsn(who['x@one.example'], 'x@one.example');
    await waitFor(async () => (await app.db.query(`select count(*)::int as n from bounce_events where applied_at is not null`)).rows[0].n === 3);
    expect((await counts(app, id)).state).toBe('running');

    // A third domain: believable now. The campaign pauses with the reason, and nobody goes to post.
    await sendDsn(who['y@two.example'], 'y@two.example');
    s = await waitFor(async () => ((await counts(app, id)).state === 'paused' ? counts(app, id) : null), { what: 'paused' });
    expect(s.pauseReason).toMatch(/receivers in 3 domains refused our mail for our own setup/);
    expect(s.pauseReason).not.toMatch(/@/); // no addresses in a pause reason
    expect(s.counts.postal_queued + s.counts.batched).toBe(0);
    const { rows: ledger } = await app.db.query(`select actor, verb, to_state from campaign_events where campaign_id = $1 order by id`, [id]);
    expect(ledger.at(-1)).toEqual({ actor: 'system:bounces', verb: 'pause', to_state: 'paused' });
  });
});
