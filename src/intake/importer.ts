// Streaming import: file → (Shift_JIS decode) → csv-parse → validate → COPY into a staging table
// → dedupe → notices + ledger, all in one transaction: a file is imported whole or not at all,
// and its bad rows are reported with line, field and reason.
import { PermanentError } from '../domain/errors.ts';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import type { Db } from '../db/pool.ts';
import { lockForTransaction, savepoint, withTransaction, type DbClient } from '../db/pool.ts';
import { copyInto, createStage, emailSharers, finishImportRun, insertStaged, stagedNotInserted, startImportRun } from './import-store.ts';
import { getCampaign, noteCampaignEvent } from '../db/campaign-store.ts';
import { REQUIRED_COLUMNS, isCardColumn, validateRow, type Recipient, type RowIssue, type RowRules } from '../domain/recipient.ts';
import type { TemplateCache } from '../db/template-store.ts';
import { copyLine } from './copy-text.ts';
import { newNoticeCode } from './notice-code.ts';
import { EncodingError, resolveEncoding, type Encoding, type EncodingChoice } from './encoding.ts';
import { LOCK } from '../db/locks.ts';

export type { Encoding, EncodingChoice } from './encoding.ts';

export interface LineIssue extends RowIssue {
  line: number;
}

export interface ImportReport {
  file: string;
  campaignId: number;
  rows: number;
  accepted: number;
  duplicates: LineIssue[];
  rejected: LineIssue[];
  warnings: LineIssue[];
  droppedColumns: string[];
  undeclaredColumns: string[];
  /** The encoding the file was read in, and whether it was detected (not given). */
  encoding: Encoding;
  encodingDetected: boolean;
}

export class ImportFileError extends PermanentError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super('invalid', line > 0 ? `${file}: line ${line}: ${message}` : `${file}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

export interface ImportOptions {
  campaignId: number;
  file: string;
  encoding: EncodingChoice;
  onProgress?: (p: { bytes: number; totalBytes: number; rows: number }) => void;
  /** Who imported it (`cli:<user>`, `operator:<name>`): in import_runs and the campaign ledger. */
  actor?: string;
  /** The name the report uses (an upload's own name rather than its temporary file). */
  displayName?: string;
}

const OPTIONAL_COLUMNS = new Set(['address_line2', 'locale']);
/** No honest customer record is this long; one that is, is a quote swallowing the file. */
const MAX_RECORD_BYTES = 64 * 1024;

export async function importCsv(db: Db, templates: TemplateCache, o: ImportOptions): Promise<ImportReport> {
  // The name a person gave the file, never where it sits (an upload's temporary path).
  const fileName = o.displayName ?? path.basename(o.file);
  const campaign = await getCampaign(db, o.campaignId);
  if (!campaign) throw new ImportFileError(fileName, 0, `campaign ${o.campaignId} does not exist`);
  if (campaign.state === 'cancelled') throw new ImportFileError(fileName, 0, `campaign ${o.campaignId} is cancelled`);
  const set = await templates.get(campaign.template_version, campaign.extra_vars);
  const totalBytes = (await stat(o.file).catch(() => null))?.size;
  if (totalBytes === undefined) throw new ImportFileError(fileName, 0, 'cannot read the file');

  // The file's fingerprint, for each person's evidence: the exact bytes they were imported from.
  const fileSha256 = await sha256File(o.file);
  let verdict;
  try {
    verdict = await resolveEncoding(o.file, o.encoding);
  } catch (err) {
    if (err instanceof EncodingError) throw new ImportFileError(fileName, err.line, err.message);
    throw err;
  }
  const report: ImportReport = { file: fileName, campaignId: o.campaignId, rows: 0, accepted: 0, duplicates: [], rejected: [], warnings: [], droppedColumns: [], undeclaredColumns: [], encoding: verdict.encoding, encodingDetected: verdict.detected };
  const rules = { segments: set.segments, locales: set.locales, defaultLocale: set.locales.has('ja') ? 'ja' : [...set.locales][0], extraColumns: [] as string[] };

  const ctx: ParseContext = { o, encoding: verdict.encoding, fileName, totalBytes, extraVars: campaign.extra_vars, rules, report };
  return withTransaction(db, async (client) => {
    // One import per campaign at a time: dedupe against what is already there must see it all.
    await lockForTransaction(client, [LOCK.importCampaign, o.campaignId]);
    const importRunId = await startImportRun(client, o.campaignId, fileName, fileSha256, o.actor ?? 'cli');

    // Fast path, for the common case of a file with no duplicates: straight into notices with
    // COPY. A duplicate (a unique violation) rolls this back and the file is read again through
    // a staging table, which finds and explains every duplicate.
    try {
      report.accepted = await savepoint(client, () => parseInto(client, ctx, 'notices', (line, r) => [
        o.campaignId, r.customerId, newNoticeCode(), r.name, r.email, r.emailNormalized, r.postalCode, r.prefecture, r.city,
        r.addressLine1, r.addressLine2, r.locale, r.segment, JSON.stringify(r.extra), line, importRunId,
      ]));
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      Object.assign(report, { rows: 0, accepted: 0, duplicates: [], rejected: [], warnings: [], droppedColumns: [], undeclaredColumns: [] });
      await createStage(client);
      await parseInto(client, ctx, 'stage', (line, r) => [
        line, r.customerId, newNoticeCode(), r.name, r.email, r.emailNormalized, r.postalCode, r.prefecture, r.city,
        r.addressLine1, r.addressLine2, r.locale, r.segment, JSON.stringify(r.extra),
      ]);
      // First come, first kept: rows go in in line order, and a row whose customer_id is already in
      // the campaign (from an earlier file or an earlier line) is not inserted.
      report.accepted = await insertStaged(client, o.campaignId, importRunId);
      report.duplicates = await duplicatesOf(client, o.campaignId, importRunId);
    }
    report.warnings.push(...(await sharedEmails(client, o.campaignId, importRunId)));
    report.warnings.sort((a, b) => a.line - b.line);
    report.rejected.sort((a, b) => a.line - b.line);
    // Creation is recorded by the row itself (created_at, import_line, import_run_id) and by
    // import_runs; the ledger starts with the first transition, at launch.
    await finishImportRun(client, importRunId, { accepted: report.accepted, duplicates: report.duplicates.length, rejected: new Set(report.rejected.map((r) => r.line)).size }, {
      duplicates: report.duplicates, rejected: report.rejected, warnings: report.warnings, droppedColumns: report.droppedColumns, undeclaredColumns: report.undeclaredColumns, encoding: report.encoding,
    });
    await noteCampaignEvent(client, o.campaignId, 'import', o.actor ?? 'cli',
      `${fileName}: ${report.accepted} accepted, ${report.duplicates.length} duplicates, ${new Set(report.rejected.map((r) => r.line)).size} rejected (import run ${importRunId})`);
    return report;
  });
}

interface ParseContext {
  o: ImportOptions;
  encoding: Encoding;
  fileName: string;
  totalBytes: number;
  extraVars: string[];
  rules: RowRules & { extraColumns: string[] };
  report: ImportReport;
}

/** Stream the file through csv-parse and validation into a COPY; returns the rows copied. */
async function parseInto(client: DbClient, ctx: ParseContext, target: 'notices' | 'stage', fields: (line: number, r: Recipient) => Array<string | number | null>): Promise<number> {
  const { o, encoding, fileName, totalBytes, rules, report } = ctx;
  let bytes = 0;
  let copied = 0;
  const input = createReadStream(o.file);
  input.on('data', (chunk) => {
    bytes += chunk.length;
  });
  // Line numbers are counted from each record's raw text, as an editor counts them (csv-parse
  // counts a CRLF inside quotes as two lines). A record the parser cannot read breaks the file
  // from there on: the whole file is refused, naming the line where the break starts, never
  // skipped (an unclosed quote would otherwise swallow every row after it, unreported).
  let nextLine = 1;
  // Where the parser itself is (it runs ahead of the rows being copied): the start of the record
  // it is reading, for the message when that record cannot be read.
  let parsedLine = 1;
  const parser = parse({
    bom: true, raw: true, relax_column_count: true, relax_quotes: true, max_record_size: MAX_RECORD_BYTES,
    on_record: (r: unknown) => {
      parsedLine += ((r as { raw: string }).raw.match(/\r\n|\r|\n/g) ?? []).length;
      return r as string[];
    },
  });
  let header: string[] | null = null;
  let batch = '';
  const toCopy = async function* (records: AsyncIterable<{ record: string[]; raw: string }>) {
    for await (const { record, raw } of records) {
      const line = nextLine;
      nextLine += (raw.match(/\r\n|\r|\n/g) ?? []).length;
      if (record.length === 1 && record[0].trim() === '') continue; // blank line
      if (!header) {
        header = record.map((h) => h.trim().normalize('NFKC').toLowerCase());
        checkHeader(fileName, line, header);
        const missing = REQUIRED_COLUMNS.filter((c) => !OPTIONAL_COLUMNS.has(c) && !header!.includes(c));
        if (missing.length) throw new ImportFileError(fileName, line, `header is missing column(s): ${missing.join(', ')}`);
        const extras = header.filter((h) => !(REQUIRED_COLUMNS as readonly string[]).includes(h));
        report.droppedColumns = extras.filter(isCardColumn);
        // Only the columns the campaign declared (extra_vars) are kept: a column nobody asked for
        // (a phone number, a date of birth) is personal data we have no use for.
        report.undeclaredColumns = extras.filter((h) => !isCardColumn(h) && !ctx.extraVars.includes(h));
        rules.extraColumns = extras.filter((h) => !isCardColumn(h) && ctx.extraVars.includes(h));
        const undeclared = ctx.extraVars.filter((v) => !header!.includes(v));
        if (undeclared.length) throw new ImportFileError(fileName, line, `header is missing column(s) the templates use: ${undeclared.join(', ')}`);
        continue;
      }
      report.rows++;
      if (report.rows % 5000 === 0) o.onProgress?.({ bytes, totalBytes, rows: report.rows });
      const spans = (raw.match(/\r\n|\r|\n/g) ?? []).length;
      if (spans > 1 && (record.length !== header.length || record.some((f) => /[\r\n]/.test(f) && f.includes('"')))) {
        throw new ImportFileError(fileName, line, `a quoted field opened on this line is not closed where it should be: it runs over ${spans} lines; the file is broken from here and nothing was imported (fix the quote and import again)`);
      }
      if (record.length !== header.length) {
        report.rejected.push({ line, field: 'row', reason: `has ${record.length} fields, the header has ${header.length}` });
        continue;
      }
      const row: Record<string, string> = Object.create(null);
      header.forEach((h, i) => (row[h] = record[i]));
      const result = validateRow(row, rules);
      if (!result.ok) {
        for (const e of result.errors) report.rejected.push({ line, ...e });
        continue;
      }
      for (const w of result.warnings) report.warnings.push({ line, ...w });
      if (raw.includes('"') && !raw.includes('""')) {
        for (const [i, f] of record.entries()) if (f.includes('"')) report.warnings.push({ line, field: header[i], reason: 'contains a stray double quote ("); imported as written' });
      }
      batch += copyLine(fields(line, result.recipient));
      copied++;
      // One socket write per ~64 KB, not per row.
      if (batch.length > 65_536) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  };
  const copy = copyInto(client, target);
  try {
    if (encoding === 'shift_jis') await pipeline(input, iconv.decodeStream('cp932'), parser, toCopy, copy);
    else await pipeline(input, parser, toCopy, copy);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('CSV_')) {
      const why = code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted field opened on this line is never closed'
        : code === 'CSV_MAX_RECORD_SIZE' ? `a quoted field opened on this line is never closed (the record runs on past ${MAX_RECORD_BYTES / 1024} KB)`
        : (err as Error).message.replace(/\s+/g, ' ').slice(0, 200);
      throw new ImportFileError(fileName, parsedLine, `not valid CSV: ${why}; the file is broken from here and nothing was imported`);
    }
    throw err;
  }
  if (!header) throw new ImportFileError(fileName, 1, 'the file is empty (a header row is required)');
  o.onProgress?.({ bytes: totalBytes, totalBytes, rows: report.rows });
  return copied;
}

/** Column names that would be unsafe as keys (prototype pollution) or ambiguous are refused whole. */
function checkHeader(fileName: string, line: number, header: string[]): void {
  header.forEach((h, i) => {
    if (h === '') throw new ImportFileError(fileName, line, `header: column ${i + 1} has no name`);
    if (h === '__proto__' || h === 'constructor' || h === 'prototype') throw new ImportFileError(fileName, line, `header: column ${i + 1} is named "${h}", which cannot be a column name; rename it`);
    if (header.indexOf(h) !== i) throw new ImportFileError(fileName, line, `header: column "${h}" appears twice (columns ${header.indexOf(h) + 1} and ${i + 1})`);
  });
}

/** The staged rows that were not inserted, and which earlier person each repeats. */
async function duplicatesOf(client: { query: Db['query'] }, campaignId: number, importRunId: number): Promise<LineIssue[]> {
  return (await stagedNotInserted(client, campaignId, importRunId)).map((r) => {
    if (r.c_line !== null) return { line: r.line, field: 'customer_id', reason: r.c_run === importRunId ? `customer_id repeats line ${r.c_line}` : 'customer_id is already in this campaign' };
    return { line: r.line, field: 'notice_code', reason: 'collided with another notice code; import the file again' };
  });
}

/**
 * People of this import whose email another person of the campaign shares (a family, a shared
 * mailbox): each is a person owed their own notice, so all are imported; the report says so.
 */
async function sharedEmails(client: { query: Db['query'] }, campaignId: number, importRunId: number): Promise<LineIssue[]> {
  return (await emailSharers(client, campaignId, importRunId)).map((r) => ({
    line: r.line,
    field: 'email',
    reason: `${r.first_run === importRunId ? `same email as line ${r.first_line}` : 'same email as a person already in this campaign'} under another customer_id: both are imported and each gets their own notice`,
  }));
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
