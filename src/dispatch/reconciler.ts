// Postgres alone must be enough to finish a campaign. The reconciler pages through notices that
// should have a live job in running campaigns (queued ones the relay has passed, sending past its
// lease, postal_queued) and re-enqueues those whose job Redis no longer has: flushed, lost, or
// never added after a crash. Queued people the relay has not reached yet have no job by design;
// the relay's window brings them (src/dispatch/relay.ts).
import type { Redis } from 'ioredis';
import type { Db } from '../db/pool.ts';
import { jobId } from '../../queues/names.ts';
import type { Queues } from '../../queues/queues.ts';
import { enqueueEmailLater, enqueuePostal, type NoticeRef } from './enqueue.ts';
import { cancelPeople } from './cancel-people.ts';
import { delayedPastDeadline, shouldHaveJobs, waitingInCancelled } from './reconcile-store.ts';
import { makeHandOff } from './hand-off.ts';
import { checkReputation } from './reputation.ts';
import type { Brakes } from '../domain/reputation.ts';
import { CANCELLABLE } from '../domain/notice-state.ts';
import { lockForTransaction, withTransaction, withTryLock } from '../db/pool.ts';
import { queueDepth } from './relay.ts';
import { LOCK } from '../db/locks.ts';

export interface ReconcileResult {
  checked: number;
  email: number;
  postal: number;
  /** People of cancelled campaigns left waiting (a send in flight at cancel came back unsent). */
  cancelled: number;
  /** Delayed people whose confirmation deadline passed: handed to post. */
  unconfirmed: number;
}

export interface ReconcileDeps {
  db: Db;
  queues: Queues;
  redis: Redis;
  pageSize: number;
  leaseMs: number;
  /** The relay's window (people), and its chunk size: what is put back fits in the room left. */
  window?: number;
  chunkSize?: number;
  /** The time leases are measured against (tests move it). */
  clock?: { now(): Date };
  /** A delayed email with no final answer this long gets a letter (a campaign may set its own); unset: not checked. */
  confirmDeadlineMs?: number;
  /** The reputation brakes' levels; unset: not checked. */
  brakes?: Brakes;
}

const now = (d: ReconcileDeps) => d.clock?.now() ?? new Date();


async function missingJobs(redis: Redis, queue: Queues['postal'], ids: string[]): Promise<boolean[]> {
  if (!ids.length) return [];
  const pipe = redis.pipeline();
  for (const id of ids) pipe.exists(queue.toKey(id));
  const results = (await pipe.exec()) ?? [];
  return results.map(([err, n]) => !err && n === 0);
}

/**
 * Every notice some email job in Redis speaks for: single jobs by their id (e-<notice>), chunks by
 * their data. Bounded by the relay's window plus the retries waiting their turn.
 */
export async function liveEmailNotices(redis: Redis, queue: Queues['email']): Promise<Set<number>> {
  const pipe = redis.pipeline();
  for (const list of ['wait', 'active', 'paused']) pipe.lrange(queue.toKey(list), 0, -1);
  for (const zset of ['prioritized', 'delayed']) pipe.zrange(queue.toKey(zset), '0', '-1');
  const ids = ((await pipe.exec()) ?? []).flatMap(([, v]) => (v as string[] | null) ?? []);
  const live = new Set<number>();
  const chunks: string[] = [];
  for (const id of ids) {
    if (id.startsWith('e-')) live.add(Number(id.slice(2)));
    else if (id.startsWith('c-')) chunks.push(id);
  }
  for (let i = 0; i < chunks.length; i += 500) {
    const p = redis.pipeline();
    for (const id of chunks.slice(i, i + 500)) p.hget(queue.toKey(id), 'data');
    for (const [, data] of (await p.exec()) ?? []) {
      if (typeof data === 'string') for (const n of (JSON.parse(data) as { noticeIds?: number[] }).noticeIds ?? []) live.add(n);
    }
  }
  return live;
}

export async function reconcile(d: ReconcileDeps, campaignId?: number): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, email: 0, postal: 0, cancelled: 0, unconfirmed: 0 };
  let cursor = 0;
  for (;;) {
    const rows = await shouldHaveJobs(d.db, { after: cursor, campaignId, leaseMs: d.leaseMs, limit: d.pageSize, now: now(d) });
    if (!rows.length) break;
    cursor = rows[rows.length - 1].id;
    result.checked += rows.length;
    result.email += await requeueLostEmail(d, rows.filter((r) => r.state !== 'postal_queued') as NoticeRef[]);
    const postal = rows.filter((r) => r.state === 'postal_queued') as NoticeRef[];
    const postalMissing = await missingJobs(d.redis, d.queues.postal, postal.map((n) => jobId.postal(n.id)));
    const lostPostal = postal.filter((_, i) => postalMissing[i]);
    await enqueuePostal(d.queues, lostPostal);
    result.postal += lostPostal.length;
  }
  result.cancelled = await sweepCancelled(d, campaignId);
  result.unconfirmed = await lettersForUnconfirmed(d, campaignId);
  if (d.brakes) await checkReputation(d.db, d.brakes, now(d), campaignId);
  return result;
}

/**
 * Of these people (queued behind the relay's cursor, or sending past their lease), put back on
 * the email queue those with no live job. They take the window's room like anyone else (the rest
 * wait for the next round), and under the relay's own lock: the window is filled by one hand at a
 * time, and the jobs seen as live are the ones there when we add ours (not a snapshot the relay
 * has moved past since).
 */
async function requeueLostEmail(d: ReconcileDeps, candidates: NoticeRef[]): Promise<number> {
  if (!candidates.length) return 0;
  return withTransaction(d.db, async (tx) => {
    await lockForTransaction(tx, [LOCK.topUp]);
    const live = await liveEmailNotices(d.redis, d.queues.email);
    const room = d.window ? d.window - (await queueDepth(d.redis, d.queues, d.chunkSize ?? 1)) : Infinity;
    const lost = candidates.filter((n) => !live.has(n.id)).slice(0, Math.max(0, room));
    await enqueueEmailLater(d.queues, lost.map((n) => ({ noticeId: n.id, campaignId: n.campaign_id, delayMs: 0 })));
    return lost.length;
  });
}

/** Cancelled campaigns: whoever is still waiting (or stuck sending past the lease) is cancelled. */
async function sweepCancelled(d: ReconcileDeps, campaignId?: number): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = await waitingInCancelled(d.db, { campaignId, states: CANCELLABLE, leaseMs: d.leaseMs, limit: d.pageSize, now: now(d) });
    if (!ids.length) return total;
    const moved = await cancelPeople(d.db, ids, [...CANCELLABLE, 'sending'], { also: 'unclaim' });
    total += moved.length;
    if (!moved.length) return total;
  }
}

/** Reconcile unless another process is doing it right now (one reconciler across all machines). */
export function reconcileExclusive(d: ReconcileDeps): Promise<ReconcileResult | null> {
  return withTryLock(d.db, [LOCK.reconcile], () => reconcile(d));
}

/**
 * Delayed is not notified: a person whose email the receiving server delayed, with no final
 * answer (delivered or failed) within the confirmation deadline, gets a letter, the reason in
 * their ledger. A delivery or failure that comes later is evidence only: the letter is not
 * taken back and no second one is made (event-rules.ts).
 */
export async function lettersForUnconfirmed(d: ReconcileDeps, campaignId?: number): Promise<number> {
  if (!d.confirmDeadlineMs) return 0;
  const handOff = makeHandOff((refs) => enqueuePostal(d.queues, refs));
  let total = 0;
  for (;;) {
    const ids = await delayedPastDeadline(d.db, { defaultMs: d.confirmDeadlineMs, now: now(d), limit: d.pageSize, campaignId });
    if (!ids.length) return total;
    const moved = await handOff.now(d.db, { ids, from: ['delayed'], reason: 'email_unconfirmed', detail: { deadline_ms_default: d.confirmDeadlineMs } });
    total += moved.length;
    if (!moved.length) return total;
  }
}
