// The campaign report: one row per person, their final state, channel, times and evidence,
// streamed with COPY so a million rows go straight to the file.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import type { Db } from '../db/pool.ts';
import { withClient } from '../db/pool.ts';
import { ACCOUNTED, NOTIFIED } from '../domain/notice-state.ts';
import { reconcileReport, reconciliationCsvLines, type Reconciliation } from './report-reconcile.ts';

/** Cells that start with = + - @ (or a tab/CR) are made inert for spreadsheets. */
const safe = (col: string) => `case when ${col} ~ '^[=+\\-@\\t\\r]' then '''' || ${col} else ${col} end`;

export const REPORT_COLUMNS = [
  'notice_id', 'notice_code', 'customer_id', 'segment', 'locale', 'final_state', 'channel', 'notified', 'attempts',
  'imported_at', 'sent_at', 'last_change_at', 'message_id', 'provider_message_id', 'smtp_reply', 'template_version',
  'postal_reason', 'last_error', 'batch_id', 'batch_seq', 'mailed_at', 'return_reason', 'address_error', 'accounted',
];


function rowsSelect(id: number): string {
  return `select n.id, n.notice_code, ${safe('n.customer_id')}, n.segment, n.locale, n.state, n.channel,
           n.state in (${NOTIFIED.map((s) => `'${s}'`).join(', ')}), n.attempts,
           to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           to_char(n.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           to_char(n.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           n.message_id, n.provider_message_id, ${safe('n.smtp_reply')}, n.template_version,
           (select e.detail->>'reason' from notice_events e where e.notice_id = n.id and e.to_state = 'postal_queued' order by e.id desc limit 1),
           ${safe('n.last_error')}, n.batch_id, (select bi.seq from batch_items bi where bi.batch_id = n.batch_id and bi.notice_id = n.id), n.mailed_at, ${safe('n.return_reason')}, ${safe('n.address_error')},
           n.state in (${ACCOUNTED.map((s) => `'${s}'`).join(', ')})
    from notices n where n.campaign_id = ${Number(id)} order by n.id`;
}

/**
 * One row per person, written with COPY so a million rows stream straight out, and then the
 * reconciliation ("#" lines) that says whether everyone adds up. Returns the reconciliation.
 */
export async function writeReport(db: Db, id: number, out: NodeJS.WritableStream): Promise<Reconciliation> {
  await withClient(db, async (client) => {
    out.write(REPORT_COLUMNS.join(',') + '\n');
    await pipeline(client.query(pgCopy.to(`copy (${rowsSelect(id)}) to stdout with (format csv)`)), out, { end: false });
  });
  const r = await reconcileReport(db, id);
  await new Promise<void>((resolve, reject) => out.end(reconciliationCsvLines(r), () => resolve()).on?.('error', reject));
  return r;
}

/** The same as JSON: {"reconciliation": {…}, "people": [{…}, …]}, the reconciliation first, paged by id. */
export async function writeReportJson(db: Db, id: number, out: NodeJS.WritableStream): Promise<Reconciliation> {
  const r = await reconcileReport(db, id);
  out.write(`{"reconciliation":${JSON.stringify(r)},"people":[`);
  const names = REPORT_COLUMNS.map((_, i) => `c${i + 1}`);
  let cursor = 0;
  let first = true;
  for (;;) {
    const { rows } = await db.query({ text: `select * from (${rowsSelect(id)}) as t(${names.join(', ')}) where c1 > $1 order by c1 limit 5000`, values: [cursor], rowMode: 'array' });
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
