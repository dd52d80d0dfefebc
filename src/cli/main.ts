// `notice`: the operator's command line. Exit codes: 0 ok, 1 runtime failure, 2 bad input/usage.
/* eslint-disable no-console -- this is the CLI's own output */
import { spawnSync } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { ConfigError, describeConfig, loadConfig } from '../config.ts';
import { makeApp } from '../app.ts';
import { migrate } from '../db/migrate.ts';
import { TemplateError } from '../domain/template.ts';
import { ImportFileError, importCsv, type Encoding } from '../import/importer.ts';
import { CampaignStateError, cancel, launch, pause, resume } from '../producer/campaign-control.ts';
import { campaignStatus, writeReportFile } from '../producer/campaign-status.ts';
import { reconcile } from '../producer/reconciler.ts';
import { createCampaignFromDir } from '../templates/create-campaign.ts';
import { ALL_QUEUES, startWorkers } from '../worker-runner.ts';
import { confirmSnsSubscription, fetchSnsCert, makeSnsVerifier } from '../bounces/sns.ts';
import { buildServer } from '../http/server.ts';
import { AddressFixError } from '../postal/address-fix.ts';
import { vendorByName } from '../postal/vendor-store.ts';
import { UsageError, positiveInt, print, servicesScript, withApp } from './common.ts';
import { formatStatus } from './output.ts';
import { addPostalCommands } from './postal-commands.ts';
import { runDemo } from './demo.ts';

const program = new Command('notice')
  .description('Tell every person affected by an incident, individually, and prove it.')
  .showHelpAfterError()
  .exitOverride();

program
  .command('services')
  .description('local Redis + PostgreSQL on 127.0.0.1 (data under .data/)')
  .argument('<action>', 'up | down | status')
  .action((action: string) => {
    if (!['up', 'down', 'status', 'env'].includes(action)) throw new UsageError(`services: unknown action "${action}" (up, down, status)`);
    const r = spawnSync('bash', [servicesScript, action], { stdio: 'inherit' });
    process.exitCode = r.status === 0 ? 0 : action === 'status' ? 3 : 1;
  });

program.command('config').description('list every configuration key').action(() => {
  for (const c of describeConfig()) console.log(`${c.key.padEnd(22)} ${c.description}${c.default ? ` (default: ${c.default})` : ''}`);
});

program
  .command('db')
  .description('database')
  .command('migrate')
  .description('apply pending migrations')
  .action(() =>
    withApp(async (app) => {
      const applied = await migrate(app.db);
      console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
    }),
  );

const campaign = program.command('campaign').description('create and steer campaigns');

campaign
  .command('create')
  .requiredOption('--name <name>', 'campaign name (shown in notices as {{campaign_name}})')
  .requiredOption('--templates <dir>', 'template set directory')
  .option('--extra-vars <list>', 'comma-separated extra CSV columns the templates use', '')
  .option('--vendor <name>', 'printing vendor for this campaign\'s letters (see `notice vendor add`)')
  .option('--json', 'machine-readable output')
  .action((o: { name: string; templates: string; extraVars: string; vendor?: string; json?: boolean }) =>
    withApp(async (app) => {
      const extra = o.extraVars.split(',').map((s) => s.trim()).filter(Boolean);
      const vendor = o.vendor ? await vendorByName(app.db, o.vendor) : null;
      if (o.vendor && !vendor) throw new UsageError(`no vendor named "${o.vendor}" (add it with: notice vendor add NAME)`);
      const c = await createCampaignFromDir(app.db, o.name, o.templates, extra);
      if (vendor) await app.db.query('update campaigns set vendor_id = $2 where id = $1', [c.id, vendor.id]);
      print(o.json, c, `${c.id}\n(campaign created: template ${c.templateVersion}, segments ${c.segments.join(', ')}, locales ${c.locales.join(', ')})`);
    }),
  );

const relayProgress = (json?: boolean) => (p: { queued: number; postal: number; requeued: number }) => {
  if (!json && process.stderr.isTTY) process.stderr.write(`\r  queued ${p.queued}  to post ${p.postal}  re-enqueued ${p.requeued}   `);
};

for (const verb of ['launch', 'resume'] as const) {
  campaign
    .command(verb)
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--json', 'machine-readable output')
    .action((id: number, o: { json?: boolean }) =>
      withApp(async (app) => {
        const deps = { db: app.db, queues: app.queues, pageSize: app.config.RELAY_PAGE_SIZE };
        const p = verb === 'launch' ? await launch(deps, id, relayProgress(o.json)) : await resume(deps, id, relayProgress(o.json));
        if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
        print(o.json, p, `campaign ${id} running: ${p.queued} queued for email, ${p.postal} to post, ${p.requeued} re-enqueued`);
      }),
    );
}

campaign
  .command('vendor')
  .description('set the printing vendor of a campaign')
  .argument('<campaign>', 'campaign id', positiveInt)
  .argument('<vendor>', 'vendor name')
  .action((id: number, name: string) =>
    withApp(async (app) => {
      const vendor = await vendorByName(app.db, name);
      if (!vendor) throw new UsageError(`no vendor named "${name}"`);
      const { rowCount } = await app.db.query('update campaigns set vendor_id = $2 where id = $1', [id, vendor.id]);
      if (!rowCount) throw new UsageError(`campaign ${id} does not exist`);
      console.log(`campaign ${id}: letters go to ${name}`);
    }),
  );

campaign
  .command('pause')
  .argument('<campaign>', 'campaign id', positiveInt)
  .option('--reason <text>', 'why', 'paused by operator')
  .action((id: number, o: { reason: string }) =>
    withApp(async (app) => {
      await pause(app.db, id, o.reason);
      console.log(`campaign ${id} paused`);
    }),
  );

campaign
  .command('cancel')
  .argument('<campaign>', 'campaign id', positiveInt)
  .action((id: number) =>
    withApp(async (app) => {
      const n = await cancel(app.db, id);
      console.log(`campaign ${id} cancelled; ${n} people not yet notified were cancelled`);
    }),
  );

campaign
  .command('status')
  .argument('<campaign>', 'campaign id', positiveInt)
  .option('--json', 'machine-readable output')
  .option('--watch', 'refresh every 2 s until the email phase is done')
  .action((id: number, o: { json?: boolean; watch?: boolean }) =>
    withApp(async (app) => {
      for (;;) {
        const s = await campaignStatus(app.db, id);
        if (!s) throw new UsageError(`campaign ${id} does not exist`);
        if (o.watch && !o.json && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
        print(o.json, s, formatStatus(s));
        if (!o.watch || s.emailPhaseDone || s.state !== 'running') return;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }),
  );

campaign
  .command('report')
  .argument('<campaign>', 'campaign id', positiveInt)
  .requiredOption('--out <file>', 'CSV file to write')
  .action((id: number, o: { out: string }) =>
    withApp(async (app) => {
      const s = await campaignStatus(app.db, id);
      if (!s) throw new UsageError(`campaign ${id} does not exist`);
      await writeReportFile(app.db, id, o.out);
      console.log(`wrote ${s.total} rows to ${o.out}`);
    }),
  );

program
  .command('import')
  .description('import affected customers from a CSV into a campaign (line-by-line report)')
  .argument('<campaign>', 'campaign id', positiveInt)
  .argument('<file>', 'CSV of affected customers (header row required)')
  .option('--encoding <enc>', 'utf8 | shift_jis', 'utf8')
  .option('--json', 'machine-readable output')
  .action((id: number, file: string, o: { encoding: string; json?: boolean }) =>
    withApp(async (app) => {
      if (o.encoding !== 'utf8' && o.encoding !== 'shift_jis') throw new UsageError(`--encoding must be utf8 or shift_jis, not "${o.encoding}"`);
      const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: '  importing [{bar}] {percentage}% | {rows} rows', stream: process.stderr }, Presets.shades_classic) : null;
      bar?.start(100, 0, { rows: 0 });
      const report = await importCsv(app.db, app.templates, {
        campaignId: id,
        file,
        encoding: o.encoding as Encoding,
        onProgress: (p) => bar?.update(Math.floor((100 * p.bytes) / Math.max(1, p.totalBytes)), { rows: p.rows }),
      }).finally(() => bar?.stop());
      const lines = [
        `${report.file}: ${report.rows} rows: ${report.accepted} accepted, ${report.duplicates.length} duplicates, ${new Set(report.rejected.map((r) => r.line)).size} rejected, ${report.warnings.length} warnings`,
        ...report.droppedColumns.map((c) => `  column ${c}: looks like card data; not stored`),
        ...report.rejected.map((r) => `  ${report.file}:${r.line}: rejected: ${r.field}: ${r.reason}`),
        ...report.duplicates.map((r) => `  ${report.file}:${r.line}: duplicate: ${r.field}: ${r.reason}`),
        ...report.warnings.map((r) => `  ${report.file}:${r.line}: warning: ${r.field}: ${r.reason}`),
      ];
      print(o.json, report, lines.join('\n'));
    }),
  );

program
  .command('worker')
  .description('run workers until SIGTERM/SIGINT; in-flight jobs finish first')
  .option('--queues <list>', 'comma-separated queues', ALL_QUEUES.join(','))
  .option('--concurrency <n>', 'jobs in flight per queue', positiveInt)
  .option('--no-reconcile', 'do not run the periodic reconciler in this process')
  .option('--no-receiver', 'do not run the inbound SMTP bounce receiver in this process')
  .action(async (o: { queues: string; concurrency?: number; reconcile: boolean; receiver: boolean }) => {
    const queues = o.queues.split(',').map((s) => s.trim());
    const unknown = queues.filter((q) => !ALL_QUEUES.includes(q));
    if (unknown.length) throw new UsageError(`unknown queue(s): ${unknown.join(', ')} (known: ${ALL_QUEUES.join(', ')})`);
    const app = makeApp(loadConfig());
    const running = await startWorkers(app, { queues, concurrency: o.concurrency, reconcile: o.reconcile, receiver: o.receiver });
    app.log.info({ queues, pid: process.pid }, 'worker started');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        app.log.info({ signal }, 'stopping: finishing jobs in flight');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await running.close();
    await app.close();
  });

program
  .command('serve')
  .description('HTTP: health, vendor API, SES webhook')
  .option('--port <n>', 'port (default HTTP_PORT)', (v) => Number(v))
  .action(async (o: { port?: number }) => {
    const app = makeApp(loadConfig());
    const c = app.config;
    const sns = makeSnsVerifier({ allowedTopics: c.SNS_TOPIC_ARNS.split(',').map((s) => s.trim()).filter(Boolean), fetchCert: fetchSnsCert });
    const server = await buildServer({ app, sns, confirmSubscription: confirmSnsSubscription });
    await server.listen({ host: c.HTTP_HOST, port: o.port ?? c.HTTP_PORT });
    app.log.info({ port: o.port ?? c.HTTP_PORT }, 'serving');
    console.error(`notice: serving on http://${c.HTTP_HOST}:${o.port ?? c.HTTP_PORT}`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await server.close();
    await app.close();
  });

addPostalCommands(program);

program
  .command('reconcile')
  .description('re-enqueue notices that have no live job (after Redis lost data)')
  .option('--campaign <id>', 'only this campaign', positiveInt)
  .action((o: { campaign?: number }) =>
    withApp(async (app) => {
      const r = await reconcile({ db: app.db, queues: app.queues, redis: app.redis, pageSize: 1000, leaseMs: app.config.SEND_LEASE_MS }, o.campaign);
      console.log(`checked ${r.checked}; re-enqueued ${r.email} email and ${r.postal} postal jobs`);
    }),
  );

program
  .command('demo')
  .description('everything end to end on a built-in SMTP sink, with synthetic customers')
  .option('--recipients <n>', 'how many synthetic customers', positiveInt, 10_000)
  .option('--no-services', 'do not start local Redis/PostgreSQL (use the configured ones)')
  .action((o: { recipients: number; services: boolean }) => runDemo({ recipients: o.recipients, startServices: o.services, servicesScript }));

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof AddressFixError || err instanceof ConfigError || err instanceof TemplateError || err instanceof ImportFileError || err instanceof CampaignStateError) return 2;
  return 1;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const e = err as Error;
    console.error(`notice: ${e.message}`);
    process.exitCode = exitCodeFor(err);
  }
}
