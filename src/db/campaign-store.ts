// Campaigns: state, pause reasons, the error budget and outage tracking.
import type { Queryable } from './notice-store.ts';

export type CampaignState = 'draft' | 'running' | 'paused' | 'cancelled';

export interface CampaignRow {
  id: number;
  name: string;
  state: CampaignState;
  pause_reason: string | null;
  template_version: string;
  extra_vars: string[];
  message_errors: number;
  outage_since: Date | null;
  created_at: Date;
}

export async function createCampaign(db: Queryable, name: string, templateVersion: string, extraVars: string[]): Promise<number> {
  const { rows } = await db.query(
    'insert into campaigns (name, template_version, extra_vars) values ($1, $2, $3) returning id',
    [name, templateVersion, extraVars],
  );
  return rows[0].id as number;
}

export async function getCampaign(db: Queryable, id: number): Promise<CampaignRow | null> {
  const { rows } = await db.query('select * from campaigns where id = $1', [id]);
  return (rows[0] as CampaignRow) ?? null;
}

/** Move a campaign between states; returns false when it was not in one of `from`. */
export async function setCampaignState(db: Queryable, id: number, from: CampaignState[], to: CampaignState, reason: string | null = null): Promise<boolean> {
  const { rowCount } = await db.query(
    `update campaigns set state = $3, pause_reason = $4, updated_at = now(),
       outage_since = case when $3 = 'running' then null else outage_since end,
       message_errors = case when $3 = 'running' then 0 else message_errors end
     where id = $1 and state = any($2::text[])`,
    [id, from, to, reason],
  );
  return (rowCount ?? 0) > 0;
}

/** A message problem (5.7.x); pauses the campaign when the budget is spent. Returns true if it paused. */
export async function chargeMessageError(db: Queryable, id: number, budget: number): Promise<boolean> {
  const { rows } = await db.query(
    `update campaigns set message_errors = message_errors + 1,
       state = case when message_errors + 1 > $2 and state = 'running' then 'paused' else state end,
       pause_reason = case when message_errors + 1 > $2 and state = 'running' then 'error budget spent: too many message problems (5.7.x / rejected content)' else pause_reason end,
       updated_at = now()
     where id = $1 returning state`,
    [id, budget],
  );
  return rows[0]?.state === 'paused';
}

/**
 * An infrastructure failure. The first one starts the outage clock; when it has run longer than
 * limitMs the campaign pauses: a relay down for long is ours to fix, not the recipients' problem.
 */
export async function noteOutage(db: Queryable, id: number, limitMs: number, reply: string): Promise<boolean> {
  const { rows } = await db.query(
    `update campaigns set outage_since = coalesce(outage_since, now()),
       state = case when state = 'running' and outage_since < now() - make_interval(secs => $2::double precision / 1000) then 'paused' else state end,
       pause_reason = case when state = 'running' and outage_since < now() - make_interval(secs => $2::double precision / 1000)
         then 'mail relay unreachable for too long: ' || $3 else pause_reason end,
       updated_at = now()
     where id = $1 returning state`,
    [id, limitMs, reply.slice(0, 300)],
  );
  return rows[0]?.state === 'paused';
}

/** Any success ends an outage. Cheap when there is none: the predicate locks nothing. */
export async function clearOutage(db: Queryable, id: number): Promise<void> {
  await db.query('update campaigns set outage_since = null where id = $1 and outage_since is not null', [id]);
}
