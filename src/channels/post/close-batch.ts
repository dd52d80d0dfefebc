// Closing a print batch: number the letters in postal-code order, render letters.csv (UTF-8),
// letters.sjis.csv (strict Shift_JIS; rows it cannot carry go to exceptions.csv, never altered),
// letters.pdf and manifest.json, store them, and mark the batch ready for its vendor.
// One closer at a time per batch (an advisory lock: the print worker and `notice batches close`
// may race); the numbering, the files and `ready` commit together, so a crash leaves the batch
// `closing` with nothing half-written, and closing it again renders the same bytes.
import { existsSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import type { Db, DbClient } from '../../db/pool.ts';
import { transactionOn, withTryLock } from '../../db/pool.ts';
import { getCampaign } from '../../db/campaign-store.ts';
import { formatPostalCode } from '../../domain/address.ts';
import type { TemplateCache } from '../../db/template-store.ts';
import { batchEvent, getBatch, lettersInOrder, markReady, numberLetters, setLetterHashes, startClosing, type LetterRow } from './batch-store.ts';
import { letterAddress, letterSha256, makeLetter } from './letter.ts';
import { neutralise } from './csv-cells.ts';
import { dropFiles, makeFileWriter, type StoredFile } from './file-store.ts';
import { DEFAULT_WINDOW_MM, makePdfWriter } from './pdf-letters.ts';
import { vendorWindow } from './vendor-store.ts';
import { postalDataVersion } from './postal-data.ts';
import { discountEstimate } from '../../domain/postal-discount.ts';
import { describeChar, encodeSjis, unencodable } from './sjis.ts';
import { LOCK } from '../../db/locks.ts';

export interface CloseBatchDeps {
  db: Db;
  templates: TemplateCache;
  fontPath: string;
  returnAddress: string;
  /** Render the PDF (the slow part); tests and benches of the CSV files may turn it off. */
  pdf?: boolean;
  /** The close time (the batch's closed_at, the files' dates). */
  clock?: { now(): Date };
}

// barcode: the customer barcode's text (the 7-digit code and the address number) for vendors who
// print their own; empty for a representative code. letter_class: 普通 or 特定記録 (campaign setting).
export const LETTER_COLUMNS = ['seq', 'notice_id', 'notice_code', 'postal_code', 'prefecture', 'city', 'address_line1', 'address_line2', 'name', 'honorific', 'segment', 'locale', 'barcode', 'letter_class'];
/** A segment with no class set is sent as ordinary mail. */
export const LETTER_CLASS_DEFAULT = '普通';
const EXCEPTION_COLUMNS = ['seq', 'notice_id', 'notice_code', 'field', 'characters', 'reason'];
const PAGE = 2000;


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
  await startClosing(d.db, batchId, d.clock?.now());
  // null when another process is closing it right now.
  return withTryLock(d.db, [LOCK.closeBatch, batchId], async (client) => {
    const batch = await getBatch(client, batchId);
    if (!batch || batch.status !== 'closing') return null;
    return transactionOn(client, () => render(d, client, batch));
  });
}

async function render(d: CloseBatchDeps, tx: DbClient, batch: NonNullable<Awaited<ReturnType<typeof getBatch>>>): Promise<CloseResult> {
  const batchId = batch.id;
  const camp = (await getCampaign(tx, batch.campaign_id))!;
  const templates = await d.templates.get(camp.template_version, camp.extra_vars);
  await numberLetters(tx, batchId);
  await dropFiles(tx, batchId);

  const createdAt = batch.closed_at ?? batch.created_at;
  const title = `batch ${batchId} (campaign ${batch.campaign_id})`;
  const csv = makeFileWriter(tx, batchId, 'letters.csv', 'text/csv; charset=utf-8');
  const sjis = makeFileWriter(tx, batchId, 'letters.sjis.csv', 'text/csv; charset=shift_jis');
  const exc = makeFileWriter(tx, batchId, 'exceptions.csv', 'text/csv; charset=utf-8');
  const window = await vendorWindow(tx, batch.vendor_id);
  const pdf = d.pdf === false ? null : makePdfWriter(makeFileWriter(tx, batchId, 'letters.pdf', 'application/pdf'), { fontPath: d.fontPath, createdAt, returnAddress: d.returnAddress, title, window });
  const classes = camp.letter_classes ?? {};
  const codes: string[] = [];
  let barcoded = 0;
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
    const hashes: Array<[number, string]> = [];
    for (const r of rows) {
      const a = letterAddress(r);
      const letter = makeLetter(r, r.seq, templates, camp.name, a);
      codes.push(a.postalCode);
      if (letter.barcode) barcoded++;
      const cells = [String(r.seq), String(r.id), r.notice_code, formatPostalCode(a.postalCode), a.prefecture, a.city, a.addressLine1, a.addressLine2, a.name, '様', r.segment, r.locale, letter.barcode?.text ?? '', classes[r.segment] ?? LETTER_CLASS_DEFAULT].map(neutralise);
      utf8Rows.push(cells);
      const bad = LETTER_COLUMNS.map((field, i) => ({ field, chars: unencodable(cells[i]) })).filter((x) => x.chars.length);
      if (bad.length) {
        exceptions++;
        for (const b of bad) excRows.push([String(r.seq), String(r.id), r.notice_code, b.field, b.chars.join(''), `${b.chars.map(describeChar).join(', ')} cannot be written in Shift_JIS (JIS X 0208); print this letter from letters.csv or letters.pdf`]);
      } else sjisRows.push(cells);
      pdf?.add(letter);
      hashes.push([r.id, letterSha256(letter)]);
      letters++;
    }
    await csv.write(stringify(utf8Rows));
    if (sjisRows.length) await sjis.write(encodeSjis(stringify(sjisRows)));
    if (excRows.length) await exc.write(stringify(excRows));
    await setLetterHashes(tx, batchId, hashes);
  };
  // One streamed read of the letters in seq order (on a second connection: see lettersInOrder).
  let page: LetterRow[] = [];
  for await (const row of lettersInOrder(d.db, batchId)) {
    page.push(row);
    if (page.length >= PAGE) {
      await renderPage(page);
      page = [];
    }
  }
  if (page.length) await renderPage(page);
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
    postal_data: postalDataVersion(),
    window_mm: window ?? DEFAULT_WINDOW_MM,
    letter_classes: classes,
    discount_estimate: discountEstimate(codes, barcoded),
    files: files.map((f) => ({ name: f.name, sha256: f.sha256, bytes: Number(f.bytes), content_type: f.contentType })),
  };
  const m = makeFileWriter(tx, batchId, 'manifest.json', 'application/json');
  await m.write(JSON.stringify(manifest, null, 2) + '\n');
  await m.end();
  await markReady(tx, batchId, letters, exceptions, manifest);
  await batchEvent(tx, batchId, null, 'closed', { count: letters, exceptions });
  return { batchId, letters, exceptions, files };
}
