// Print batches: one open batch per campaign and vendor collects letters until it closes.
import type { Queryable } from '../db/notice-store.ts';

export interface BatchRow {
  id: number;
  campaign_id: number;
  vendor_id: number;
  status: 'open' | 'closing' | 'ready' | 'printed' | 'mailed';
  size: number;
  exceptions: number;
  created_at: Date;
  closed_at: Date | null;
  printed_at: Date | null;
  mailed_at: string | null;
  manifest: Record<string, unknown> | null;
}

/** The open batch for (campaign, vendor), created if there is none; locked for this transaction. */
export async function lockOpenBatch(tx: Queryable, campaignId: number, vendorId: number): Promise<BatchRow> {
  const find = `select * from batches where campaign_id = $1 and vendor_id = $2 and status = 'open' for update`;
  for (;;) {
    const { rows } = await tx.query(find, [campaignId, vendorId]);
    if (rows[0]) return rows[0] as BatchRow;
    // None open: make one. (Inserting only when needed keeps batch ids consecutive: a conflicting
    // insert would use up an id each time.) A concurrent worker may win the insert: read again.
    await tx.query(
      `insert into batches (campaign_id, vendor_id) values ($1, $2) on conflict (campaign_id, vendor_id) where status = 'open' do nothing`,
      [campaignId, vendorId],
    );
  }
}

export async function getBatch(db: Queryable, id: number): Promise<BatchRow | null> {
  const { rows } = await db.query('select * from batches where id = $1', [id]);
  return (rows[0] as BatchRow) ?? null;
}

export async function batchEvent(db: Queryable, batchId: number, vendorId: number | null, action: string, detail: Record<string, unknown> = {}): Promise<void> {
  await db.query('insert into batch_events (batch_id, vendor_id, action, detail) values ($1, $2, $3, $4)', [batchId, vendorId, action, JSON.stringify(detail)]);
}

/**
 * Batches to close: open ones that are full or old enough, and ones left half-closed for ten
 * minutes (their print job was lost with Redis, or the worker died while rendering).
 */
export async function batchesDue(db: Queryable, maxSize: number, maxAgeMs: number): Promise<number[]> {
  const { rows } = await db.query(
    `select id from batches
     where (status = 'open' and size > 0 and (size >= $1 or created_at < now() - make_interval(secs => $2::double precision / 1000)))
        or (status = 'closing' and closed_at < now() - interval '10 minutes')
     order by id`,
    [maxSize, maxAgeMs],
  );
  return rows.map((r) => r.id as number);
}

/** open → closing, so new letters go to a fresh batch. Returns false if it was not open. */
export async function startClosing(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(`update batches set status = 'closing', closed_at = now() where id = $1 and status = 'open' and size > 0`, [id]);
  return (rowCount ?? 0) > 0;
}
