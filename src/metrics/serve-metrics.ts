// What `notice serve` tells Prometheus about the whole system, read at scrape time from
// PostgreSQL and Redis: people per state per campaign (from the counts kept off the ledger: a few
// small rows, not a scan of a million), campaign states, workers alive, queue depths, print
// batches, letters waiting and why, bounces, failure reasons, Redis memory. Per-process numbers
// (sends, latency, throttling, the reconciler) come from each worker's own /metrics.
import { isCompleted, NOTICE_STATES, type NoticeState } from '../domain/notice-state.ts';
import { Gauge, Registry } from 'prom-client';
import { waitingBounces } from '../bounces/bounce-store.ts';
import type { Redis } from 'ioredis';
import type { Db } from '../db/pool.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../../queues/queues.ts';
import { catchUpCounts, countsByCampaign } from '../db/counts-store.ts';
import { systemSnapshot } from '../db/system-store.ts';
import { withProcessMetrics } from './worker-metrics.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const zeroCounts = () => Object.fromEntries(NOTICE_STATES.map((s) => [s, 0])) as Record<NoticeState, number>;
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

export function makeServeMetrics(app: { db: Db; queues: Queues; redis: Redis; log: Logger }): Registry {
  const registry = withProcessMetrics(new Registry());
  const registers = [registry];
  // Every gauge waits for the same read of PostgreSQL and Redis (prom-client asks them all at
  // once): one read per scrape, shared.
  let inFlight: Promise<void> | null = null;
  const collect = async () => {
    inFlight ??= collectAll().finally(() => (inFlight = null));
    await inFlight;
  };
  const g = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers, collect });

  const notices = g('notice_notices', 'People per state per campaign', ['campaign', 'state']);
  const campaignState = g('notice_campaign_state', 'Campaign state (1 for the current one)', ['campaign', 'state']);
  const paused = g('notice_campaign_paused', '1 while a campaign is paused, by who paused it (operator, or the system part)', ['campaign', 'by']);
  const running = g('notice_campaigns_running', 'Campaigns running with people still to tell (a completed campaign is not counted)');
  const hardRate = g('notice_campaign_hard_bounce_rate', 'Hard bounces over the campaign\'s last REPUTATION_WINDOW sends (the reputation brakes\' last check)', ['campaign']);
  const complaintRate = g('notice_campaign_complaint_rate', 'Complaints over the campaign\'s last REPUTATION_WINDOW sends', ['campaign']);
  const slowed = g('notice_campaign_slowed', '1 while the reputation brakes slow a campaign', ['campaign']);
  const completed = g('notice_campaign_completed', '1 when a launched campaign has everyone accounted for (a late bounce or return sets it back to 0)', ['campaign']);
  const workersAlive = g('notice_workers_alive', 'Worker processes with a heartbeat in the last 30 s');
  const queueJobs = g('notice_queue_jobs', 'Jobs in each queue by state', ['queue', 'state']);
  const batches = g('notice_batches', 'Print batches by state', ['state']);
  const letters = g('notice_batch_letters', 'Letters in print batches by batch state', ['state']);
  const waiting = g('notice_letters_waiting', 'Letters waiting, by why (no_vendor, address_invalid)', ['campaign', 'reason']);
  const undownloaded = g('notice_batch_ready_undownloaded_oldest_seconds', 'Age of the oldest batch ready for its vendor and never downloaded (0: none)');
  const bounces = g('notice_bounces', 'Bounces recorded per campaign, by class and reason (user_unknown, filtered, mailbox_full, our_authentication, …)', ['campaign', 'class', 'reason']);
  const reasons = g('notice_detours', 'People per campaign who went another way than a first-try email, by reason (post:…, retry:…, review:…)', ['campaign', 'reason']);
  const redisUsed = g('notice_redis_used_memory_bytes', 'Redis used_memory');
  const redisMax = g('notice_redis_maxmemory_bytes', 'Redis maxmemory (0: no limit)');
  const early = g('notice_bounce_events_waiting', 'Bounce/delivery events that arrived before their person reached a state they apply to, still waiting');
  const earlyOldest = g('notice_bounce_events_waiting_oldest_seconds', 'How long the oldest waiting event has waited (0: none)');
  const up = g('notice_serve_collect_success', '1 when the last scrape could read PostgreSQL and Redis');

  async function collectAll(): Promise<void> {
    try {
      await catchUpCounts(app.db);
      const snap = await systemSnapshot(app.db);
      const counts = await countsByCampaign(app.db);
      for (const m of [notices, campaignState, paused, completed, hardRate, complaintRate, slowed, waiting, bounces, reasons, queueJobs, batches, letters]) m.reset();
      for (const [campaign, c] of counts) for (const [state, n] of Object.entries(c)) notices.set({ campaign: String(campaign), state }, n);
      for (const c of snap.campaigns) {
        for (const s of ['draft', 'running', 'paused', 'cancelled']) campaignState.set({ campaign: String(c.id), state: s }, c.state === s ? 1 : 0);
        if (c.state === 'paused') paused.set({ campaign: String(c.id), by: pausedKind(c.paused_by) }, 1);
        const n = counts.get(c.id);
        completed.set({ campaign: String(c.id) }, n && isCompleted(c.state, n) ? 1 : 0);
        if (c.reputation) {
          hardRate.set({ campaign: String(c.id) }, c.reputation.hardRate);
          complaintRate.set({ campaign: String(c.id) }, c.reputation.complaintRate);
          slowed.set({ campaign: String(c.id) }, c.state === 'running' && c.reputation.level === 'slowed' ? 1 : 0);
        }
        waiting.set({ campaign: String(c.id), reason: 'no_vendor' }, c.vendor_id ? 0 : (n?.postal_queued ?? 0));
        waiting.set({ campaign: String(c.id), reason: 'address_invalid' }, n?.address_invalid ?? 0);
      }
      running.set(snap.campaigns.filter((c) => c.state === 'running' && !isCompleted(c.state, counts.get(c.id) ?? zeroCounts())).length);
      workersAlive.set(snap.workersAlive);
      for (const b of snap.batches) {
        batches.set({ state: b.status }, b.batches);
        letters.set({ state: b.status }, b.letters);
      }
      undownloaded.set(snap.oldestUndownloadedSeconds);
      const w = await waitingBounces(app.db);
      early.set(w.count);
      earlyOldest.set(w.oldestSeconds);
      for (const b of snap.bounces) bounces.set({ campaign: String(b.campaign_id), class: b.class, reason: b.reason }, b.n);
      for (const r of snap.reasons) reasons.set({ campaign: String(r.campaign_id), reason: r.reason }, r.n);
      for (const q of ALL_QUEUE_NAMES) {
        const jc = await app.queues[q].getJobCounts(...JOB_STATES);
        for (const s of JOB_STATES) queueJobs.set({ queue: q, state: s }, jc[s] ?? 0);
      }
      const info = await app.redis.info('memory');
      redisUsed.set(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0));
      redisMax.set(Number(/maxmemory:(\d+)/.exec(info)?.[1] ?? 0));
      up.set(1);
    } catch (err) {
      up.set(0);
      app.log.warn({ err: (err as Error).message }, 'metrics: could not read PostgreSQL or Redis');
    }
  }
  return registry;
}

function pausedKind(actor: string | null): string {
  if (!actor) return 'unknown';
  if (actor.startsWith('system:')) return actor; // a handful: system:email-worker, system:bounces, system:outage, system:error-budget
  return 'operator';
}
