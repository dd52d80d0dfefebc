// What the dashboard shows, as JSON (no personal data: counts, states, reasons, ids): per campaign
// the funnel, running or paused and why and by whom, letters waiting and why, batches waiting for
// the vendor, failures by reason, the legal deadline, and the last hour of send rate and queue
// depth; and the workers alive. Counts come from the ledger counters (cheap at a million).
import { addSample, bounceReasons, pruneSamples, recentCampaigns, samplesOf, steeredCampaigns } from './dashboard-store.ts';
import type { App } from '../app.ts';
import { catchUpCounts, countsByCampaign, reasonsOf, type StateCounts } from '../db/counts-store.ts';
import { getCampaign } from '../db/campaign-store.ts';
import { listWorkers } from '../db/worker-store.ts';
import { statusFrom, type CampaignStatus } from '../campaigns/status.ts';
import { WORKER_ALIVE_S } from '../db/system-store.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

export interface Funnel {
  imported: number;
  emailed: number;
  bounced: number;
  toPost: number;
  printed: number;
  mailed: number;
  unreachable: number;
  needsReview: number;
  cancelled: number;
  /** Emails the receiving server has delayed: not notified yet. */
  delayed: number;
  /** Of the emailed, those whose delivery to the mailbox was confirmed (DSN, SES). */
  delivered: number;
}

export function funnelOf(c: StateCounts, bounced: number): Funnel {
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  return {
    imported: total,
    emailed: c.sent + c.delivered,
    delayed: c.delayed,
    delivered: c.delivered,
    bounced,
    toPost: c.postal_queued + c.address_invalid + c.batched + c.printed + c.mailed + c.returned + c.unreachable,
    printed: c.printed + c.mailed + c.returned + c.unreachable,
    mailed: c.mailed,
    unreachable: c.unreachable,
    needsReview: c.needs_review,
    cancelled: c.cancelled,
  };
}

export interface DashboardCampaign extends CampaignStatus {
  funnel: Funnel;
  reasons: Record<string, number>;
  /** Bounces by reason (user_unknown, filtered, mailbox_full, …). */
  bounces: Record<string, number>;
  /** Unix seconds, emails per second, and the campaign's own email work still open (pending, queued, sending), one point per sample. */
  series: { t: number[]; rate: number[]; queue: number[] };
}

export interface Dashboard {
  generatedAt: string;
  refreshMs: number;
  workers: { alive: number; list: Array<{ host: string; pid: number; queues: string[]; beatAgoS: number; alive: boolean }> };
  queues: Record<string, { waiting: number; active: number; delayed: number }>;
  campaigns: DashboardCampaign[];
}

export async function dashboardData(app: App, o: { refreshMs: number; limit?: number }): Promise<Dashboard> {
  await catchUpCounts(app.db);
  const now = new Date();
  const ids = await recentCampaigns(app.db, o.limit ?? 10, now);
  const counts = await countsByCampaign(app.db, ids);
  const campaigns: DashboardCampaign[] = [];
  for (const id of ids) {
    const c = (await getCampaign(app.db, id))!;
    const status = await statusFrom(app.db, c, counts.get(id)!, now);
    const b = await bounceReasons(app.db, id);
    const bounces = Object.fromEntries(b.map((r) => [r.reason, r.n]));
    const hardOrSoft = b.filter((r) => r.class === 'hard' || r.class === 'soft').reduce((a, r) => a + r.n, 0);
    const samples = await samplesOf(app.db, id, now);
    const series = { t: [] as number[], rate: [] as number[], queue: [] as number[] };
    for (let i = 1; i < samples.length; i++) {
      const dt = samples[i].t - samples[i - 1].t;
      series.t.push(samples[i].t);
      series.rate.push(dt > 0 ? Math.max(0, Math.round(((Number(samples[i].emailed) - Number(samples[i - 1].emailed)) / dt) * 10) / 10) : 0);
      series.queue.push(Number(samples[i].queue));
    }
    const reasons = await reasonsOf(app.db, id);
    // Bounced: the bounce reports, and the refusals our own send got (550 at RCPT), which never
    // come back as a report.
    campaigns.push({ ...status, funnel: funnelOf(status.counts, hardOrSoft + (reasons['post:hard_bounce'] ?? 0)), reasons, bounces, series });
  }
  const list = (await listWorkers(app.db)).map((w) => ({ host: w.host, pid: w.pid, queues: w.queues, beatAgoS: w.beatAgoS, alive: w.beatAgoS <= WORKER_ALIVE_S }));
  const queues: Dashboard['queues'] = {};
  for (const q of ALL_QUEUE_NAMES) {
    const jc = await app.queues[q].getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    queues[q] = { waiting: (jc.waiting ?? 0) + (jc.prioritized ?? 0), active: jc.active ?? 0, delayed: jc.delayed ?? 0 };
  }
  return { generatedAt: now.toISOString(), refreshMs: o.refreshMs, workers: { alive: list.filter((w) => w.alive).length, list }, queues, campaigns };
}

/**
 * One sample per running or paused campaign (emails sent so far, email work open, the email
 * queue's depth), for the charts. Several `serve` processes may sample: one row per 10-s slot.
 */
export async function sampleCampaigns(app: App, slotMs: number): Promise<void> {
  await catchUpCounts(app.db);
  const ids = await steeredCampaigns(app.db);
  if (!ids.length) return;
  const counts = await countsByCampaign(app.db, ids);
  const jc = await app.queues.email.getJobCounts('waiting', 'active', 'prioritized');
  const slot = new Date(Math.floor(Date.now() / slotMs) * slotMs);
  for (const id of ids) {
    const c = counts.get(id)!;
    await addSample(app.db, { campaignId: id, at: slot, emailed: c.sent + c.delivered, openEmail: c.pending + c.queued + c.sending, queueWaiting: (jc.waiting ?? 0) + (jc.prioritized ?? 0), queueActive: jc.active ?? 0 });
  }
  await pruneSamples(app.db, slot);
}
