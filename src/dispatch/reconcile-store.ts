// The reconciler's reads: who should have a live job, and who is still waiting in a cancelled
// campaign. Leases are measured against the time the caller passes (its clock), not the server's.
import type { Queryable } from '../db/pool.ts';
import type { NoticeState } from '../domain/notice-state.ts';

/**
 * takes: a page (after id, limit), optionally one campaign, the lease and now; returns people of
 * running campaigns who should have a job: queued behind the relay's cursor, sending past the
 * lease, or waiting for a letter.
 */
export async function shouldHaveJobs(q: Queryable, o: { after: number; campaignId?: number; leaseMs: number; limit: number; now: Date }): Promise<Array<{ id: number; campaign_id: number; state: 'queued' | 'sending' | 'postal_queued' }>> {
  const { rows } = await q.query(
    `select n.id, n.campaign_id, n.state from notices n join campaigns c on c.id = n.campaign_id and c.state = 'running'
     where n.state in ('queued', 'sending', 'postal_queued') and n.id > $1 and ($2::bigint is null or n.campaign_id = $2)
       and (n.state <> 'sending' or n.claimed_at < $5::timestamptz - make_interval(secs => $3::double precision / 1000))
       and (n.state <> 'queued' or n.id <= c.relay_cursor)
     order by n.id limit $4`,
    [o.after, o.campaignId ?? null, o.leaseMs, o.limit, o.now],
  );
  return rows;
}

/** takes: optionally one campaign, the states to cancel, the lease, a limit and now; returns ids of people of cancelled campaigns still waiting (or sending past the lease). */
export async function waitingInCancelled(q: Queryable, o: { campaignId?: number; states: readonly NoticeState[]; leaseMs: number; limit: number; now: Date }): Promise<number[]> {
  const { rows } = await q.query(
    `select n.id from notices n join campaigns c on c.id = n.campaign_id and c.state = 'cancelled'
     where ($1::bigint is null or n.campaign_id = $1)
       and (n.state = any($2::text[]) or (n.state = 'sending' and n.claimed_at < $5::timestamptz - make_interval(secs => $3::double precision / 1000)))
     order by n.id limit $4`,
    [o.campaignId ?? null, o.states, o.leaseMs, o.limit, o.now],
  );
  return rows.map((r) => r.id as number);
}

/**
 * takes: the default confirmation deadline, now, a limit, optionally one campaign; returns ids of
 * people delayed longer than their campaign's deadline (running or paused campaigns).
 */
export async function delayedPastDeadline(q: Queryable, o: { defaultMs: number; now: Date; limit: number; campaignId?: number }): Promise<number[]> {
  const { rows } = await q.query(
    `select n.id from notices n join campaigns c on c.id = n.campaign_id and c.state in ('running', 'paused')
     where n.state = 'delayed' and ($4::bigint is null or n.campaign_id = $4)
       and n.updated_at < $2::timestamptz - make_interval(secs => coalesce(c.email_confirm_deadline_ms, $1)::double precision / 1000)
     order by n.id limit $3`,
    [o.defaultMs, o.now, o.limit, o.campaignId ?? null],
  );
  return rows.map((r) => r.id as number);
}
