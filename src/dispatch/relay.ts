// The outbox relay, windowed. Launch pages through a campaign's pending notices by id (keyset) and
// marks each page queued (or postal_queued for people email cannot reach) in one transaction: all
// of PostgreSQL's work, fast. Only a window of the queued people is ever in Redis: topUp() (every
// worker runs it every RELAY_TOPUP_MS, one at a time across machines) adds chunk jobs until the
// email queue holds RELAY_WINDOW people again, campaign by campaign (higher priority first), and
// moves the campaign's relay_cursor past them. Redis holds the window, not the campaign.
//
// A crash between a page's commit and its enqueue, or Redis losing jobs, leaves people queued with
// no job: the reconciler finds those the cursor has passed; the cursor itself covers the rest.
// Run twice, nobody is sent twice: pending rows are taken only once, chunk job ids are
// deterministic, and the claim is conditional.
import type { Db } from '../db/pool.ts';
import { withTryLock } from '../db/pool.ts';
import { getCampaign } from '../db/campaign-store.ts';
import { transition } from '../db/notice-store.ts';
import type { Redis } from 'ioredis';
import type { Queues } from '../../queues/queues.ts';
import { enqueueEmailChunks, enqueuePostal, type NoticeRef } from './enqueue.ts';
import type { PacingGate } from './pacing-gate.ts';
import type { MxCheck } from '../channels/email/mx-check.ts';
import { makeHandOff } from './hand-off.ts';
import { LOCK } from '../db/locks.ts';
import { firstChannel } from '../domain/channel-plan.ts';
import { advanceRelayCursor, pendingPage, queuedAfter, resetRelayCursor, runningCampaigns } from './relay-store.ts';

export interface RelayProgress {
  queued: number;
  postal: number;
  requeued: number;
}

export interface RelayDeps {
  db: Db;
  queues: Queues;
  redis: Redis;
  pageSize: number;
  /** People the email queue may hold (waiting or active); at least one chunk. */
  window: number;
  chunkSize: number;
  /** The send window and hourly cap: the relay adds no more than they allow. */
  pacing?: PacingGate;
  /** Which recipient domains can receive mail at all (MX_CHECK); unset: not looked up. */
  mxCheck?: MxCheck;
}

/** pending → queued / postal_queued, page by page, while the campaign runs; then a first window. */
export async function relayPending(d: RelayDeps, campaignId: number, onPage?: (p: RelayProgress) => void): Promise<RelayProgress> {
  const progress: RelayProgress = { queued: 0, postal: 0, requeued: 0 };
  let cursor = 0;
  for (;;) {
    const campaign = await getCampaign(d.db, campaignId);
    if (campaign?.state !== 'running') break;
    const page = await makeHandOff((refs) => enqueuePostal(d.queues, refs)).inTransaction(d.db, async (tx, toPost) => {
      const rows = await pendingPage(tx, campaignId, cursor, d.pageSize);
      if (!rows.length) return null;
      // Each distinct domain once (cached for the whole launch): a domain that cannot receive mail
      // sends its people to post now, not after a bounce.
      const dead = new Set<string>();
      if (d.mxCheck) {
        const domains = [...new Set(rows.filter((p) => p.hasEmail && !p.suppressed && p.domain).map((p) => p.domain!))];
        const verdicts = await Promise.all(domains.map((x) => d.mxCheck!.verdict(x)));
        domains.forEach((x, i) => verdicts[i] === 'cannot_receive' && dead.add(x));
      }
      const toEmail: number[] = [];
      const toLetter = new Map<string, number[]>();
      for (const p of rows) {
        const plan = firstChannel({ ...p, domainCannotReceive: p.domain !== null && dead.has(p.domain) });
        if (plan.channel === 'email') toEmail.push(p.id);
        else toLetter.set(plan.reason, [...(toLetter.get(plan.reason) ?? []), p.id]);
      }
      const email = await transition(tx, { ids: toEmail, from: ['pending'], to: 'queued', channel: 'email', slim: true });
      const postal: NoticeRef[] = [];
      for (const [reason, ids] of toLetter) postal.push(...(await toPost({ ids, from: ['pending'], reason, slim: true })));
      return { last: rows[rows.length - 1].id, email, postal };
    });
    if (!page) break;
    cursor = page.last;
    progress.queued += page.email.length;
    progress.postal += page.postal.length;
    onPage?.(progress);
  }
  await topUpExclusive(d);
  return progress;
}


/**
 * People in the email queue that a worker will reach soon: waiting or active, not retries delayed
 * for later. A chunk job counts as a full chunk, a single job as one (job ids say which).
 */
export async function queueDepth(redis: Redis, queues: Queues, chunkSize: number): Promise<number> {
  const q = queues.email;
  const [[, wait], [, active], [, prioritized]] = (await redis.pipeline().lrange(q.toKey('wait'), 0, -1).lrange(q.toKey('active'), 0, -1).zrange(q.toKey('prioritized'), '0', '-1').exec()) as Array<[Error | null, string[]]>;
  let depth = 0;
  for (const id of [...wait, ...active, ...prioritized]) depth += id.startsWith('c-') ? chunkSize : 1;
  return depth;
}

/**
 * Fill the window: running campaigns in priority order, each from its relay_cursor on. Returns
 * the people added. Call it through topUpExclusive (one relay at a time).
 */
export async function topUp(d: RelayDeps): Promise<number> {
  let room = d.window - (await queueDepth(d.redis, d.queues, d.chunkSize));
  let added = 0;
  if (room < d.chunkSize) return 0;
  const campaigns = await runningCampaigns(d.db);
  for (const c of campaigns) {
    // Quiet hours, or the hour's cap used: this campaign waits; the next may go.
    let allowed = d.pacing ? await d.pacing.room(c.id) : Infinity;
    while (room >= d.chunkSize && allowed > 0) {
      const want = Math.min(Math.floor(room / d.chunkSize) * d.chunkSize, allowed);
      const ids = await queuedAfter(d.db, c.id, c.relay_cursor, want);
      if (!ids.length) break;
      await enqueueEmailChunks(d.queues, c.id, ids, d.chunkSize);
      c.relay_cursor = ids[ids.length - 1];
      await advanceRelayCursor(d.db, c.id, c.relay_cursor);
      added += ids.length;
      allowed -= ids.length;
      room -= Math.ceil(ids.length / d.chunkSize) * d.chunkSize;
      if (ids.length < want) break;
    }
    if (room < d.chunkSize) break;
  }
  return added;
}

/** topUp unless another process is doing it right now. */
export function topUpExclusive(d: RelayDeps): Promise<number | null> {
  return withTryLock(d.db, [LOCK.topUp], () => topUp(d));
}

/** Start the relay over for a campaign (resume): everyone still queued goes through the window again. */
export async function rewindRelay(db: Db, campaignId: number): Promise<void> {
  await resetRelayCursor(db, campaignId);
}
