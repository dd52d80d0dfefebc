// Benchmarks, printed side by side with a baseline measured in the same run (never asserted):
//   import rows/s  vs raw COPY rows/s of the same file
//   pipeline msgs/s (import → launch → worker process → SMTP) vs raw nodemailer pool msgs/s
//   worker RSS as the campaign grows
// Usage: npm run bench:send [-- --people 100000] [--import-only]
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import { loadConfig } from '../src/config.ts';
import { arg, benchDatabase, root } from './bench-env.ts';
import { makeApp } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { importCsv } from '../src/import/importer.ts';
import { writeDemoCsv } from '../src/cli/demo-data.ts';
import { makeSmtpTransport } from '../src/mail/smtp.ts';
import { launch, steeringDeps } from '../src/producer/campaign-control.ts';
import { campaignStatus } from '../src/producer/campaign-status.ts';
import { createCampaignFromDir } from '../src/templates/create-campaign.ts';

const PEOPLE = arg('people', 100_000);
const CONCURRENCY = arg('concurrency', 20);
const POOL = arg('pool', 5);
const tmp = mkdtempSync(path.join(tmpdir(), 'notice-bench-'));
const base = loadConfig();
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const rows: Array<[string, string, string, string]> = [];
const line = (what: string, ours: number, baseline: number, unit: string) =>
  rows.push([what, `${ours} ${unit}`, `${baseline} ${unit}`, `${Math.round((100 * ours) / baseline)} %`]);

function spawnTs(file: string, env: Record<string, string> = {}, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

function printTable() {
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`\n${'measure'.padEnd(w)}  ${'ours'.padStart(14)}  ${'baseline'.padStart(14)}  ratio`);
  for (const [what, ours, baseline, ratio] of rows) console.log(`${what.padEnd(w)}  ${ours.padStart(14)}  ${baseline.padStart(14)}  ${ratio.padStart(5)}`);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function main() {
  const bench = await benchDatabase('bench');
  const sinkProc = spawnTs(path.join(root, 'bench/sink-process.ts'));
  const sinkUrl: string = await new Promise((resolve) => sinkProc.stdout!.once('data', (d) => resolve(String(d).trim())));
  const env = { DATABASE_URL: bench.url, QUEUE_PREFIX: `{${bench.name}}`, SMTP_URL: sinkUrl, SMTP_POOL_SIZE: String(POOL), WORKER_CONCURRENCY: String(CONCURRENCY), LOG_FILE: path.join(tmp, 'worker.log') };
  const app = makeApp(loadConfig({ ...process.env, ...env }));
  let worker: ChildProcess | null = null;
  try {
    await migrate(app.db);
    const csv = path.join(tmp, 'people.csv');
    await writeDemoCsv(csv, PEOPLE, { noEmail: 0, hardBounce: 0, greylist: 0, english: 0.1, card: 0.57 });
    console.log(`bench: ${PEOPLE} people, sink in its own process, ${CONCURRENCY} in flight, SMTP pool ${POOL}; ${tmp}`);

    // 1. Import vs raw COPY of the same file into a table of text columns.
    await app.db.query('create table raw_copy (customer_id text, name text, email text, postal_code text, prefecture text, city text, address_line1 text, address_line2 text, locale text, segment text)');
    let t0 = Date.now();
    const client = await app.db.connect();
    await pipeline(createReadStream(csv), client.query(pgCopy.from('copy raw_copy from stdin with (format csv, header true)')));
    client.release();
    const rawCopyMs = Date.now() - t0;
    const c = await createCampaignFromDir(app.db, 'bench', path.join(root, 'templates/demo'));
    t0 = Date.now();
    const report = await importCsv(app.db, app.templates, { campaignId: c.id, file: csv, encoding: 'utf8' });
    const importMs = Date.now() - t0;
    line('import (parse, validate, dedupe, load) vs raw COPY of the file', rate(report.accepted, importMs), rate(PEOPLE, rawCopyMs), 'rows/s');

    // 1b. The database's own share: COPY of the same, already valid rows into notices (all indexes).
    const c2 = await createCampaignFromDir(app.db, 'bench-copy', path.join(root, 'templates/demo'));
    const copyText = path.join(tmp, 'notices.copy');
    await app.db.query(`copy (select ${c2.id}, customer_id, notice_code || 'X', name, email, email_normalized, postal_code, prefecture, city, address_line1, address_line2, locale, segment, extra
      from notices where campaign_id = ${c.id}) to '${copyText}'`).catch(async () => {
      // The server may not write our folder: stream it through the client instead.
      const cl = await app.db.connect();
      await pipeline(cl.query(pgCopy.to(`copy (select ${c2.id}, customer_id, notice_code || 'X', name, email, email_normalized, postal_code, prefecture, city, address_line1, address_line2, locale, segment, extra from notices where campaign_id = ${c.id}) to stdout`)), createWriteStream(copyText));
      cl.release();
    });
    t0 = Date.now();
    const cl2 = await app.db.connect();
    await pipeline(createReadStream(copyText), cl2.query(pgCopy.from('copy notices (campaign_id, customer_id, notice_code, name, email, email_normalized, postal_code, prefecture, city, address_line1, address_line2, locale, segment, extra) from stdin')));
    cl2.release();
    line('import vs raw COPY of valid rows into notices (same indexes)', rate(report.accepted, importMs), rate(report.accepted, Date.now() - t0), 'rows/s');

    if (process.argv.includes('--import-only')) return printTable();

    // 2. Raw nodemailer pool to the same sink, same pool size and concurrency.
    const transport = makeSmtpTransport({ url: sinkUrl, poolSize: POOL, timeoutMs: 30_000 });
    const sample = readFileSync(path.join(root, 'templates/demo/card.ja.html'), 'utf8');
    let next = 0;
    t0 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < PEOPLE) {
        const k = next++;
        await transport.send({ from: base.MAIL_FROM, to: { name: '山田 太郎', address: `raw${k}@example.com` }, returnPath: `bounce+${k}.0000000000000000@${base.BOUNCE_DOMAIN}`,
          subject: '【重要】お詫びとお知らせ', html: sample, text: sample.replace(/<[^>]+>/g, ''), messageId: `<raw-${k}@example.com>`, headers: { 'X-Notice-Id': String(k) } });
      }
    }));
    const rawSendMs = Date.now() - t0;
    await transport.close();

    // 3. The pipeline: launch, and a worker process sends everyone.
    const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    worker = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/notice.js'), 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500)); // let the worker start before the clock does
    const memory: Array<[number, number]> = [];
    t0 = Date.now();
    await launch(steeringDeps(app), c.id);
    for (;;) {
      const s = (await campaignStatus(app.db, c.id))!;
      memory.push([s.counts.sent, rssMb(worker.pid!)]);
      if (s.emailPhaseDone) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const pipeMs = Date.now() - t0;
    line('pipeline (launch → worker → SMTP) vs raw nodemailer pool', rate(PEOPLE, pipeMs), rate(PEOPLE, rawSendMs), 'msgs/s');

    printTable();
    const pick = (f: number) => memory[Math.min(memory.length - 1, Math.floor(f * (memory.length - 1)))];
    console.log(`\nworker RSS as the campaign grows (sent → MB): ${[0.1, 0.25, 0.5, 0.75, 1].map((f) => `${pick(f)[0]} → ${pick(f)[1]}`).join(', ')}`);
  } finally {
    worker?.kill('SIGTERM');
    if (worker) await new Promise((r) => worker!.once('exit', r));
    await app.queues.email.obliterate({ force: true }).catch(() => {});
    await app.queues.postal.obliterate({ force: true }).catch(() => {});
    await app.close();
    sinkProc.kill('SIGTERM');
    await bench.drop();
  }
}

await main();
