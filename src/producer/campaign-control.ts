// Steering a campaign: launch, pause, resume, cancel. State lives in Postgres; workers read it on
// every claim, so a pause stops new sends within one job.
import { withTransaction, type Db } from '../db/pool.ts';
import { getCampaign, setCampaignState } from '../db/campaign-store.ts';
import { transition } from '../db/notice-store.ts';
import { CANCELLABLE } from '../domain/notice-state.ts';
import { relayPending, requeueQueued, type RelayDeps, type RelayProgress } from './relay.ts';

export class CampaignStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CampaignStateError';
  }
}

async function mustGet(db: Db, id: number) {
  const c = await getCampaign(db, id);
  if (!c) throw new CampaignStateError(`campaign ${id} does not exist`);
  return c;
}

/** draft → running, then relay. Launching a running campaign again only relays what is pending. */
export async function launch(d: RelayDeps, id: number, onPage?: (p: RelayProgress) => void): Promise<RelayProgress> {
  const c = await mustGet(d.db, id);
  if (c.state === 'paused') throw new CampaignStateError(`campaign ${id} is paused (${c.pause_reason ?? 'no reason'}); use resume`);
  if (c.state === 'cancelled') throw new CampaignStateError(`campaign ${id} is cancelled`);
  await setCampaignState(d.db, id, ['draft'], 'running');
  const progress = await relayPending(d, id, onPage);
  return requeueQueued(d, id, onPage, progress);
}

export async function pause(db: Db, id: number, reason = 'paused by operator'): Promise<void> {
  const c = await mustGet(db, id);
  if (c.state === 'paused') return;
  if (!(await setCampaignState(db, id, ['running', 'draft'], 'paused', reason))) {
    throw new CampaignStateError(`campaign ${id} is ${c.state}; only a running campaign can be paused`);
  }
}

/** paused → running; relays anything pending and re-enqueues everyone left queued. */
export async function resume(d: RelayDeps, id: number, onPage?: (p: RelayProgress) => void): Promise<RelayProgress> {
  const c = await mustGet(d.db, id);
  if (c.state !== 'paused' && c.state !== 'running') throw new CampaignStateError(`campaign ${id} is ${c.state}; only a paused campaign can be resumed`);
  await setCampaignState(d.db, id, ['paused'], 'running');
  const progress = await relayPending(d, id, onPage);
  return requeueQueued(d, id, onPage, progress);
}

/**
 * Stops the campaign and cancels everyone not yet told; sends already in flight finish. Letters
 * still in an open print batch are taken out of it; a closed batch is the vendor's already.
 */
export async function cancel(db: Db, id: number, pageSize = 5000): Promise<number> {
  const c = await mustGet(db, id);
  if (c.state !== 'cancelled') await setCampaignState(db, id, ['draft', 'running', 'paused'], 'cancelled', 'cancelled by operator');
  let total = 0;
  for (;;) {
    const { rows } = await db.query(`select id from notices where campaign_id = $1 and state = any($2::text[]) limit $3`, [id, CANCELLABLE, pageSize]);
    if (!rows.length) break;
    total += (await transition(db, { ids: rows.map((r) => r.id), from: CANCELLABLE, to: 'cancelled', detail: { reason: 'campaign cancelled' } })).length;
  }
  return total + (await withTransaction(db, async (tx) => {
    const { rows: open } = await tx.query(`select id from batches where campaign_id = $1 and status = 'open' order by id for update`, [id]);
    let removed = 0;
    for (const b of open) {
      const { rows } = await tx.query(`delete from batch_items where batch_id = $1 returning notice_id`, [b.id]);
      const moved = await transition(tx, { ids: rows.map((r) => r.notice_id), from: ['batched'], to: 'cancelled', detail: { reason: 'campaign cancelled', batch_id: b.id } });
      await tx.query(`update batches set size = 0 where id = $1`, [b.id]);
      removed += moved.length;
    }
    return removed;
  }));
}
