// The ledger is tamper-evident: every row is chained to the one before it in its chain (person,
// campaign, batch). An untouched campaign verifies; one row changed with SQL (by someone who can
// lift the append-only trigger) is named by `notice ledger verify`, which exits 1; a row changed
// and re-hashed to hide it breaks the next link, or, as the last row, moves the root the report
// pinned.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { chainHeads, verifyLedger } from '../../src/db/ledger-chain.ts';
import type { App } from '../../src/app.ts';
import { writeReportFile } from '../../src/campaigns/report.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const env = useEnvWithSink();

async function tamper(app: App, sql: string, values: unknown[]) {
  await app.db.query('alter table notice_events disable trigger notice_events_no_update');
  try {
    await app.db.query(sql, values);
  } finally {
    await app.db.query('alter table notice_events enable trigger notice_events_no_update');
  }
}

describe('the tamper-evident ledger', () => {
  it('verifies an untouched campaign, names a changed row, and a re-hashed one moves the root', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url });
    const people = [...Array.from({ length: 20 }, (_, i) => person(i + 1, `chain${i + 1}@example.com`)), person(21, null), person(22, null)];
    const { id } = await campaignWith(app, t.tmp, people);
    const workers = await startWorkers(app, { concurrency: 2 });
    try {
      await launch(steeringDeps(app), id);
      await waitFor(async () => (await counts(app, id)).counts.sent === 20, { what: 'twenty sent' });
    } finally {
      await workers.close();
    }
    const ok = await verifyLedger(app.db, 'notice_events', { campaignId: id });
    expect(ok).toMatchObject({ broken: null, chains: 22 });
    expect(ok.rows).toBeGreaterThanOrEqual(20 * 3 + 2);
    expect((await verifyLedger(app.db, 'campaign_events', { campaignId: id })).broken).toBeNull();
    const pinned = await chainHeads(app.db, id);
    expect(pinned.root).toBe(ok.root);
    // The report pins it: its "#" lines carry the root a copy held elsewhere can be checked against.
    const out = path.join(t.tmp, 'report.csv');
    await writeReportFile(app.db, id, out);
    expect(readFileSync(out, 'utf8').split('\n').find((l) => l.startsWith('# ledger:'))).toBe(`# ledger: 22 person chains, root sha256 ${ok.root}; campaign ledger head ${pinned.campaignHead} (notice ledger verify recomputes both)`);
    const cli = notice(t.env, 'ledger', 'verify', String(id));
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/notice_events: \d+ rows in 22 chains, intact/);

    // Someone with database access rewrites what we told a mail server: the row is named.
    const { rows: [sent] } = await app.db.query(`select id from notice_events where campaign_id = $1 and to_state = 'sent' order by id limit 1`, [id]);
    await tamper(app, `update notice_events set detail = detail || '{"reply": "250 rewritten"}' where id = $1`, [sent.id]);
    const bad = notice(t.env, 'ledger', 'verify', String(id));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`first row that does not match: notice_events id ${sent.id}`);
    expect(bad.stdout).toContain('does not match its hash');

    // Re-hashed with the database's own function: the row checks out, but the root moves.
    await tamper(app, `update notice_events set hash = sha256(prev_hash || convert_to(concat_ws(chr(31), 'n1', id, notice_id, campaign_id, ledger_at(at),
      coalesce(from_state, '\\N'), to_state, coalesce(channel, '\\N'), detail::text), 'UTF8')) where id = $1`, [sent.id]);
    const rehashed = await verifyLedger(app.db, 'notice_events', { campaignId: id });
    expect(rehashed.broken).toBeNull(); // the last row of that person's chain: nothing after it to break
    expect(rehashed.root).not.toBe(pinned.root);
    // A row in the middle of a chain, re-hashed: the next row's link breaks.
    const { rows: [mid] } = await app.db.query(`select id, notice_id from notice_events where campaign_id = $1 and to_state = 'sending' order by id limit 1`, [id]);
    await tamper(app, `update notice_events set detail = '{"attempt": 9}', hash = sha256(prev_hash || convert_to(concat_ws(chr(31), 'n1', id, notice_id, campaign_id, ledger_at(at),
      coalesce(from_state, '\\N'), to_state, coalesce(channel, '\\N'), '{"attempt": 9}'), 'UTF8')) where id = $1`, [mid.id]);
    const linked = await verifyLedger(app.db, 'notice_events', { campaignId: id });
    expect(linked.broken).toMatchObject({ chain: Number(mid.notice_id) });
    expect(linked.broken!.why).toContain('link');
    await app.close();
  });
});
