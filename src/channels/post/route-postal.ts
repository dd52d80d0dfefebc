// The postal worker's decision: a person in postal_queued gets their address checked against Japan
// Post's postal-code data (src/domain/address-verify.ts; what it fixes by itself is written back,
// each change in the person's ledger with before and after) and against the vendor's envelope
// window, then joins the open batch of their campaign's vendor, or waits in address_invalid with
// the reason and a suggestion for ops to fix it. A cancelled campaign sends no new letters: its
// people are cancelled here instead.
import { cancelPeople } from '../../dispatch/cancel-people.ts';
import { campaignStateOf, getCampaign } from '../../db/campaign-store.ts';
import type { Db } from '../../db/pool.ts';
import { withTransaction } from '../../db/pool.ts';
import { correctAddress, getNotice, noteEvent, transition } from '../../db/notice-store.ts';
import { verifyAddress, type PostalLookup } from '../../domain/address-verify.ts';
import type { PostalAddress } from '../../domain/address.ts';
import { addToBatch, lockOpenBatch } from './batch-store.ts';
import { letterBarcode } from './letter.ts';
import { postalDataVersion, postalLookup } from './postal-data.ts';
import { addressFits } from './pdf-letters.ts';
import { vendorWindow, type WindowMm } from './vendor-store.ts';
import { existsSync } from 'node:fs';

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

export interface RouteOptions {
  lookup?: PostalLookup;
  /** Whether the address block fits the vendor's envelope window: null, or why not. */
  fits?: (a: PostalAddress, barcode: boolean, vendorId: number | null) => Promise<string | null>;
}

export async function routePostal(db: Db, noticeId: number, maxBatchSize: number, o: RouteOptions = {}): Promise<PostalOutcome> {
  const n = await getNotice(db, noticeId);
  if (!n) return { kind: 'skipped', reason: 'no such notice' };
  if (n.state !== 'postal_queued') return { kind: 'skipped', reason: `already ${n.state}` };
  const campaign = await getCampaign(db, n.campaign_id);
  if (campaign?.state === 'cancelled') return cancelled(db, n.id);
  const checked = verifyAddress(n, o.lookup ?? postalLookup);
  const vendorId = campaign?.vendor_id ?? null;
  const tooBig = checked.ok && o.fits ? await o.fits(checked.address, !!letterBarcode(checked.address), vendorId) : null;
  if (!checked.ok || tooBig) {
    const reasons = checked.ok ? [tooBig!] : checked.reasons;
    const suggestion = checked.ok ? null : checked.suggestion;
    const error = `${reasons.join('; ')}${suggestion ? ` (suggestion: ${suggestion})` : ''}`;
    const moved = await transition(db, { ids: [n.id], from: ['postal_queued'], to: 'address_invalid', detail: { reasons, suggestion, postal_data: postalDataVersion().data_date }, set: { address_error: error } });
    return moved.length ? { kind: 'address_invalid', reasons } : { kind: 'skipped', reason: 'changed meanwhile' };
  }
  if (!vendorId) return { kind: 'no_vendor' };
  return withTransaction(db, async (tx) => {
    if (checked.fixes.length) {
      // What the postal-code data put right, written back (the letter prints it), each change in
      // the ledger. Only address fields: the name is never touched.
      const last = new Map(checked.fixes.map((f) => [f.field, f.after]));
      await correctAddress(tx, n.id, [...last]);
      await noteEvent(tx, n, 'postal', { note: 'address fixed automatically', fixes: checked.fixes, postal_data: postalDataVersion().data_date });
    }
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

/**
 * The envelope-window check for the postal worker: the vendor's window (cached a minute), the
 * letter's font. No font installed: no check here (the batch refuses to render without it anyway).
 */
export function windowFit(db: Db, fontPath: string): NonNullable<RouteOptions['fits']> {
  const windows = new Map<number | null, { at: number; w: WindowMm | null }>();
  return async (a, barcode, vendorId) => {
    if (!existsSync(fontPath)) return null;
    let w = windows.get(vendorId);
    if (!w || Date.now() - w.at > 60_000) {
      w = { at: Date.now(), w: await vendorWindow(db, vendorId) };
      windows.set(vendorId, w);
    }
    return addressFits(a, barcode, fontPath, w.w);
  };
}
