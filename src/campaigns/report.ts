// The campaign report: one row per person, their final state, channel, times and evidence,
// streamed with COPY so a million rows go straight to the file.
import { createWriteStream } from 'node:fs';
import type { Db } from '../db/pool.ts';
import { copyReportPage, pageEnd, REPORT_COLUMNS, reportRowsAfter, type ReportAudience } from './report-store.ts';
import { reconcileReport, reconciliationCsvLines, type Reconciliation } from './audit.ts';
import { chainHeads } from '../db/ledger-chain.ts';

/** The ledger's root over every person's chain head and the campaign ledger's head: what a copy of the report pins (first of the "#" lines, the reconciliation last). */
const ledgerLine = (h: Awaited<ReturnType<typeof chainHeads>>) =>
  `# ledger: ${h.people} person chains, root sha256 ${h.root ?? '(none yet)'}; campaign ledger head ${h.campaignHead ?? '(none)'} (notice ledger verify recomputes both)\n`;

export { REPORT_COLUMNS, type ReportAudience };

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
    const page = await copyReportPage(db, id, audience, after, last);
    if (!out.write(page)) await new Promise((resolve) => out.once('drain', resolve));
    after = last;
  }
  const r = await reconcileReport(db, id);
  const heads = await chainHeads(db, id);
  await new Promise<void>((resolve, reject) => out.end(reconciliationCsvLines(r).replace(/^#\n/, `#\n${ledgerLine(heads)}`), () => resolve()).on?.('error', reject));
  return r;
}

/** The same as JSON: {"reconciliation": {…}, "people": [{…}, …]}, the reconciliation first, paged by id. */
export async function writeReportJson(db: Db, id: number, out: NodeJS.WritableStream, audience: ReportAudience = 'operator'): Promise<Reconciliation> {
  const r = await reconcileReport(db, id);
  out.write(`{"reconciliation":${JSON.stringify(r)},"ledger":${JSON.stringify(await chainHeads(db, id))},"people":[`);
  let cursor = 0;
  let first = true;
  for (;;) {
    const rows = await reportRowsAfter(db, id, audience, cursor);
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
