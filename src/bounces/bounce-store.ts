// bounce_events: what arrived, parsed, before it is applied. Personal data stays here (Postgres);
// the bounce queue carries only the row's id.
import type { Queryable } from '../db/notice-store.ts';
import type { BounceClass, BounceReason } from '../domain/bounce-rules.ts';

export interface NewBounceEvent {
  noticeId: number | null;
  source: 'dsn' | 'ses';
  class: BounceClass;
  reason: BounceReason;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
  dedupeKey: string;
  /** The server that reported it (DSN Reporting-MTA, SES reportingMTA). */
  reportingMta?: string | null;
}

export interface BounceEventRow {
  id: number;
  notice_id: number | null;
  source: 'dsn' | 'ses';
  class: BounceClass;
  reason: BounceReason | null;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
  applied_at: Date | null;
  waits: number;
}

/** Returns the new row's id, or null when this event was recorded before (a retry). */
export async function recordBounce(db: Queryable, e: NewBounceEvent): Promise<number | null> {
  const { rows } = await db.query(
    `insert into bounce_events (notice_id, campaign_id, source, class, reason, action, status, diagnostic, dedupe_key, reporting_mta)
     values ($1, (select campaign_id from notices where id = $1), $2, $3, $4, $5, $6, $7, $8, $9) on conflict (dedupe_key) do nothing returning id`,
    [e.noticeId, e.source, e.class, e.reason, e.action, e.status, e.diagnostic?.slice(0, 1000) ?? null, e.dedupeKey, e.reportingMta?.slice(0, 255) ?? null],
  );
  return rows[0]?.id ?? null;
}

export async function getBounceEvent(db: Queryable, id: number, o: { lock?: boolean } = {}): Promise<BounceEventRow | null> {
  const { rows } = await db.query(`select * from bounce_events where id = $1${o.lock ? ' for update' : ''}`, [id]);
  return (rows[0] as BounceEventRow) ?? null;
}

/**
 * The evidence that receivers blame our own setup in this campaign lately: how many receiving
 * domains (of the people's own addresses) and how many distinct people, against how many emails
 * the campaign sent in the same window. A forger speaks only for their own mailbox, so several
 * domains and a share of the campaign's recent sends are what make such bounces believable.
 * takes: campaign, window; returns { domains, people, sends }.
 */
export async function configBounceEvidence(db: Queryable, campaignId: number, windowMs: number): Promise<{ domains: number; people: number; sends: number }> {
  const { rows } = await db.query(
    `select count(distinct split_part(n.email_normalized, '@', 2))::int as domains, count(distinct b.notice_id)::int as people,
            (select count(*)::int from notice_events e where e.campaign_id = $1 and e.to_state = 'sent' and e.at > now() - make_interval(secs => $2::double precision / 1000)) as sends
     from bounce_events b join notices n on n.id = b.notice_id
     where b.class = 'config' and n.campaign_id = $1 and b.received_at > now() - make_interval(secs => $2::double precision / 1000)`,
    [campaignId, windowMs],
  );
  return rows[0];
}

/** Bounces recorded but never applied (their job was lost with Redis), oldest first. */
export async function unappliedBounces(db: Queryable, olderThanMs: number, limit: number): Promise<number[]> {
  const { rows } = await db.query(
    `select id from bounce_events where applied_at is null and received_at < now() - make_interval(secs => $1::double precision / 1000) order by id limit $2`,
    [olderThanMs, limit],
  );
  return rows.map((r) => r.id as number);
}

/** takes: event, why; returns how many times it has waited so far (this one included). */
export async function markWaiting(db: Queryable, id: number, reason: string): Promise<number> {
  const { rows } = await db.query(
    `update bounce_events set outcome = 'waiting', waiting_since = coalesce(waiting_since, now()), waits = waits + 1, wait_reason = $2 where id = $1 returning waits`,
    [id, reason],
  );
  return rows[0].waits;
}

/** Events waiting for their person to reach a state they apply to: how many, and the oldest's age. */
export async function waitingBounces(db: Queryable): Promise<{ count: number; oldestSeconds: number }> {
  const { rows } = await db.query(
    `select count(*)::int as count, coalesce(extract(epoch from now() - min(waiting_since)), 0)::float8 as oldest
     from bounce_events where applied_at is null and waiting_since is not null`,
  );
  return { count: rows[0].count, oldestSeconds: rows[0].oldest };
}

export async function markApplied(db: Queryable, id: number, outcome: string): Promise<void> {
  await db.query('update bounce_events set applied_at = now(), outcome = $2 where id = $1', [id, outcome]);
}

export interface UnmatchedBounce {
  id: number;
  received_at: Date;
  source: string;
  class: string;
  reason: string | null;
  status: string | null;
  diagnostic: string | null;
  outcome: string | null;
  waiting_since: Date | null;
  wait_reason: string | null;
}

/** Bounces for ops: all, those that reached no notice (`--unmatched`), or those waiting (`--waiting`). */
export async function listBounces(db: Queryable, o: { unmatched?: boolean; waiting?: boolean; campaignId?: number; limit: number }): Promise<UnmatchedBounce[]> {
  const { rows } = await db.query(
    `select id, received_at, source, class, reason, status, diagnostic, outcome, waiting_since, wait_reason from bounce_events
     where ($1::boolean is not true or notice_id is null or outcome = 'unmatched') and ($2::bigint is null or campaign_id = $2)
       and ($4::boolean is not true or (applied_at is null and waiting_since is not null))
     order by id desc limit $3`,
    [o.unmatched ?? false, o.campaignId ?? null, o.limit, o.waiting ?? false],
  );
  return rows as UnmatchedBounce[];
}
