// The proof side: `notice ledger verify` recomputes the tamper-evident ledger's chains and names
// the first row that does not hold (exit 1), or prints what an auditor pins (rows, chains, root);
// `notice evidence` gives one person's evidence (JSON, PDF) or the whole campaign's (JSON lines);
// `notice find` looks a person up the way people ask; `notice campaign announce` publishes the
// substitute notice; `notice campaign regulator-report` counts what the regulator asks.
/* eslint-disable no-console -- this is the CLI's own output */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import { UsageError, cliActor, positiveInt, print, say, withApp } from './common.ts';

export function addProofCommands(program: Command): void {
  const ledger = program.command('ledger').description('the tamper-evident ledger');
  ledger
    .command('verify')
    .description('recompute every hash chain (people, campaign, batches); exit 1 naming the first row that does not match')
    .argument('[campaign]', 'only this campaign', positiveInt)
    .option('--json', 'JSON')
    .action((campaignId: number | undefined, o: { json?: boolean }) =>
      withApp(async (app) => {
        const { verifyLedger } = await import('../db/ledger-chain.ts');
        const results = [];
        for (const name of ['notice_events', 'campaign_events', 'batch_events'] as const) {
          const started = Date.now();
          const r = await verifyLedger(app.db, name, { campaignId, onRows: (n) => say(`  ${name}: ${n} rows checked…`) });
          results.push({ ledger: name, ...r, seconds: (Date.now() - started) / 1000 });
        }
        const broken = results.find((r) => r.broken)?.broken ?? null;
        const lines = results.map((r) => `${r.ledger}: ${r.rows} rows in ${r.chains} chains, ${r.broken ? 'BROKEN' : 'intact'} (${r.seconds.toFixed(1)} s)${r.root ? `; root ${r.root}` : ''}`);
        if (broken) lines.push(`first row that does not match: ${broken.ledger} id ${broken.id} (chain ${broken.chain}): ${broken.why}`);
        print(o.json, { ok: !broken, ledgers: results, broken }, lines.join('\n'));
        if (broken) process.exitCode = 1;
      }),
    );

  type Who = { customer?: string; code?: string; email?: string };
  const who = (o: Who) => {
    const given = [o.customer, o.code, o.email].filter((x) => x !== undefined);
    if (given.length !== 1) throw new UsageError('give exactly one of --customer ID, --code NOTICE_CODE, --email ADDRESS');
    return { customerId: o.customer, code: o.code, email: o.email };
  };

  program
    .command('evidence')
    .description("one person's evidence (JSON to stdout, or --pdf FILE), or with --all the whole campaign as JSON lines (--out FILE[.gz])")
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--customer <id>', 'by customer_id')
    .option('--code <code>', 'by notice code')
    .option('--email <address>', 'by email address')
    .option('--pdf <file>', 'write the one-page PDF here')
    .option('--all', 'everyone of the campaign')
    .option('--out <file>', 'with --all: where (a name ending .gz is gzipped)')
    .action((campaignId: number, o: Who & { pdf?: string; all?: boolean; out?: string }) =>
      withApp(async (app) => {
        const { evidenceFor, evidencePdf, writeEvidenceArchive } = await import('../campaigns/evidence.ts');
        if (o.all) {
          if (!o.out) throw new UsageError('--all needs --out FILE');
          const file = createWriteStream(o.out);
          const out = o.out.endsWith('.gz') ? createGzip() : file;
          if (out !== file) out.pipe(file);
          const n = await writeEvidenceArchive(app.db, campaignId, out, (k) => say(`  ${k} people…`));
          await new Promise<void>((r) => (file.writableFinished ? r() : file.on('finish', () => r())));
          console.log(`${n} people's evidence → ${o.out}`);
          return;
        }
        const docs = await evidenceFor(app.db, campaignId, who(o));
        if (o.pdf) {
          if (docs.length > 1) throw new UsageError(`${docs.length} people share that email: ask by --customer or --code for one PDF`);
          await writeFile(o.pdf, await evidencePdf(docs[0], { fontPath: app.config.PDF_FONT, organisation: app.config.ORGANISATION_NAME }));
          say(`evidence of notice ${docs[0].person.notice_id} → ${o.pdf}`);
        }
        console.log(JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2));
      }),
    );

  program
    .command('find')
    .description('find people by customer_id, notice code or email: state, channel, evidence level')
    .argument('<campaign>', 'campaign id', positiveInt)
    .option('--customer <id>', 'by customer_id')
    .option('--code <code>', 'by notice code')
    .option('--email <address>', 'by email address')
    .option('--json', 'JSON')
    .action((campaignId: number, o: Who & { json?: boolean }) =>
      withApp(async (app) => {
        const { evidenceFor } = await import('../campaigns/evidence.ts');
        const docs = await evidenceFor(app.db, campaignId, who(o));
        const found = docs.map((d) => ({ notice_id: d.person.notice_id, customer_id: d.person.customer_id, notice_code: d.person.notice_code, state: d.outcome.state, channel: d.outcome.channel, notified: d.outcome.notified, level: d.outcome.level }));
        print(o.json, found, found.map((f) => `notice ${f.notice_id} (customer ${f.customer_id}, code ${f.notice_code}): ${f.state}${f.channel ? ` by ${f.channel}` : ''}, ${f.notified ? 'notified' : 'not notified'}; evidence: ${f.level} (notice evidence ${campaignId} --code ${f.notice_code})`).join('\n'));
      }),
    );

  const campaign = program.commands.find((c) => c.name() === 'campaign') ?? program.command('campaign');
  campaign
    .command('announce')
    .description("publish the campaign's public announcement (the substitute notice) from its template set; everyone unreachable is covered from now")
    .argument('<id>', 'campaign id', positiveInt)
    .option('--json', 'JSON')
    .action((id: number, o: { json?: boolean }) =>
      withApp(async (app) => {
        const [{ publishAnnouncement }, { announcementSettings }] = await Promise.all([import('../campaigns/announcement.ts'), import('../http/proof-routes.ts')]);
        const p = await publishAnnouncement(app.db, app.templates, id, announcementSettings(app), cliActor().actor);
        print(o.json, { id: p.announcement.id, published_at: p.announcement.published_at, sha256: p.announcement.sha256, covered: p.covered, url: `/announcements/${id}` },
          `announcement ${p.announcement.id} published ${new Date(p.announcement.published_at).toISOString()} (sha256 ${p.announcement.sha256}); it covers ${p.covered} unreachable people; served at /announcements/${id} by notice serve`);
      }),
    );
  campaign
    .command('confirm-deadline')
    .description('how long a delayed email may wait for a final answer (delivered or failed) before the person gets a letter; "default" for EMAIL_CONFIRM_DEADLINE_MS')
    .argument('<id>', 'campaign id', positiveInt)
    .argument('<hours>', 'hours, or "default"')
    .action((id: number, hours: string) =>
      withApp(async (app) => {
        const h = hours === 'default' ? null : Number(hours);
        if (h !== null && !(h > 0 && h <= 24 * 30)) throw new UsageError(`"${hours}" is not a number of hours between 0 and 720, or "default"`);
        const { setCampaignConfirmDeadline } = await import('../db/campaign-store.ts');
        if (!(await setCampaignConfirmDeadline(app.db, id, h === null ? null : Math.round(h * 3_600_000), cliActor().actor))) throw new UsageError(`campaign ${id} does not exist`);
        console.log(`campaign ${id}: a delayed email gets a letter after ${h === null ? `${app.config.EMAIL_CONFIRM_DEADLINE_MS / 3_600_000} h (the default)` : `${h} h`} with no final answer`);
      }),
    );
  campaign
    .command('regulator-report')
    .description("the regulator's figures: affected, notified by email (evidence level) and post, covered by the announcement, in progress, excluded; dates; deadlines; a GDPR Art. 33(5) register entry")
    .argument('<id>', 'campaign id', positiveInt)
    .option('--json', 'JSON')
    .action((id: number, o: { json?: boolean }) =>
      withApp(async (app) => {
        const { regulatorReport } = await import('../campaigns/regulator.ts');
        const r = await regulatorReport(app.db, id);
        const d = r.deadline.ppc_final_report;
        print(o.json, r, [
          `campaign ${r.campaign.id} (${r.campaign.name}), ${r.campaign.state}: ${r.affected} people affected`,
          `  notified: ${r.notified.total} (email ${r.notified.email.total}: delivered ${r.notified.email.delivered_confirmed}, accepted by our relay ${r.notified.email.accepted_by_our_relay}; post ${r.notified.post})`,
          `  public announcement: ${r.public_announcement.published_at ? `published ${r.public_announcement.published_at}, covering ${r.public_announcement.covered}` : 'not published'}; unreachable and not covered: ${r.public_announcement.unreachable_not_covered}`,
          `  in progress: ${r.in_progress.total} ${JSON.stringify(r.in_progress.by_state)}; excluded: ${r.excluded.total} (cancelled ${r.excluded.cancelled}, needs review ${r.excluded.needs_review}, address invalid ${r.excluded.address_invalid})`,
          `  dates: email ${r.dates.first_email ?? '—'} … ${r.dates.last_email ?? '—'}; letters ${r.dates.first_letter ?? '—'} … ${r.dates.last_letter ?? '—'}; announcement ${r.dates.announcement ?? '—'}`,
          `  PPC final report (確報): ${d ? `due ${d.due} (${d.days} days from ${d.discoveredOn}), ${d.daysLeft} days left` : 'no discovery date set (notice campaign deadline)'}`,
          `  adds up: ${r.adds_up ? 'yes' : 'NO'}`,
        ].join('\n'));
      }),
    );
}
