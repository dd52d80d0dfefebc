// The postal worker's decision: a person in postal_queued gets their address checked, then joins
// the open batch of their campaign's vendor, or waits in address_invalid for ops to fix it. A
// cancelled campaign sends no new letters: its people are cancelled here instead.
import { cancelPeople } from '../../dispatch/cancel-people.ts';
import { campaignStateOf, getCampaign } from '../../db/campaign-store.ts';
import type { Db } from '../../db/pool.ts';
import { withTransaction } from '../../db/pool.ts';
import { getNotice, transition } from '../../db/notice-store.ts';
import { validateAddress } from '../../domain/address.ts';
import { addToBatch, lockOpenBatch } from './batch-store.ts';

export type PostalOutcome =
  | { kind: 'batched'; batchId: number; full: boolean }
  | { kind: 'address_invalid'; reasons: string[] }
  | { kind: 'no_vendor' }
  | { kind: 'cancelled' }
  | { kind: 'skipped'; reason: string };

const cancelled = async (db: Pick<Db, 'query'>, id: number): Promise<PostalOutcome> => {
  const moved = await cancelPeople(db, [id], ['postal_queued']);
  return moved.length ? { kind: 'cancelled' } : { kind: 'skipped', reason: 'changed meanwhile' };
};

export async function routePostal(db: Db, noticeId: number, maxBatchSize: number): Promise<PostalOutcome> {
  const n = await getNotice(db, noticeId);
  if (!n) return { kind: 'skipped', reason: 'no such notice' };
  if (n.state !== 'postal_queued') return { kind: 'skipped', reason: `already ${n.state}` };
  const campaign = await getCampaign(db, n.campaign_id);
  if (campaign?.state === 'cancelled') return cancelled(db, n.id);
  const checked = validateAddress(n);
  if (!checked.ok) {
    const moved = await transition(db, { ids: [n.id], from: ['postal_queued'], to: 'address_invalid', detail: { reasons: checked.reasons }, set: { address_error: checked.reasons.join('; ') } });
    return moved.length ? { kind: 'address_invalid', reasons: checked.reasons } : { kind: 'skipped', reason: 'changed meanwhile' };
  }
  const vendorId = campaign?.vendor_id ?? null;
  if (!vendorId) return { kind: 'no_vendor' };
  return withTransaction(db, async (tx) => {
    const batch = await lockOpenBatch(tx, n.campaign_id, vendorId);
    // Read again under the batch lock: a cancel empties the open batch holding the same lock, so
    // a letter is either taken out by it or never put in.
    if ((await campaignStateOf(tx, n.campaign_id)) === 'cancelled') return cancelled(tx, n.id);
    const moved = await transition(tx, { ids: [n.id], from: ['postal_queued'], to: 'batched', channel: 'postal', detail: { batch_id: batch.id }, set: { batch_id: batch.id, address_error: null } });
    if (!moved.length) return { kind: 'skipped', reason: 'changed meanwhile' } as const;
    const mailing = (moved[0] as (typeof moved)[0] & { mailings: number }).mailings + 1;
    const size = await addToBatch(tx, batch.id, n.id, mailing);
    return { kind: 'batched', batchId: batch.id, full: size >= maxBatchSize } as const;
  });
}
