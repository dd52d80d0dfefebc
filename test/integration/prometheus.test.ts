// Monitoring as a Prometheus server sees it: the alert rules pass their own unit tests, the
// scraped text passes `promtool check metrics`, and a real `prometheus` (Debian package, on
// 127.0.0.1) scraping `notice serve` and a `notice worker` during a campaign ends up with the
// same number of sends as PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root } from '../support/fixtures.ts';
import { exited, freePort, spawnNotice, stop, type NoticeProcess } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';

const rules = path.join(root, 'deploy/prometheus');
let t: TestEnv;
let sink: SmtpSink;
let serve: NoticeProcess;
let worker: NoticeProcess;
let prom: ChildProcess;
let promDir: string;
let servePort: number;
let workerPort: number;
let promUrl: string;

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  servePort = await freePort();
  workerPort = await freePort();
  const env = { ...t.env, SMTP_URL: sink.url };
  serve = spawnNotice(env, ['serve', '--port', String(servePort)]);
  worker = spawnNotice(env, ['worker', '--metrics-port', String(workerPort), '--concurrency', '5']);
  await waitFor(() => /serving on/.test(serve.stderrText()) && /metrics on/.test(worker.stderrText()), { what: 'serve and worker started' });

  promDir = mkdtempSync(path.join(tmpdir(), 'notice-prom-'));
  const promPort = await freePort();
  writeFileSync(path.join(promDir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: ['${path.join(rules, 'alerts.yml')}']`,
    'scrape_configs:',
    `  - { job_name: notice-serve, static_configs: [{ targets: ['127.0.0.1:${servePort}'] }] }`,
    `  - { job_name: notice-worker, static_configs: [{ targets: ['127.0.0.1:${workerPort}'] }] }`,
    '',
  ].join('\n'));
  prom = spawn('prometheus', [`--config.file=${path.join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: 'ignore' });
  promUrl = `http://127.0.0.1:${promPort}`;
  await waitFor(async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok, { what: 'prometheus ready' });
});
afterAll(async () => {
  if (prom) {
    prom.kill('SIGTERM');
    await exited(prom);
  }
  if (promDir) rmSync(promDir, { recursive: true, force: true });
  if (worker) await stop(worker);
  if (serve) await stop(serve);
  await sink?.close();
  await t?.teardown();
});

async function query(q: string): Promise<number | null> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return body.data.result.length ? Number(body.data.result[0].value[1]) : null;
}

describe('Prometheus', () => {
  it('the alert rules are valid and pass their unit tests', () => {
    expect(spawnSync('promtool', ['check', 'rules', path.join(rules, 'alerts.yml')], { encoding: 'utf8' }).status).toBe(0);
    const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: rules, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS/);
  });

  it('scrapes serve and a worker during a campaign; its count of sends is PostgreSQL\'s', async () => {
    const app = t.app({ SMTP_URL: sink.url });
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 600 }, (_, i) => person(i + 1, i % 10 === 0 ? `nouser-${i}@example.com` : `prom${i}@example.com`)));
    sink.mode.delayMs = 3;
    await launch(steeringDeps(app), id);
    // Both targets are up while it runs.
    await waitFor(async () => (await query('sum(up{job=~"notice-serve|notice-worker"})')) === 2, { what: 'both targets up' });
    const done = await waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { what: 'campaign sent' });
    sink.mode.delayMs = 0;
    expect(done.counts.sent).toBe(540);

    // What Prometheus holds after its next scrapes equals what PostgreSQL says.
    await waitFor(async () => (await query('sum(notice_sends_total{outcome="sent"})')) === done.counts.sent, { what: 'sends in Prometheus', timeoutMs: 30_000 });
    await waitFor(async () => (await query(`sum(notice_notices{campaign="${id}",state="sent"})`)) === done.counts.sent, { what: 'people sent, from serve', timeoutMs: 30_000 });
    expect(await query('sum(notice_send_failures_total{class="hard"})')).toBe(60);
    expect(await query('max(notice_workers_alive)')).toBe(1);
    expect(await query('sum(notice_send_duration_seconds_count)')).toBe(600);
    expect(await query('max(process_resident_memory_bytes{job="notice-worker"})')).toBeGreaterThan(0);
    // No personal data and no unbounded labels: no address or notice id anywhere in the text.
    for (const port of [servePort, workerPort]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).not.toMatch(/@|notice_id|noticeId/);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }
  });

  it('a worker that stops shows as a target down, and leaves the heartbeat table', async () => {
    await stop(worker);
    await waitFor(async () => (await query('up{job="notice-worker"}')) === 0, { what: 'worker target down', timeoutMs: 30_000 });
    await waitFor(async () => (await query('max(notice_workers_alive)')) === 0, { what: 'no worker alive', timeoutMs: 30_000 });
  });
});
