// Anyone who receives a notice can read its VERP return path and send it a "bounce". A few such
// messages claiming our SPF/DMARC is broken (a few recipients, each at a domain of their own) must
// not pause a campaign; the same complaint from a real share of the campaign's recipients at
// several domains is believable, and does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { freePort } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { startReceiverFor, type BounceReceiver } from '../../src/bounces/receiver.ts';
import { verpAddress } from '../../src/channels/email/verp.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let receiver: BounceReceiver;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url, BOUNCE_SMTP_PORT: String(await freePort()), CONFIG_BOUNCE_DOMAINS: '3', SOFT_BOUNCE_LIMIT: '5', BACKOFF_BASE_MS: '60000' });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 4 });
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
  it('a few recipients at a few domains, each forging one, do not pause the campaign; a real share of the campaign at several domains does', async () => {
    // Three forgers, each with a mailbox at a domain of their own, and 36 ordinary people.
    const forgers = ['f1@evil1.example', 'f2@evil2.example', 'f3@evil3.example'];
    const others = Array.from({ length: 36 }, (_, i) => `p${i}@${['one', 'two', 'three', 'four'][i % 4]}.example`);
    const emails = [...forgers, ...others];
    const { id } = await campaignWith(app, t.tmp, emails.map((e, i) => person(i + 1, e)));
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent === emails.length, { what: 'all sent' });
    const { rows } = await app.db.query('select id, email from notices where campaign_id = $1 order by id', [id]);
    const who = Object.fromEntries(rows.map((r) => [r.email, r.id as number]));
    const applied = async (n: number) => waitFor(async () => (await app.db.query(`select count(*)::int as n from bounce_events where applied_at is not null`)).rows[0].n === n, { what: `${n} applied` });

    // The first forger, twice (a second message from the same person adds nothing to the count).
    await sendDsn(who[forgers[0]], forgers[0]);
    await sendDsn(who[forgers[0]], forgers[0]);
    await applied(2);
    let s = await counts(app, id);
    expect(s.state).toBe('running');
    expect(s.pauseReason).toBeNull();
    // Treated as a soft bounce: the forger's notice is due to be sent again later, not sent to post.
    const forger = (await app.db.query('select state, soft_bounces from notices where id = $1', [who[forgers[0]]])).rows[0];
    expect(forger.state).toBe('queued');
    expect(s.counts.postal_queued).toBe(0);

    // Three forgers at three domains: three domains, but three people of 39 is no evidence.
    await sendDsn(who[forgers[1]], forgers[1]);
    await sendDsn(who[forgers[2]], forgers[2]);
    await applied(4);
    s = await counts(app, id);
    expect(s.state).toBe('running');
    const ledger3 = (await app.db.query(`select detail from notice_events where notice_id = $1 order by id desc limit 1`, [who[forgers[2]]])).rows[0].detail;
    expect(ledger3).toMatchObject({ reason: 'config_bounce_unconfirmed', config_domains: 3, config_people: 3, config_people_needed: 10 });

    // A real failure of our setup: receivers at three more domains refuse it for 9 more people.
    for (const e of others.slice(0, 12).filter((x) => !x.includes('@four.'))) await sendDsn(who[e], e);
    s = await waitFor(async () => ((await counts(app, id)).state === 'paused' ? counts(app, id) : null), { what: 'paused' });
    expect(s.pauseReason).toMatch(/receivers of 1\d people in 6 domains, of \d+ sent in the last 60 min refused our mail for our own setup/);
    expect(s.pauseReason).not.toMatch(/@/); // no addresses in a pause reason
    expect(s.counts.postal_queued + s.counts.batched).toBe(0);
    const { rows: ledger } = await app.db.query(`select actor, verb, to_state from campaign_events where campaign_id = $1 order by id`, [id]);
    expect(ledger.at(-1)).toEqual({ actor: 'system:bounces', verb: 'pause', to_state: 'paused' });
  });
});
