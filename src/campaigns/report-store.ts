// The report's reads: one row per person (a SELECT the report pages through with COPY), and the
// counts the reconciliation (audit.ts), the status and the dry run add up.
import pgCopy from 'pg-copy-streams';
import { withClient, type Db, type Queryable } from '../db/pool.ts';
import { ACCOUNTED, NOTIFIED } from '../domain/notice-state.ts';
import { EMAIL_PATTERN } from '../domain/redact.ts';

/** Cells that start with = + - @ (or a tab/CR) are made inert for spreadsheets. */
const safe = (col: string) => `case when ${col} ~ '^[=+\\-@\\t\\r]' then '''' || ${col} else ${col} end`;

export const REPORT_COLUMNS = [
  'notice_id', 'notice_code', 'customer_id', 'segment', 'locale', 'final_state', 'channel', 'notified', 'attempts',
  'imported_at', 'sent_at', 'last_change_at', 'message_id', 'provider_message_id', 'smtp_reply', 'template_version',
  'postal_reason', 'last_error', 'batch_id', 'batch_seq', 'mailed_at', 'return_reason', 'address_error', 'accounted',
  'covered_by_announcement', 'evidence_level',
];

/**
 * How far each person is known to have got, as SQL over their row and ledger (the same levels as
 * their evidence file: src/campaigns/evidence.ts).
 */
export const EVIDENCE_LEVEL_SQL = `case n.state
  when 'delivered' then 'delivered'
  when 'delayed' then case when exists (select 1 from notice_events e where e.notice_id = n.id and e.detail->>'note' in ('auto_reply', 'challenge')) then 'auto_reply_from_mailbox' else 'email_delayed' end
  when 'sent' then case
    when exists (select 1 from notice_events e where e.notice_id = n.id and e.detail->>'note' in ('auto_reply', 'challenge')) then 'auto_reply_from_mailbox'
    when exists (select 1 from notice_events e where e.notice_id = n.id and e.detail->>'note' = 'relayed') then 'relayed_to_recipient_server'
    else 'accepted_by_our_relay' end
  when 'mailed' then 'letter_mailed'
  when 'returned' then 'letter_returned'
  when 'unreachable' then case when exists (select 1 from notice_events e where e.notice_id = n.id and e.detail->>'covered_by' = 'public_announcement') then 'public_announcement' else 'letter_returned' end
  else 'none' end`;

/** Who reads the report: a viewer never sees notice codes or the text of replies and errors (they quote addresses). */
export type ReportAudience = 'operator' | 'viewer';

const EMAIL_RE = `'${EMAIL_PATTERN.replaceAll("'", "''")}'`;
const masked = (col: string, audience: ReportAudience) => (audience === 'viewer' ? `regexp_replace(${safe(col)}, ${EMAIL_RE}, '[address]', 'g')` : safe(col));

/** The report's rows as one SELECT (the report pages through it; bench/report.ts copies it whole as its baseline). */
export function rowsSelect(id: number, audience: ReportAudience = 'operator', range = ''): string {
  return `select n.id, ${audience === 'viewer' ? 'null' : 'n.notice_code'}, ${safe('n.customer_id')}, n.segment, n.locale, n.state, n.channel,
           n.state in (${NOTIFIED.map((s) => `'${s}'`).join(', ')}), n.attempts,
           to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           to_char(n.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           to_char(n.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           n.message_id, n.provider_message_id, ${masked('n.smtp_reply', audience)}, n.template_version,
           (select e.detail->>'reason' from notice_events e where e.notice_id = n.id and e.to_state = 'postal_queued' order by e.id desc limit 1),
           ${masked('n.last_error', audience)}, n.batch_id, (select bi.seq from batch_items bi where bi.batch_id = n.batch_id and bi.notice_id = n.id), n.mailed_at,
           ${masked('n.return_reason', audience)}, ${audience === 'viewer' ? 'null' : safe('n.address_error')},
           n.state in (${ACCOUNTED.map((s) => `'${s}'`).join(', ')}),
           case when n.state = 'unreachable' then (select to_char(min(e.at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') from notice_events e where e.notice_id = n.id and e.detail->>'covered_by' = 'public_announcement') end,
           ${EVIDENCE_LEVEL_SQL}
    from notices n where n.campaign_id = ${Number(id)} ${range} order by n.id`;
}

const PAGE_ROWS = 5000;

/** takes: campaign, last id of the page before; returns the last id of the next page (null: no more). */
export async function pageEnd(db: Db, id: number, after: number): Promise<number | null> {
  const { rows } = await db.query(
    `select max(id)::bigint as last from (select id from notices where campaign_id = $1 and id > $2 order by id limit ${PAGE_ROWS}) p`,
    [id, after],
  );
  return rows[0].last ?? null;
}

/** takes: campaign, audience, a page's id range (after, last]; returns that page as CSV bytes (COPY). */
export async function copyReportPage(db: Db, id: number, audience: ReportAudience, after: number, last: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await withClient(db, async (client) => {
    for await (const c of client.query(pgCopy.to(`copy (${rowsSelect(id, audience, `and n.id > ${Number(after)} and n.id <= ${Number(last)}`)}) to stdout with (format csv)`)) as AsyncIterable<Buffer>) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

/** takes: campaign, audience, the last id read; returns the next page of report rows as arrays (REPORT_COLUMNS order). */
export async function reportRowsAfter(db: Queryable, id: number, audience: ReportAudience, cursor: number): Promise<unknown[][]> {
  const names = REPORT_COLUMNS.map((_, i) => `c${i + 1}`);
  const { rows } = await db.query({ text: `select * from (${rowsSelect(id, audience)}) as t(${names.join(', ')}) where c1 > $1 order by c1 limit ${PAGE_ROWS}`, values: [cursor], rowMode: 'array' });
  return rows;
}

export interface Unaccounted {
  notice_id: number;
  customer_id: string;
  state: string;
  why: string;
}

/** takes: campaign; returns people per (state, channel) ('none' for no channel). */
export async function stateChannelCounts(db: Queryable, campaignId: number): Promise<Array<{ state: string; channel: 'email' | 'postal' | 'none'; n: number }>> {
  const { rows } = await db.query(`select state, coalesce(channel, 'none') as channel, count(*)::int as n from notices where campaign_id = $1 group by 1, 2`, [campaignId]);
  return rows;
}

/** takes: campaign; returns what its imports accepted, rejected and found duplicated, summed. */
export async function importTotals(db: Queryable, campaignId: number): Promise<{ accepted: number; rejected: number; duplicates: number }> {
  const { rows } = await db.query(`select coalesce(sum(accepted), 0)::int as accepted, coalesce(sum(rejected), 0)::int as rejected, coalesce(sum(duplicates), 0)::int as duplicates from import_runs where campaign_id = $1`, [campaignId]);
  return rows[0];
}

/**
 * takes: campaign; returns, by id, everyone not accounted for: not told and nobody's to act on; or
 * a state their own ledger does not end in; or a channel that does not fit the state.
 */
export async function unaccountedRows(db: Queryable, campaignId: number): Promise<Unaccounted[]> {
  const accountedStates = ACCOUNTED.map((s) => `'${s}'`).join(', ');
  // Not told and nobody's to act on; or a state the person's own ledger does not end in; or a
  // channel that does not fit the state.
  const { rows } = await db.query(
    `select n.id as notice_id, n.customer_id, n.state,
            case when coalesce(e.to_state, 'pending') <> n.state then 'state ' || n.state || ' but the ledger says ' || coalesce(e.to_state, 'nothing happened (pending)')
                 when n.state in ('sent', 'delayed', 'delivered') and n.channel is distinct from 'email' then 'state ' || n.state || ' on channel ' || coalesce(n.channel, 'none')
                 when n.state in ('batched', 'printed', 'mailed', 'returned', 'unreachable') and n.channel is distinct from 'postal' then 'state ' || n.state || ' on channel ' || coalesce(n.channel, 'none')
                 else 'still ' || n.state || ': not yet told, and in no state someone acts on by name' end as why
     from notices n
     left join lateral (select to_state from notice_events x where x.notice_id = n.id order by x.id desc limit 1) e on true
     where n.campaign_id = $1 and (
       n.state not in (${accountedStates})
       or coalesce(e.to_state, 'pending') <> n.state
       or (n.state in ('sent', 'delayed', 'delivered') and n.channel is distinct from 'email')
       or (n.state in ('batched', 'printed', 'mailed', 'returned', 'unreachable') and n.channel is distinct from 'postal'))
     order by n.id`,
    [campaignId],
  );
  return rows;
}

/** takes: campaign, a window in seconds, now; returns the people who left sending/pending for an outcome in it, and the seconds since the first. */
export async function settledLately(db: Queryable, campaignId: number, windowS: number, now: Date): Promise<{ n: number; span: number | null }> {
  const { rows } = await db.query(
    `select count(*)::int as n, extract(epoch from $3::timestamptz - min(at))::float as span from notice_events
     where campaign_id = $1 and from_state in ('sending', 'pending') and to_state <> 'queued' and at > $3::timestamptz - make_interval(secs => $2)`,
    [campaignId, windowS, now],
  );
  return rows[0];
}

/** takes: campaign; returns people not yet told per segment × locale, with what decides their channel (the plan decides). */
export async function reachBySegment(db: Queryable, campaignId: number): Promise<Array<{ segment: string; locale: string; hasEmail: boolean; suppressed: boolean; n: number }>> {
  const { rows } = await db.query(
    `select n.segment, n.locale, n.email_normalized is not null as "hasEmail", s.email_normalized is not null as suppressed, count(*)::int as n
     from notices n left join suppressions s on s.email_normalized = n.email_normalized
     where n.campaign_id = $1 and n.state in ('pending', 'queued') group by 1, 2, 3, 4 order by 1, 2`,
    [campaignId],
  );
  return rows;
}

/** takes: campaign; returns the first and last email sent (to people told by email) and letter mailed (vendor's dates). */
export async function noticeDates(db: Queryable, campaignId: number): Promise<{ first_email: Date | null; last_email: Date | null; first_letter: string | null; last_letter: string | null }> {
  const { rows } = await db.query(
    `select min(sent_at) filter (where state in ('sent', 'delivered')) as first_email, max(sent_at) filter (where state in ('sent', 'delivered')) as last_email,
            min(mailed_at) filter (where state = 'mailed')::text as first_letter, max(mailed_at) filter (where state = 'mailed')::text as last_letter
     from notices where campaign_id = $1`,
    [campaignId],
  );
  return rows[0];
}

/** takes: campaign; returns how many unreachable people the public announcement covers (their ledger says so). */
export async function coveredCount(db: Queryable, campaignId: number): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from notices n where n.campaign_id = $1 and n.state = 'unreachable'
       and exists (select 1 from notice_events e where e.notice_id = n.id and e.detail->>'covered_by' = 'public_announcement')`,
    [campaignId],
  );
  return rows[0].n;
}
