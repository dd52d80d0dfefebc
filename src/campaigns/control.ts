// Steering a campaign: launch, pause, resume, cancel. What each verb does in each state is the
// table in src/domain/campaign-state.ts; this file carries it out. State lives in Postgres;
// workers read it on every claim, so a pause stops new sends within one job.
import { cancelPeople } from '../dispatch/cancel-people.ts';
import { emptyBatch, lockOpenBatchesOf } from '../channels/post/batch-store.ts';
import { withTransaction, type Db } from '../db/pool.ts';
import { getCampaign, setCampaignState, type CampaignRow } from '../db/campaign-store.ts';
import { idsInStates } from '../db/notice-store.ts';
import { campaignStep, type CampaignState, type CampaignVerb } from '../domain/campaign-state.ts';
import { CANCELLABLE } from '../domain/notice-state.ts';
import { relayPending, rewindRelay, type RelayDeps, type RelayProgress } from '../dispatch/relay.ts';
import { reconcile, type ReconcileDeps } from '../dispatch/reconciler.ts';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Queues } from '../../queues/queues.ts';
import { makePacingGate } from '../dispatch/pacing-gate.ts';
import { acknowledgeReputation } from '../dispatch/reputation-store.ts';
import { makeMxCheck } from '../channels/email/mx-check.ts';
import { PermanentError } from '../domain/errors.ts';

/** not_found when the campaign does not exist, conflict when the verb does not apply to its state. */
export class CampaignStateError extends PermanentError {
  constructor(message: string, code: 'conflict' | 'not_found' = 'conflict') {
    super(code, message);
  }
}

export interface SteerResult {
  campaign: number;
  /** The state before and after. */
  from: CampaignState;
  state: CampaignState;
  changed: boolean;
  /** One line for the operator. */
  message: string;
}

async function mustGet(db: Db, id: number): Promise<CampaignRow> {
  const c = await getCampaign(db, id);
  if (!c) throw new CampaignStateError(`campaign ${id} does not exist`, 'not_found');
  return c;
}

/** Apply the table: move (conditionally, so a concurrent change is seen), or say why not. */
async function step(db: Db, id: number, verb: CampaignVerb, actor: string, reason: string | null): Promise<SteerResult> {
  for (;;) {
    const c = await mustGet(db, id);
    const s = campaignStep(c.state, verb);
    if (s.kind === 'refuse') {
      throw new CampaignStateError(`campaign ${id} ${s.why}${c.state === 'paused' && c.pause_reason ? ` (paused: ${c.pause_reason})` : ''}`);
    }
    if (s.kind === 'same') return { campaign: id, from: c.state, state: c.state, changed: false, message: `campaign ${id} ${s.say}` };
    if (await setCampaignState(db, id, [c.state], s.to, { actor, verb, reason })) {
      return { campaign: id, from: c.state, state: s.to, changed: true, message: `campaign ${id} ${s.to}` };
    }
    // Someone moved it between our read and our update: read again and answer for the new state.
  }
}

export interface Actor {
  /** `cli:<user>`, `operator:<name>`, `system:<what>`. */
  actor: string;
}

/**
 * draft → running, then relay everyone pending. On a running campaign it changes nothing but still
 * queues people imported since (the answer says "already running").
 */
export async function launch(d: RelayDeps, id: number, who: Actor = { actor: 'cli' }, onPage?: (p: RelayProgress) => void): Promise<SteerResult & { relay: RelayProgress }> {
  const r = await step(d.db, id, 'launch', who.actor, null);
  const relay = await relayPending(d, id, onPage);
  return { ...r, relay };
}

export async function pause(db: Db, id: number, who: Actor = { actor: 'cli' }, reason = 'paused by operator'): Promise<SteerResult> {
  return step(db, id, 'pause', who.actor, reason);
}

/**
 * paused → running; relays anything pending and puts back on the queue everyone whose job was
 * dropped while the campaign was paused (only those: a live job is not counted twice).
 */
export async function resume(d: RelayDeps & ReconcileDeps, id: number, who: Actor = { actor: 'cli' }, onPage?: (p: RelayProgress) => void): Promise<SteerResult & { relay: RelayProgress }> {
  // Resuming after the reputation brakes paused it acknowledges the figure (no pause again until it gets worse).
  await acknowledgeReputation(d.db, id);
  const r = await step(d.db, id, 'resume', who.actor, null);
  // Jobs that ran while paused ended without sending: the relay goes through the campaign again.
  if (r.changed) await rewindRelay(d.db, id);
  const relay = await relayPending(d, id, onPage);
  const back = await reconcile(d, id);
  relay.requeued += back.email + back.postal;
  return { ...r, relay };
}

/**
 * Stops the campaign and cancels everyone not yet told; sends already in flight finish. Letters
 * still in an open print batch are taken out of it; a closed batch is the vendor's already.
 * People whose send was in flight and comes back unsent are cancelled when it does (the email
 * and postal workers, and the reconciler's sweep, see the campaign is cancelled).
 */
export async function cancel(db: Db, id: number, who: Actor = { actor: 'cli' }, reason = 'cancelled by operator'): Promise<SteerResult & { cancelled: number }> {
  const r = await step(db, id, 'cancel', who.actor, reason);
  return { ...r, cancelled: await cancelLeftovers(db, id) };
}

/** Everyone of a cancelled campaign still waiting to be told is cancelled. Safe to repeat. */
export async function cancelLeftovers(db: Db, id: number, pageSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = await idsInStates(db, id, CANCELLABLE, pageSize);
    if (!ids.length) break;
    total += (await cancelPeople(db, ids, CANCELLABLE, { slim: true })).length;
  }
  return total + (await withTransaction(db, async (tx) => {
    let removed = 0;
    for (const batchId of await lockOpenBatchesOf(tx, id)) {
      const moved = await cancelPeople(tx, await emptyBatch(tx, batchId), ['batched'], { detail: { batch_id: batchId } });
      removed += moved.length;
    }
    return removed;
  }));
}

/** What launch and resume need, from the app. */
export function steeringDeps(app: { db: Db; queues: Queues; redis: Redis; config: Config; clock: { now(): Date } }): RelayDeps & ReconcileDeps {
  const c = app.config;
  const pacing = makePacingGate({ db: app.db, redis: app.redis, keyPrefix: c.QUEUE_PREFIX, now: () => app.clock.now(), recheckMs: c.PACING_RECHECK_MS, slowHourlyCap: c.REPUTATION_SLOW_HOURLY });
  const mxCheck = c.MX_CHECK === 'on' ? makeMxCheck({ servers: c.DNS_SERVERS, timeoutMs: c.MX_TIMEOUT_MS }) : undefined;
  return { db: app.db, queues: app.queues, redis: app.redis, clock: app.clock, mxCheck, confirmDeadlineMs: c.EMAIL_CONFIRM_DEADLINE_MS, brakes: { window: c.REPUTATION_WINDOW, warnHard: c.REPUTATION_WARN_HARD, pauseHard: c.REPUTATION_PAUSE_HARD, warnComplaint: c.REPUTATION_WARN_COMPLAINT, pauseComplaint: c.REPUTATION_PAUSE_COMPLAINT }, pageSize: c.RELAY_PAGE_SIZE, leaseMs: c.SEND_LEASE_MS, window: Math.max(c.RELAY_WINDOW, c.EMAIL_CHUNK_SIZE), chunkSize: c.EMAIL_CHUNK_SIZE, pacing };
}
