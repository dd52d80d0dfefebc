// What a vendor may do with its own batches: ack (printed), mailed, returns. Every change is in
// the ledgers (batch_events for the batch, notice_events per person).
import type { Db } from '../../db/pool.ts';
import { withTransaction } from '../../db/pool.ts';
import { noteCoverage, setMailedAt, transition } from '../../db/notice-store.ts';
import { latestAnnouncement } from '../../db/announcement-store.ts';
import { batchEvent, batchNoticeIds, lockReturnedLetter, markMailed, markPrinted, setTrackingNumber, vendorBatch, vendorBatches, vendorLetterId, type BatchRow, type LetterRef } from './batch-store.ts';
import { getNotice, noteEvent } from '../../db/notice-store.ts';
import { isCalendarDate } from '../../domain/deadline.ts';
import type { NoticeRef } from '../../dispatch/enqueue.ts';
import { PermanentError, type PermanentCode } from '../../domain/errors.ts';
import { makeHandOff } from '../../dispatch/hand-off.ts';

export class VendorError extends PermanentError {
  constructor(code: PermanentCode, message: string) {
    super(code, message);
  }
}

/** The vendor's own batch, or 404: a vendor cannot even learn that another's batch exists. */
export async function ownBatch(db: Db, vendorId: number, batchId: number): Promise<BatchRow> {
  const batch = await vendorBatch(db, vendorId, batchId);
  if (!batch) throw new VendorError('not_found', 'no such batch');
  return batch;
}

export function listBatches(db: Db, vendorId: number, status?: string) {
  return vendorBatches(db, vendorId, status);
}

export async function ack(db: Db, vendorId: number, batchId: number, now: Date = new Date()): Promise<{ printed: number }> {
  const batch = await ownBatch(db, vendorId, batchId);
  if (batch.status !== 'ready') return { printed: 0 }; // acked before: nothing changes
  return withTransaction(db, async (tx) => {
    if (!(await markPrinted(tx, batchId, now))) return { printed: 0 };
    const moved = await transition(tx, { ids: await batchNoticeIds(tx, batchId), from: ['batched'], to: 'printed', channel: 'postal', detail: { batch_id: batchId, vendor_id: vendorId } });
    await batchEvent(tx, batchId, vendorId, 'ack', { printed: moved.length });
    return { printed: moved.length };
  });
}

const DAY_MS = 86_400_000;
const utcDay = (t: Date | number) => new Date(t).toISOString().slice(0, 10);

export async function mailed(db: Db, vendorId: number, batchId: number, mailedAt: string, now: Date = new Date()): Promise<{ mailed: number }> {
  if (!isCalendarDate(mailedAt)) throw new VendorError('invalid', `mailed_at must be a calendar date, YYYY-MM-DD ("${mailedAt.slice(0, 40)}" is not one)`);
  // A day of clock skew (time zones: a vendor in Japan is a day ahead of UTC for nine hours).
  const latest = utcDay(now.getTime() + DAY_MS);
  if (mailedAt > latest) throw new VendorError('invalid', `mailed_at ${mailedAt} is in the future (the latest day accepted now is ${latest})`);
  const batch = await ownBatch(db, vendorId, batchId);
  if (batch.status === 'ready') throw new VendorError('conflict', 'acknowledge the batch (printed) before reporting it mailed');
  if (batch.status === 'mailed') return { mailed: 0 };
  if (batch.printed_at && mailedAt < utcDay(batch.printed_at)) throw new VendorError('invalid', `mailed_at ${mailedAt} is before the batch was printed (${utcDay(batch.printed_at)})`);
  return withTransaction(db, async (tx) => {
    // Guarded: of two reports at once, one moves the batch and its letters, the other nothing.
    if (!(await markMailed(tx, batchId, mailedAt))) return { mailed: 0 };
    const ids = await batchNoticeIds(tx, batchId);
    const moved = await transition(tx, { ids, from: ['printed'], to: 'mailed', channel: 'postal', detail: { batch_id: batchId, mailed_at: mailedAt }, also: 'mailed' });
    await setMailedAt(tx, ids, mailedAt);
    await batchEvent(tx, batchId, vendorId, 'mailed', { mailed_at: mailedAt, mailed: moved.length });
    return { mailed: moved.length };
  });
}

export interface ReturnResult {
  /** Null when the reference named no letter of this vendor's. */
  notice_id: number | null;
  outcome: 'remail' | 'unreachable' | 'not_found' | 'not_mailed';
  /** The reference as the vendor gave it. */
  ref: LetterRef;
}

/**
 * Letters that came back. A person whose address ops corrected after it was mailed gets one
 * more letter; everyone else is unreachable (a public announcement has to reach them).
 */
export async function returns(db: Db, vendorId: number, items: Array<LetterRef & { reason: string }>, enqueuePostal: (n: NoticeRef[]) => Promise<void>): Promise<ReturnResult[]> {
  const out: ReturnResult[] = [];
  for (const item of items) {
    const ref = refOf(item);
    // One person, one transaction: returned and what follows it (re-mail or unreachable) commit
    // together, so nobody is left in `returned`.
    const r = await makeHandOff(enqueuePostal).inTransaction(db, async (tx, toPost) => {
      const id = await vendorLetterId(tx, vendorId, ref);
      const n = id === null ? null : await lockReturnedLetter(tx, id, vendorId);
      if (!n) return { notice_id: id, outcome: 'not_found' as const };
      const returned = await transition(tx, { ids: [n.id], from: ['mailed'], to: 'returned', channel: 'postal', detail: { reason: item.reason, vendor_id: vendorId }, set: { return_reason: item.reason.slice(0, 500) } });
      if (!returned.length) return { notice_id: n.id, outcome: 'not_mailed' as const };
      // Corrected after the letter was printed: the returned letter carried the old address.
      const corrected = n.address_corrected_at && n.printed_at && new Date(n.address_corrected_at) > new Date(n.printed_at);
      if (corrected && n.mailings < 2) {
        await toPost({ ids: [n.id], from: ['returned'], reason: 'remail_corrected_address' });
        return { notice_id: n.id, outcome: 'remail' as const };
      }
      await transition(tx, { ids: [n.id], from: ['returned'], to: 'unreachable', channel: 'postal', detail: { reason: 'returned', return_reason: item.reason } });
      // Published already: the announcement covers them from now on (their ledger says so).
      const announcement = await latestAnnouncement(tx, n.campaign_id);
      if (announcement) await noteCoverage(tx, n.campaign_id, announcement.id, [n.id]);
      return { notice_id: n.id, outcome: 'unreachable' as const };
    });
    out.push({ notice_id: r.notice_id, outcome: r.outcome, ref });
  }
  return out;
}

/** The reference alone (the vendor's item carries a reason or a number besides). */
const refOf = (x: LetterRef): LetterRef => ('notice_id' in x ? { notice_id: x.notice_id } : 'notice_code' in x ? { notice_code: x.notice_code } : { batch_id: x.batch_id, seq: x.seq });

export interface TrackingResult {
  notice_id: number | null;
  outcome: 'recorded' | 'not_found';
  ref: LetterRef;
}

/**
 * 特定記録: the tracking number of each letter of a batch, as the vendor reports it (by notice id,
 * notice code or sequence number). Recorded on the letter and in the person's ledger (their
 * evidence shows it). Reporting the same number again changes nothing.
 */
export async function tracking(db: Db, vendorId: number, batchId: number, items: Array<({ seq: number } | { notice_id: number } | { notice_code: string }) & { tracking_number: string }>): Promise<TrackingResult[]> {
  await ownBatch(db, vendorId, batchId);
  const out: TrackingResult[] = [];
  for (const item of items) {
    const ref: LetterRef = 'seq' in item ? { batch_id: batchId, seq: item.seq } : refOf(item);
    const r = await withTransaction(db, async (tx) => {
      const id = await vendorLetterId(tx, vendorId, ref);
      if (id === null || !(await setTrackingNumber(tx, batchId, id, item.tracking_number))) return { notice_id: id, outcome: 'not_found' as const };
      const n = await getNotice(tx, id);
      if (n) await noteEvent(tx, n, 'postal', { note: 'tracking_number', batch_id: batchId, tracking_number: item.tracking_number, letter_class: '特定記録', vendor_id: vendorId });
      return { notice_id: id, outcome: 'recorded' as const };
    });
    out.push({ ...r, ref });
  }
  return out;
}
