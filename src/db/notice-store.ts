// Notices and their ledger. A state change is one statement that locks the rows, checks the state
// they are in, updates them and appends one ledger row each: transition() for every move, and the
// two hot paths that write their own statement (the claim here, the sent record in
// mail/sent-recorder.ts). All three make only moves of the notice machine
// (src/domain/notice-machine.ts) and refuse any other.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { NoticeState } from '../domain/notice-state.ts';
import { assertMoves } from '../domain/notice-machine.ts';

export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface NoticeRow {
  id: number;
  campaign_id: number;
  customer_id: string;
  notice_code: string;
  name: string;
  email: string | null;
  email_normalized: string | null;
  postal_code: string | null;
  prefecture: string;
  city: string;
  address_line1: string;
  address_line2: string;
  locale: string;
  segment: string;
  extra: Record<string, string>;
  state: NoticeState;
  attempts: number;
  claimed_at: Date | null;
  message_id: string | null;
}

/** Columns a transition may set, with the SQL type of their parameter. */
const SETTABLE = {
  channel: 'text',
  message_id: 'text',
  provider_message_id: 'text',
  smtp_reply: 'text',
  template_version: 'text',
  last_error: 'text',
  address_error: 'text',
  return_reason: 'text',
  batch_id: 'bigint',
} as const;
type Settable = keyof typeof SETTABLE;

export interface TransitionOptions {
  ids: readonly number[];
  from: readonly NoticeState[];
  to: NoticeState;
  channel?: 'email' | 'postal' | null;
  detail?: Record<string, unknown>;
  set?: Partial<Record<Settable, string | number | null>>;
  /** Extra SQL assignments, from code in this file only (never from input). */
  also?: 'unclaim' | 'refund-attempt' | 'soft-bounce' | 'mailed';
  /**
   * Return only the ids (id, campaign_id, channel, state, from_state), not whole rows: the relay
   * moves a million people and needs nothing else (and no personal data should travel for it).
   */
  slim?: boolean;
}

const ALSO: Record<NonNullable<TransitionOptions['also']>, string> = {
  unclaim: 'claimed_at = null',
  'refund-attempt': 'attempts = greatest(n.attempts - 1, 0), claimed_at = null',
  'soft-bounce': 'soft_bounces = n.soft_bounces + 1',
  mailed: 'mailings = n.mailings + 1',
};

const names = new Map<string, string>();
const statementName = (text: string) => {
  let name = names.get(text);
  if (!name) names.set(text, (name = `transition-${createHash('sha1').update(text).digest('hex').slice(0, 12)}`));
  return name;
};

export type TransitionedRow = NoticeRow & { from_state: NoticeState };

export async function transition(db: Queryable, o: TransitionOptions): Promise<TransitionedRow[]> {
  assertMoves(o.from, o.to);
  if (o.ids.length === 0) return [];
  const params: unknown[] = [o.ids, o.from, o.to, o.channel ?? null, JSON.stringify(o.detail ?? {})];
  const sets = ['state = $3', 'updated_at = now()', 'channel = coalesce($4, n.channel)'];
  for (const [col, value] of Object.entries(o.set ?? {})) {
    if (!(col in SETTABLE)) throw new Error(`transition: ${col} is not settable`);
    params.push(value);
    sets.push(`${col} = $${params.length}::${SETTABLE[col as Settable]}`);
  }
  if (o.also) sets.push(ALSO[o.also]);
  const sql = `
    with o as (
      select n.id, n.state as from_state from notices n
      where n.id = any($1::bigint[]) and n.state = any($2::text[])
      order by n.id
      for update of n
    ), u as (
      update notices n set ${sets.join(', ')} from o where n.id = o.id and n.state = o.from_state
      returning ${o.slim ? 'n.id, n.campaign_id, n.channel, n.state' : 'n.*'}, o.from_state
    ), e as (
      insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
      select u.id, u.campaign_id, u.from_state, $3, coalesce($4, u.channel), $5::jsonb from u
    )
    select * from u order by id`;
  // Named: each distinct transition is parsed and planned once per connection, not per call.
  const { rows } = await db.query({ name: statementName(sql), text: sql, values: params });
  return rows as TransitionedRow[];
}

export type ClaimedNotice = TransitionedRow & {
  campaign_name: string;
  campaign_template_version: string;
  campaign_extra_vars: string[];
  campaign_in_outage: boolean;
  suppressed: boolean;
};

/**
 * The claim: queued (or sending past its lease) → sending, only while the campaign runs, with
 * what the send needs (campaign, suppression) in the same round trip. Many at once (a chunk of
 * the relay's window) in one statement; a notice claimed by someone else is not returned.
 */
assertMoves(['queued', 'sending'], 'sending'); // the claim's own statement below

export async function claimForSend(db: Queryable, noticeIds: readonly number[], leaseMs: number): Promise<ClaimedNotice[]> {
  if (!noticeIds.length) return [];
  const { rows } = await db.query({
    name: 'claim-for-send',
    text: `with o as (
       select n.id, n.state as from_state from notices n
       join campaigns c on c.id = n.campaign_id and c.state = 'running'
       where n.id = any($1::bigint[]) and (n.state = 'queued' or (n.state = 'sending' and n.claimed_at < now() - make_interval(secs => $2::double precision / 1000)))
       order by n.id
       for update of n skip locked
     ), u as (
       update notices n set state = 'sending', channel = 'email', attempts = n.attempts + 1, claimed_at = now(), updated_at = now()
       from o where n.id = o.id returning n.*, o.from_state
     ), e as (
       insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
       select id, campaign_id, from_state, 'sending', 'email', jsonb_build_object('attempt', attempts) from u
     )
     select u.*, c.name as campaign_name, c.template_version as campaign_template_version, c.extra_vars as campaign_extra_vars,
            c.outage_since is not null as campaign_in_outage,
            exists (select 1 from suppressions s where s.email_normalized = u.email_normalized) as suppressed
     from u join campaigns c on c.id = u.campaign_id order by u.id`,
    values: [noticeIds, leaseMs],
  });
  return rows as ClaimedNotice[];
}

/** Where the notices a claim did not take are, and their campaign's state (why not). */
export async function statesOf(db: Queryable, noticeIds: readonly number[]): Promise<Array<{ id: number; campaign_id: number; state: NoticeState; campaign_state: string }>> {
  if (!noticeIds.length) return [];
  const { rows } = await db.query(
    `select n.id, n.campaign_id, n.state, c.state as campaign_state from notices n join campaigns c on c.id = n.campaign_id where n.id = any($1::bigint[])`,
    [noticeIds],
  );
  return rows;
}

export async function getNotice(db: Queryable, id: number): Promise<NoticeRow | null> {
  const { rows } = await db.query('select * from notices where id = $1', [id]);
  return (rows[0] as NoticeRow) ?? null;
}

/** The notice, locked for this transaction; 'locked' when another transaction holds it now. */
export async function lockNotice(db: Queryable, id: number): Promise<NoticeRow | 'locked' | null> {
  const { rows } = await db.query('select * from notices where id = $1 for update skip locked', [id]);
  if (rows[0]) return rows[0] as NoticeRow;
  const exists = await db.query('select 1 from notices where id = $1', [id]);
  return exists.rows.length ? 'locked' : null;
}

export async function isSuppressed(db: Queryable, emailNormalized: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from suppressions where email_normalized = $1', [emailNormalized]);
  return rows.length > 0;
}

export async function suppress(db: Queryable, emailNormalized: string, reason: 'hard_bounce' | 'complaint' | 'ops', detail: string): Promise<void> {
  await db.query(
    'insert into suppressions (email_normalized, reason, detail) values ($1, $2, $3) on conflict (email_normalized) do nothing',
    [emailNormalized, reason, detail],
  );
}

export interface NoticeEvent {
  id: number;
  at: Date;
  from_state: string | null;
  to_state: string;
  channel: string | null;
  detail: Record<string, unknown>;
}

export async function eventsOf(db: Queryable, noticeId: number): Promise<NoticeEvent[]> {
  const { rows } = await db.query('select id, at, from_state, to_state, channel, detail from notice_events where notice_id = $1 order by id', [noticeId]);
  return rows as NoticeEvent[];
}

/**
 * A ledger row that records something about a person without moving them (a complaint, an
 * address correction): transition()'s sibling, the only other writer of notice_events.
 */
export async function noteEvent(db: Queryable, n: Pick<NoticeRow, 'id' | 'campaign_id' | 'state'>, channel: 'email' | 'postal' | null, detail: Record<string, unknown>): Promise<void> {
  await db.query(
    `insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail) values ($1, $2, $3, $3, $4, $5)`,
    [n.id, n.campaign_id, n.state, channel, JSON.stringify(detail)],
  );
}

/** The notice SES gave this MessageId (the SES webhook's lookup; indexed). */
export const NOTICE_BY_PROVIDER_ID = 'select id from notices where provider_message_id = $1';

export async function noticeByProviderMessageId(db: Queryable, providerMessageId: string): Promise<number | null> {
  const { rows } = await db.query({ name: 'notice-by-provider-id', text: NOTICE_BY_PROVIDER_ID, values: [providerMessageId] });
  return rows[0]?.id ?? null;
}
