// The campaign report: one row per person, their final state, channel, times and evidence,
// streamed with COPY so a million rows go straight to the file.
import { createWriteStream } from 'node:fs';
import pgCopy from 'pg-copy-streams';
import type { Db } from '../db/pool.ts';
import { withClient } from '../db/pool.ts';
import { ACCOUNTED, NOTIFIED } from '../domain/notice-state.ts';
import { EMAIL_PATTERN } from '../domain/redact.ts';
import { reconcileReport, reconciliationCsvLines, type Reconciliation } from './report-reconcile.ts';

/** Cells that start with = + - @ (or a tab/CR) are made inert for spreadsheets. */
const safe = (col: string) => `case when ${col} ~ '^[=+\\-@\\t\\r]' then '''' || ${col} else ${col} end`;

export const REPORT_COLUMNS = [
  'notice_id', 'notice_code', 'customer_id', 'segment', 'locale', 'final_state', 'channel', 'notified', 'attempts',
  'imported_at', 'sent_at', 'last_change_at', 'message_id', 'provider_message_id', 'smtp_reply', 'template_version',
  'postal_reason', 'last_error', 'batch_id', 'batch_seq', 'mailed_at', 'return_reason', 'address_error', 'accounted',
];


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
           n.state in (${ACCOUNTED.map((s) => `'${s}'`).join(', ')})
    from notices n where n.campaign_id = ${Number(id)} ${range} order by n.id`;
}

const PAGE_ROWS = 5000;

/** takes: campaign, last id of the page before; returns the last id of the next page (null: no more). */
async function pageEnd(db: Db, id: number, after: number): Promise<number | null> {
  const { rows } = await db.query(
    `select max(id)::bigint as last from (select id from notices where campaign_id = $1 and id > $2 order by id limit ${PAGE_ROWS}) p`,
    [id, after],
  );
  return rows[0].last ?? null;
}

/**
 * One row per person, written with COPY so a million rows stream straight out, and then the
 * reconciliation ("#" lines) that says whether everyone adds up. Returns the reconciliation.
 */
export async function writeReport(db: Db, id: number, out: NodeJS.WritableStream, audience: ReportAudience = 'operator'): Promise<Reconciliation> {
  out.write(REPORT_COLUMNS.join(',') + '\n');
  // Page by page: each page is copied out whole, its connection released, and only then written,
  // so a slow reader holds no PostgreSQL connection while it reads.
  for (let after = 0; ;) {
    const last = await pageEnd(db, id, after);
    if (last === null) break;
    const chunks: Buffer[] = [];
    await withClient(db, async (client) => {
      for await (const c of client.query(pgCopy.to(`copy (${rowsSelect(id, audience, `and n.id > ${Number(after)} and n.id <= ${Number(last)}`)}) to stdout with (format csv)`)) as AsyncIterable<Buffer>) chunks.push(c);
    });
    if (!out.write(Buffer.concat(chunks))) await new Promise((resolve) => out.once('drain', resolve));
    after = last;
  }
  const r = await reconcileReport(db, id);
  await new Promise<void>((resolve, reject) => out.end(reconciliationCsvLines(r), () => resolve()).on?.('error', reject));
  return r;
}

/** The same as JSON: {"reconciliation": {…}, "people": [{…}, …]}, the reconciliation first, paged by id. */
export async function writeReportJson(db: Db, id: number, out: NodeJS.WritableStream, audience: ReportAudience = 'operator'): Promise<Reconciliation> {
  const r = await reconcileReport(db, id);
  out.write(`{"reconciliation":${JSON.stringify(r)},"people":[`);
  const names = REPORT_COLUMNS.map((_, i) => `c${i + 1}`);
  let cursor = 0;
  let first = true;
  for (;;) {
    const { rows } = await db.query({ text: `select * from (${rowsSelect(id, audience)}) as t(${names.join(', ')}) where c1 > $1 order by c1 limit ${PAGE_ROWS}`, values: [cursor], rowMode: 'array' });
    if (!rows.length) break;
    const text = rows.map((row: unknown[]) => JSON.stringify(Object.fromEntries(REPORT_COLUMNS.map((c, i) => [c, row[i]])))).join(',');
    if (!out.write((first ? '' : ',') + text)) await new Promise((resolve) => out.once('drain', resolve));
    first = false;
    cursor = rows[rows.length - 1][0] as number;
  }
  await new Promise<void>((resolve) => out.end(']}', () => resolve()));
  return r;
}

export async function writeReportFile(db: Db, id: number, file: string, format: 'csv' | 'json' = 'csv'): Promise<Reconciliation> {
  const out = createWriteStream(file);
  return format === 'json' ? writeReportJson(db, id, out) : writeReport(db, id, out);
}
