// What ops see: counts per state, the settle rate over the last minute, an ETA, and what is
// waiting and why (a vendor never named, addresses to fix, a pause and its reason).
import { settledLately } from './report-store.ts';
import { unfinishedBatches } from '../channels/post/batch-store.ts';
import { vendorNameOf } from '../channels/post/vendor-store.ts';
import type { Db } from '../db/pool.ts';
import { getCampaign, type CampaignRow } from '../db/campaign-store.ts';
import { countsByCampaign, exactCounts, staleSending, type StateCounts } from '../db/counts-store.ts';
import { EMAIL_OPEN, isCompleted, NOTIFIED } from '../domain/notice-state.ts';
import { deadlineOf, type Deadline } from '../domain/deadline.ts';
import { inQuietHours, windowOpensAt, type Pacing } from '../domain/send-window.ts';
import { pacingOfRow } from '../dispatch/pacing-gate.ts';

export type WaitingCode = 'reputation' | 'delayed' | 'not_launched' | 'paused' | 'quiet_hours' | 'stale_sending' | 'no_vendor' | 'routing' | 'address_invalid' | 'needs_review' | 'open_batch' | 'ready_batch' | 'printed_batch';

export interface Waiting {
  /** Why, as a code (the dashboard words it in Japanese or English). */
  code: WaitingCode;
  /** What waits: 'email' or 'letters' or 'people'. */
  what: string;
  count: number;
  /** Why, and what to do about it, in one line. */
  why: string;
  /** Batches, when it is about batches; how many of them nobody has downloaded. */
  batches?: number;
  undownloaded?: number;
}

export interface CampaignStatus {
  id: number;
  name: string;
  state: string;
  pauseReason: string | null;
  pausedBy: string | null;
  vendor: string | null;
  total: number;
  counts: StateCounts;
  notified: number;
  open: number;
  ratePerSec: number;
  etaSeconds: number | null;
  emailPhaseDone: boolean;
  /** Launched, and everyone accounted for (derived: a late bounce or return reopens it). */
  completed: boolean;
  deadline: Deadline | null;
  /** Quiet hours and hourly cap, and when the window opens next if it is closed now. */
  pacing: Pacing & { inQuietHours: boolean; windowOpensAt: string | null };
  waiting: Waiting[];
}

const RATE_WINDOW_S = 60;
/** A claim older than this is a worker that stopped (sends take seconds). */
const STALE_CLAIM_MS = 120_000;

export interface StatusOptions {
  /**
   * 'exact' counts the campaign's rows (operators, tests, audits); 'counters' reads the counts kept
   * from the ledger (dashboards and scrapes: cheap at a million people, a moment behind).
   */
  source?: 'exact' | 'counters';
  now?: Date;
}

export async function campaignStatus(db: Db, id: number, o: StatusOptions = {}): Promise<CampaignStatus | null> {
  const c = await getCampaign(db, id);
  if (!c) return null;
  const counts = o.source === 'counters' ? (await countsByCampaign(db, [id])).get(id)! : await exactCounts(db, id);
  return statusFrom(db, c, counts, o.now ?? new Date());
}

export async function statusFrom(db: Db, c: CampaignRow, counts: StateCounts, now: Date): Promise<CampaignStatus> {
  const settled = await settledLately(db, c.id, RATE_WINDOW_S, now);
  const span = Math.max(1, Math.min(RATE_WINDOW_S, Number(settled.span ?? RATE_WINDOW_S)));
  const ratePerSec = settled.n / span;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const open = EMAIL_OPEN.reduce((a, s) => a + counts[s], 0);
  const vendor = await vendorNameOf(db, c.vendor_id);
  const p = pacingOfRow(c);
  const opens = windowOpensAt(p, now);
  const pacing = { ...p, inQuietHours: inQuietHours(p, now), windowOpensAt: opens?.toISOString() ?? null };
  // In quiet hours nothing is sent: no rate, and the ETA counts from when the window opens. An
  // hourly cap bounds the rate whatever the last minute did.
  const rate = pacing.inQuietHours || c.state !== 'running' ? 0 : p.hourlyCap ? Math.min(ratePerSec, p.hourlyCap / 3600) : ratePerSec;
  const untilOpen = pacing.inQuietHours && opens ? Math.max(0, (opens.getTime() - now.getTime()) / 1000) : 0;
  const pace = pacing.inQuietHours ? (p.hourlyCap ? Math.min(ratePerSec || p.hourlyCap / 3600, p.hourlyCap / 3600) : ratePerSec) : rate;
  return {
    id: c.id, name: c.name, state: c.state, pauseReason: c.pause_reason, pausedBy: c.paused_by, vendor, total, counts,
    notified: NOTIFIED.reduce((a, s) => a + counts[s], 0),
    open, ratePerSec: Math.round(rate * 10) / 10,
    etaSeconds: open === 0 ? 0 : pace > 0 && c.state === 'running' ? Math.ceil(untilOpen + open / pace) : null,
    emailPhaseDone: open === 0,
    completed: isCompleted(c.state, counts),
    deadline: deadlineOf(c.discovered_on, c.deadline_basis, now),
    pacing,
    waiting: await waitingOf(db, c, counts, vendor, pacing),
  };
}

async function waitingOf(db: Db, c: CampaignRow, counts: StateCounts, vendor: string | null, pacing: CampaignStatus['pacing']): Promise<Waiting[]> {
  const w: Waiting[] = [];
  const emailOpen = counts.pending + counts.queued + counts.sending;
  if (c.state === 'running' && pacing.inQuietHours && counts.queued) {
    w.push({ code: 'quiet_hours', what: 'email', count: counts.queued, why: `quiet hours (${pacing.quietFrom}–${pacing.quietTo} ${pacing.timeZone}): the send window opens at ${pacing.windowOpensAt}` });
  }
  if (counts.sending) {
    // Claimed by a worker that has not answered for two minutes (killed, its machine gone): they
    // go back to the queue when their lease runs out; nobody is sent twice.
    const stale = await staleSending(db, c.id, new Date(Date.now() - STALE_CLAIM_MS));
    if (stale.n) w.push({ code: 'stale_sending', what: 'email', count: stale.n, why: `claimed by a worker that stopped answering (since ${stale.oldest?.toISOString()}): they go back to the queue when the claim's lease runs out` });
  }
  if (c.state === 'draft' && counts.pending) w.push({ code: 'not_launched', what: 'people', count: counts.pending, why: `the campaign is not launched yet (notice campaign launch ${c.id})` });
  if (c.state === 'paused' && emailOpen) w.push({ code: 'paused', what: 'email', count: emailOpen, why: `paused${c.paused_by ? ` by ${c.paused_by}` : ''}: ${c.pause_reason ?? 'no reason given'} (notice campaign resume ${c.id})` });
  if (c.reputation && c.reputation.level !== 'ok' && c.state === 'running') {
    w.push({ code: 'reputation', what: 'email', count: counts.queued, why: c.reputation.why ?? 'slowed by the reputation brakes' });
  }
  if (counts.delayed) {
    const h = c.email_confirm_deadline_ms ? ` (${Math.round(Number(c.email_confirm_deadline_ms) / 3_600_000)} h)` : '';
    w.push({ code: 'delayed', what: 'email', count: counts.delayed, why: `the receiving server delayed the email: not notified until it confirms delivery or failure; a letter goes if no final answer comes within the confirmation deadline${h}` });
  }
  if (counts.postal_queued) {
    w.push(vendor
      ? { code: 'routing', what: 'letters', count: counts.postal_queued, why: `being checked and added to ${vendor}'s print batch` }
      : { code: 'no_vendor', what: 'letters', count: counts.postal_queued, why: `no printing vendor is named for this campaign (notice campaign vendor ${c.id} NAME)` });
  }
  if (counts.address_invalid) w.push({ code: 'address_invalid', what: 'letters', count: counts.address_invalid, why: 'the postal address is unusable; fix each one (notice address fix ID …; the report has address_error)' });
  if (counts.needs_review) w.push({ code: 'needs_review', what: 'people', count: counts.needs_review, why: 'a message or content problem needs review (the report has last_error)' });
  for (const r of await unfinishedBatches(db, c.id)) {
    if (r.status === 'open') w.push({ code: 'open_batch', what: 'letters', count: r.letters, batches: r.batches, why: `in an open print batch: it closes when full or old enough (or notice batches close --campaign ${c.id})` });
    if (r.status === 'ready') w.push({ code: 'ready_batch', what: 'letters', count: r.letters, batches: r.batches, undownloaded: r.undownloaded, why: `in ${r.batches} batch(es) ready for ${vendor ?? 'the vendor'}, not yet acknowledged as printed${r.undownloaded ? ` (${r.undownloaded} not even downloaded)` : ''}` });
    if (r.status === 'printed') w.push({ code: 'printed_batch', what: 'letters', count: r.letters, batches: r.batches, why: `printed by ${vendor ?? 'the vendor'}; waiting for their "mailed" report` });
  }
  return w;
}
