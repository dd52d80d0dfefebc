// What status says waits, for the console and the dashboard: people a worker claimed and then
// stopped answering for are named as such (not silently "sending" for minutes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { campaignWith, person } from '../support/fixtures.ts';
import { campaignStatus } from '../../src/campaigns/status.ts';

let t: TestEnv;
beforeAll(async () => {
  t = await makeTestEnv();
});
afterAll(async () => t?.teardown());

describe('status: what waits', () => {
  it('names the people held by a worker that stopped', async () => {
    const app = t.app();
    const { id } = await campaignWith(app, t.tmp, [person(1), person(2), person(3)]);
    await app.db.query(`update campaigns set state = 'running' where id = $1`, [id]);
    const { rows } = await app.db.query('select id from notices where campaign_id = $1 order by id', [id]);
    await app.db.query(`update notices set state = 'sending', claimed_at = now() - interval '10 minutes' where id = $1`, [rows[0].id]);
    await app.db.query(`update notices set state = 'sending', claimed_at = now() where id = $1`, [rows[1].id]);
    const s = (await campaignStatus(app.db, id))!;
    const stale = s.waiting.find((w) => w.code === 'stale_sending');
    expect(stale).toMatchObject({ what: 'email', count: 1 });
    expect(stale!.why).toMatch(/claimed by a worker that stopped answering/);
  });
});
