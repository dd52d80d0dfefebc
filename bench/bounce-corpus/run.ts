// The bounce parser against a public corpus of real bounce messages, labelled by an established
// bounce library (Sisimai): how many real failures we recognise (never silently dropped), how
// often we agree on hard-vs-not, whether every recipient of a multi-recipient bounce is found,
// and a confusion table. Prints; never asserts. The corpus is not in this repository (it is
// Sisimai's, BSD-2-Clause): point the script at copies of two public repositories,
//   git clone https://github.com/sisimai/set-of-emails    (the messages, maildir/bsd/*.eml)
//   git clone https://github.com/sisimai/go-sisimai       (the labels, fact/*_test.go)
// Usage: npm run bench:bounces -- --emails DIR --labels DIR [--show reason|all] [--json]
// (a bare git directory works as well: it is read with `git archive`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeBounce, type BounceReport } from '../../src/domain/bounce.ts';
import { toMailParts } from '../../src/bounces/mail-parts.ts';
import { parseSisimaiLabels, type Label } from './labels.ts';

const opt = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};

/** A plain directory, or a bare git directory exported to a temporary one. */
function asDirectory(dir: string, subdir: string): string {
  if (existsSync(path.join(dir, subdir))) return dir;
  if (existsSync(path.join(dir, 'HEAD')) && existsSync(path.join(dir, 'objects'))) {
    const out = mkdtempSync(path.join(tmpdir(), 'corpus-'));
    execFileSync('sh', ['-c', `git --git-dir "${dir}" archive HEAD "${subdir}" | tar -x -C "${out}"`]);
    return out;
  }
  throw new Error(`${dir}: no ${subdir} in it (a checkout or a bare git directory of the repository)`);
}

const NOT_FAILURES = new Set(['delivered', 'feedback', 'vacation']);
const FAILURE_CLASSES = new Set(['hard', 'soft', 'message', 'config']);

async function main() {
  const emailsArg = opt('emails', '/work/.mirror/sisimai+set-of-emails/repo');
  const labelsArg = opt('labels', '/work/.mirror/sisimai+go-sisimai/repo');
  if (!existsSync(emailsArg!) || !existsSync(labelsArg!)) {
    console.log(`corpus not found (--emails ${emailsArg} --labels ${labelsArg}); see the header of bench/bounce-corpus/run.ts`);
    return;
  }
  const emails = path.join(asDirectory(emailsArg!, 'maildir/bsd'), 'maildir/bsd');
  const factDir = path.join(asDirectory(labelsArg!, 'fact'), 'fact');
  const labels = parseSisimaiLabels(readdirSync(factDir).filter((f) => f.endsWith('_test.go')).map((f) => readFileSync(path.join(factDir, f), 'utf8')));
  const byFile = new Map<string, Label[]>();
  for (const l of labels) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l]);

  const started = performance.now();
  let messages = 0;
  let failures = 0;
  let recognised = 0;
  let agree = 0;
  let multi = 0;
  let multiComplete = 0;
  let delays = 0;
  const delayList: string[] = [];
  let otherKinds = 0;
  let otherRight = 0;
  const confusion = new Map<string, Map<string, number>>();
  const misses: string[] = [];
  const disagreements: string[] = [];
  const ours = (r: BounceReport, index: number) => r.recipients[index - 1] ?? (r.recipients.length === 1 ? r.recipients[0] : null);
  for (const [file, expected] of [...byFile].sort()) {
    const full = path.join(emails, file);
    if (!existsSync(full)) continue;
    messages++;
    const report = analyzeBounce(await toMailParts(readFileSync(full)), (a) => /@(bounce\.example\.com)$/i.test(a));
    const failed = expected.filter((l) => !NOT_FAILURES.has(l.reason));
    if (failed.length > 1) {
      multi++;
      if (failed.every((l) => ours(report, l.index)?.address)) multiComplete++;
    }
    for (const l of expected) {
      const r = ours(report, l.index);
      const cls = r?.class ?? 'missing';
      const key = `${l.reason}${l.hard ? ' (hard)' : ''}`;
      const row = confusion.get(key) ?? new Map<string, number>();
      row.set(cls, (row.get(cls) ?? 0) + 1);
      confusion.set(key, row);
      if (NOT_FAILURES.has(l.reason)) {
        otherKinds++;
        // A DMARC failure report (auth-failure) is no complaint of the person's: we record it only.
        const want = l.reason === 'delivered' ? 'delivery' : l.reason === 'feedback' ? (l.another === 'auth-failure' ? 'not_bounce' : 'complaint') : 'auto_reply';
        if (cls === want) otherRight++;
        continue;
      }
      failures++;
      // A delay warning ("THIS IS A WARNING MESSAGE ONLY", Action: delayed) is not a failure for
      // us: the MTA is still trying. Sisimai counts some as "expired"; we list them apart.
      if (report.kind === 'delayed' || r?.reason === 'delayed') {
        delays++;
        delayList.push(`${file}#${l.index}: ${l.reason}`);
      }
      const isRecognised = !!r && FAILURE_CLASSES.has(r.class) && !!r.address;
      if (isRecognised) recognised++;
      else misses.push(`${file}#${l.index}: ${l.reason} → ${cls}${r && !r.address ? ' (no address)' : ''}`);
      const hard = r?.class === 'hard';
      if (hard === l.hard) agree++;
      else disagreements.push(`${file}#${l.index}: ${l.reason}${l.hard ? ' (hard)' : ''} → ${cls}${r?.reason ? `/${r.reason}` : ''} [${r?.status ?? '-'}] ${(r?.diagnostic ?? '').slice(0, 100)}`);
    }
  }
  const ms = performance.now() - started;
  const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)} %`;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ messages, failures, recognised, delays, agree, multi, multiComplete, otherKinds, otherRight, ms: Math.round(ms) }));
    return;
  }
  console.log(`corpus: ${messages} messages labelled by Sisimai (set-of-emails maildir/bsd, go-sisimai fact/*_test.go), parsed in ${(ms / 1000).toFixed(1)} s in one process`);
  console.log(`  real failures recognised as bounces (with an address)   ${recognised} / ${failures}  ${pct(recognised, failures)}   target ≥ 99 %`);
  console.log(`    of which Sisimai's "failures" we read as delay warnings  ${delays} (not failures: the MTA is still trying)`);
  console.log(`    recognised, delay warnings left out                    ${recognised} / ${failures - delays}  ${pct(recognised, failures - delays)}`);
  console.log(`  agreement on hard-vs-not                                ${agree} / ${failures}  ${pct(agree, failures)}   target ≥ 95 %`);
  console.log(`  multi-recipient bounces with every recipient found      ${multiComplete} / ${multi}`);
  console.log(`  deliveries, complaints, auto-replies classed as such    ${otherRight} / ${otherKinds}  ${pct(otherRight, otherKinds)}`);
  const classes = ['hard', 'soft', 'message', 'config', 'complaint', 'delivery', 'auto_reply', 'not_bounce', 'missing'];
  console.log(`\nconfusion: Sisimai's reason (rows) × our class (columns)`);
  console.log(`${''.padEnd(24)}${classes.map((c) => c.slice(0, 9).padStart(10)).join('')}`);
  for (const [reason, row] of [...confusion].sort((a, b) => [...b[1].values()].reduce((x, y) => x + y, 0) - [...a[1].values()].reduce((x, y) => x + y, 0))) {
    console.log(`${reason.padEnd(24)}${classes.map((c) => String(row.get(c) ?? '').padStart(10)).join('')}`);
  }
  const show = opt('show');
  if (show) {
    console.log(`\nnot recognised (${misses.length}):`);
    for (const m of misses) console.log(`  ${m}`);
    console.log(`\ndelay warnings (${delayList.length}):`);
    for (const m of delayList) console.log(`  ${m}`);
    console.log(`\nhard-vs-not disagreements (${disagreements.length}):`);
    for (const d of disagreements.filter((x) => show === 'all' || x.includes(show))) console.log(`  ${d}`);
  }
}

await main();
