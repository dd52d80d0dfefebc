// The figures the regulator asks for, counted from the same rows as the per-person report (so
// they add up to it): the PPC's final report (確報: 本人への対応の実施状況, 公表の実施状況, due
// 30 days after discovery, 60 for unauthorised access) and a GDPR Art. 33(5) register entry.
// Every affected person is in exactly one of: notified by email, notified by post, covered by the
// public announcement, unreachable and not yet covered, in progress, excluded.
import type { Db } from '../db/pool.ts';
import { exactCounts } from '../db/counts-store.ts';
import { getCampaign } from '../db/campaign-store.ts';
import { latestAnnouncement } from '../db/announcement-store.ts';
import { deadlineOf, type Deadline } from '../domain/deadline.ts';
import { PermanentError } from '../domain/errors.ts';
import { coveredCount, importTotals, noticeDates } from './report-store.ts';

export interface RegulatorReport {
  campaign: { id: number; name: string; state: string };
  generated_at: string;
  affected: number;
  notified: {
    email: { total: number; delivered_confirmed: number; accepted_by_our_relay: number };
    post: number;
    total: number;
  };
  public_announcement: { published_at: string | null; covered: number; unreachable_not_covered: number };
  in_progress: { total: number; by_state: Record<string, number> };
  excluded: { total: number; cancelled: number; needs_review: number; address_invalid: number; why: Record<string, string> };
  dates: { first_email: string | null; last_email: string | null; first_letter: string | null; last_letter: string | null; announcement: string | null };
  deadline: { ppc_final_report: Deadline | null; gdpr_72h_from_discovery: string | null };
  /** GDPR Art. 33(5): facts, effects and remedial action, as the register keeps them. */
  gdpr_register: { facts: string; data_subjects: number; effects: string; remedial_action: string };
  /** affected = notified + covered + unreachable_not_covered + in_progress + excluded */
  adds_up: boolean;
}

// delayed: the receiving server is still trying; not notified until a final answer or the deadline's letter.
const IN_PROGRESS = ['pending', 'queued', 'sending', 'delayed', 'postal_queued', 'batched', 'printed', 'returned'] as const;

export async function regulatorReport(db: Db, campaignId: number, now = new Date()): Promise<RegulatorReport> {
  const c = await getCampaign(db, campaignId);
  if (!c) throw new PermanentError('not_found', `campaign ${campaignId} does not exist`);
  const [counts, dates, announcement, covered, imported] = await Promise.all([exactCounts(db, campaignId), noticeDates(db, campaignId), latestAnnouncement(db, campaignId), coveredCount(db, campaignId), importTotals(db, campaignId)]);
  const affected = Object.values(counts).reduce((a, b) => a + b, 0);
  const email = { total: counts.sent + counts.delivered, delivered_confirmed: counts.delivered, accepted_by_our_relay: counts.sent };
  const inProgress = Object.fromEntries(IN_PROGRESS.map((s) => [s, counts[s]]).filter(([, n]) => n));
  const inProgressTotal = IN_PROGRESS.reduce((a, s) => a + counts[s], 0);
  const excluded = { total: counts.cancelled + counts.needs_review + counts.address_invalid, cancelled: counts.cancelled, needs_review: counts.needs_review, address_invalid: counts.address_invalid };
  const notifiedTotal = email.total + counts.mailed;
  const notCovered = counts.unreachable - covered;
  const ppc = deadlineOf(c.discovered_on, c.deadline_basis, now);
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    campaign: { id: c.id, name: c.name, state: c.state },
    generated_at: now.toISOString(),
    affected,
    notified: { email, post: counts.mailed, total: notifiedTotal },
    public_announcement: { published_at: iso(announcement?.published_at ?? null), covered, unreachable_not_covered: notCovered },
    in_progress: { total: inProgressTotal, by_state: inProgress },
    excluded: {
      ...excluded,
      why: {
        cancelled: 'the campaign (or the person) was cancelled before they were told',
        needs_review: 'a message or content problem an operator must look at (the report has last_error)',
        address_invalid: 'no email reached them and the postal address is unusable until corrected (the report has address_error)',
      },
    },
    dates: { first_email: iso(dates.first_email), last_email: iso(dates.last_email), first_letter: dates.first_letter, last_letter: dates.last_letter, announcement: iso(announcement?.published_at ?? null) },
    deadline: { ppc_final_report: ppc, gdpr_72h_from_discovery: c.discovered_on ? new Date(Date.parse(`${String(c.discovered_on).slice(0, 10)}T00:00:00Z`) + 72 * 3_600_000).toISOString() : null },
    gdpr_register: {
      facts: `${c.name}: ${imported.accepted} people's personal data affected${c.discovered_on ? `, discovered ${String(c.discovered_on).slice(0, 10)}` : ''}${c.deadline_basis === 'unauthorized_access' ? ' (unauthorised access)' : ''}`,
      data_subjects: affected,
      effects: 'risk of misuse of the personal data concerned (identity, contact and, for some, card data); card data is never stored by this system',
      remedial_action: `told individually: ${email.total} by email, ${counts.mailed} by post; public announcement ${announcement ? `published ${iso(announcement.published_at)} covering ${covered}` : 'not published'}; ${inProgressTotal} in progress; ${excluded.total} excluded`,
    },
    adds_up: affected === notifiedTotal + covered + notCovered + inProgressTotal + excluded.total,
  };
}
