// Notices and their ledger. A state change is one statement that locks the rows, checks the state
// they are in, updates them and appends one ledger row each: transition() for every move, and the
// two hot paths that write their own statement (the claim and the sent record, both here). All three make only moves of the notice machine
// (src/domain/notice-machine.ts) and refuse any other.
import { createHash } from 'node:crypto';
import type { NoticeState } from '../domain/notice-state.ts';
import { assertMoves } from '../domain/notice-machine.ts';

export type { Queryable } from './pool.ts';
import type { Queryable } from './pool.ts';

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

/** `now` is the caller's clock: the lease is measured against it and the claim stamped with it. */
export async function claimForSend(db: Queryable, noticeIds: readonly number[], leaseMs: number, now: Date = new Date()): Promise<ClaimedNotice[]> {
  if (!noticeIds.length) return [];
  const { rows } = await db.query({
    name: 'claim-for-send',
    text: `with o as (
       select n.id, n.state as from_state from notices n
       join campaigns c on c.id = n.campaign_id and c.state = 'running'
       where n.id = any($1::bigint[]) and (n.state = 'queued' or (n.state = 'sending' and n.claimed_at < $3::timestamptz - make_interval(secs => $2::double precision / 1000)))
       order by n.id
       for update of n skip locked
     ), u as (
       update notices n set state = 'sending', channel = 'email', attempts = n.attempts + 1, claimed_at = $3::timestamptz, updated_at = now()
       from o where n.id = o.id returning n.*, o.from_state
     ), e as (
       insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
       select id, campaign_id, from_state, 'sending', 'email', jsonb_build_object('attempt', attempts) from u
     )
     select u.*, c.name as campaign_name, c.template_version as campaign_template_version, c.extra_vars as campaign_extra_vars,
            c.outage_since is not null as campaign_in_outage,
            exists (select 1 from suppressions s where s.email_normalized = u.email_normalized) as suppressed
     from u join campaigns c on c.id = u.campaign_id order by u.id`,
    values: [noticeIds, leaseMs, now],
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

export interface SentRecord {
  id: number;
  messageId: string;
  providerMessageId: string | null;
  reply: string;
  templateVersion: string;
  attempt: number;
  /** sha256 of the exact message sent (its evidence). */
  messageSha256?: string | null;
}

assertMoves(['sending'], 'sent'); // the one move RECORD_SENT makes

const RECORD_SENT = `
  with v as (
    select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
      as v(id, message_id, provider_message_id, reply, template_version, attempt, message_sha256)
  ), o as (
    select n.id from notices n join v on v.id = n.id where n.state = 'sending' order by n.id for update of n
  ), u as (
    update notices n set state = 'sent', updated_at = now(), sent_at = now(), claimed_at = null, last_error = null,
      message_id = v.message_id, provider_message_id = v.provider_message_id, smtp_reply = v.reply, template_version = v.template_version
    from v join o on o.id = v.id where n.id = v.id
    returning n.id, n.campaign_id
  ), e as (
    insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
    select u.id, u.campaign_id, 'sending', 'sent', 'email',
      jsonb_build_object('message_id', v.message_id, 'provider_message_id', v.provider_message_id, 'reply', v.reply, 'template_version', v.template_version, 'attempt', v.attempt, 'message_sha256', v.message_sha256)
    from u join v on v.id = u.id
  )
  select id from u`;

/** Takes accepted sends; records those still 'sending' as sent (state, message ids, ledger) in one statement; returns their ids. */
export async function recordSent(db: Queryable, rs: readonly SentRecord[]): Promise<Set<number>> {
  const values = [rs.map((r) => r.id), rs.map((r) => r.messageId), rs.map((r) => r.providerMessageId), rs.map((r) => r.reply), rs.map((r) => r.templateVersion), rs.map((r) => r.attempt), rs.map((r) => r.messageSha256 ?? null)];
  const { rows } = await db.query({ name: 'record-sent', text: RECORD_SENT, values });
  return new Set(rows.map((x) => x.id as number));
}

/** takes: campaign, states, a limit; returns the first ids (by id) of its people in those states. */
export async function idsInStates(db: Queryable, campaignId: number, states: readonly NoticeState[], limit: number): Promise<number[]> {
  const { rows } = await db.query(`select id from notices where campaign_id = $1 and state = any($2::text[]) order by id limit $3`, [campaignId, states, limit]);
  return rows.map((r) => r.id as number);
}

/** takes: campaign and a notice id or a customer id; returns that person's row, or null. */
export async function noticeOfCampaign(db: Queryable, campaignId: number, who: { noticeId?: number; customerId?: string }): Promise<NoticeRow | null> {
  const { rows } = who.noticeId
    ? await db.query('select * from notices where campaign_id = $1 and id = $2', [campaignId, who.noticeId])
    : await db.query('select * from notices where campaign_id = $1 and customer_id = $2', [campaignId, who.customerId ?? '']);
  return (rows[0] as NoticeRow) ?? null;
}

/** The vendor's mailing date on people whose letter went out. */
export async function setMailedAt(tx: Queryable, ids: readonly number[], mailedAt: string): Promise<void> {
  await tx.query('update notices set mailed_at = $2 where id = any($1::bigint[]) and state = $3', [ids, mailedAt, 'mailed']);
}

export const ADDRESS_FIELDS = ['postal_code', 'prefecture', 'city', 'address_line1', 'address_line2', 'name'] as const;

/** takes: a person and the address fields to change (names from ADDRESS_FIELDS only); returns their id, campaign, state and mailings after. */
export async function correctAddress(tx: Queryable, noticeId: number, fields: ReadonlyArray<[(typeof ADDRESS_FIELDS)[number], string]>): Promise<Pick<NoticeRow, 'id' | 'campaign_id' | 'state'> & { mailings: number }> {
  for (const [k] of fields) if (!ADDRESS_FIELDS.includes(k)) throw new Error(`not an address field: ${k}`);
  const sets = fields.map(([k], i) => `${k} = $${i + 2}`);
  const { rows } = await tx.query(
    `update notices set ${sets.join(', ')}, address_corrected_at = now(), address_error = null, updated_at = now() where id = $1 returning id, campaign_id, state, mailings`,
    [noticeId, ...fields.map(([, v]) => v)],
  );
  return rows[0];
}

/** takes: campaign, a state; returns how many of its people are in it now (exact, from the table). */
export async function countInState(db: Queryable, campaignId: number, state: NoticeState): Promise<number> {
  const { rows } = await db.query(`select count(*)::int as n from notices where campaign_id = $1 and state = $2`, [campaignId, state]);
  return rows[0].n;
}

/** takes: a notice; returns its ids, state, channel and attempts (no name, no address), or null. */
export async function noticeSummary(db: Queryable, id: number): Promise<{ id: number; campaign_id: number; customer_id: string; state: NoticeState; channel: string | null; attempts: number } | null> {
  const { rows } = await db.query('select id::int, campaign_id::int, customer_id, state, channel, attempts from notices n where id = $1', [id]);
  return rows[0] ?? null;
}

/** takes: a notice; returns its whole ledger, oldest first. */
export async function ledgerOf(db: Queryable, id: number): Promise<Array<{ at: Date; from_state: NoticeState | null; to_state: NoticeState; detail: Record<string, unknown> }>> {
  const { rows } = await db.query('select at, from_state, to_state, detail from notice_events where notice_id = $1 order by id', [id]);
  return rows;
}

/** takes: a notice code; returns the code as stored, its campaign's name and state and when it launched (0 or 1 rows: /verify compares in constant time). */
export async function noticeCodeLookup(db: Queryable, code: string): Promise<Array<{ notice_code: string; name: string; state: string; launched: Date | null }>> {
  const { rows } = await db.query(
    `select n.notice_code, c.name, c.state,
            (select min(at) from campaign_events e where e.campaign_id = c.id and e.verb = 'launch') as launched
     from notices n join campaigns c on c.id = n.campaign_id where n.notice_code = $1`,
    [code],
  );
  return rows;
}

/**
 * Records, in each ledger, that every person of the campaign now unreachable is covered by the
 * announcement (one row each, the people locked so their chains stay in order); returns how many.
 * `noticeIds` limits it to those people (one who has just become unreachable).
 */
export async function noteCoverage(tx: Queryable, campaignId: number, announcementId: number, noticeIds?: readonly number[]): Promise<number> {
  const { rowCount } = await tx.query(
    `with p as (
       select id, campaign_id, state from notices
       where campaign_id = $1 and state = 'unreachable' and ($3::bigint[] is null or id = any($3::bigint[]))
       order by id for update
     )
     insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
     select id, campaign_id, state, state, 'announcement', jsonb_build_object('covered_by', 'public_announcement', 'announcement_id', $2::bigint) from p`,
    [campaignId, announcementId, noticeIds ?? null],
  );
  return rowCount ?? 0;
}
