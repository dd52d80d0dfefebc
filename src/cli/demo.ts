// `notice demo`: the whole path on one machine. Starts Redis and PostgreSQL, migrates, generates
// synthetic customers, imports them, runs workers against a built-in SMTP sink that rejects some
// addresses (550 5.1.1) and greylists others, and ends with every person's final state.
/* eslint-disable no-console -- this is the CLI's own output */
import { setCampaignVendor } from '../db/campaign-store.ts';
import { countInState } from '../db/notice-store.ts';
import { batchesToClose, batchNoticeIds } from '../channels/post/batch-store.ts';
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.ts';
import { makeApp } from '../app.ts';
import { migrate } from '../db/migrate.ts';
import { ACCOUNTED, NOTICE_STATES } from '../domain/notice-state.ts';
import type { Db } from '../db/pool.ts';
import { importCsv } from '../intake/importer.ts';
import { startSmtpSink } from './smtp-sink.ts';
import { launch, steeringDeps } from '../campaigns/control.ts';
import { campaignStatus } from '../campaigns/status.ts';
import { writeReportFile } from '../campaigns/report.ts';
import { createCampaignFromDir } from '../campaigns/create.ts';
import { startWorkers } from '../../workers/runner.ts';
import { createWriteStream, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { closeBatch } from '../channels/post/close-batch.ts';
import { readFile } from '../channels/post/file-store.ts';
import { ack, mailed, returns } from '../channels/post/vendor-actions.ts';
import { publishAnnouncement } from '../campaigns/announcement.ts';
import { regulatorReport } from '../campaigns/regulator.ts';
import { verifyLedger } from '../db/ledger-chain.ts';
import { enqueuePostal } from '../dispatch/enqueue.ts';
import { addVendor } from '../channels/post/vendor-store.ts';
import { writeDemoCsv } from './demo-data.ts';
import { oneLineStatus, table } from './output.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface DemoOptions {
  recipients: number;
  startServices: boolean;
  servicesScript: string;
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const started = Date.now();
  const base = loadConfig();
  const dataDir = base.NOTICE_DATA_DIR ?? path.join(root, '.data');
  const demoDir = path.join(dataDir, 'demo');
  await mkdir(demoDir, { recursive: true });
  const logFile = path.join(demoDir, 'notice.log');
  await rm(logFile, { force: true });

  if (o.startServices) {
    console.log('1. starting local Redis and PostgreSQL (scripts/services.sh up)');
    const r = spawnSync('bash', [o.servicesScript, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('could not start local services; see the messages above');
  }

  const sink = await startSmtpSink({ tempfailTimes: 1 });
  console.log(`2. SMTP sink on ${sink.url}: "nouser" addresses get 550 5.1.1, "greylist" ones 451 4.7.1 once`);
  const config = loadConfig(process.env, {
    SMTP_URL: sink.url, MAIL_TRANSPORT: 'smtp', LOG_FILE: logFile, BACKOFF_BASE_MS: '1000', BACKOFF_MAX_MS: '5000',
    RECONCILE_INTERVAL_MS: '5000', SEND_LEASE_MS: '30000', BOUNCE_SMTP_PORT: '0', BATCH_MAX_SIZE: '100000',
    MX_CHECK: 'off', // made-up domains on a local sink: nothing to look up
  });
  const app = makeApp(config);
  let workers: Awaited<ReturnType<typeof startWorkers>> | null = null;
  try {
    await migrate(app.db);
    const csv = path.join(demoDir, 'recipients.csv');
    await writeDemoCsv(csv, o.recipients);
    const created = await createCampaignFromDir(app.db, 'デモ通販ストア', path.join(root, 'templates/demo'));
    const vendor = await addVendor(app.db, `デモ印刷 ${new Date().toISOString()}`);
    await setCampaignVendor(app.db, created.id, vendor.id, 'demo');
    console.log(`3. campaign ${created.id} created (templates ${created.templateVersion}, printing vendor ${vendor.id}); ${o.recipients} synthetic customers in ${csv}`);

    const t0 = Date.now();
    const report = await importCsv(app.db, app.templates, { campaignId: created.id, file: csv, encoding: 'utf8' });
    console.log(`4. imported ${report.accepted} people in ${((Date.now() - t0) / 1000).toFixed(1)} s (${report.duplicates.length} duplicates, ${report.rejected.length} rejected)`);

    workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: config.WORKER_CONCURRENCY });
    const relay = await launch(steeringDeps(app), created.id, { actor: 'demo' });
    console.log(`5. launched: ${relay.relay.queued} queued for email, ${relay.relay.postal} straight to post (no email)`);

    const sendStart = Date.now();
    let status = await campaignStatus(app.db, created.id);
    let lastLine = 0;
    while (status && !status.emailPhaseDone && status.state === 'running') {
      await new Promise((r) => setTimeout(r, 1000));
      status = await campaignStatus(app.db, created.id);
      if (!status) break;
      // A live line on a terminal; a line every 5 s in a log.
      if (process.stdout.isTTY) process.stdout.write(`\r   ${oneLineStatus(status)}      `);
      else if (Date.now() - lastLine >= 5000 || status.emailPhaseDone) {
        process.stdout.write(`   ${oneLineStatus(status)}\n`);
        lastLine = Date.now();
      }
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    if (!status) throw new Error('campaign vanished');
    const seconds = (Date.now() - sendStart) / 1000;
    const sentCount = status.counts.sent;

    // The postal route: everyone email could not reach joins the vendor's batch...
    await waitForPostal(app.db, created.id);
    const open = await batchesToClose(app.db, created.id);
    let returned = 0;
    const pdf = existsSync(config.PDF_FONT);
    if (!pdf) console.log(`   (no Japanese font at ${config.PDF_FONT}: letters.pdf is skipped; install fonts-ipaexfont-mincho)`);
    for (const batchId of open) {
      const closed = await closeBatch({ db: app.db, templates: app.templates, fontPath: config.PDF_FONT, returnAddress: config.RETURN_ADDRESS, pdf }, batchId);
      if (!closed) continue;
      const dir = path.join(demoDir, `batch-${batchId}`);
      await mkdir(dir, { recursive: true });
      for (const f of [...closed.files.map((x) => x.name), 'manifest.json']) {
        // files are streamed from PostgreSQL, as the vendor API serves them
        await pipeline(Readable.from(readFile(app.db, batchId, f)), createWriteStream(path.join(dir, f)));
      }
      console.log(`6. print batch ${batchId}: ${closed.letters} letters (${closed.exceptions} in exceptions.csv) → ${dir}/ (${[...closed.files.map((x) => x.name), 'manifest.json'].join(', ')})`);
      // ...and the demo plays the vendor: printed, then mailed today.
      await ack(app.db, vendor.id, batchId);
      await mailed(app.db, vendor.id, batchId, new Date().toISOString().slice(0, 10));
      // One letter comes back (the person moved): unreachable, for the public announcement below.
      if (!returned) {
        const [first] = await batchNoticeIds(app.db, batchId);
        if (first) returned = (await returns(app.db, vendor.id, [{ notice_id: first, reason: '宛所に尋ねあたりません (moved, no forwarding address)' }], (n) => enqueuePostal(app.queues, n)))[0].outcome === 'unreachable' ? 1 : 0;
      }
    }
    // The substitute notice for whoever nobody could reach, then the regulator's figures.
    const published = await publishAnnouncement(app.db, app.templates, created.id, { organisation: config.ORGANISATION_NAME, enquiryDesk: config.ENQUIRY_DESK, verifyUrl: '/verify' }, 'demo');
    console.log(`7. public announcement ${published.announcement.id} published (covers ${published.covered} unreachable; notice serve shows it at /announcements/${created.id})`);
    const figures = await regulatorReport(app.db, created.id);
    await writeFile(path.join(demoDir, 'regulator.json'), JSON.stringify(figures, null, 2) + '\n');
    console.log(`8. regulator's figures → ${path.join(demoDir, 'regulator.json')}: ${figures.affected} affected, notified ${figures.notified.total} (email ${figures.notified.email.total}, post ${figures.notified.post}), covered by the announcement ${figures.public_announcement.covered}, adds up: ${figures.adds_up ? 'yes' : 'NO'}`);
    const verified = await verifyLedger(app.db, 'notice_events', { campaignId: created.id });
    console.log(`9. ledger: ${verified.rows} rows in ${verified.chains} person chains ${verified.broken ? 'BROKEN' : 'intact'}; root ${verified.root}`);
    status = (await campaignStatus(app.db, created.id))!;
    const reportFile = path.join(demoDir, 'report.csv');
    await writeReportFile(app.db, created.id, reportFile);

    const final = status;
    const unsettled = NOTICE_STATES.filter((s) => !ACCOUNTED.includes(s) && s !== 'postal_queued').reduce((a, s) => a + final.counts[s], 0);
    console.log(`\nSummary: campaign ${created.id} (${status.state}), ${status.total} people, email phase ${seconds.toFixed(1)} s, ${(sentCount / Math.max(seconds, 0.001)).toFixed(0)} sent/s`);
    console.log(table([...NOTICE_STATES.filter((s) => final.counts[s] > 0).map((s): [string, number] => [s, final.counts[s]]), ['not settled', unsettled]]));
    console.log(`\nper-person report: ${reportFile}\nlogs (ids only): ${logFile}\nSMTP sink received ${sink.received} messages. Total ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (unsettled > 0 || status.state !== 'running') {
      process.exitCode = 1;
      console.error(`notice: demo ended with ${unsettled} people not settled (campaign ${status.state}${status.pauseReason ? `: ${status.pauseReason}` : ''})`);
    }
  } finally {
    await workers?.close();
    await app.close();
    await sink.close();
  }
}

async function waitForPostal(db: Db, campaignId: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await countInState(db, campaignId, 'postal_queued')) === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
