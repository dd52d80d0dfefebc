// The reads behind serve's metrics and the dashboard: campaigns, workers alive, batches, bounces,
// failure reasons. Small tables and indexed groups only; people are counted in counts-store.ts.
import type { Queryable } from './notice-store.ts';

export interface SystemSnapshot {
  campaigns: Array<{ id: number; name: string; state: string; paused_by: string | null; pause_reason: string | null; vendor_id: number | null; reputation: { level: string; hardRate: number; complaintRate: number } | null }>;
  workersAlive: number;
  batches: Array<{ status: string; batches: number; letters: number }>;
  oldestUndownloadedSeconds: number;
  bounces: Array<{ campaign_id: number; class: string; reason: string; n: number }>;
  reasons: Array<{ campaign_id: number; reason: string; n: number }>;
}

/** A worker is alive when it beat within this long (it beats every 5 s). */
export const WORKER_ALIVE_S = 30;

export async function systemSnapshot(db: Queryable): Promise<SystemSnapshot> {
  const [campaigns, workers, batches, undl, bounces, reasons] = await Promise.all([
    db.query('select id, name, state, paused_by, pause_reason, vendor_id, reputation from campaigns order by id'),
    db.query(`select count(*)::int as n from workers where beat_at > now() - make_interval(secs => $1)`, [WORKER_ALIVE_S]),
    db.query(`select status, count(*)::int as batches, coalesce(sum(size), 0)::int as letters from batches where size > 0 group by status`),
    db.query(`select coalesce(extract(epoch from now() - min(closed_at)), 0)::float as s from batches b
              where status = 'ready' and not exists (select 1 from batch_events e where e.batch_id = b.id and e.action = 'download')`),
    db.query(`select campaign_id, class, coalesce(reason, class) as reason, count(*)::int as n from bounce_events where campaign_id is not null group by 1, 2, 3`),
    db.query(`select campaign_id, reason, n::int as n from campaign_reason_counts where n > 0`),
  ]);
  return {
    campaigns: campaigns.rows,
    workersAlive: workers.rows[0].n,
    batches: batches.rows,
    oldestUndownloadedSeconds: Math.round(undl.rows[0].s),
    bounces: bounces.rows,
    reasons: reasons.rows,
  };
}
