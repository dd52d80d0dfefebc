// The figures the reputation brakes read, and where their last verdict is kept.
import type { Queryable } from '../db/pool.ts';
import type { Figures, Verdict } from '../domain/reputation.ts';

/**
 * takes: campaign, window; returns, over its last `window` sends (people whose send had an
 * outcome: accepted, or refused for good at send time), how many hard-bounced (then or later)
 * and how many complained.
 */
export async function reputationFigures(q: Queryable, campaignId: number, window: number): Promise<Figures> {
  const { rows } = await q.query(
    `with s as (
       select notice_id, to_state, detail from notice_events
       where campaign_id = $1 and from_state = 'sending' and (to_state = 'sent' or (to_state = 'postal_queued' and detail->>'reason' = 'hard_bounce'))
       order by at desc limit $2
     )
     select count(*)::int as sends,
            count(*) filter (where s.to_state = 'postal_queued' or exists (select 1 from bounce_events b where b.notice_id = s.notice_id and b.class = 'hard'))::int as hard,
            count(*) filter (where exists (select 1 from bounce_events b where b.notice_id = s.notice_id and b.class = 'complaint'))::int as complaints
     from s`,
    [campaignId, window],
  );
  return rows[0];
}

export async function saveReputation(q: Queryable, campaignId: number, v: Verdict, now: Date): Promise<void> {
  await q.query('update campaigns set reputation = $2 where id = $1', [campaignId, JSON.stringify({ ...v, at: now.toISOString() })]);
}

/** Resuming acknowledges the last figures: no pause again until they get worse. */
export async function acknowledgeReputation(q: Queryable, campaignId: number): Promise<void> {
  await q.query(`update campaigns set reputation_ack = jsonb_build_object('hardRate', reputation->'hardRate', 'complaintRate', reputation->'complaintRate'), reputation = reputation || '{"level": "ok"}' where id = $1 and reputation is not null`, [campaignId]);
}

/** takes: nothing; returns running campaigns with what was acknowledged. */
export async function runningForReputation(q: Queryable): Promise<Array<{ id: number; reputation_ack: { hardRate: number; complaintRate: number } | null }>> {
  const { rows } = await q.query(`select id::int, reputation_ack from campaigns where state = 'running'`);
  return rows;
}
