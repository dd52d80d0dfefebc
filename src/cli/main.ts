// `notice`: the operator's command line. Exit codes: 0 ok, 1 runtime failure, 2 bad input/usage.
// Each command loads what it needs when it runs (dynamic imports), so that starting the CLI costs
// commander and little else: `notice --version` and `notice config` answer in a blink.
/* eslint-disable no-console -- this is the CLI's own output */
import { PermanentError } from '../domain/errors.ts';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { cliActor, positiveInt, print, servicesScript, withApp, UsageError } from './common.ts';
import { addCampaignCommands } from './campaign-commands.ts';
import { addPostalCommands } from './postal-commands.ts';
import { addProcessCommands } from './process-commands.ts';
import { addTokenCommands } from './token-commands.ts';
import { addBounceCommands } from './bounce-commands.ts';
import { addProofCommands } from './proof-commands.ts';
import { importReportText } from './output.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('notice')
  .description('Tell every person affected by an incident, individually, and prove it.')
  .version(version, '-V, --version', 'print the version')
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

program.command('config').description('list every configuration key; `config check`: does DNS publish the SPF, DKIM and DMARC records this setup needs').argument('[check]', 'check the sending domain\'s records').action(async (what?: string) => {
  const { describeConfig, loadConfig } = await import('../config.ts');
  if (what === undefined) {
    for (const c of describeConfig()) console.log(`${c.key.padEnd(22)} ${c.description}${c.default ? ` (default: ${c.default})` : ''}`);
    const { postalDataVersion } = await import('../channels/post/postal-data.ts');
    const v = postalDataVersion();
    console.log(`\npostal-code data: ${v.source}, ${v.data_date} (commit ${v.commit.slice(0, 12)}): ${v.rows} rows, ${v.business_offices} business offices (data/postal; rebuild: node scripts/build-postal-data.mjs)`);
    return;
  }
  if (what !== 'check') throw new UsageError(`config: unknown "${what}" (config, or config check)`);
  const [{ checkAuthRecords }, { dkimFromConfig }, { domainOf }] = await Promise.all([import('../channels/email/auth-records.ts'), import('../channels/email/smtp.ts'), import('../channels/email/message.ts')]);
  const c = loadConfig();
  const checks = await checkAuthRecords({ fromDomain: domainOf(c.MAIL_FROM), bounceDomain: c.BOUNCE_DOMAIN, dkim: dkimFromConfig(c), servers: c.DNS_SERVERS, timeoutMs: c.MX_TIMEOUT_MS });
  if (!c.DKIM_DOMAIN) checks.push({ check: 'DKIM', status: 'missing', detail: 'DKIM_DOMAIN is not set: notices go out unsigned (Gmail refuses unauthenticated bulk mail)' });
  for (const x of checks) console.log(`${x.status === 'ok' ? 'ok ' : x.status === 'not_checked' ? '?  ' : 'NO '} ${x.check}: ${x.detail}`);
  if (checks.some((x) => x.status === 'missing' || x.status === 'mismatch')) process.exitCode = 1;
});

program
  .command('db')
  .description('database')
  .command('migrate')
  .description('apply pending migrations')
  .action(() =>
    withApp(async (app) => {
      const { migrate } = await import('../db/migrate.ts');
      const applied = await migrate(app.db);
      console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
    }),
  );

addCampaignCommands(program);

program
  .command('import')
  .description('import affected customers from a CSV into a campaign (line-by-line report)')
  .argument('<campaign>', 'campaign id', positiveInt)
  .argument('<file>', 'CSV of affected customers (header row required)')
  .option('--encoding <enc>', 'auto (UTF-8, else Shift_JIS when the file reads cleanly as CP932) | utf8 | shift_jis', 'auto')
  .option('--json', 'machine-readable output')
  .action((id: number, file: string, o: { encoding: string; json?: boolean }) =>
    withApp(async (app) => {
      if (o.encoding !== 'auto' && o.encoding !== 'utf8' && o.encoding !== 'shift_jis') throw new UsageError(`--encoding must be auto, utf8 or shift_jis, not "${o.encoding}"`);
      const [{ importCsv }, { SingleBar, Presets }] = await Promise.all([import('../intake/importer.ts'), import('cli-progress')]);
      const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: '  importing [{bar}] {percentage}% | {rows} rows', stream: process.stderr }, Presets.shades_classic) : null;
      bar?.start(100, 0, { rows: 0 });
      const report = await importCsv(app.db, app.templates, {
        campaignId: id,
        file,
        encoding: o.encoding,
        actor: cliActor().actor,
        onProgress: (p) => bar?.update(Math.floor((100 * p.bytes) / Math.max(1, p.totalBytes)), { rows: p.rows }),
      }).finally(() => bar?.stop());
      print(o.json, report, importReportText(report));
    }),
  );

addProcessCommands(program);
addPostalCommands(program);
addTokenCommands(program);
addBounceCommands(program);
addProofCommands(program);

program
  .command('reconcile')
  .description('re-enqueue notices that have no live job (after Redis lost data)')
  .option('--campaign <id>', 'only this campaign', positiveInt)
  .action((o: { campaign?: number }) =>
    withApp(async (app) => {
      const [{ reconcile }, { steeringDeps }] = await Promise.all([import('../dispatch/reconciler.ts'), import('../campaigns/control.ts')]);
      // The same dependencies the workers use: the relay's window included.
      const r = await reconcile({ ...steeringDeps(app), pageSize: 1000 }, o.campaign);
      console.log(`checked ${r.checked}; re-enqueued ${r.email} email and ${r.postal} postal jobs${r.cancelled ? `; cancelled ${r.cancelled} people of cancelled campaigns` : ''}`);
    }, { redis: true }),
  );

program
  .command('demo')
  .description('everything end to end on a built-in SMTP sink, with synthetic customers')
  .option('--recipients <n>', 'how many synthetic customers', positiveInt, 10_000)
  .option('--no-services', 'do not start local Redis/PostgreSQL (use the configured ones)')
  .action(async (o: { recipients: number; services: boolean }) => {
    const { runDemo } = await import('./demo.ts');
    await runDemo({ recipients: o.recipients, startServices: o.services, servicesScript });
  });


try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const e = err as Error;
    console.error(`notice: ${e.message}`);
    // Bad input, usage, configuration, a wrong state: the same command fails again (exit 2).
    process.exitCode = e instanceof PermanentError ? 2 : 1;
    // A half-started process may still hold a socket open: make sure it ends soon all the same.
    setTimeout(() => process.exit(), 1000).unref();
  }
}
