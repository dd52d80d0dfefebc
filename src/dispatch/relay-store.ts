// The relay's reads and its cursor: who is pending (with what decides their channel), who is
// queued past the cursor, and the cursor itself.
import type { Queryable } from '../db/pool.ts';

/** takes: campaign, the last id of the page before, a page size; returns pending people by id with whether email can reach them. */
export async function pendingPage(q: Queryable, campaignId: number, after: number, limit: number): Promise<Array<{ id: number; hasEmail: boolean; suppressed: boolean; domain: string | null }>> {
  const { rows } = await q.query(
    `select n.id, n.email_normalized is not null as "hasEmail", s.email_normalized is not null as suppressed, split_part(n.email_normalized, '@', 2) as domain
     from notices n left join suppressions s on s.email_normalized = n.email_normalized
     where n.campaign_id = $1 and n.state = 'pending' and n.id > $2
     order by n.id limit $3`,
    [campaignId, after, limit],
  );
  return rows;
}

/** returns running campaigns, highest priority first, with where the relay's window has reached. */
export async function runningCampaigns(q: Queryable): Promise<Array<{ id: number; relay_cursor: number }>> {
  const { rows } = await q.query(`select id, relay_cursor from campaigns where state = 'running' order by priority desc, id`);
  return rows;
}

/** takes: campaign, cursor, how many; returns the ids of queued people past the cursor, in order. */
export async function queuedAfter(q: Queryable, campaignId: number, cursor: number, limit: number): Promise<number[]> {
  const { rows } = await q.query(`select id from notices where campaign_id = $1 and state = 'queued' and id > $2 order by id limit $3`, [campaignId, cursor, limit]);
  return rows.map((r) => r.id as number);
}

/** Moves the cursor forward only (two relays never move it back). */
export async function advanceRelayCursor(q: Queryable, campaignId: number, cursor: number): Promise<void> {
  await q.query('update campaigns set relay_cursor = $2 where id = $1 and relay_cursor < $2', [campaignId, cursor]);
}

export async function resetRelayCursor(q: Queryable, campaignId: number): Promise<void> {
  await q.query('update campaigns set relay_cursor = 0 where id = $1', [campaignId]);
}
