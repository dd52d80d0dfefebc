// The dashboard's reads and its chart samples (campaign_samples: one row per campaign per slot).
import type { Queryable } from '../db/pool.ts';

/** takes: how many, now; returns the newest campaigns' ids, cancelled ones only for a day after their last change. */
export async function recentCampaigns(db: Queryable, limit: number, now: Date): Promise<number[]> {
  const { rows } = await db.query(`select id from campaigns where state <> 'cancelled' or updated_at > $2::timestamptz - interval '1 day' order by id desc limit $1`, [limit, now]);
  return rows.map((r) => r.id as number);
}

/** returns the ids of campaigns running or paused (the ones sampled). */
export async function steeredCampaigns(db: Queryable): Promise<number[]> {
  const { rows } = await db.query(`select id from campaigns where state in ('running', 'paused')`);
  return rows.map((r) => r.id as number);
}

/** takes: campaign; returns its bounce events per reason (the class when no reason) and class. */
export async function bounceReasons(db: Queryable, campaignId: number): Promise<Array<{ reason: string; class: string; n: number }>> {
  const { rows } = await db.query(`select coalesce(reason, class) as reason, class, count(*)::int as n from bounce_events where campaign_id = $1 group by 1, 2`, [campaignId]);
  return rows;
}

/** takes: campaign, now; returns the last hour's samples in time order (t in epoch seconds; queue: the campaign's own open email work). */
export async function samplesOf(db: Queryable, campaignId: number, now: Date): Promise<Array<{ t: number; emailed: number; queue: number }>> {
  const { rows } = await db.query(
    `select extract(epoch from at)::float as t, emailed, open_email as queue from campaign_samples
     where campaign_id = $1 and at > $2::timestamptz - interval '1 hour' order by at`,
    [campaignId, now],
  );
  return rows;
}

/** One sample per campaign per slot: a second process sampling the same slot adds nothing. */
export async function addSample(db: Queryable, s: { campaignId: number; at: Date; emailed: number; openEmail: number; queueWaiting: number; queueActive: number }): Promise<void> {
  await db.query(
    `insert into campaign_samples (campaign_id, at, emailed, open_email, queue_waiting, queue_active) values ($1, $2, $3, $4, $5, $6)
     on conflict do nothing`,
    [s.campaignId, s.at, s.emailed, s.openEmail, s.queueWaiting, s.queueActive],
  );
}

/** Samples older than a day before `now` are dropped. */
export async function pruneSamples(db: Queryable, now: Date): Promise<void> {
  await db.query(`delete from campaign_samples where at < $1::timestamptz - interval '1 day'`, [now]);
}
