// `notice campaign …`: create and steer campaigns.
/* eslint-disable no-console -- this is the CLI's own output */
import { InvalidArgumentError, type Command } from 'commander';
import type { RelayProgress } from '../producer/relay.ts';
import { deadlineOf, isCalendarDate } from '../domain/deadline.ts';
import { UsageError, cliActor, positiveInt, print, say, withApp } from './common.ts';
import { formatStatus } from './output.ts';

// What the actions use, loaded when one runs.
const control = () => import('../producer/campaign-control.ts');
const stores = async () => ({ ...(await import('../db/campaign-store.ts')), ...(await import('../postal/vendor-store.ts')) });

function calendarDate(v: string): string {
  if (!isCalendarDate(v)) throw new InvalidArgumentError(`"${v}" is not a calendar date (YYYY-MM-DD)`);
  return v;
}

function deadlineBasis(v: string): 'unauthorized_access' | 'other' {
  if (v !== 'unauthorized_access' && v !== 'other') throw new InvalidArgumentError('is unauthorized_access or other');
  return v;
}

const relayProgress = (json?: boolean) => (p: RelayProgress) => {
  if (!json && process.stderr.isTTY) process.stderr.write(`\r  queued ${p.queued}  to post ${p.postal}   `);
};

export function addCampaignCommands(program: Command): void {
  const campaign = program.command('campaign').description('create and steer campaigns');

  campaign
    .command('create')
    .description('create a campaign from a template set; prints its id')
    .requiredOption('--name <name>', 'campaign name (shown in notices as {{campaign_name}})')
    .requiredOption('--templates <dir>', 'template set directory')
    .option('--extra-vars <list>', 'comma-separated extra CSV columns the templates use', '')
    .option('--vendor <name>', 'printing vendor for this campaign\'s letters (see `notice vendor add`)')
    .option('--discovered <date>', 'when the incident was discovered, YYYY-MM-DD (starts the legal deadline clock)', calendarDate)
    .option('--basis <basis>', 'unauthorized_access (60-day report deadline) or other (30 days)', deadlineBasis, 'unauthorized_access')
    .option('--json', 'machine-readable output')
    .action((o: { name: string; templates: string; extraVars: string; vendor?: string; discovered?: string; basis: 'unauthorized_access' | 'other'; json?: boolean }) =>
      withApp(async (app) => {
        const [{ createCampaignFromDir }, { vendorByName, setCampaignVendor, setCampaignDeadline }] = await Promise.all([import('../templates/create-campaign.ts'), stores()]);
        const extra = o.extraVars.split(',').map((s) => s.trim()).filter(Boolean);
        const vendor = o.vendor ? await vendorByName(app.db, o.vendor) : null;
        if (o.vendor && !vendor) throw new UsageError(`no vendor named "${o.vendor}" (add it with: notice vendor add NAME)`);
        const c = await createCampaignFromDir(app.db, o.name, o.templates, extra);
        if (vendor) await setCampaignVendor(app.db, c.id, vendor.id);
        if (o.discovered) await setCampaignDeadline(app.db, c.id, o.discovered, o.basis);
        // stdout carries the id alone, so `id=$(notice campaign create …)` works.
        print(o.json, c, String(c.id));
        if (!o.json) say(`campaign ${c.id} created: template ${c.templateVersion}, segments ${c.segments.join(', ')}, locales ${c.locales.join(', ')}${vendor ? `, letters to ${vendor.name}` : ''}`);
      }),
    );

  campaign
    .command('launch')
    .description('start sending: everyone imported is queued for email, or for post when email cannot reach them')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--json', 'machine-readable output')
    .action((id: number, o: { json?: boolean }) =>
      withApp(async (app) => {
        const { launch, steeringDeps } = await control();
        const r = await launch(steeringDeps(app), id, cliActor(), relayProgress(o.json));
        if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
        const what = r.changed
          ? `campaign ${id} launched: ${r.relay.queued} queued for email, ${r.relay.postal} to post`
          : `${r.message}${r.relay.queued + r.relay.postal ? `; ${r.relay.queued} newly imported queued for email, ${r.relay.postal} to post` : '; nothing new to queue'}`;
        print(o.json, r, what);
      }, { redis: true }),
    );

  campaign
    .command('resume')
    .description('continue a paused campaign')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--json', 'machine-readable output')
    .action((id: number, o: { json?: boolean }) =>
      withApp(async (app) => {
        const { resume, steeringDeps } = await control();
        const r = await resume(steeringDeps(app), id, cliActor(), relayProgress(o.json));
        if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
        print(o.json, r, r.changed ? `campaign ${id} resumed: ${r.relay.requeued} put back on the queue, ${r.relay.queued} newly queued` : r.message);
      }, { redis: true }),
    );

  campaign
    .command('vendor')
    .description('set the printing vendor of a campaign')
    .argument('<campaign>', 'campaign id', positiveInt)
    .argument('<vendor>', 'vendor name')
    .action((id: number, name: string) =>
      withApp(async (app) => {
        const { vendorByName, setCampaignVendor } = await stores();
        const vendor = await vendorByName(app.db, name);
        if (!vendor) throw new UsageError(`no vendor named "${name}"`);
        if (!(await setCampaignVendor(app.db, id, vendor.id))) throw new UsageError(`campaign ${id} does not exist`);
        console.log(`campaign ${id}: letters go to ${name}`);
      }),
    );

  campaign
    .command('deadline')
    .description('set when the incident was discovered and why: the legal reporting deadline on status and the dashboard')
    .argument('<campaign>', 'campaign id', positiveInt)
    .argument('<discovered>', 'date of discovery, YYYY-MM-DD', calendarDate)
    .option('--basis <basis>', 'unauthorized_access (60 days) or other (30 days)', deadlineBasis, 'unauthorized_access')
    .action((id: number, discovered: string, o: { basis: 'unauthorized_access' | 'other' }) =>
      withApp(async (app) => {
        const { setCampaignDeadline } = await stores();
        if (!(await setCampaignDeadline(app.db, id, discovered, o.basis))) throw new UsageError(`campaign ${id} does not exist`);
        const d = deadlineOf(discovered, o.basis, new Date())!;
        console.log(`campaign ${id}: final report due ${d.due} (${d.daysLeft} days left)`);
      }),
    );

  campaign
    .command('pause')
    .description('stop sending (sends in flight finish); resume continues')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--reason <text>', 'why (shown in status and on the dashboard)', 'paused by operator')
    .action((id: number, o: { reason: string }) =>
      withApp(async (app) => {
        const { pause } = await control();
        console.log((await pause(app.db, id, cliActor(), o.reason)).message);
      }),
    );

  campaign
    .command('cancel')
    .description('stop for good: everyone not yet told is cancelled, and no new letters go out')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--reason <text>', 'why', 'cancelled by operator')
    .action((id: number, o: { reason: string }) =>
      withApp(async (app) => {
        const { cancel } = await control();
        const r = await cancel(app.db, id, cliActor(), o.reason);
        console.log(`${r.message}; ${r.cancelled} people not yet notified were cancelled`);
      }),
    );

  campaign
    .command('status')
    .description('counts per state, what is waiting and why, rate and ETA')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--json', 'machine-readable output')
    .option('--watch', 'refresh every 2 s until the email phase is done')
    .action((id: number, o: { json?: boolean; watch?: boolean }) =>
      withApp(async (app) => {
        const { campaignStatus } = await import('../producer/campaign-status.ts');
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
    .description('one row per person: final state, channel, times, evidence')
    .argument('<campaign>', 'campaign id', positiveInt)
    .requiredOption('--out <file>', 'CSV file to write')
    .action((id: number, o: { out: string }) =>
      withApp(async (app) => {
        const [{ campaignStatus }, { writeReportFile }] = await Promise.all([import('../producer/campaign-status.ts'), import('../producer/campaign-report.ts')]);
        const s = await campaignStatus(app.db, id);
        if (!s) throw new UsageError(`campaign ${id} does not exist`);
        await writeReportFile(app.db, id, o.out);
        console.log(`wrote ${s.total} rows to ${o.out}`);
      }),
    );
}
