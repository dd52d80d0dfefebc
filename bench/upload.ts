// Uploading recipients over HTTP: `POST /api/v1/campaigns/:id/recipients` streams the body to a
// temporary file and imports it, so a million rows never sit in the server's memory. Measured side
// by side, in one run, with `notice import` of the same file (the CLI path): rows/s and the peak
// resident memory of each process (VmHWM).
//   npm run bench:upload [-- --rows 1000000]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { arg, benchDatabase, root } from './bench-env.ts';
import { writeDemoCsv } from '../src/cli/demo-data.ts';
import { loadConfig } from '../src/config.ts';
import { makeApp } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { addOperator } from '../src/auth/operator-store.ts';
import { createCampaignFromDir } from '../src/campaigns/create.ts';

const ROWS = arg('rows', 1_000_000);
const node = process.execPath;
const cli = path.join(root, 'bin/notice.js');
const peakMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function main() {
  const db = await benchDatabase('bench_upload');
  const tmp = mkdtempSync(path.join(tmpdir(), 'notice-bench-upload-'));
  const env = { ...process.env, DATABASE_URL: db.url, QUEUE_PREFIX: `{${db.name}}`, NOTICE_DEV: '1', LOG_LEVEL: 'warn', LOG_FILE: path.join(tmp, 'notice.log') };
  const app = makeApp(loadConfig(env));
  let serve: ChildProcess | null = null;
  try {
    await migrate(app.db);
    const csv = path.join(tmp, 'people.csv');
    await writeDemoCsv(csv, ROWS, { noEmail: 0.02, hardBounce: 0, greylist: 0, english: 0.1, card: 0.57 });
    const mb = (statSync(csv).size / 1024 / 1024).toFixed(0);
    console.log(`bench: upload ${ROWS} rows (${mb} MB) over HTTP vs notice import of the same file; ${tmp}`);
    const templates = path.join(root, 'templates/demo');
    const viaHttp = await createCampaignFromDir(app.db, 'upload', templates);
    const viaCli = await createCampaignFromDir(app.db, 'cli', templates);
    const { token } = await addOperator(app.db, 'bench', 'operator');

    // The CLI import, run by /usr/bin/time for its peak memory.
    let t0 = performance.now();
    const imp = spawnSync('/usr/bin/time', ['-f', '%M', node, cli, 'import', String(viaCli.id), csv, '--json'], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
    const cliMs = performance.now() - t0;
    if (imp.status !== 0) throw new Error(`notice import failed: ${imp.stderr.slice(-500)}`);
    const cliPeak = Number(imp.stderr.trim().split('\n').at(-1)) / 1024;
    const cliAccepted = (JSON.parse(imp.stdout) as { accepted: number }).accepted;

    // notice serve, and a streamed upload to it.
    const port = 18_000 + Math.floor(Math.random() * 1000);
    serve = spawn(node, [cli, 'serve', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
      if (i > 100) throw new Error('notice serve did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const idlePeak = peakMb(serve.pid!);
    t0 = performance.now();
    const r = await fetch(`${base}/api/v1/campaigns/${viaHttp.id}/recipients?file_name=people.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(createReadStream(csv)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const report = (await r.json()) as { accepted: number };
    const httpMs = performance.now() - t0;
    if (r.status !== 200) throw new Error(`upload answered ${r.status}: ${JSON.stringify(report).slice(0, 300)}`);
    const servePeak = peakMb(serve.pid!);

    const rows = [
      ['measure', 'ours (HTTP upload)', 'baseline: notice import', 'ratio'],
      [`rows/s (${ROWS} rows, ${mb} MB)`, `${Math.round(report.accepted / (httpMs / 1000))}`, `${Math.round(cliAccepted / (cliMs / 1000))}`, (cliMs / httpMs).toFixed(2)],
      ['accepted', String(report.accepted), String(cliAccepted), ''],
      ['peak RSS of the process (MB)', `${servePeak.toFixed(0)} (idle ${idlePeak.toFixed(0)})`, cliPeak.toFixed(0), (servePeak / cliPeak).toFixed(2)],
    ];
    const w = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
    console.log('\n' + rows.map((x) => x.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n'));
  } finally {
    serve?.kill('SIGTERM');
    await app.close();
    await db.drop();
  }
}

await main();
