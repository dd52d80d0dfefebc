// The send benchmark. Everything printed beside a baseline measured in the same run, never
// asserted:
//   the sink: postfix smtp-sink (C) when installed; smtp-source beside it (the machine's C limit)
//   import rows/s            vs COPY of the same file, and vs COPY of the same rows into notices
//   launch people/s          vs BullMQ addBulk of the same number of jobs; Redis bytes per job
//   pipeline msgs/s, 1/2/4 worker processes   vs raw nodemailer pools in as many processes
//   Redis peak memory and worker RSS while the campaign runs
//   and, headline, import → everyone in the ledger for --people N, end to end, with 2 workers.
// Usage: npm run bench:send [-- --people 1000000] [--pipeline-people 30000] [--workers 1,2,4]
//        [--concurrency 20] [--pool 5] [--import-only]
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.ts';
import { arg, benchDatabase, root } from './bench-env.ts';
import { makeApp, type App } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { importCsv } from '../src/intake/importer.ts';
import { writeDemoCsv } from '../src/cli/demo-data.ts';
import { launch, steeringDeps } from '../src/campaigns/control.ts';
import { exactCounts } from '../src/db/counts-store.ts';
import { createCampaignFromDir } from '../src/campaigns/create.ts';
import { JOB } from '../queues/names.ts';
import { startSink, smtpSource, type Sink } from './sinks.ts';

const PEOPLE = arg('people', 100_000);
const PIPE_PEOPLE = arg('pipeline-people', Math.min(PEOPLE, 30_000));
const CONCURRENCY = arg('concurrency', 20);
const POOL = arg('pool', 5);
const WORKERS = (process.argv.includes('--workers') ? process.argv[process.argv.indexOf('--workers') + 1] : '1,2,4').split(',').map(Number);
const tmp = mkdtempSync(path.join(tmpdir(), 'notice-bench-'));
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const rows: Array<[string, string, string, string]> = [];
const line = (what: string, ours: string, baseline: string, ratio: number | null) => rows.push([what, ours, baseline, ratio === null ? '' : `${ratio.toFixed(2)}`]);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const say = (s: string) => console.log(`  ${s}`);

function printTable() {
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length)), Math.max(...rows.map((r) => r[2].length))];
  console.log(`\n${'measure'.padEnd(w[0])}  ${'ours'.padEnd(w[1])}  ${'baseline (same run)'.padEnd(w[2])}  ratio`);
  for (const [what, ours, baseline, ratio] of rows) console.log(`${what.padEnd(w[0])}  ${ours.padEnd(w[1])}  ${baseline.padEnd(w[2])}  ${ratio}`);
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

const wait = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/** N worker processes, as an operator starts them; resolves once every one says it started. */
async function startWorkers(n: number, env: Record<string, string>): Promise<ChildProcess[]> {
  // BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the workers.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const procs = Array.from({ length: n }, () => spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/notice.js'), 'worker', '--queues', 'email'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] }));
  await Promise.all(procs.map((p) => new Promise<void>((resolve, reject) => {
    let err = '';
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('started')) resolve();
    });
    p.once('exit', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
  })));
  return procs;
}

/** The same message, raw, from n processes: the rate the machine gives a nodemailer pool. */
async function rawBaseline(sink: Sink, processes: number, total: number): Promise<number> {
  const each = Math.ceil(total / processes);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: processes }, (_, i) => new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bench/raw-sender.ts'), sink.url, String(each), String(POOL), String(CONCURRENCY), String(i * each)], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`raw sender exited ${code}`))));
  })));
  return rate(each * processes, performance.now() - t0);
}

/** A campaign of `count` people copied from one already imported (new codes): fast set-up for a run. */
async function cloneCampaign(app: App, from: number, count: number): Promise<number> {
  const c = await createCampaignFromDir(app.db, `bench-${Date.now()}`, path.join(root, 'templates/demo'));
  await app.db.query(
    `insert into notices (campaign_id, customer_id, notice_code, name, email, email_normalized, postal_code, prefecture, city, address_line1, address_line2, locale, segment, extra)
     select $1::bigint, customer_id, 'B' || $1::bigint || '-' || id, name, email, email_normalized, postal_code, prefecture, city, address_line1, address_line2, locale, segment, extra
     from notices where campaign_id = $2 order by id limit $3`,
    [c.id, from, count],
  );
  await app.db.query(`insert into import_runs (campaign_id, file_name, accepted, duplicates, rejected, report) values ($1, 'clone', $2, 0, 0, '{}')`, [c.id, count]);
  return c.id;
}

interface RunStats {
  ms: number;
  sent: number;
  redisPeak: number;
  rss: Array<[number, number]>;
}

/** Launch a campaign and wait until its email phase is done, watching Redis and the workers. */
async function runCampaign(app: App, redis: Redis, id: number, workers: ChildProcess[], milestones: number[] = []): Promise<RunStats> {
  const before = await usedMemory(redis);
  let peak = 0;
  const rss: Array<[number, number]> = [];
  const t0 = performance.now();
  await launch(steeringDeps(app), id);
  let next = 0;
  for (;;) {
    const c = await exactCounts(app.db, id);
    peak = Math.max(peak, (await usedMemory(redis)) - before);
    while (next < milestones.length && c.sent >= milestones[next]) rss.push([milestones[next++], workers.reduce((a, w) => Math.max(a, rssMb(w.pid!)), 0)]);
    if (c.pending + c.queued + c.sending === 0) return { ms: performance.now() - t0, sent: c.sent, redisPeak: peak, rss };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main() {
  const bench = await benchDatabase('bench');
  const sink = await startSink();
  const base = loadConfig();
  const env = {
    DATABASE_URL: bench.url, QUEUE_PREFIX: `{${bench.name}}`, SMTP_URL: sink.url, SMTP_POOL_SIZE: String(POOL), WORKER_CONCURRENCY: String(CONCURRENCY),
    LOG_FILE: path.join(tmp, 'worker.log'), LOG_LEVEL: 'warn', NOTICE_DEV: '1', WORKER_METRICS_PORT: '0', RECONCILE_INTERVAL_MS: '60000',
  };
  const app = makeApp(loadConfig({ ...process.env, ...env }));
  const redis = new Redis(base.REDIS_URL);
  let workers: ChildProcess[] = [];
  try {
    await migrate(app.db);
    console.log(`bench: ${PEOPLE} people (pipeline runs: ${PIPE_PEOPLE}), sink: ${sink.kind}; ${CONCURRENCY} sends in flight per process, SMTP pool ${POOL}; ${tmp}`);
    const c = smtpSource(sink.port, 20_000, CONCURRENCY, 4000);
    if (c) line('smtp-source → the sink (C, the machine\'s limit)', `${c} msgs/s`, '', null);

    // 1. Import vs COPY.
    const csv = path.join(tmp, 'people.csv');
    await writeDemoCsv(csv, PEOPLE, { noEmail: 0, hardBounce: 0, greylist: 0, english: 0.1, card: 0.57 });
    await app.db.query('create table raw_copy (customer_id text, name text, email text, postal_code text, prefecture text, city text, address_line1 text, address_line2 text, locale text, segment text)');
    let t0 = performance.now();
    const client = await app.db.connect();
    await pipeline(createReadStream(csv), client.query(pgCopy.from('copy raw_copy from stdin with (format csv, header true)')));
    client.release();
    const rawCopyMs = performance.now() - t0;
    const first = await createCampaignFromDir(app.db, 'bench', path.join(root, 'templates/demo'));
    t0 = performance.now();
    const report = await importCsv(app.db, app.templates, { campaignId: first.id, file: csv, encoding: 'utf8' });
    const importMs = performance.now() - t0;
    line(`import ${PEOPLE} (parse, validate, load) vs COPY of the file into a text table`, `${rate(report.accepted, importMs)} rows/s`, `${rate(PEOPLE, rawCopyMs)} rows/s`, rawCopyMs / importMs);
    if (process.argv.includes('--import-only')) return printTable();

    // 2. Launch vs BullMQ addBulk of as many jobs; Redis bytes per job.
    const launchId = await cloneCampaign(app, first.id, PEOPLE);
    t0 = performance.now();
    await launch(steeringDeps(app), launchId);
    const launchMs = performance.now() - t0;
    await app.db.query(`update campaigns set state = 'cancelled' where id = $1`, [launchId]);
    await app.queues.email.obliterate({ force: true });
    const m0 = await usedMemory(redis);
    t0 = performance.now();
    for (let i = 0; i < PEOPLE; i += 1000) {
      await app.queues.email.addBulk(Array.from({ length: Math.min(1000, PEOPLE - i) }, (_, k) => ({ name: JOB.sendEmail, data: { noticeId: i + k + 1, campaignId: 1 }, opts: { jobId: `e-${i + k + 1}` } })));
    }
    const bulkMs = performance.now() - t0;
    const perJob = ((await usedMemory(redis)) - m0) / PEOPLE;
    await app.queues.email.obliterate({ force: true });
    line(`launch ${PEOPLE} (all queued in PostgreSQL, a window in Redis) vs addBulk of ${PEOPLE} jobs`, `${rate(PEOPLE, launchMs)} people/s`, `${rate(PEOPLE, bulkMs)} jobs/s`, bulkMs / launchMs);
    line('Redis per person, all of them as jobs (what a window saves)', '', `${Math.round(perJob)} B/job (${mb(perJob * 1_000_000)} at 1M)`, null);

    // 3. The pipeline with 1, 2, 4 worker processes, each beside raw pools in as many processes.
    for (const n of WORKERS) {
      const raw = await rawBaseline(sink, n, PIPE_PEOPLE);
      const id = await cloneCampaign(app, first.id, PIPE_PEOPLE);
      workers = await startWorkers(n, env);
      const r = await runCampaign(app, redis, id, workers);
      await Promise.all(workers.map((w) => (w.kill('SIGTERM'), wait(w))));
      workers = [];
      line(`pipeline, ${n} worker process${n > 1 ? 'es' : ''} (launch → SMTP → ledger), ${PIPE_PEOPLE} people`, `${rate(r.sent, r.ms)} msgs/s`, `raw pool ×${n}: ${raw} msgs/s`, rate(r.sent, r.ms) / raw);
      line(`  Redis peak growth during that run`, mb(r.redisPeak), '', null);
      await app.db.query(`update campaigns set state = 'cancelled' where id = $1`, [id]);
    }

    // 4. The headline: import → everyone in the ledger, 2 workers.
    if (process.argv.includes('--no-e2e')) return printTable();
    say(`end to end: import ${PEOPLE} → everyone in the ledger, 2 worker processes…`);
    const e2eStart = performance.now();
    const camp = await createCampaignFromDir(app.db, 'bench-e2e', path.join(root, 'templates/demo'));
    t0 = performance.now();
    const rep = await importCsv(app.db, app.templates, { campaignId: camp.id, file: csv, encoding: 'utf8' });
    const importE2eMs = performance.now() - t0;
    workers = await startWorkers(2, env);
    const milestones = [10_000, 100_000, 1_000_000].filter((m) => m <= rep.accepted);
    const r = await runCampaign(app, redis, camp.id, workers, milestones);
    const totalMs = performance.now() - e2eStart;
    line(`END TO END: ${rep.accepted} people, import → all in the ledger, 2 workers`, `${(totalMs / 60_000).toFixed(1)} min (${rate(rep.accepted, totalMs)} people/s)`, `import ${(importE2eMs / 1000).toFixed(0)} s, send ${(r.ms / 1000).toFixed(0)} s`, null);
    line('  Redis peak growth during it', mb(r.redisPeak), `all as jobs: ${mb(perJob * rep.accepted)}`, null);
    line('  worker RSS at 10k / 100k / 1M sent', r.rss.map(([k, v]) => `${k / 1000}k: ${v} MB`).join(', '), '', null);
    printTable();
  } finally {
    await Promise.all(workers.map((w) => (w.kill('SIGTERM'), wait(w))));
    await app.queues.email.obliterate({ force: true }).catch(() => {});
    await app.queues.postal.obliterate({ force: true }).catch(() => {});
    await app.close();
    redis.disconnect();
    await sink.stop();
    await bench.drop();
  }
}

await main();
