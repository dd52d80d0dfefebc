// Closing a print batch, measured beside a baseline in the same run (never asserted):
//   CSV files (letters.csv + letters.sjis.csv + exceptions.csv + manifest) for N letters: seconds
//   and peak RSS, beside PostgreSQL's own COPY ... TO STDOUT CSV of the same rows;
//   letters.pdf throughput (letters/s) for a sample, beside pdfkit writing one plain line per page;
//   the postal worker's address check per person (Japan Post data, the customer barcode, the
//   envelope-window fit), beside the format-only check it replaced; and what 250,000 letters a
//   day (a large breach vendor's rate) cost at these rates on this machine.
// Usage: npm run bench:batch [-- --letters 100000 --pdf-letters 2000]
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import PDFDocument from 'pdfkit';
import { loadConfig } from '../src/config.ts';
import { arg, benchDatabase, measured, root } from './bench-env.ts';
import { makeApp } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { importCsv } from '../src/intake/importer.ts';
import { writeDemoCsv } from '../src/cli/demo-data.ts';
import { createCampaignFromDir } from '../src/campaigns/create.ts';
import { addVendor } from '../src/channels/post/vendor-store.ts';
import { closeBatch } from '../src/channels/post/close-batch.ts';
import { validateAddress } from '../src/domain/address.ts';
import { verifyAddress } from '../src/domain/address-verify.ts';
import { postalLookup } from '../src/channels/post/postal-data.ts';
import { letterBarcode } from '../src/channels/post/letter.ts';
import { addressFits } from '../src/channels/post/pdf-letters.ts';

const LETTERS = arg('letters', 100_000);
const PDF_LETTERS = arg('pdf-letters', 2000);
const tmp = mkdtempSync(path.join(tmpdir(), 'notice-bench-batch-'));

async function batchOf(app: ReturnType<typeof makeApp>, campaignId: number, vendorId: number, limit: number): Promise<number> {
  // Straight into one batch, as the postal worker would have put them.
  const { rows } = await app.db.query(`insert into batches (campaign_id, vendor_id, status, closed_at) values ($1, $2, 'closing', now()) returning id`, [campaignId, vendorId]);
  const id = rows[0].id as number;
  await app.db.query(`insert into batch_items (batch_id, notice_id) select $1, id from notices where campaign_id = $2 and batch_id is null order by id limit $3`, [id, campaignId, limit]);
  await app.db.query(`update notices n set state = 'batched', batch_id = $1 from batch_items bi where bi.batch_id = $1 and n.id = bi.notice_id`, [id]);
  await app.db.query('update batches set size = (select count(*) from batch_items where batch_id = $1) where id = $1', [id]);
  return id;
}

async function main() {
  const bench = await benchDatabase('benchb');
  const app = makeApp(loadConfig({ ...process.env, DATABASE_URL: bench.url, QUEUE_PREFIX: `{${bench.name}}` }));
  try {
    await migrate(app.db);
    const csv = path.join(tmp, 'people.csv');
    await writeDemoCsv(csv, LETTERS + PDF_LETTERS, { noEmail: 1, hardBounce: 0, greylist: 0, english: 0.1, card: 0.57 });
    const vendor = await addVendor(app.db, 'bench');
    const c = await createCampaignFromDir(app.db, 'bench', path.join(root, 'templates/demo'));
    await importCsv(app.db, app.templates, { campaignId: c.id, file: csv, encoding: 'utf8' });
    // A few names a strict Shift_JIS file cannot carry, as real data has.
    await app.db.query(`update notices set name = '𠮷田 ' || name where id % 997 = 0`);
    const big = await batchOf(app, c.id, vendor.id, LETTERS);
    const small = await batchOf(app, c.id, vendor.id, PDF_LETTERS);
    const deps = { db: app.db, templates: app.templates, fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS };
    console.log(`bench: closing a batch of ${LETTERS} letters (CSV files), and PDF for ${PDF_LETTERS}; ${tmp}`);

    const baseline = await measured(async () => {
      const client = await app.db.connect();
      try {
        await pipeline(client.query(pgCopy.to(`copy (select n.id, n.notice_code, n.postal_code, n.prefecture, n.city, n.address_line1, n.address_line2, n.name from batch_items bi join notices n on n.id = bi.notice_id where bi.batch_id = ${big} order by n.postal_code, n.id) to stdout with (format csv, header true)`)), createWriteStream(path.join(tmp, 'baseline.csv')));
      } finally {
        client.release();
      }
    });
    const ours = await measured(() => closeBatch({ ...deps, pdf: false }, big));

    const pdfBase = await measured(async () => {
      const doc = new PDFDocument({ size: 'A4', autoFirstPage: false });
      doc.registerFont('jp', app.config.PDF_FONT);
      const done = pipeline(doc, createWriteStream(path.join(tmp, 'baseline.pdf')));
      const { rows } = await app.db.query('select n.name from batch_items bi join notices n on n.id = bi.notice_id where bi.batch_id = $1', [small]);
      for (const r of rows) doc.addPage().font('jp').fontSize(12).text(`${r.name} 様`);
      doc.end();
      await done;
    });
    const pdf = await measured(() => closeBatch(deps, small));

    const { rows: people } = await app.db.query('select name, postal_code, prefecture, city, address_line1, address_line2 from notices where campaign_id = $1 order by id limit 20000', [c.id]);
    const dataLoad = await measured(async () => postalLookup('1000001'));
    const check = await measured(async () => {
      let ok = 0;
      for (const p of people) {
        const v = verifyAddress(p, postalLookup);
        if (v.ok && addressFits(v.address, !!letterBarcode(v.address), app.config.PDF_FONT) === null) ok++;
      }
      return ok;
    });
    const checkBase = await measured(async () => people.filter((p) => validateAddress(p).ok).length);

    const rows: Array<[string, string, string]> = [
      [`CSV files for ${LETTERS} letters: seconds`, ours.seconds.toFixed(2), baseline.seconds.toFixed(2)],
      ['CSV files: peak RSS of the process (MB)', String(ours.peakMb), String(baseline.peakMb)],
      [`letters.pdf (${PDF_LETTERS} letters, with the CSVs): letters/s`, String(Math.round(PDF_LETTERS / pdf.seconds)), String(Math.round(PDF_LETTERS / pdfBase.seconds))],
      ['letters.pdf: peak RSS (MB)', String(pdf.peakMb), String(pdfBase.peakMb)],
      [`address check, ${people.length} people (data + barcode + window): per second`, String(Math.round(people.length / check.seconds)), String(Math.round(people.length / checkBase.seconds))],
      ['postal-code data, loaded once per process: seconds', dataLoad.seconds.toFixed(2), '-'],
      ['250,000 letters (PDF + address check), one process: minutes', ((250_000 / (PDF_LETTERS / pdf.seconds) + 250_000 / (people.length / check.seconds)) / 60).toFixed(1), (250_000 / (PDF_LETTERS / pdfBase.seconds) / 60).toFixed(1)],
    ];
    console.log(`addresses that pass the check: ${check.value} of ${people.length} (format-only: ${checkBase.value})`);
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n${'measure'.padEnd(w)}  ${'ours'.padStart(8)}  ${'baseline'.padStart(8)}`);
    for (const [what, o, b] of rows) console.log(`${what.padEnd(w)}  ${o.padStart(8)}  ${b.padStart(8)}`);
    console.log(`\nbaselines: PostgreSQL COPY ... TO STDOUT CSV of the same rows; pdfkit with one line per page; the format-only address check. exceptions: ${ours.value?.exceptions}`);
  } finally {
    await app.close();
    await bench.drop();
  }
}

await main();
