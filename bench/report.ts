// The campaign report (report.csv), measured beside a baseline in the same run (never asserted):
//   ours: page by page (5,000 rows per COPY, the connection released before each page is written),
//   as an operator and as a viewer (codes left out, addresses masked);
//   baseline: the same SELECT as one COPY ... TO STDOUT on one connection (the report before it
//   was paged: fast, but a slow reader held a PostgreSQL connection for the whole download).
// Seconds, rows/s and peak RSS. Usage: npm run bench:report [-- --people 200000]
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import { loadConfig } from '../src/config.ts';
import { arg, benchDatabase, measured, root } from './bench-env.ts';
import { makeApp } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { importCsv } from '../src/intake/importer.ts';
import { writeDemoCsv } from '../src/cli/demo-data.ts';
import { createCampaignFromDir } from '../src/campaigns/create.ts';
import { writeReport } from '../src/campaigns/report.ts';
import { rowsSelect } from '../src/campaigns/report-store.ts';

const PEOPLE = arg('people', 200_000);
const tmp = mkdtempSync(path.join(tmpdir(), 'notice-bench-report-'));

async function main() {
  const bench = await benchDatabase('benchr');
  const app = makeApp(loadConfig({ ...process.env, DATABASE_URL: bench.url, QUEUE_PREFIX: `{${bench.name}}` }));
  try {
    await migrate(app.db);
    const csv = path.join(tmp, 'people.csv');
    await writeDemoCsv(csv, PEOPLE, { noEmail: 0.05, hardBounce: 0.03, greylist: 0, english: 0.1, card: 0.57 });
    const c = await createCampaignFromDir(app.db, 'bench', path.join(root, 'templates/demo'));
    await importCsv(app.db, app.templates, { campaignId: c.id, file: csv, encoding: 'utf8' });
    // What a finished campaign's rows carry: a reply quoting the address for some.
    await app.db.query(`update notices set state = 'sent', sent_at = now(), smtp_reply = '250 2.0.0 <' || coalesce(email, 'x@example.com') || '> queued as ' || id where campaign_id = $1`, [c.id]);
    await app.db.query('analyze notices');
    console.log(`bench: report.csv of ${PEOPLE} people; files in ${tmp}`);

    const baseline = await measured(async () => {
      const client = await app.db.connect();
      try {
        await pipeline(client.query(pgCopy.to(`copy (${rowsSelect(c.id)}) to stdout with (format csv)`)), createWriteStream(path.join(tmp, 'baseline.csv')));
      } finally {
        client.release();
      }
    });
    const ours = await measured(() => writeReport(app.db, c.id, createWriteStream(path.join(tmp, 'report.csv'))));
    const viewer = await measured(() => writeReport(app.db, c.id, createWriteStream(path.join(tmp, 'report-viewer.csv')), 'viewer'));
    const line = (what: string, m: { seconds: number; peakMb: number }) =>
      `  ${what.padEnd(44)} ${m.seconds.toFixed(2).padStart(7)} s  ${Math.round(PEOPLE / m.seconds).toLocaleString('en').padStart(9)} rows/s  ${String(m.peakMb).padStart(5)} MB peak`;
    console.log(line('baseline: one COPY of the same SELECT', baseline));
    console.log(line('report.csv, paged (operator)', ours));
    console.log(line('report.csv, paged (viewer: masked)', viewer));
    console.log(`  paged / baseline: ${(ours.seconds / baseline.seconds).toFixed(2)}× the time`);
  } finally {
    await app.close();
    await bench.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
