// bounce_events: what arrived, parsed, before it is applied. Personal data stays here (Postgres);
// the bounce queue carries only the row's id.
import type { Queryable } from '../db/notice-store.ts';
import type { BounceClass } from '../domain/bounce.ts';

export interface NewBounceEvent {
  noticeId: number | null;
  source: 'dsn' | 'ses';
  class: BounceClass;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
  dedupeKey: string;
}

export interface BounceEventRow {
  id: number;
  notice_id: number | null;
  source: 'dsn' | 'ses';
  class: BounceClass;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
  applied_at: Date | null;
}

/** Returns the new row's id, or null when this event was recorded before (a retry). */
export async function recordBounce(db: Queryable, e: NewBounceEvent): Promise<number | null> {
  const { rows } = await db.query(
    `insert into bounce_events (notice_id, source, class, action, status, diagnostic, dedupe_key)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict (dedupe_key) do nothing returning id`,
    [e.noticeId, e.source, e.class, e.action, e.status, e.diagnostic?.slice(0, 1000) ?? null, e.dedupeKey],
  );
  return rows[0]?.id ?? null;
}

export async function getBounceEvent(db: Queryable, id: number): Promise<BounceEventRow | null> {
  const { rows } = await db.query('select * from bounce_events where id = $1', [id]);
  return (rows[0] as BounceEventRow) ?? null;
}

export async function markApplied(db: Queryable, id: number, outcome: string): Promise<void> {
  await db.query('update bounce_events set applied_at = now(), outcome = $2 where id = $1', [id, outcome]);
}
