// The email phase against real PostgreSQL, Redis and an in-process SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, pause, resume, steeringDeps } from '../../src/campaigns/control.ts';
import { writeReportFile } from '../../src/campaigns/report.ts';
import { isSuppressed, ledgerOf } from '../../src/db/notice-store.ts';
import { JOB } from '../../queues/names.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
const relay = () => steeringDeps(app);

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink({ tempfailTimes: 1 });
  app = t.app({ SMTP_URL: sink.url, WORKER_CONCURRENCY: '20' });
  workers = await startWorkers(app);
});

afterAll(async () => {
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

const settled = (id: number) => waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { what: `campaign ${id} to settle` });

describe('an email campaign', () => {
  it('sends every one of 2,000 valid addresses exactly once and reports each person', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => person(i + 1, `bulk${i + 1}@example.com`));
    const { id, report } = await campaignWith(app, t.tmp, rows);
    expect(report.accepted).toBe(2000);
    await launch(relay(), id);
    const s = await settled(id);
    expect(s.counts.sent).toBe(2000);
    for (let i = 1; i <= 2000; i++) expect(sink.deliveredTo.get(`bulk${i}@example.com`)).toBe(1);

    const out = path.join(t.tmp, 'report.csv');
    await writeReportFile(app.db, id, out);
    const lines = readFileSync(out, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
    expect(lines).toHaveLength(2001);
    expect(lines[0]).toContain('notice_code');
    expect(lines.slice(1).every((l) => /,sent,email,t,/.test(l))).toBe(true);
    const ledger = await ledgerOf(app.db, 1);
    expect(ledger.map((e) => [e.from_state, e.to_state])).toEqual([['pending', 'queued'], ['queued', 'sending'], ['sending', 'sent']]);
    expect(ledger[2].detail).toMatchObject({ reply: expect.stringMatching(/^250/), template_version: expect.any(String) });
  });

  it('sends once when the same notice is delivered to workers twice', async () => {
    await workers.close();
    const { id } = await campaignWith(app, t.tmp, [person(1, 'twice@example.com')]);
    await launch(relay(), id);
    const { rows } = await app.db.query('select id from notices where campaign_id = $1', [id]);
    const noticeId = rows[0].id as number;
    // A second job for the same notice under another id: what a duplicate delivery looks like.
    for (let k = 0; k < 3; k++) await app.queues.email.add(JOB.sendEmail, { noticeId, campaignId: id }, { jobId: `dup-${noticeId}-${k}` });
    workers = await startWorkers(app);
    await settled(id);
    await waitFor(async () => (await app.queues.email.getJobCounts('wait', 'active', 'delayed')).wait === 0);
    expect(sink.deliveredTo.get('twice@example.com')).toBe(1);
  });

  it('retries a greylisted (451) address and then sends it', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'greylist-a@example.com'), person(2, 'fine-a@example.com')]);
    await launch(relay(), id);
    const s = await settled(id);
    expect(s.counts.sent).toBe(2);
    const { rows } = await app.db.query(`select id, attempts from notices where campaign_id = $1 and email = 'greylist-a@example.com'`, [id]);
    expect(rows[0].attempts).toBe(2);
    const ledger = await ledgerOf(app.db, rows[0].id);
    expect(ledger.map((e) => e.to_state)).toEqual(['queued', 'sending', 'queued', 'sending', 'sent']);
    expect(ledger[2].detail).toMatchObject({ class: 'transient_recipient', status: '4.7.1' });
    expect(sink.deliveredTo.get('greylist-a@example.com')).toBe(1);
  });

  it('moves a 550 5.1.1 address to post and suppresses it for later campaigns', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'nouser-b@example.com'), person(2, 'fine-b@example.com')]);
    await launch(relay(), id);
    const s = await settled(id);
    expect(s.counts).toMatchObject({ sent: 1, postal_queued: 1 });
    expect(await isSuppressed(app.db, 'nouser-b@example.com')).toBe(true);
    const { rows } = await app.db.query(`select id, channel from notices where campaign_id = $1 and email = 'nouser-b@example.com'`, [id]);
    expect(rows[0].channel).toBe('postal');
    const last = (await ledgerOf(app.db, rows[0].id)).at(-1)!;
    expect(last).toMatchObject({ to_state: 'postal_queued', detail: { reason: 'hard_bounce', status: '5.1.1' } });
    expect(await app.queues.postal.getJob(`p-${rows[0].id}`)).toBeTruthy();

    // The next campaign does not even try: a suppressed address goes straight to post at launch.
    const rcptBefore = sink.rcptCount.get('nouser-b@example.com');
    const next = await campaignWith(app, t.tmp, [person(1, 'nouser-b@example.com')]);
    const r = await launch(relay(), next.id);
    expect(r.relay).toMatchObject({ queued: 0, postal: 1 });
    expect(sink.rcptCount.get('nouser-b@example.com')).toBe(rcptBefore);
  });

  it('pauses the campaign on our own auth failure (EAUTH/535) and sends nobody to post', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => person(i + 1, `auth${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    sink.mode.authFail = true;
    await launch(relay(), id);
    await waitFor(async () => (await counts(app, id)).state === 'paused', { what: 'pause' });
    await waitFor(async () => (await counts(app, id)).counts.sending === 0);
    const s = await counts(app, id);
    expect(s.pauseReason).toMatch(/configuration/);
    expect(s.counts.postal_queued).toBe(0);
    expect(s.counts.sent).toBe(0);
    expect(s.counts.queued).toBe(50);

    sink.mode.authFail = false; // ops fix the credentials
    await resume(relay(), id);
    const done = await settled(id);
    expect(done.counts.sent).toBe(50);
    const { rows: attempts } = await app.db.query('select max(attempts) as m from notices where campaign_id = $1', [id]);
    expect(attempts[0].m).toBe(1); // our failure did not use up anybody's attempts
  });

  it('moves the person and pauses the campaign in one transaction: when the pause cannot be written, neither happens', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'atomic1@example.com')]);
    // The pause's ledger row fails once (as a crash between the two statements would): the person
    // must not be back in the queue of a campaign that is still running.
    // (A sequence, because it is not rolled back with the transaction the exception aborts.)
    await app.db.query(`create sequence pause_tries`);
    await app.db.query(`create function fail_pause_once() returns trigger language plpgsql as $$
      begin
        if new.verb = 'pause' and nextval('pause_tries') = 1 then
          raise exception 'test: the pause could not be written';
        end if;
        return new;
      end $$`);
    await app.db.query(`create trigger fail_pause_once before insert on campaign_events for each row execute function fail_pause_once()`);
    try {
      sink.mode.authFail = true;
      await launch(relay(), id);
      // The failed attempt rolled back whole; the job's retry pauses the campaign.
      await waitFor(async () => (await counts(app, id)).state === 'paused', { what: 'pause on the retry' });
      expect((await app.db.query('select last_value::int as n from pause_tries')).rows[0].n).toBe(2); // failed once, then written
      const moves = (await app.db.query(`select from_state, to_state from notice_events where campaign_id = $1 and from_state = 'sending' order by id`, [id])).rows;
      // The failed attempt left the person `sending` (its move rolled back with the pause), so the
      // retry claimed them again; then one move back to the queue, committed with its pause.
      expect(moves).toEqual([{ from_state: 'sending', to_state: 'sending' }, { from_state: 'sending', to_state: 'queued' }]);
      const s = await counts(app, id);
      expect(s.counts.postal_queued).toBe(0);
    } finally {
      sink.mode.authFail = false;
      await app.db.query('drop trigger fail_pause_once on campaign_events');
    }
  });

  it('pause stops sending within seconds; resume finishes with nobody skipped or doubled', async () => {
    const rows = Array.from({ length: 1500 }, (_, i) => person(i + 1, `pr${i + 1}@example.com`));
    const { id } = await campaignWith(app, t.tmp, rows);
    await launch(relay(), id);
    await waitFor(async () => (await counts(app, id)).counts.sent >= 200, { intervalMs: 20 });
    await pause(app.db, id);
    const pausedAt = Date.now();
    await waitFor(async () => (await counts(app, id)).counts.sending === 0, { intervalMs: 20 });
    const frozen = (await counts(app, id)).counts.sent;
    await new Promise((r) => setTimeout(r, 1000)); // observe: nothing more goes out while paused
    expect((await counts(app, id)).counts.sent).toBe(frozen);
    expect(Date.now() - pausedAt).toBeLessThan(5000);
    expect(frozen).toBeLessThan(1500);

    await resume(relay(), id);
    const s = await settled(id);
    expect(s.counts.sent).toBe(1500);
    for (let i = 1; i <= 1500; i++) expect(sink.deliveredTo.get(`pr${i}@example.com`)).toBe(1);
  });
});
