// What ops see: counts per state, the settle rate over the last minute, an ETA; and the report.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import type { Db } from '../db/pool.ts';
import { getCampaign } from '../db/campaign-store.ts';
import { ACCOUNTED, EMAIL_OPEN, NOTICE_STATES, NOTIFIED, type NoticeState } from '../domain/notice-state.ts';

export interface CampaignStatus {
  id: number;
  name: string;
  state: string;
  pauseReason: string | null;
  total: number;
  counts: Record<NoticeState, number>;
  notified: number;
  open: number;
  ratePerSec: number;
  etaSeconds: number | null;
  emailPhaseDone: boolean;
}

const RATE_WINDOW_S = 60;

export async function campaignStatus(db: Db, id: number): Promise<CampaignStatus | null> {
  const c = await getCampaign(db, id);
  if (!c) return null;
  const counts = Object.fromEntries(NOTICE_STATES.map((s) => [s, 0])) as Record<NoticeState, number>;
  const { rows } = await db.query('select state, count(*)::int as n from notices where campaign_id = $1 group by state', [id]);
  for (const r of rows) counts[r.state as NoticeState] = r.n;
  const settled = await db.query(
    `select count(*)::int as n, extract(epoch from now() - min(at)) as span from notice_events
     where campaign_id = $1 and from_state in ('sending', 'pending') and to_state <> 'queued' and at > now() - make_interval(secs => $2)`,
    [id, RATE_WINDOW_S],
  );
  const span = Math.max(1, Math.min(RATE_WINDOW_S, Number(settled.rows[0].span ?? RATE_WINDOW_S)));
  const ratePerSec = settled.rows[0].n / span;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const open = EMAIL_OPEN.reduce((a, s) => a + counts[s], 0);
  return {
    id, name: c.name, state: c.state, pauseReason: c.pause_reason, total, counts,
    notified: NOTIFIED.reduce((a, s) => a + counts[s], 0),
    open, ratePerSec: Math.round(ratePerSec * 10) / 10,
    etaSeconds: open === 0 ? 0 : ratePerSec > 0 && c.state === 'running' ? Math.ceil(open / ratePerSec) : null,
    emailPhaseDone: open === 0,
  };
}

/** Cells that start with = + - @ (or a tab/CR) are made inert for spreadsheets. */
const safe = (col: string) => `case when ${col} ~ '^[=+\\-@\\t\\r]' then '''' || ${col} else ${col} end`;

export const REPORT_COLUMNS = [
  'notice_id', 'notice_code', 'customer_id', 'segment', 'locale', 'final_state', 'channel', 'notified', 'attempts',
  'imported_at', 'sent_at', 'last_change_at', 'message_id', 'provider_message_id', 'smtp_reply', 'template_version',
  'postal_reason', 'last_error', 'batch_id', 'batch_seq', 'mailed_at', 'return_reason', 'address_error', 'accounted',
];


/** One row per person; written with COPY so a million rows stream straight to the file. */
export async function writeReport(db: Db, id: number, out: NodeJS.WritableStream): Promise<void> {
  const sql = `copy (
    select n.id, n.notice_code, ${safe('n.customer_id')}, n.segment, n.locale, n.state, n.channel,
           n.state in (${NOTIFIED.map((s) => `'${s}'`).join(', ')}), n.attempts,
           to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           to_char(n.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           to_char(n.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           n.message_id, n.provider_message_id, ${safe('n.smtp_reply')}, n.template_version,
           (select e.detail->>'reason' from notice_events e where e.notice_id = n.id and e.to_state = 'postal_queued' order by e.id desc limit 1),
           ${safe('n.last_error')}, n.batch_id, (select bi.seq from batch_items bi where bi.batch_id = n.batch_id and bi.notice_id = n.id), n.mailed_at, ${safe('n.return_reason')}, ${safe('n.address_error')},
           n.state in (${ACCOUNTED.map((s) => `'${s}'`).join(', ')})
    from notices n where n.campaign_id = ${Number(id)} order by n.id
  ) to stdout with (format csv)`;
  const client = await db.connect();
  try {
    out.write(REPORT_COLUMNS.join(',') + '\n');
    await pipeline(client.query(pgCopy.to(sql)), out);
  } finally {
    client.release();
  }
}

export async function writeReportFile(db: Db, id: number, file: string): Promise<void> {
  await writeReport(db, id, createWriteStream(file));
}
