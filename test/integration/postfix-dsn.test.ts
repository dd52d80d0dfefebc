// Delivery evidence through a real Postfix (a private instance on loopback, short queue times):
// we ask for DSNs (NOTIFY=SUCCESS,FAILURE,DELAY), and each recipient's server behaves its own way.
//   box.example    Postfix delivers itself (discard): a success DSN → delivered
//   relay.example  a server without DSN takes it: Postfix reports "relayed" → sent, with the evidence
//   slow.example   refuses for a while (451), then takes it: a delay warning (→ delayed, not
//                  notified), then "relayed" → sent again
//   stuck.example  refuses until Postfix gives up: a delay warning, then a failure → a letter
//   gone.example   550 at RCPT: a failure → a letter
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { freePort, spawnNotice, spawnWorker, stop, type NoticeProcess } from '../support/processes.ts';
import { startPrivatePostfix, type Postfix } from '../support/postfix.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { evidenceOf } from '../../src/campaigns/evidence.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
let withDsn: SmtpSink;
let noDsn: SmtpSink;
let postfix: Postfix;
let receiverPort: number;
const tries = new Map<string, number>();

beforeAll(async () => {
  t = await makeTestEnv();
  receiverPort = await freePort();
  app = t.app({ BOUNCE_SMTP_PORT: String(receiverPort) });
  withDsn = await startSmtpSink();
  withDsn.mode.rcptHook = (a) => (a.endsWith('@gone.example') ? { code: 550, message: '5.1.1 <' + a + '>: Recipient address rejected: User unknown' } : null);
  noDsn = await startSmtpSink({ dsn: false });
  noDsn.mode.rcptHook = (a) => {
    const k = (tries.get(a) ?? 0) + 1;
    tries.set(a, k);
    if (a.endsWith('@stuck.example')) return { code: 451, message: '4.2.2 <' + a + '>: mailbox temporarily unavailable' };
    if (a.endsWith('@slow.example') && k <= 5) return { code: 451, message: '4.2.2 <' + a + '>: mailbox temporarily unavailable' };
    return null;
  };
  postfix = await startPrivatePostfix({
    routes: { 'box.example': 'discard:', 'relay.example': noDsn.port, 'slow.example': noDsn.port, 'stuck.example': noDsn.port, 'gone.example': withDsn.port, [app.config.BOUNCE_DOMAIN]: receiverPort },
    queueLifetime: '12s',
    extra: ['delay_warning_time = 2s'],
  });
}, 60_000);
afterAll(async () => {
  await postfix?.stop();
  await withDsn?.close();
  await noDsn?.close();
  await t?.teardown();
});

describe('delivery evidence through a real Postfix', () => {
  it('success, relayed, delayed-then-relayed, delayed-then-failed and hard-at-RCPT each end in the right state and evidence level', async () => {
    const domains = ['box', 'relay', 'slow', 'stuck', 'gone'];
    const { id } = await campaignWith(app, t.tmp, domains.map((d, i) => person(i + 1, `p@${d}.example`)));
    const env = { ...t.env, SMTP_URL: postfix.url, BOUNCE_SMTP_PORT: String(receiverPort), RECONCILE_INTERVAL_MS: '1000' };
    const procs: NoticeProcess[] = [spawnNotice(env, ['receive']), spawnWorker(env)];
    const stateOf = async (d: string) => (await app.db.query(`select id, state from notices where campaign_id = $1 and email = $2`, [id, `p@${d}.example`])).rows[0];
    const seen: Record<string, Set<string>> = Object.fromEntries(domains.map((d) => [d, new Set<string>()]));
    try {
      await waitFor(() => procs.every((p) => /started|listening/.test(p.stderrText())), { what: 'receiver and worker started' });
      await launch(steeringDeps(app), id);
      await waitFor(async () => {
        for (const d of domains) seen[d].add((await stateOf(d)).state);
        const s = await Promise.all(domains.map(stateOf));
        const [box, relay, slow, stuck, gone] = s.map((x) => x.state);
        return box === 'delivered' && relay === 'sent' && slow === 'sent' && seen.slow.has('delayed') && ['postal_queued', 'batched'].includes(stuck) && ['postal_queued', 'batched'].includes(gone);
      }, { timeoutMs: 90_000, intervalMs: 200, what: 'every person in their final state' }).catch(async (err) => {
        const reports = (await app.db.query(`select n.email, b.action, b.reason, b.outcome from bounce_events b join notices n on n.id = b.notice_id order by b.id`)).rows;
        throw new Error(`${err.message}\nstates seen ${JSON.stringify(Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v]])))}\nreports ${JSON.stringify(reports)}\n${postfix.log().slice(-4000)}`);
      });
      // While the servers held them, the slow and the stuck were delayed: not notified.
      expect([...seen.slow]).toContain('delayed');
      expect([...seen.stuck]).toContain('delayed');
      const level = async (d: string) => (await evidenceOf(app.db, (await stateOf(d)).id)).outcome;
      expect(await level('box')).toMatchObject({ level: 'delivered', notified: true });
      expect(await level('relay')).toMatchObject({ level: 'relayed_to_recipient_server', notified: true });
      expect(await level('slow')).toMatchObject({ level: 'relayed_to_recipient_server', notified: true });
      expect((await level('stuck')).notified).toBe(false);
      const reports = (await app.db.query(`select n.email, b.action, b.reason, b.reporting_mta from bounce_events b join notices n on n.id = b.notice_id where n.campaign_id = $1 order by b.id`, [id])).rows;
      expect(reports.filter((r) => r.email === 'p@box.example').map((r) => r.action)).toContain('delivered');
      expect(reports.filter((r) => r.email === 'p@slow.example').map((r) => r.action)).toEqual(expect.arrayContaining(['delayed', 'relayed']));
      expect(reports.filter((r) => r.email === 'p@stuck.example').map((r) => r.action)).toEqual(expect.arrayContaining(['delayed', 'failed']));
      expect(reports.every((r) => r.reporting_mta === 'relay.notice-test.example')).toBe(true);
      const moves = (await app.db.query(`select notice_id, count(*)::int as k from notice_events where campaign_id = $1 and to_state = 'postal_queued' and from_state <> 'postal_queued' group by notice_id`, [id])).rows;
      expect(moves.map((m) => m.k)).toEqual([1, 1]);
      const s = await counts(app, id);
      expect(s.notified).toBe(3);
      for (const p of procs) expect(p.exitCode, p.stderrText().slice(-2000)).toBeNull();
    } finally {
      const codes = await Promise.all(procs.map((p) => stop(p)));
      expect(codes).toEqual([0, 0]);
    }
  }, 120_000);
});
