// `notice campaign …`: create and steer campaigns.
/* eslint-disable no-console -- this is the CLI's own output */
import { InvalidArgumentError, type Command } from 'commander';
import type { RelayProgress } from '../dispatch/relay.ts';
import { deadlineOf, isCalendarDate } from '../domain/deadline.ts';
import { UsageError, cliActor, positiveInt, print, say, withApp } from './common.ts';
import { formatStatus } from './output.ts';

// What the actions use, loaded when one runs.
const control = () => import('../campaigns/control.ts');
const stores = async () => ({ ...(await import('../db/campaign-store.ts')), ...(await import('../channels/post/vendor-store.ts')) });

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
        const [{ createCampaignFromDir }, { vendorByName }] = await Promise.all([import('../campaigns/create.ts'), stores()]);
        const extra = o.extraVars.split(',').map((s) => s.trim()).filter(Boolean);
        const vendor = o.vendor ? await vendorByName(app.db, o.vendor) : null;
        if (o.vendor && !vendor) throw new UsageError(`no vendor named "${o.vendor}" (add it with: notice vendor add NAME)`);
        const who = cliActor().actor;
        const c = await createCampaignFromDir(app.db, o.name, o.templates, extra, who, {
          vendorId: vendor?.id, deadline: o.discovered ? { discoveredOn: o.discovered, basis: o.basis } : undefined,
        });
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
        if (!(await setCampaignVendor(app.db, id, vendor.id, cliActor().actor))) throw new UsageError(`campaign ${id} does not exist`);
        console.log(`campaign ${id}: letters go to ${name}`);
      }),
    );

  campaign
    .command('letter-class')
    .description('how each segment\'s letters are sent: 普通 (ordinary, the default) or 特定記録 (recorded; the vendor reports a tracking number per letter)')
    .argument('<campaign>', 'campaign id', positiveInt)
    .argument('<classes...>', 'segment=普通 or segment=特定記録, e.g. card=特定記録')
    .action((id: number, pairs: string[]) =>
      withApp(async (app) => {
        const { getCampaign, setLetterClasses } = await import('../db/campaign-store.ts');
        const c = await getCampaign(app.db, id);
        if (!c) throw new UsageError(`campaign ${id} does not exist`);
        const classes: Record<string, string> = { ...c.letter_classes };
        for (const p of pairs) {
          const m = /^([a-z0-9_-]+)=(普通|特定記録)$/.exec(p);
          if (!m) throw new UsageError(`"${p}": give segment=普通 or segment=特定記録`);
          classes[m[1]] = m[2];
        }
        await setLetterClasses(app.db, id, classes, cliActor().actor);
        console.log(`campaign ${id}: ${Object.entries(classes).map(([k, v]) => `${k} ${v}`).join(', ')} (from the next batch on)`);
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
        if (!(await setCampaignDeadline(app.db, id, discovered, o.basis, cliActor().actor))) throw new UsageError(`campaign ${id} does not exist`);
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
        const { campaignStatus } = await import('../campaigns/status.ts');
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
    .description('one row per person (final state, channel, times, evidence), ending with a reconciliation; exit 1 naming anyone unaccounted for')
    .argument('<campaign>', 'campaign id', positiveInt)
    .requiredOption('--out <file>', 'file to write (.json for JSON, else CSV)')
    .action((id: number, o: { out: string }) =>
      withApp(async (app) => {
        const [{ getCampaign }, { writeReportFile }] = await Promise.all([import('../db/campaign-store.ts'), import('../campaigns/report.ts')]);
        if (!(await getCampaign(app.db, id))) throw new UsageError(`campaign ${id} does not exist`);
        const r = await writeReportFile(app.db, id, o.out, o.out.endsWith('.json') ? 'json' : 'csv');
        console.log(`wrote ${r.people} rows to ${o.out}: imported ${r.imported}, people ${r.people}, accounted ${r.accounted}, unaccounted ${r.unaccountedTotal}`);
        if (!r.ok) {
          const who = r.unaccounted.slice(0, 20).map((u) => `notice ${u.notice_id} (customer ${u.customer_id}): ${u.why}`);
          say(`notice: not everyone is accounted for${r.people !== r.imported ? ` (${r.imported} imported, ${r.people} people)` : ''}:\n  ${who.join('\n  ')}${r.unaccountedTotal > who.length ? `\n  … and ${r.unaccountedTotal - who.length} more (the report lists them)` : ''}`);
          process.exitCode = 1;
        }
      }),
    );

  campaign
    .command('preview')
    .description('what one person will get: the email (subject, text; --html for the HTML) or the letter (--letter FILE.pdf)')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--notice <id>', 'the person, by notice id', positiveInt)
    .option('--customer <id>', 'the person, by customer_id')
    .option('--html', 'print the HTML body too')
    .option('--letter <file>', 'write their one-page letter PDF here')
    .option('--json', 'machine-readable output')
    .action((id: number, o: { notice?: number; customer?: string; html?: boolean; letter?: string; json?: boolean }) =>
      withApp(async (app) => {
        if (!o.notice && !o.customer) throw new UsageError('say who: --notice ID or --customer CUSTOMER_ID');
        const [{ previewEmail, previewLetter }, { messageSettings }] = await Promise.all([import('../campaigns/preview.ts'), import('../channels/email/message.ts')]);
        const who = { noticeId: o.notice, customerId: o.customer };
        const c = app.config;
        if (o.letter) {
          const { writeFile } = await import('node:fs/promises');
          await writeFile(o.letter, await previewLetter(app.db, app.templates, { fontPath: c.PDF_FONT, returnAddress: c.RETURN_ADDRESS }, id, who));
          say(`wrote ${o.letter}`);
          return;
        }
        const p = await previewEmail(app.db, app.templates, messageSettings(c), id, who);
        print(o.json, p, [`To: ${p.to ?? '(no email: a letter)'}`, `Subject: ${p.subject}`, '', p.text, ...(o.html ? ['', '--- HTML ---', p.html] : [])].join('\n'));
      }),
    );

  campaign
    .command('test-send')
    .description('send one variant, filled in for a made-up person, to an address of yours')
    .argument('<campaign>', 'campaign id', positiveInt)
    .requiredOption('--to <address>', 'where to send it')
    .option('--segment <segment>', 'which variant', 'card')
    .option('--locale <locale>', 'which variant', 'ja')
    .action((id: number, o: { to: string; segment: string; locale: string }) =>
      withApp(async (app) => {
        const [{ testSend }, { messageSettings }] = await Promise.all([import('../campaigns/preview.ts'), import('../channels/email/message.ts')]);
        const c = app.config;
        const r = await testSend(app.db, app.templates, await app.transport(), messageSettings(c), id, o);
        console.log(`sent ${o.segment}.${o.locale} to ${o.to}: ${r.reply}`);
      }),
    );

  campaign
    .command('dry-run')
    .description('what launch would do: email / post / rejected per segment × locale, and the letters each vendor gets')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--json', 'machine-readable output')
    .action((id: number, o: { json?: boolean }) =>
      withApp(async (app) => {
        const { dryRun } = await import('../campaigns/preview.ts');
        const r = await dryRun(app.db, id);
        const lines = [
          `campaign ${id}: ${r.total.email} by email, ${r.total.post} by post, ${r.total.rejected} rejected at import (${r.duplicates} duplicates)`,
          ...r.rows.map((x) => `  ${`${x.segment}.${x.locale}`.padEnd(16)} email ${String(x.email).padStart(8)}   post ${String(x.post).padStart(8)}`),
          ...r.letters.map((l) => `  letters to ${l.vendor ?? '(no vendor named yet: notice campaign vendor ID NAME)'}: ${l.letters}`),
        ];
        print(o.json, r, lines.join('\n'));
      }),
    );

  campaign
    .command('pacing')
    .description('quiet hours and an hourly cap: notices arrive in waves the enquiry desk can answer')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--quiet <from-to>', 'no email between these local times, e.g. 21:00-08:00')
    .option('--time-zone <tz>', 'the time zone of the quiet hours (default Asia/Tokyo)')
    .option('--hourly-cap <n>', 'emails per hour at most', positiveInt)
    .option('--clear', 'no quiet hours, no cap')
    .action((id: number, o: { quiet?: string; timeZone?: string; hourlyCap?: number; clear?: boolean }) =>
      withApp(async (app) => {
        const [{ setCampaignPacing }, { isClock, isValidTimeZone }, { pacingOf }] = await Promise.all([
          import('../db/campaign-store.ts'), import('../domain/send-window.ts'), import('../dispatch/pacing-gate.ts'),
        ]);
        const now = await pacingOf(app.db, id);
        if (!now) throw new UsageError(`campaign ${id} does not exist`);
        // What is not given stays as it was; --clear removes both.
        let quiet: [string | null, string | null] = o.clear ? [null, null] : [now.quietFrom, now.quietTo];
        if (o.quiet && !o.clear) {
          const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(o.quiet);
          if (!m || !isClock(m[1]) || !isClock(m[2])) throw new UsageError('--quiet is HH:MM-HH:MM, e.g. 21:00-08:00');
          quiet = [m[1], m[2]];
        }
        const timeZone = o.timeZone ?? now.timeZone;
        if (!isValidTimeZone(timeZone)) throw new UsageError(`--time-zone: "${timeZone}" is not a time zone (e.g. Asia/Tokyo)`);
        const hourlyCap = o.clear ? null : (o.hourlyCap ?? now.hourlyCap);
        await setCampaignPacing(app.db, id, { quietFrom: quiet[0], quietTo: quiet[1], timeZone, hourlyCap }, cliActor().actor);
        console.log(`campaign ${id}: ${quiet[0] ? `quiet ${quiet[0]}–${quiet[1]} ${timeZone}` : 'no quiet hours'}${hourlyCap ? `, at most ${hourlyCap} emails an hour` : ', no hourly cap'}`);
      }),
    );
}
