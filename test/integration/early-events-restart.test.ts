// The race of issue 20, end to end: a mail server that takes our message, bounces it at once and
// delivers its DSN to our receiver *before* it answers our DATA (servers may; so may a slow
// database on our side), while PostgreSQL restarts mid-campaign. Every person whose address is
// dead must end on the postal route, once; everyone else sent; no bounce left unapplied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createTransport } from 'nodemailer';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { freePort, spawnNotice, spawnWorker, startPrivatePostgres, stop, type NoticeProcess } from '../support/processes.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let pg: Awaited<ReturnType<typeof startPrivatePostgres>>;
let app: App;
let mx: SMTPServer;
let mxPort: number;
let receiverPort: number;
const stats = { dsnSent: 0, dsnRetries: 0, accepted: 0 };

const dsnFor = (verp: string, rcpt: string) =>
  [
    'From: MAILER-DAEMON@mx.gone.example', `To: ${verp}`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0', 'Auto-Submitted: auto-replied',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'Your message could not be delivered.', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.gone.example', '', `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed',
    'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 <' + rcpt + '>: Recipient address rejected: User unknown', '', '--B--', '',
  ].join('\r\n');

/** Hand the DSN to `notice receive`, as an MTA would: retrying while it answers 4xx (PostgreSQL down). */
async function deliverDsn(verp: string, rcpt: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const mta = createTransport({ host: '127.0.0.1', port: receiverPort, secure: false, ignoreTLS: true });
    try {
      await mta.sendMail({ envelope: { from: '', to: verp }, raw: dsnFor(verp, rcpt) });
      stats.dsnSent++;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      stats.dsnRetries++;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      mta.close();
    }
  }
}

beforeAll(async () => {
  t = await makeTestEnv();
  pg = await startPrivatePostgres();
  receiverPort = await freePort();
  app = t.app({ DATABASE_URL: pg.url, BOUNCE_SMTP_PORT: String(receiverPort) });
  // The recipients' mail server: users at gone.example do not exist; it says so by DSN, and
  // delivers that DSN before it answers 250 to our DATA.
  mx = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        const rcpt = session.envelope.rcptTo[0].address;
        const verp = (session.envelope.mailFrom as { address: string }).address;
        stats.accepted++;
        if (!rcpt.endsWith('@gone.example')) return cb();
        deliverDsn(verp, rcpt).then(() => cb(), (err: Error) => cb(err));
      });
    },
  });
  await new Promise<void>((r) => mx.listen(0, '127.0.0.1', () => r()));
  mxPort = (mx.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => mx?.close(() => r()));
  await app?.close();
  await pg?.stop();
  await t?.teardown();
});

describe('DSNs that beat the record of their send, while PostgreSQL restarts', () => {
  it('every dead address ends on the postal route once; everyone else sent; no bounce left unapplied', async () => {
    const n = 400;
    const gone = (i: number) => i % 5 === 0; // 80 people at a domain whose users do not exist
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: n }, (_, i) => person(i + 1, gone(i + 1) ? `u${i + 1}@gone.example` : `u${i + 1}@ok.example`)));
    const env = { ...t.env, DATABASE_URL: pg.url, SMTP_URL: `smtp://127.0.0.1:${mxPort}`, BOUNCE_SMTP_PORT: String(receiverPort), WORKER_CONCURRENCY: '8' };
    const procs: NoticeProcess[] = [spawnNotice(env, ['receive']), spawnWorker(env), spawnWorker(env)];
    try {
      await waitFor(() => procs.every((p) => /started|listening/.test(p.stderrText())), { what: 'receiver and workers started' });
      await launch(steeringDeps(app), id);
      await waitFor(async () => (await counts(app, id)).counts.sent >= 100, { intervalMs: 20, what: '100 sent' });
      await pg.restart();
      const s = await waitFor(async () => {
        const c = await counts(app, id).catch(() => null);
        if (!c?.emailPhaseDone) return null;
        const open = await app.db.query(`select count(*)::int as n from bounce_events where applied_at is null`).catch(() => null);
        return open && open.rows[0].n === 0 && c.counts.sending === 0 ? c : null;
      }, { timeoutMs: 120_000, what: 'campaign to settle and every bounce to apply' });
      for (const p of procs) expect(p.exitCode, p.stderrText().slice(-2000)).toBeNull();

      const { rows } = await app.db.query(`select email, state from notices where campaign_id = $1`, [id]);
      const wrong = rows.filter((r) => (r.email.endsWith('@gone.example') ? !['postal_queued', 'batched'].includes(r.state) : r.state !== 'sent'));
      expect(wrong, JSON.stringify(wrong.slice(0, 5))).toEqual([]);
      expect(s.counts.sent).toBe(n - n / 5);
      // Once: each dead address moved to post by exactly one ledger row.
      const moves = (await app.db.query(`select notice_id, count(*)::int as k from notice_events where campaign_id = $1 and to_state = 'postal_queued' group by notice_id`, [id])).rows;
      expect(moves.length).toBe(n / 5);
      expect(moves.every((m) => m.k === 1)).toBe(true);
      // The race really happened: DSNs arrived while their person was still `sending`.
      const waited = (await app.db.query(`select count(*)::int as n from bounce_events where waiting_since is not null`)).rows[0].n;
      expect(waited).toBeGreaterThan(0);
      expect(stats.dsnSent).toBeGreaterThanOrEqual(n / 5);
    } finally {
      const codes = await Promise.all(procs.map((p) => stop(p)));
      expect(codes).toEqual([0, 0, 0]);
    }
  });
});
