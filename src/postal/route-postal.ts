// The postal worker's decision: a person in postal_queued gets their address checked, then joins
// the open batch of their campaign's vendor, or waits in address_invalid for ops to fix it. A
// cancelled campaign sends no new letters: its people are cancelled here instead.
import type { Db } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { getNotice, transition } from '../db/notice-store.ts';
import { validateAddress } from '../domain/address.ts';
import { lockOpenBatch } from './batch-store.ts';

export type PostalOutcome =
  | { kind: 'batched'; batchId: number; full: boolean }
  | { kind: 'address_invalid'; reasons: string[] }
  | { kind: 'no_vendor' }
  | { kind: 'cancelled' }
  | { kind: 'skipped'; reason: string };

const cancelled = async (db: Pick<Db, 'query'>, id: number): Promise<PostalOutcome> => {
  const moved = await transition(db, { ids: [id], from: ['postal_queued'], to: 'cancelled', detail: { reason: 'campaign cancelled' } });
  return moved.length ? { kind: 'cancelled' } : { kind: 'skipped', reason: 'changed meanwhile' };
};

export async function routePostal(db: Db, noticeId: number, maxBatchSize: number): Promise<PostalOutcome> {
  const n = await getNotice(db, noticeId);
  if (!n) return { kind: 'skipped', reason: 'no such notice' };
  if (n.state !== 'postal_queued') return { kind: 'skipped', reason: `already ${n.state}` };
  const { rows } = await db.query('select state, vendor_id from campaigns where id = $1', [n.campaign_id]);
  if (rows[0]?.state === 'cancelled') return cancelled(db, n.id);
  const checked = validateAddress(n);
  if (!checked.ok) {
    const moved = await transition(db, { ids: [n.id], from: ['postal_queued'], to: 'address_invalid', detail: { reasons: checked.reasons }, set: { address_error: checked.reasons.join('; ') } });
    return moved.length ? { kind: 'address_invalid', reasons: checked.reasons } : { kind: 'skipped', reason: 'changed meanwhile' };
  }
  const vendorId = rows[0]?.vendor_id as number | null;
  if (!vendorId) return { kind: 'no_vendor' };
  return withTransaction(db, async (tx) => {
    const batch = await lockOpenBatch(tx, n.campaign_id, vendorId);
    // Read again under the batch lock: a cancel empties the open batch holding the same lock, so
    // a letter is either taken out by it or never put in.
    const { rows: now } = await tx.query('select state from campaigns where id = $1', [n.campaign_id]);
    if (now[0]?.state === 'cancelled') return cancelled(tx, n.id);
    const moved = await transition(tx, { ids: [n.id], from: ['postal_queued'], to: 'batched', channel: 'postal', detail: { batch_id: batch.id }, set: { batch_id: batch.id, address_error: null } });
    if (!moved.length) return { kind: 'skipped', reason: 'changed meanwhile' } as const;
    const mailing = (moved[0] as (typeof moved)[0] & { mailings: number }).mailings + 1;
    await tx.query('insert into batch_items (batch_id, notice_id, mailing) values ($1, $2, $3)', [batch.id, n.id, mailing]);
    const { rows: b } = await tx.query('update batches set size = size + 1 where id = $1 returning size', [batch.id]);
    return { kind: 'batched', batchId: batch.id, full: b[0].size >= maxBatchSize } as const;
  });
}
