// Closing a print batch: number the letters in postal-code order, render letters.csv (UTF-8),
// letters.sjis.csv (strict Shift_JIS; rows it cannot carry go to exceptions.csv, never altered),
// letters.pdf and manifest.json, store them, and mark the batch ready for its vendor.
// One closer at a time per batch (an advisory lock: the print worker and `notice batches close`
// may race); the numbering, the files and `ready` commit together, so a crash leaves the batch
// `closing` with nothing half-written, and closing it again renders the same bytes.
import { existsSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import type { Db, DbClient } from '../db/pool.ts';
import { withClient, withTryLock } from '../db/pool.ts';
import { parse } from 'csv-parse';
import pgCopy from 'pg-copy-streams';
import type { NoticeRow } from '../db/notice-store.ts';
import { validateAddress, formatPostalCode, type PostalAddress } from '../domain/address.ts';
import { renderText } from '../domain/template.ts';
import { templateVariables } from '../mail/message.ts';
import type { TemplateCache } from '../templates/template-store.ts';
import { batchEvent, getBatch, startClosing } from './batch-store.ts';
import { neutralise } from './csv-cells.ts';
import { dropFiles, makeFileWriter, type StoredFile } from './file-store.ts';
import { makePdfWriter } from './pdf-letters.ts';
import { describeChar, encodeSjis, unencodable } from './sjis.ts';
import { LOCK } from '../db/locks.ts';

export interface CloseBatchDeps {
  db: Db;
  templates: TemplateCache;
  fontPath: string;
  returnAddress: string;
  /** Render the PDF (the slow part); tests and benches of the CSV files may turn it off. */
  pdf?: boolean;
}

export const LETTER_COLUMNS = ['seq', 'notice_id', 'notice_code', 'postal_code', 'prefecture', 'city', 'address_line1', 'address_line2', 'name', 'honorific', 'segment', 'locale'];
const EXCEPTION_COLUMNS = ['seq', 'notice_id', 'notice_code', 'field', 'characters', 'reason'];
const PAGE = 2000;

type LetterRow = Pick<NoticeRow, 'id' | 'campaign_id' | 'customer_id' | 'notice_code' | 'name' | 'email' | 'postal_code' | 'prefecture' | 'city' | 'address_line1' | 'address_line2' | 'locale' | 'segment' | 'extra'> & { seq: number };

export interface CloseResult {
  batchId: number;
  letters: number;
  exceptions: number;
  files: StoredFile[];
}


export async function closeBatch(d: CloseBatchDeps, batchId: number): Promise<CloseResult | null> {
  if (d.pdf !== false && !existsSync(d.fontPath)) {
    throw new Error(`PDF font not found at ${d.fontPath}: install Debian fonts-ipaexfont-mincho or set PDF_FONT`);
  }
  await startClosing(d.db, batchId);
  // null when another process is closing it right now.
  return withTryLock(d.db, [LOCK.closeBatch, batchId], async (client) => {
    const batch = await getBatch(client, batchId);
    if (!batch || batch.status !== 'closing') return null;
    await client.query('begin');
    try {
      const result = await render(d, client, batch);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  });
}

async function render(d: CloseBatchDeps, tx: DbClient, batch: NonNullable<Awaited<ReturnType<typeof getBatch>>>): Promise<CloseResult> {
  const batchId = batch.id;
  const { rows: camp } = await tx.query('select name, template_version, extra_vars from campaigns where id = $1', [batch.campaign_id]);
  const templates = await d.templates.get(camp[0].template_version, camp[0].extra_vars);

  // The order Japan Post's sorting discount wants: by postal code, then a stable tie-break.
  const ORDER = 'order by n.postal_code, n.id';
  await tx.query(
    `update batch_items bi set seq = o.rn from (
       select bi2.notice_id, row_number() over (${ORDER}) as rn
       from batch_items bi2 join notices n on n.id = bi2.notice_id where bi2.batch_id = $1
     ) o where bi.batch_id = $1 and bi.notice_id = o.notice_id`,
    [batchId],
  );
  await dropFiles(tx, batchId);

  const createdAt = batch.closed_at ?? batch.created_at;
  const title = `batch ${batchId} (campaign ${batch.campaign_id})`;
  const csv = makeFileWriter(tx, batchId, 'letters.csv', 'text/csv; charset=utf-8');
  const sjis = makeFileWriter(tx, batchId, 'letters.sjis.csv', 'text/csv; charset=shift_jis');
  const exc = makeFileWriter(tx, batchId, 'exceptions.csv', 'text/csv; charset=utf-8');
  const pdf = d.pdf === false ? null : makePdfWriter(makeFileWriter(tx, batchId, 'letters.pdf', 'application/pdf'), { fontPath: d.fontPath, createdAt, returnAddress: d.returnAddress, title });
  const header = stringify([LETTER_COLUMNS]);
  await csv.write(header);
  await sjis.write(encodeSjis(header));
  await exc.write(stringify([EXCEPTION_COLUMNS]));

  let letters = 0;
  let exceptions = 0;
  const renderPage = async (rows: Array<LetterRow>) => {
    const utf8Rows: string[][] = [];
    const sjisRows: string[][] = [];
    const excRows: string[][] = [];
    for (const r of rows) {
      const checked = validateAddress(r);
      const a: PostalAddress = checked.ok
        ? checked.address
        : { name: r.name, postalCode: r.postal_code ?? '', prefecture: r.prefecture, city: r.city, addressLine1: r.address_line1, addressLine2: r.address_line2 };
      const cells = [String(r.seq), String(r.id), r.notice_code, formatPostalCode(a.postalCode), a.prefecture, a.city, a.addressLine1, a.addressLine2, a.name, '様', r.segment, r.locale].map(neutralise);
      utf8Rows.push(cells);
      const bad = LETTER_COLUMNS.map((field, i) => ({ field, chars: unencodable(cells[i]) })).filter((x) => x.chars.length);
      if (bad.length) {
        exceptions++;
        for (const b of bad) excRows.push([String(r.seq), String(r.id), r.notice_code, b.field, b.chars.join(''), `${b.chars.map(describeChar).join(', ')} cannot be written in Shift_JIS (JIS X 0208); print this letter from letters.csv or letters.pdf`]);
      } else sjisRows.push(cells);
      pdf?.add({ seq: r.seq, noticeCode: r.notice_code, locale: r.locale, address: a, body: renderText(templates.variants.get(`${r.segment}.${r.locale}`)?.letter ?? '', templateVariables(r, camp[0].name)) });
      letters++;
    }
    await csv.write(stringify(utf8Rows));
    if (sjisRows.length) await sjis.write(encodeSjis(stringify(sjisRows)));
    if (excRows.length) await exc.write(stringify(excRows));
  };
  // One streamed query (COPY) rather than pages: a batch of 100,000 is read in one pass. It runs on
  // a second connection (this one is writing the files), which cannot see the numbering above
  // before it commits, so it computes the same numbering itself.
  await withClient(d.db, async (reader) => {
    const source = reader.query(pgCopy.to(`copy (
      select row_number() over (${ORDER}) as seq, n.id, n.campaign_id, n.customer_id, n.notice_code, n.name, n.email, n.postal_code, n.prefecture, n.city,
             n.address_line1, n.address_line2, n.locale, n.segment, n.extra::text
      from batch_items bi join notices n on n.id = bi.notice_id where bi.batch_id = ${Number(batchId)} ${ORDER}
    ) to stdout with (format csv)`));
    let page: LetterRow[] = [];
    for await (const rec of source.pipe(parse({ relax_column_count: false })) as AsyncIterable<string[]>) {
      const [seq, id, campaignId, customerId, noticeCode, name, email, postalCode, prefecture, city, line1, line2, locale, segment, extra] = rec;
      page.push({
        seq: Number(seq), id: Number(id), campaign_id: Number(campaignId), customer_id: customerId, notice_code: noticeCode, name, email: email || null,
        postal_code: postalCode || null, prefecture, city, address_line1: line1, address_line2: line2, locale, segment, extra: JSON.parse(extra || '{}'),
      });
      if (page.length >= PAGE) {
        await renderPage(page);
        page = [];
      }
    }
    if (page.length) await renderPage(page);
  });
  const files = [await csv.end(), await sjis.end(), await exc.end()];
  if (pdf) files.push(await pdf.end());

  const manifest = {
    batch_id: batchId,
    campaign_id: batch.campaign_id,
    vendor_id: batch.vendor_id,
    count: letters,
    sjis_count: letters - exceptions,
    exceptions,
    created_at: createdAt.toISOString(),
    sort_key: ['postal_code', 'notice_id'],
    files: files.map((f) => ({ name: f.name, sha256: f.sha256, bytes: Number(f.bytes), content_type: f.contentType })),
  };
  const m = makeFileWriter(tx, batchId, 'manifest.json', 'application/json');
  await m.write(JSON.stringify(manifest, null, 2) + '\n');
  await m.end();
  await tx.query(`update batches set status = 'ready', size = $2, exceptions = $3, manifest = $4 where id = $1 and status = 'closing'`, [batchId, letters, exceptions, JSON.stringify(manifest)]);
  await batchEvent(tx, batchId, null, 'closed', { count: letters, exceptions });
  return { batchId, letters, exceptions, files };
}
