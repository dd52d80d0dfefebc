// What a vendor may do with its own batches: ack (printed), mailed, returns. Every change is in
// the ledgers (batch_events for the batch, notice_events per person).
import type { Db } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { transition } from '../db/notice-store.ts';
import { batchEvent, type BatchRow } from './batch-store.ts';
import { isCalendarDate } from '../domain/deadline.ts';
import type { NoticeRef } from '../producer/enqueue.ts';
import { StatusError } from '../errors.ts';
import { makeHandOff } from '../dispatch/hand-off.ts';

export class VendorError extends StatusError {
  constructor(statusCode: number, message: string) {
    super(statusCode, message, 'VendorError');
  }
}

/** The vendor's own batch, or 404: a vendor cannot even learn that another's batch exists. */
export async function ownBatch(db: Db, vendorId: number, batchId: number): Promise<BatchRow> {
  const { rows } = await db.query(`select * from batches where id = $1 and vendor_id = $2 and status in ('ready', 'printed', 'mailed')`, [batchId, vendorId]);
  if (!rows[0]) throw new VendorError(404, 'no such batch');
  return rows[0] as BatchRow;
}

export async function listBatches(db: Db, vendorId: number, status?: string) {
  const { rows } = await db.query(
    `select id, campaign_id, status, size, exceptions, closed_at, printed_at, mailed_at from batches
     where vendor_id = $1 and status in ('ready', 'printed', 'mailed') and ($2::text is null or status = $2) order by id`,
    [vendorId, status ?? null],
  );
  return rows;
}

async function noticeIds(db: Pick<Db, 'query'>, batchId: number): Promise<number[]> {
  const { rows } = await db.query('select notice_id from batch_items where batch_id = $1 order by seq', [batchId]);
  return rows.map((r) => r.notice_id as number);
}

export async function ack(db: Db, vendorId: number, batchId: number): Promise<{ printed: number }> {
  const batch = await ownBatch(db, vendorId, batchId);
  if (batch.status !== 'ready') return { printed: 0 }; // acked before: nothing changes
  return withTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(`update batches set status = 'printed', printed_at = now() where id = $1 and status = 'ready'`, [batchId]);
    if (!rowCount) return { printed: 0 };
    const moved = await transition(tx, { ids: await noticeIds(tx, batchId), from: ['batched'], to: 'printed', channel: 'postal', detail: { batch_id: batchId, vendor_id: vendorId } });
    await batchEvent(tx, batchId, vendorId, 'ack', { printed: moved.length });
    return { printed: moved.length };
  });
}

const DAY_MS = 86_400_000;
const utcDay = (t: Date | number) => new Date(t).toISOString().slice(0, 10);

export async function mailed(db: Db, vendorId: number, batchId: number, mailedAt: string, now: Date = new Date()): Promise<{ mailed: number }> {
  if (!isCalendarDate(mailedAt)) throw new VendorError(400, `mailed_at must be a calendar date, YYYY-MM-DD ("${mailedAt.slice(0, 40)}" is not one)`);
  // A day of clock skew (time zones: a vendor in Japan is a day ahead of UTC for nine hours).
  const latest = utcDay(now.getTime() + DAY_MS);
  if (mailedAt > latest) throw new VendorError(400, `mailed_at ${mailedAt} is in the future (the latest day accepted now is ${latest})`);
  const batch = await ownBatch(db, vendorId, batchId);
  if (batch.status === 'ready') throw new VendorError(409, 'acknowledge the batch (printed) before reporting it mailed');
  if (batch.status === 'mailed') return { mailed: 0 };
  if (batch.printed_at && mailedAt < utcDay(batch.printed_at)) throw new VendorError(400, `mailed_at ${mailedAt} is before the batch was printed (${utcDay(batch.printed_at)})`);
  return withTransaction(db, async (tx) => {
    // Guarded: of two reports at once, one moves the batch and its letters, the other nothing.
    const { rowCount } = await tx.query(`update batches set status = 'mailed', mailed_at = $2 where id = $1 and status = 'printed'`, [batchId, mailedAt]);
    if (!rowCount) return { mailed: 0 };
    const ids = await noticeIds(tx, batchId);
    const moved = await transition(tx, { ids, from: ['printed'], to: 'mailed', channel: 'postal', detail: { batch_id: batchId, mailed_at: mailedAt }, also: 'mailed' });
    await tx.query('update notices set mailed_at = $2 where id = any($1::bigint[]) and state = $3', [ids, mailedAt, 'mailed']);
    await batchEvent(tx, batchId, vendorId, 'mailed', { mailed_at: mailedAt, mailed: moved.length });
    return { mailed: moved.length };
  });
}

export interface ReturnResult {
  notice_id: number;
  outcome: 'remail' | 'unreachable' | 'not_found' | 'not_mailed';
}

/**
 * Letters that came back. A person whose address ops corrected after it was mailed gets one
 * more letter; everyone else is unreachable (a public announcement has to reach them).
 */
export async function returns(db: Db, vendorId: number, items: Array<{ notice_id: number; reason: string }>, enqueuePostal: (n: NoticeRef[]) => Promise<void>): Promise<ReturnResult[]> {
  const out: ReturnResult[] = [];
  for (const item of items) {
    // One person, one transaction: returned and what follows it (re-mail or unreachable) commit
    // together, so nobody is left in `returned`.
    const r = await makeHandOff(enqueuePostal).inTransaction(db, async (tx, toPost) => {
      const { rows } = await tx.query(
        `select n.id, n.campaign_id, n.state, n.mailings, n.address_corrected_at, b.printed_at from notices n
         join batches b on b.id = n.batch_id and b.vendor_id = $2 where n.id = $1 for update of n`,
        [item.notice_id, vendorId],
      );
      const n = rows[0];
      if (!n) return { notice_id: item.notice_id, outcome: 'not_found' as const };
      const returned = await transition(tx, { ids: [n.id], from: ['mailed'], to: 'returned', channel: 'postal', detail: { reason: item.reason, vendor_id: vendorId }, set: { return_reason: item.reason.slice(0, 500) } });
      if (!returned.length) return { notice_id: n.id, outcome: 'not_mailed' as const };
      // Corrected after the letter was printed: the returned letter carried the old address.
      const corrected = n.address_corrected_at && n.printed_at && new Date(n.address_corrected_at) > new Date(n.printed_at);
      if (corrected && n.mailings < 2) {
        await toPost({ ids: [n.id], from: ['returned'], reason: 'remail_corrected_address' });
        return { notice_id: n.id, outcome: 'remail' as const };
      }
      await transition(tx, { ids: [n.id], from: ['returned'], to: 'unreachable', channel: 'postal', detail: { reason: 'returned', return_reason: item.reason } });
      return { notice_id: n.id, outcome: 'unreachable' as const };
    });
    out.push({ notice_id: r.notice_id, outcome: r.outcome });
  }
  return out;
}
