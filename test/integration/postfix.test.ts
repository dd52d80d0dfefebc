// Through a real MTA: Debian's Postfix on loopback (a private instance, its own config and queue)
// is our relay. It answers our DATA with 250 and only then tries the recipients' server (an
// in-process sink), which refuses users at gone.example at RCPT: Postfix then writes its own DSN
// to our VERP return path and delivers it to `notice receive` a fraction of a second after our
// 250, which is the race of issue 20 as it happens in production. Everyone must end right: the
// dead addresses on the postal route once, the rest sent, every DSN matched and applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { freePort, spawnNotice, spawnWorker, stop, type NoticeProcess } from '../support/processes.ts';
import { startPrivatePostfix, type Postfix } from '../support/postfix.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
let sink: SmtpSink;
let postfix: Postfix;
let receiverPort: number;

beforeAll(async () => {
  t = await makeTestEnv();
  receiverPort = await freePort();
  app = t.app({ BOUNCE_SMTP_PORT: String(receiverPort) });
  sink = await startSmtpSink();
  sink.mode.rcptHook = (address) => (address.endsWith('@gone.example') ? { code: 550, message: '5.1.1 <' + address + '>: Recipient address rejected: User unknown in virtual mailbox table' } : null);
  postfix = await startPrivatePostfix({ routes: { 'ok.example': sink.port, 'gone.example': sink.port, [app.config.BOUNCE_DOMAIN]: receiverPort } });
}, 60_000);
afterAll(async () => {
  await postfix?.stop();
  await sink?.close();
  await t?.teardown();
});

describe('a campaign relayed by a real Postfix', () => {
  it('hard failures Postfix reports by DSN after its 250 end on the postal route once; the rest sent; every DSN applied', async () => {
    const n = 300;
    const gone = (i: number) => i % 5 === 0; // 60 people whose mailbox does not exist
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: n }, (_, i) => person(i + 1, gone(i + 1) ? `u${i + 1}@gone.example` : `u${i + 1}@ok.example`)));
    const env = { ...t.env, SMTP_URL: postfix.url, BOUNCE_SMTP_PORT: String(receiverPort), WORKER_CONCURRENCY: '8' };
    const procs: NoticeProcess[] = [spawnNotice(env, ['receive']), spawnWorker(env), spawnWorker(env)];
    try {
      await waitFor(() => procs.every((p) => /started|listening/.test(p.stderrText())), { what: 'receiver and workers started' });
      await launch(steeringDeps(app), id);
      const settled = await waitFor(async () => {
        const c = await counts(app, id);
        if (!c.emailPhaseDone || c.counts.sending) return null;
        const { rows } = await app.db.query(`select count(*) filter (where applied_at is not null)::int as applied, count(*)::int as all from bounce_events`);
        return rows[0].applied === n / 5 && rows[0].all === n / 5 ? c : null;
      }, { timeoutMs: 120_000, intervalMs: 250, what: `every person settled and ${n / 5} DSNs applied\n${postfix.log().slice(-3000)}` });
      for (const p of procs) expect(p.exitCode, p.stderrText().slice(-2000)).toBeNull();

      const { rows } = await app.db.query(`select email, state from notices where campaign_id = $1`, [id]);
      const wrong = rows.filter((r) => (r.email.endsWith('@gone.example') ? !['postal_queued', 'batched'].includes(r.state) : r.state !== 'sent'));
      expect(wrong, JSON.stringify(wrong.slice(0, 5))).toEqual([]);
      expect(settled.counts.sent).toBe(n - n / 5);
      // Each DSN came from Postfix itself, named its notice (VERP), and was read as a hard bounce.
      const { rows: dsns } = await app.db.query(`select reason, outcome, notice_id from bounce_events order by id`);
      expect(dsns.every((d) => d.reason === 'user_unknown' && d.outcome === 'postal' && d.notice_id)).toBe(true);
      const moves = (await app.db.query(`select notice_id, count(*)::int as k from notice_events where campaign_id = $1 and to_state = 'postal_queued' and from_state <> 'postal_queued' group by notice_id`, [id])).rows;
      expect(moves.length).toBe(n / 5);
      expect(moves.every((m) => m.k === 1)).toBe(true);
      // Nobody at ok.example was mailed twice.
      for (let i = 1; i <= n; i++) if (!gone(i)) expect(sink.deliveredTo.get(`u${i}@ok.example`), `u${i}`).toBe(1);
      expect(postfix.log()).toMatch(/status=bounced/);
    } finally {
      const codes = await Promise.all(procs.map((p) => stop(p)));
      expect(codes).toEqual([0, 0, 0]);
    }
  });
});
