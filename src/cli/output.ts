// What the CLI prints. The only place besides the CLI itself that writes to the terminal.
import type { CampaignStatus } from '../campaigns/status.ts';
import type { ImportReport } from '../intake/importer.ts';
import { NOTICE_STATES } from '../domain/notice-state.ts';

export function table(rows: Array<[string, string | number]>): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${String(v).padStart(8)}`).join('\n');
}

function duration(s: number | null): string {
  if (s === null) return '–';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatStatus(s: CampaignStatus): string {
  const d = s.deadline;
  const lines = [
    `campaign ${s.id} "${s.name}": ${s.state}${s.completed ? ' (completed: everyone is accounted for)' : ''}${s.state === 'paused' ? ` by ${s.pausedBy ?? 'unknown'}: ${s.pauseReason ?? 'no reason given'}` : ''}`,
    ...(d ? [`  deadline: report due ${d.due} (${d.days} days from discovery on ${d.discoveredOn}${d.basis === 'unauthorized_access' ? ', unauthorised access' : ''}): ${d.daysLeft >= 0 ? `${d.daysLeft} days left` : `${-d.daysLeft} days overdue`}`] : []),
    ...(s.pacing.quietFrom || s.pacing.hourlyCap ? [`  pacing: ${s.pacing.quietFrom ? `quiet ${s.pacing.quietFrom}–${s.pacing.quietTo} ${s.pacing.timeZone}` : 'no quiet hours'}${s.pacing.hourlyCap ? `, at most ${s.pacing.hourlyCap}/hour` : ''}${s.pacing.windowOpensAt ? `; next window opens ${s.pacing.windowOpensAt}` : ''}`] : []),
    table(NOTICE_STATES.filter((st) => s.counts[st] > 0).map((st) => [st, s.counts[st]])),
    `  ${'total'.padEnd(15)}${String(s.total).padStart(8)}   notified ${s.notified}   open ${s.open}   ${s.ratePerSec}/s   ETA ${s.emailPhaseDone ? 'done' : duration(s.etaSeconds)}`,
  ];
  if (s.waiting.length) {
    lines.push('  waiting:');
    for (const w of s.waiting) lines.push(`    ${String(w.count).padStart(8)} ${w.what}: ${w.why}`);
  }
  return lines.join('\n');
}

export function oneLineStatus(s: CampaignStatus): string {
  const c = s.counts;
  return `sent ${c.sent + c.delivered}  postal ${c.postal_queued}  queued ${c.pending + c.queued}  sending ${c.sending}  review ${c.needs_review}  | ${s.ratePerSec}/s  ETA ${s.emailPhaseDone ? 'done' : duration(s.etaSeconds)}`;
}

/** Past this many lines the import report is summarised; --json keeps every line. */
const REPORT_LINES = 30;

export function importReportText(report: ImportReport): string {
  const issues = [
    ...report.rejected.map((r) => ({ line: r.line, text: `rejected: ${r.field}: ${r.reason}` })),
    ...report.duplicates.map((r) => ({ line: r.line, text: `duplicate: ${r.field}: ${r.reason}` })),
    ...report.warnings.map((r) => ({ line: r.line, text: `warning: ${r.field}: ${r.reason}` })),
  ].sort((a, b) => a.line - b.line);
  const rejectedLines = new Set(report.rejected.map((r) => r.line)).size;
  const lines = [
    `${report.file}: ${report.rows} rows: ${report.accepted} accepted, ${report.duplicates.length} duplicates, ${rejectedLines} rejected, ${report.warnings.length} warnings`,
    `  read as ${report.encoding === 'utf8' ? 'UTF-8' : 'Shift_JIS (CP932)'}${report.encodingDetected ? ' (detected)' : ''}`,
    ...report.droppedColumns.map((c) => `  column ${c}: looks like card data; not stored`),
    ...report.undeclaredColumns.map((c) => `  column ${c}: not declared at campaign create (--extra-vars); not stored`),
    ...issues.slice(0, REPORT_LINES).map((i) => `  ${report.file}:${i.line}: ${i.text}`),
  ];
  if (issues.length > REPORT_LINES) lines.push(`  … and ${issues.length - REPORT_LINES} more (${report.duplicates.length} duplicates, ${rejectedLines} rejected, ${report.warnings.length} warnings in all); --json lists every one`);
  return lines.join('\n');
}
