// `notice bounce parse | list`: what the parser makes of returned messages (an operator checking a
// day's bounces, a corpus run in one process), and the bounces that reached nobody.
/* eslint-disable no-console -- this is the CLI's own output */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError, positiveInt, print, withApp } from './common.ts';

/** Files named, and the files of directories named (a maildir: cur/ and new/ too), in order. */
async function messageFiles(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    const s = await stat(a).catch(() => null);
    if (!s) throw new UsageError(`${a}: cannot read the file`);
    if (s.isFile()) out.push(a);
    else if (s.isDirectory()) {
      const sub = ['cur', 'new'].map((d) => path.join(a, d));
      const dirs = (await Promise.all(sub.map((d) => stat(d).catch(() => null)))).some((x) => x?.isDirectory()) ? sub : [a];
      for (const d of dirs) {
        const names = (await readdir(d).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
        for (const n of names) if ((await stat(path.join(d, n))).isFile()) out.push(path.join(d, n));
      }
    }
  }
  return out;
}

export function addBounceCommands(program: Command): void {
  const bounce = program.command('bounce').description('bounces');

  bounce
    .command('parse')
    .description('what the bounce parser makes of messages, per recipient: one file in words, or many files / a maildir as one JSON line per message')
    .argument('<files...>', 'messages (.eml) or directories of them (a maildir)')
    .option('--json', 'JSON (one line per message)')
    .option('--to <address>', 'the address the bounced notice was sent to (what its VERP address tells the receiver): used when the report names nobody or somebody else')
    .action(async (args: string[], o: { json?: boolean; to?: string }) => {
      const [{ loadConfig }, { analyzeBounce }, { REASONS }, { toMailParts }] = await Promise.all([
        import('../config.ts'), import('../domain/bounce.ts'), import('../domain/bounce-rules.ts'), import('../bounces/mail-parts.ts'),
      ]);
      const config = loadConfig();
      const own = (a: string) => a.toLowerCase().endsWith(`@${config.BOUNCE_DOMAIN.toLowerCase()}`);
      const files = await messageFiles(args);
      const many = files.length > 1 || args.some((a) => !a.endsWith('.eml') && files.length !== 1);
      for (const file of files) {
        const report = analyzeBounce(await toMailParts(await readFile(file)), own, { expected: o.to ?? null });
        if (o.json || many) {
          console.log(JSON.stringify({ file, kind: report.kind, noticeId: report.noticeId, recipients: report.recipients.map((r) => ({ ...r, route: REASONS[r.reason].route })) }));
          continue;
        }
        const lines = [`${file}: ${report.kind}${report.noticeId ? ` (X-Notice-Id ${report.noticeId})` : ''}`];
        for (const r of report.recipients) {
          const from = r.addressFrom === 'verp' ? `  (from the VERP address; the report named ${r.named ?? 'nobody'})` : '';
          lines.push(`  ${r.address ?? '(no recipient)'}${from}  action=${r.action ?? '-'}  status=${r.status ?? '-'}  class=${r.class}  reason=${r.reason}  route=${REASONS[r.reason].route}`, `    ${r.diagnostic ?? ''}`);
        }
        console.log(lines.join('\n'));
      }
    });

  bounce
    .command('list')
    .description('bounces recorded, newest first; --unmatched: those that reached no notice of ours; --waiting: those that came before their person\'s send was recorded, and why they wait')
    .option('--unmatched', 'only bounces that matched no notice')
    .option('--waiting', 'only events waiting for their person to reach a state they apply to')
    .option('--campaign <id>', 'only this campaign', positiveInt)
    .option('--limit <n>', 'how many', positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action((o: { unmatched?: boolean; waiting?: boolean; campaign?: number; limit: number; json?: boolean }) =>
      withApp(async (app) => {
        const { listBounces } = await import('../bounces/bounce-store.ts');
        const rows = await listBounces(app.db, { unmatched: o.unmatched, waiting: o.waiting, campaignId: o.campaign, limit: o.limit });
        const text = rows.length
          ? rows.map((r) => `${String(r.id).padStart(7)}  ${r.received_at.toISOString()}  ${r.source.padEnd(3)}  ${(r.reason ?? r.class).padEnd(18)}  ${(r.status ?? '-').padEnd(7)}  ${r.outcome === 'waiting' ? `waiting since ${new Date(r.waiting_since!).toISOString()}: ${r.wait_reason}` : (r.outcome ?? 'not applied yet')}  ${(r.diagnostic ?? '').replace(/\s+/g, ' ').slice(0, 80)}`).join('\n')
          : o.waiting ? 'no bounces waiting' : o.unmatched ? 'no unmatched bounces' : 'no bounces';
        print(o.json, rows, text);
      }),
    );
}
