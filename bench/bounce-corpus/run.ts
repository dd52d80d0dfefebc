// The bounce parser against two regression sets of real bounce messages, reported apart:
//   1. Sisimai's public corpus (set-of-emails maildir/bsd), labelled by Sisimai itself
//      (go-sisimai fact/*_test.go) — the set the rules were first tuned on;
//   2. the test corpora of three other bounce libraries (see second-set.ts), labelled by us.
// For each: how many real failures we recognise (never silently dropped), how many messages that
// are no failure (auto-replies, challenge-response, delay warnings, spam, complaints) we would
// treat as one (a retry, then a letter), agreement on hard-vs-not, and (set 2) every address the
// message says failed. Prints; never asserts. The corpora are not in this repository: point the
// script at copies of the public repositories (a bare git directory works as well: it is read
// with `git archive`):
//   --emails DIR   https://github.com/sisimai/set-of-emails
//   --labels DIR   https://github.com/sisimai/go-sisimai
//   --second DIR   a folder holding one copy per repository of second-set.ts, named owner+name
//                  (…/rjbs+Mail-DeliveryStatus-BounceParser, …/mitio+bounce_email, …)
// Usage: npm run bench:bounces [-- --show 1|2|all] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeBounce, type BounceRecipient } from '../../src/domain/bounce.ts';
import { RULE_COUNT } from '../../src/domain/bounce-rules.ts';
import { toMailParts } from '../../src/bounces/mail-parts.ts';
import { parseSisimaiLabels } from './labels.ts';
import { SECOND_LABELS, SECOND_SOURCES } from './second-set.ts';

const opt = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};

/** A plain directory, or a bare git directory exported to a temporary one. */
function asDirectory(dir: string, subdir: string): string {
  if (existsSync(path.join(dir, subdir))) return dir;
  for (const bare of [dir, path.join(dir, 'repo')]) {
    if (existsSync(path.join(bare, 'HEAD')) && existsSync(path.join(bare, 'objects'))) {
      const out = mkdtempSync(path.join(tmpdir(), 'corpus-'));
      execFileSync('sh', ['-c', `git --git-dir "${bare}" archive HEAD "${subdir}" | tar -x -C "${out}"`]);
      return out;
    }
  }
  throw new Error(`${dir}: no ${subdir} in it (a checkout or a bare git directory of the repository)`);
}

/** H hard failure, S other failure, D delay warning, A arrived (auto-reply…), N not about a delivery, C complaint, OK delivered. */
type Kind = 'H' | 'S' | 'D' | 'A' | 'N' | 'C' | 'OK';
const FAILURE: ReadonlySet<Kind> = new Set(['H', 'S']);

interface Expected {
  kind: Kind;
  /** Sisimai's reason (set 1), for the confusion table. */
  reason?: string;
  /** Set 1: the recipient's position in the report. */
  index?: number;
  /** Set 2: every address the message names as failed (or complained about). */
  addresses?: string[];
}

interface Entry {
  id: string;
  raw: Buffer;
  expected: Expected[];
}

function kindOf(r: BounceRecipient | undefined): Kind | 'missing' {
  if (!r) return 'missing';
  if (r.reason === 'delayed') return 'D';
  switch (r.class) {
    case 'hard': return 'H';
    case 'soft': case 'message': case 'config': return 'S';
    case 'auto_reply': return 'A';
    case 'complaint': return 'C';
    case 'delivery': return 'OK';
    default: return 'N';
  }
}

function loadFirst(emailsArg: string, labelsArg: string): Entry[] {
  const emails = path.join(asDirectory(emailsArg, 'maildir/bsd'), 'maildir/bsd');
  const factDir = path.join(asDirectory(labelsArg, 'fact'), 'fact');
  const labels = parseSisimaiLabels(readdirSync(factDir).filter((f) => f.endsWith('_test.go')).map((f) => readFileSync(path.join(factDir, f), 'utf8')));
  const byFile = new Map<string, Expected[]>();
  for (const l of labels) {
    const kind: Kind = l.hard ? 'H' : l.reason === 'delivered' ? 'OK' : l.reason === 'vacation' ? 'A' : l.reason === 'feedback' ? (l.another === 'auth-failure' ? 'N' : 'C') : 'S';
    byFile.set(l.file, [...(byFile.get(l.file) ?? []), { kind, reason: `${l.reason}${l.hard ? ' (hard)' : ''}`, index: l.index }]);
  }
  return [...byFile].sort().filter(([f]) => existsSync(path.join(emails, f))).map(([f, expected]) => ({ id: f, raw: readFileSync(path.join(emails, f)), expected }));
}

function loadSecond(root: string): Entry[] {
  const out: Entry[] = [];
  for (const s of SECOND_SOURCES) {
    const dir = path.join(asDirectory(path.join(root, s.repo.replace('/', '+')), s.dir), s.dir);
    for (const [id, label] of Object.entries(SECOND_LABELS)) {
      if (!id.startsWith(`${s.tag}/`)) continue;
      const file = path.join(dir, id.slice(s.tag.length + 1));
      if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${id}: not in ${dir}`);
      const [kind, ...addresses] = label.split(' ');
      out.push({ id, raw: readFileSync(file), expected: [{ kind: kind as Kind, reason: kind, addresses }] });
    }
  }
  return out;
}

interface Result {
  messages: number;
  failures: number;
  recognised: number;
  recognisedWithAddress: number;
  delays: number;
  agree: number;
  nonFailures: number;
  nonFailuresAsFailures: number;
  arrivals: number;
  arrivalsRecorded: number;
  addresses: number;
  addressesFound: number;
  extraAddresses: number;
  ms: number;
  confusion: Map<string, Map<string, number>>;
  misses: string[];
  falseFailures: string[];
  disagreements: string[];
  addressMisses: string[];
}

async function evaluate(entries: Entry[]): Promise<Result> {
  const res: Result = { messages: 0, failures: 0, recognised: 0, recognisedWithAddress: 0, delays: 0, agree: 0, nonFailures: 0, nonFailuresAsFailures: 0, arrivals: 0, arrivalsRecorded: 0, addresses: 0, addressesFound: 0, extraAddresses: 0, ms: 0, confusion: new Map(), misses: [], falseFailures: [], disagreements: [], addressMisses: [] };
  const started = performance.now();
  for (const e of entries) {
    res.messages++;
    const report = analyzeBounce(await toMailParts(e.raw), (a) => /@(bounce\.example\.com)$/i.test(a));
    const ours = (x: Expected) => (x.index ? report.recipients[x.index - 1] ?? (report.recipients.length === 1 ? report.recipients[0] : undefined) : report.recipients.find((r) => FAILURE.has(kindOf(r) as Kind)) ?? report.recipients[0]);
    for (const x of e.expected) {
      const r = ours(x);
      const got = kindOf(r);
      const row = res.confusion.get(x.reason ?? x.kind) ?? new Map<string, number>();
      row.set(got, (row.get(got) ?? 0) + 1);
      res.confusion.set(x.reason ?? x.kind, row);
      const line = `${e.id}${x.index ? `#${x.index}` : ''}: ${x.reason ?? x.kind} → ${got}${r ? `/${r.reason} [${r.status ?? '-'}] ${(r.diagnostic ?? '').replace(/\s+/g, ' ').slice(0, 110)}` : ''}`;
      if (!FAILURE.has(x.kind)) {
        res.nonFailures++;
        if (FAILURE.has(got as Kind)) { res.nonFailuresAsFailures++; res.falseFailures.push(line); }
        if (x.kind === 'A') { res.arrivals++; if (got === 'A') res.arrivalsRecorded++; }
        continue;
      }
      // Set 1: a delay warning Sisimai files under a failure reason ("expired"…) is no failure
      // yet for us (the MTA is still trying; the confirmation deadline decides); counted apart.
      if (got === 'D' && x.index) { res.delays++; res.misses.push(`${line} (delay warning)`); continue; }
      res.failures++;
      if (FAILURE.has(got as Kind)) { res.recognised++; if (r?.address) res.recognisedWithAddress++; }
      else res.misses.push(line);
      if ((got === 'H') === (x.kind === 'H')) res.agree++;
      else res.disagreements.push(line);
    }
    for (const x of e.expected) {
      if (!x.addresses) continue;
      const found = new Set(report.recipients.map((r) => r.address?.toLowerCase()).filter(Boolean));
      for (const a of x.addresses) {
        res.addresses++;
        if (found.has(a)) res.addressesFound++;
        else res.addressMisses.push(`${e.id}: ${a} missing; ours: ${[...found].join(' ') || '-'}`);
      }
      const extra = [...found].filter((a) => !x.addresses!.includes(a!));
      if (extra.length && x.addresses.length) { res.extraAddresses += extra.length; res.addressMisses.push(`${e.id}: extra ${extra.join(' ')}`); }
    }
  }
  res.ms = performance.now() - started;
  return res;
}

const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)} %`;

function print(title: string, r: Result, targets: { hard: number }, show: boolean) {
  console.log(`\n${title}: ${r.messages} messages, parsed in ${(r.ms / 1000).toFixed(1)} s`);
  console.log(`  real failures recognised as failures                    ${r.recognised} / ${r.failures}  ${pct(r.recognised, r.failures)}   target ≥ 99 %`);
  console.log(`    of which with the failed address                       ${r.recognisedWithAddress} / ${r.failures}  ${pct(r.recognisedWithAddress, r.failures)}`);
  if (r.delays) console.log(`    labelled failures that are delay warnings (apart)      ${r.delays}`);
  console.log(`  non-failures taken as failures                          ${r.nonFailuresAsFailures} / ${r.nonFailures}  ${pct(r.nonFailuresAsFailures, r.nonFailures)}   target ≤ 10 %`);
  console.log(`    auto-replies and challenges recorded as arrival        ${r.arrivalsRecorded} / ${r.arrivals}`);
  console.log(`  agreement on hard-vs-not                                ${r.agree} / ${r.failures}  ${pct(r.agree, r.failures)}   target ≥ ${targets.hard} %`);
  if (r.addresses) console.log(`  recipient addresses found                               ${r.addressesFound} / ${r.addresses}  ${pct(r.addressesFound, r.addresses)}   target ≥ 98 %  (${r.extraAddresses} extra)`);
  const cols = ['H', 'S', 'D', 'A', 'N', 'C', 'OK', 'missing'];
  console.log(`  confusion: label (rows) × ours (columns: H hard, S other failure, D delay, A arrived, N not a delivery, C complaint, OK delivered)`);
  console.log(`  ${''.padEnd(24)}${cols.map((c) => c.padStart(8)).join('')}`);
  const total = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  for (const [reason, row] of [...r.confusion].sort((a, b) => total(b[1]) - total(a[1]))) console.log(`  ${reason.padEnd(24)}${cols.map((c) => String(row.get(c) ?? '').padStart(8)).join('')}`);
  if (!show) return;
  for (const [name, list] of [['failures not recognised', r.misses], ['non-failures taken as failures', r.falseFailures], ['hard-vs-not disagreements', r.disagreements], ['addresses', r.addressMisses]] as const) {
    console.log(`\n  ${name} (${list.length}):`);
    for (const m of list) console.log(`    ${m}`);
  }
}

async function main() {
  const emailsArg = opt('emails', '/work/.mirror/sisimai+set-of-emails/repo')!;
  const labelsArg = opt('labels', '/work/.mirror/sisimai+go-sisimai/repo')!;
  const secondArg = opt('second', '/work/.mirror')!;
  const show = opt('show');
  const out: Record<string, Result> = {};
  if (existsSync(emailsArg) && existsSync(labelsArg)) out.first = await evaluate(loadFirst(emailsArg, labelsArg));
  else console.log(`set 1 not found (--emails ${emailsArg} --labels ${labelsArg}); see the header of bench/bounce-corpus/run.ts`);
  if (SECOND_SOURCES.every((s) => existsSync(path.join(secondArg, s.repo.replace('/', '+'))))) out.second = await evaluate(loadSecond(secondArg));
  else console.log(`set 2 not found under --second ${secondArg}; see the header of bench/bounce-corpus/run.ts`);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, r]) => [k, { ...r, confusion: undefined, misses: r.misses.length, falseFailures: r.falseFailures.length, disagreements: r.disagreements.length, addressMisses: r.addressMisses.length, ms: Math.round(r.ms) }]))));
    return;
  }
  console.log(`bounce rules: ${RULE_COUNT} rules in src/domain/bounce-rules.ts`);
  if (out.first) print('set 1 — Sisimai set-of-emails, labelled by Sisimai', out.first, { hard: 95 }, show === '1' || show === 'all');
  if (out.second) print('set 2 — BounceParser, bounce_email, PHP-Bounce-Handler corpora, labelled by us', out.second, { hard: 90 }, show === '2' || show === 'all');
}

await main();
