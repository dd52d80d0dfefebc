// People per state (and failure reasons) per campaign, kept from the ledger so that a Prometheus
// scrape or a dashboard refresh reads a few small rows instead of counting a million.
//
// catchUp() adds the ledger rows of every transaction that has finished since the last call. It
// uses the snapshot's xmin (the oldest transaction still running): every ledger row written by a
// transaction below it is committed or gone, so counting by transaction id, not by row id, misses
// nothing and counts nothing twice, whatever order transactions commit in. A long transaction (a
// big import) makes the counts lag until it ends; they are never wrong. One catch-up at a time
// (an advisory lock), in one transaction with the watermark.
import type { Db } from './pool.ts';
import type { Queryable } from './notice-store.ts';
import { withTransaction } from './pool.ts';
import { NOTICE_STATES, type NoticeState } from '../domain/notice-state.ts';
import { LOCK } from './locks.ts';


/** Why a ledger row counts as a failure or a detour, or null (see campaign_reason_counts). */
const REASON_SQL = `case
  when to_state = 'postal_queued' then 'post:' || coalesce(detail->>'reason', 'unknown')
  when to_state = 'needs_review' then 'review:' || coalesce(detail->>'class', 'message')
  when from_state = 'sending' and to_state = 'queued' then 'retry:' || coalesce(detail->>'class', 'unknown')
  when to_state = 'address_invalid' then 'post:address_invalid'
  when to_state = 'returned' then 'post:returned'
  else null end`;

const CATCH_UP = `
  with w as (select done_below from count_watermark where id = 1),
  s as (select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as upto),
  ev as (
    select e.campaign_id, e.from_state, e.to_state, ${REASON_SQL} as reason
    from notice_events e, w, s where e.tx >= w.done_below and e.tx < s.upto
  ),
  st as (
    select campaign_id, state, sum(d)::bigint as d from (
      select campaign_id, to_state as state, 1 as d from ev where from_state is distinct from to_state
      union all
      select campaign_id, from_state, -1 from ev where from_state is not null and from_state is distinct from to_state
    ) x group by 1, 2 having sum(d) <> 0
  ),
  up as (
    insert into campaign_counts (campaign_id, state, n) select campaign_id, state, d from st order by 1, 2
    on conflict (campaign_id, state) do update set n = campaign_counts.n + excluded.n
  ),
  rs as (
    insert into campaign_reason_counts (campaign_id, reason, n)
    select campaign_id, reason, count(*) from ev where reason is not null group by 1, 2 order by 1, 2
    on conflict (campaign_id, reason) do update set n = campaign_reason_counts.n + excluded.n
  ),
  mv as (update count_watermark c set done_below = s.upto, at = now() from s, w where c.id = 1 and s.upto > w.done_below)
  select (select count(*) from ev)::int as events`;

/** Count what the ledger gained since the last call. Returns the number of ledger rows read. */
export async function catchUpCounts(db: Db): Promise<number> {
  return withTransaction(db, async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [LOCK.counts]);
    const { rows } = await tx.query(CATCH_UP);
    return rows[0].events as number;
  });
}

export type StateCounts = Record<NoticeState, number>;

const zero = (): StateCounts => Object.fromEntries(NOTICE_STATES.map((s) => [s, 0])) as StateCounts;

/**
 * Counts per state of the given campaigns (all when omitted), as of the last catch-up. People
 * still pending since import come from import_runs (an import writes no ledger row per person).
 */
export async function countsByCampaign(db: Queryable, campaignIds?: readonly number[]): Promise<Map<number, StateCounts>> {
  const ids = campaignIds ? [...campaignIds] : null;
  const { rows } = await db.query(
    `select campaign_id, state, sum(n)::bigint as n from (
       select campaign_id, state, n from campaign_counts where $1::bigint[] is null or campaign_id = any($1)
       union all
       select campaign_id, 'pending', sum(accepted) from import_runs where $1::bigint[] is null or campaign_id = any($1) group by 1
     ) x group by 1, 2`,
    [ids],
  );
  const out = new Map<number, StateCounts>();
  for (const id of ids ?? []) out.set(id, zero());
  for (const r of rows) {
    if (!out.has(r.campaign_id)) out.set(r.campaign_id, zero());
    if ((NOTICE_STATES as readonly string[]).includes(r.state)) out.get(r.campaign_id)![r.state as NoticeState] = Number(r.n);
  }
  return out;
}

/** Failure and detour reasons of a campaign ("post:hard_bounce", "retry:transient_infra", …). */
export async function reasonsOf(db: Queryable, campaignId: number): Promise<Record<string, number>> {
  const { rows } = await db.query('select reason, n from campaign_reason_counts where campaign_id = $1 and n > 0 order by n desc', [campaignId]);
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}

/** The exact counts, straight from the notices (a scan of the campaign: for operators, tests and audits). */
export async function exactCounts(db: Queryable, campaignId: number): Promise<StateCounts> {
  const counts = zero();
  const { rows } = await db.query('select state, count(*)::int as n from notices where campaign_id = $1 group by state', [campaignId]);
  for (const r of rows) counts[r.state as NoticeState] = r.n;
  return counts;
}

/** takes: campaign, a time; returns how many of its people a worker claimed before it and still holds (a worker that stopped), and the oldest claim. */
export async function staleSending(db: Queryable, campaignId: number, before: Date): Promise<{ n: number; oldest: Date | null }> {
  const { rows } = await db.query(`select count(*)::int as n, min(claimed_at) as oldest from notices where campaign_id = $1 and state = 'sending' and claimed_at < $2`, [campaignId, before]);
  return rows[0];
}
