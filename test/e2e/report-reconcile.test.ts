// The report's reconciliation is what an auditor reads first: with one person's row corrupted it
// must not add up, the CLI must exit non-zero naming that person, and the API must say so.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../support/harness.ts';
import { testServer, useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { addOperator } from '../../src/auth/operator-store.ts';

const env = useEnvWithSink();

describe('campaign report', () => {
  it('adds up when everyone is accounted for, and names the person when a row is corrupted', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url });
    const { id } = await campaignWith(app, t.tmp, [person(1), person(2), person(3), person(4)]);
    const workers = await startWorkers(app, { concurrency: 2 });
    try {
      await launch(steeringDeps(app), id);
      await waitFor(async () => ((await counts(app, id)).counts.sent === 4 ? true : null), { what: 'everyone sent' });
    } finally {
      await workers.close();
    }
    const out = path.join(t.tmp, 'report.csv');
    let r = notice(t.env, 'campaign', 'report', String(id), '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported 4, people 4, accounted 4, unaccounted 0/);
    let csv = readFileSync(out, 'utf8');
    expect(csv).toContain('# accounted 4, unaccounted 0: everyone is accounted for');

    // Someone edits a row by hand: C2 "sent" becomes "queued" with no ledger entry behind it.
    const { rows } = await app.db.query(`update notices set state = 'queued' where campaign_id = $1 and customer_id = 'C2' returning id`, [id]);
    const corrupted = rows[0].id as number;
    r = notice(t.env, 'campaign', 'report', String(id), '--out', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`notice ${corrupted} (customer C2): state queued but the ledger says sent`);
    csv = readFileSync(out, 'utf8');
    expect(csv).toContain('NOT everyone is accounted for');
    expect(csv).toContain(`# unaccounted: notice ${corrupted} (customer C2)`);

    const json = path.join(t.tmp, 'report.json');
    r = notice(t.env, 'campaign', 'report', String(id), '--out', json);
    expect(r.status).toBe(1);
    const parsed = JSON.parse(readFileSync(json, 'utf8'));
    expect(parsed.reconciliation.ok).toBe(false);
    expect(parsed.reconciliation.unaccounted).toEqual([expect.objectContaining({ notice_id: corrupted, customer_id: 'C2' })]);
    expect(parsed.people).toHaveLength(4);

    // The same over HTTP.
    const server = await testServer(app);
    const { token } = await addOperator(app.db, 'auditor', 'viewer');
    const res = await server.inject({ method: 'GET', url: `/api/v1/campaigns/${id}/report.csv`, headers: { authorization: `Bearer ${token}` } });
    expect(res.headers['x-reconciliation']).toBe('unaccounted=1');
    expect(res.body).toContain(`# unaccounted: notice ${corrupted} (customer C2)`);
    await server.close();
  });
});
