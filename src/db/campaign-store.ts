// Campaigns: state, pause reasons, the error budget and outage tracking.
import type { Queryable } from './notice-store.ts';
import type { CampaignState } from '../domain/campaign-state.ts';
import { redactAddresses } from '../domain/redact.ts';

export type { CampaignState };

export interface CampaignRow {
  id: number;
  name: string;
  state: CampaignState;
  pause_reason: string | null;
  paused_by: string | null;
  template_version: string;
  extra_vars: string[];
  message_errors: number;
  outage_since: Date | null;
  vendor_id: number | null;
  discovered_on: string | null;
  deadline_basis: string | null;
  quiet_from: string | null;
  quiet_to: string | null;
  time_zone: string;
  hourly_cap: number | null;
  relay_cursor: number;
  /** The reputation brakes' last verdict (level, rates, why). */
  reputation: { level: 'ok' | 'slowed' | 'pause'; hardRate: number; complaintRate: number; sends: number; why: string | null; at: string } | null;
  /** Letter class per segment (普通, 特定記録); a segment not named is 普通. */
  letter_classes: Record<string, string>;
  /** What an operator acknowledged by resuming after a reputation pause. */
  reputation_ack: { hardRate: number; complaintRate: number } | null;
  /** Per campaign; null: EMAIL_CONFIRM_DEADLINE_MS. */
  email_confirm_deadline_ms: number | null;
  priority: number;
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

export interface StateChange {
  /** Who: `operator:<name>`, `cli`, or `system:<what>` for automatic pauses. */
  actor: string;
  verb: string;
  reason?: string | null;
}

/**
 * Move a campaign between states and write the campaign ledger row, in one statement; returns
 * false when it was not in one of `from` (someone else moved it first).
 */
export async function setCampaignState(db: Queryable, id: number, from: readonly CampaignState[], to: CampaignState, change: StateChange): Promise<boolean> {
  const { rows } = await db.query(
    `with o as (select id, state from campaigns where id = $1 and state = any($2::text[]) for update),
     u as (
       update campaigns c set state = $3, pause_reason = $4, paused_by = case when $3 = 'paused' then $5 else null end, updated_at = now(),
         outage_since = case when $3 = 'running' then null else c.outage_since end,
         message_errors = case when $3 = 'running' then 0 else c.message_errors end
       from o where c.id = o.id returning c.id
     ), e as (
       insert into campaign_events (campaign_id, verb, from_state, to_state, actor, reason)
       select o.id, $6, o.state, $3, $5, $4 from o join u on u.id = o.id
     )
     select id from u`,
    [id, from, to, change.reason ?? null, change.actor, change.verb],
  );
  return rows.length > 0;
}

/** Pause a running campaign on the system's own decision (config refused, outage, error budget). */
export function pauseBySystem(db: Queryable, id: number, actor: string, reason: string): Promise<boolean> {
  return setCampaignState(db, id, ['running'], 'paused', { actor: `system:${actor}`, verb: 'pause', reason: redactAddresses(reason).slice(0, 300) });
}

/** A message problem (5.7.x); pauses the campaign when the budget is spent. Returns true if it paused. */
export async function chargeMessageError(db: Queryable, id: number, budget: number): Promise<boolean> {
  const { rows } = await db.query(
    `update campaigns set message_errors = message_errors + 1, updated_at = now() where id = $1 returning state, message_errors`,
    [id],
  );
  if (rows[0]?.state !== 'running' || rows[0].message_errors <= budget) return false;
  return pauseBySystem(db, id, 'error-budget', 'error budget spent: too many message problems (5.7.x / rejected content)');
}

/**
 * An infrastructure failure. The first one starts the outage clock; when it has run longer than
 * limitMs the campaign pauses: a relay down for long is ours to fix, not the recipients' problem.
 */
export async function noteOutage(db: Queryable, id: number, limitMs: number, reply: string, now: Date = new Date()): Promise<boolean> {
  const { rows } = await db.query(
    `update campaigns set outage_since = coalesce(outage_since, $3::timestamptz)
     where id = $1 returning state, outage_since < $3::timestamptz - make_interval(secs => $2::double precision / 1000) as too_long`,
    [id, limitMs, now],
  );
  if (rows[0]?.state !== 'running' || !rows[0].too_long) return false;
  return pauseBySystem(db, id, 'outage', `mail relay unreachable for too long: ${reply}`);
}

/** Any success ends an outage. Cheap when there is none: the predicate locks nothing. */
export async function clearOutage(db: Queryable, id: number): Promise<void> {
  await db.query('update campaigns set outage_since = null where id = $1 and outage_since is not null', [id]);
}

/**
 * A write to a campaign that is not a change of state (created, a file imported, the vendor, the
 * deadline or the pacing set, a test send) goes in the campaign ledger too, with who did it.
 */
export async function noteCampaignEvent(db: Queryable, id: number, verb: string, actor: string, reason: string | null = null): Promise<void> {
  await db.query(
    `insert into campaign_events (campaign_id, verb, from_state, to_state, actor, reason)
     select id, $2, state, state, $3, $4 from campaigns where id = $1`,
    [id, verb, actor, reason],
  );
}

/** An update of campaign settings and its ledger row, in one statement; false when no such campaign. */
async function setAndNote(db: Queryable, id: number, set: string, values: unknown[], verb: string, actor: string, reason: string): Promise<boolean> {
  const n = values.length + 2;
  const { rows } = await db.query(
    `with u as (update campaigns set ${set} where id = $1 returning id, state)
     insert into campaign_events (campaign_id, verb, from_state, to_state, actor, reason)
     select id, $${n}, state, state, $${n + 1}, $${n + 2} from u returning campaign_id`,
    [id, ...values, verb, actor, reason],
  );
  return rows.length > 0;
}

/** Name the printing vendor of a campaign; false when there is no such campaign. */
export function setCampaignVendor(db: Queryable, id: number, vendorId: number, actor = 'cli'): Promise<boolean> {
  return setAndNote(db, id, 'vendor_id = $2', [vendorId], 'vendor', actor, `vendor ${vendorId}`);
}

/** The legal clock: when the incident was discovered, and whether unauthorised access caused it. */
export function setCampaignDeadline(db: Queryable, id: number, discoveredOn: string, basis: 'unauthorized_access' | 'other', actor = 'cli'): Promise<boolean> {
  return setAndNote(db, id, 'discovered_on = $2, deadline_basis = $3', [discoveredOn, basis], 'deadline', actor, `discovered ${discoveredOn} (${basis})`);
}

/** How long a delayed email may wait for a final answer before the person gets a letter (null: EMAIL_CONFIRM_DEADLINE_MS). */
export function setCampaignConfirmDeadline(db: Queryable, id: number, ms: number | null, actor = 'cli'): Promise<boolean> {
  return setAndNote(db, id, 'email_confirm_deadline_ms = $2', [ms], 'confirm_deadline', actor, ms ? `email confirmation deadline ${ms / 3_600_000} h` : 'email confirmation deadline: the default');
}

/** Quiet hours ("HH:MM", both or neither), their time zone, and the hourly cap (null: none). */
export function setCampaignPacing(db: Queryable, id: number, p: { quietFrom: string | null; quietTo: string | null; timeZone: string; hourlyCap: number | null }, actor = 'cli'): Promise<boolean> {
  const what = `${p.quietFrom ? `quiet ${p.quietFrom}-${p.quietTo} ${p.timeZone}` : 'no quiet hours'}, ${p.hourlyCap ? `at most ${p.hourlyCap}/hour` : 'no hourly cap'}`;
  return setAndNote(db, id, 'quiet_from = $2, quiet_to = $3, time_zone = $4, hourly_cap = $5', [p.quietFrom, p.quietTo, p.timeZone, p.hourlyCap], 'pacing', actor, what);
}

export async function campaignStateOf(db: Queryable, id: number): Promise<CampaignState | null> {
  const { rows } = await db.query('select state from campaigns where id = $1', [id]);
  return rows[0]?.state ?? null;
}

/** takes: campaign; returns its quiet hours, time zone and hourly cap (the pacing gate reads them every second). */
export async function pacingColumns(db: Queryable, id: number): Promise<Pick<CampaignRow, 'quiet_from' | 'quiet_to' | 'time_zone' | 'hourly_cap' | 'reputation'> | null> {
  const { rows } = await db.query('select quiet_from, quiet_to, time_zone, hourly_cap, reputation from campaigns where id = $1', [id]);
  return rows[0] ?? null;
}

/** returns the newest campaigns first (id, name, state, created_at), at most `limit`. */
export async function listCampaigns(db: Queryable, limit: number): Promise<Array<{ id: number; name: string; state: CampaignState; created_at: Date }>> {
  const { rows } = await db.query(`select id::int, name, state, created_at from campaigns order by id desc limit $1`, [limit]);
  return rows;
}

/** takes: campaign; returns its ledger (every write: verb, states, who, why), oldest first. */
export async function campaignEvents(db: Queryable, id: number): Promise<Array<{ at: Date; verb: string; from_state: string; to_state: string; actor: string; reason: string | null }>> {
  const { rows } = await db.query('select at, verb, from_state, to_state, actor, reason from campaign_events where campaign_id = $1 order by id', [id]);
  return rows;
}

/** takes: campaign, segment → letter class (普通 | 特定記録); noted in the campaign ledger. */
export async function setLetterClasses(db: Queryable, id: number, classes: Record<string, string>, actor: string): Promise<void> {
  await db.query(`update campaigns set letter_classes = $2, updated_at = now() where id = $1`, [id, JSON.stringify(classes)]);
  await noteCampaignEvent(db, id, 'set_letter_classes', actor, JSON.stringify(classes));
}

/** takes: how many; returns the newest campaigns, whole rows (the console's list). */
export async function listCampaignRows(db: Queryable, limit: number): Promise<Array<CampaignRow & { created_at: Date }>> {
  const { rows } = await db.query('select * from campaigns order by id desc limit $1', [limit]);
  return rows;
}
