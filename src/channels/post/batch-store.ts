// Print batches: one open batch per campaign and vendor collects letters until it closes.
import { parse } from 'csv-parse';
import pgCopy from 'pg-copy-streams';
import type { NoticeRow } from '../../db/notice-store.ts';
import type { Db, Queryable } from '../../db/pool.ts';

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
export async function batchesDue(db: Queryable, maxSize: number, maxAgeMs: number, now: Date = new Date()): Promise<number[]> {
  const { rows } = await db.query(
    `select id from batches
     where (status = 'open' and size > 0 and (size >= $1 or created_at < $3::timestamptz - make_interval(secs => $2::double precision / 1000)))
        or (status = 'closing' and closed_at < $3::timestamptz - interval '10 minutes')
     order by id`,
    [maxSize, maxAgeMs, now],
  );
  return rows.map((r) => r.id as number);
}

/** open → closing, so new letters go to a fresh batch. Returns false if it was not open. */
export async function startClosing(db: Queryable, id: number, now: Date = new Date()): Promise<boolean> {
  const { rowCount } = await db.query(`update batches set status = 'closing', closed_at = $2 where id = $1 and status = 'open' and size > 0`, [id, now]);
  return (rowCount ?? 0) > 0;
}

/** takes: campaign; returns its open, ready and printed batches with letters, per status (and ready ones never downloaded). */
export async function unfinishedBatches(db: Queryable, campaignId: number): Promise<Array<{ status: 'open' | 'ready' | 'printed'; batches: number; letters: number; undownloaded: number }>> {
  const { rows } = await db.query(
    `select status, count(*)::int as batches, coalesce(sum(size), 0)::int as letters,
            count(*) filter (where status = 'ready' and not exists (select 1 from batch_events e where e.batch_id = b.id and e.action = 'download'))::int as undownloaded
     from batches b where campaign_id = $1 and status in ('open', 'ready', 'printed') and size > 0 group by status`,
    [campaignId],
  );
  return rows;
}

/** takes: campaign (in a transaction); returns its open batches' ids, locked. */
export async function lockOpenBatchesOf(tx: Queryable, campaignId: number): Promise<number[]> {
  const { rows } = await tx.query(`select id from batches where campaign_id = $1 and status = 'open' order by id for update`, [campaignId]);
  return rows.map((r) => r.id as number);
}

/** Empties an open batch: its items removed, its size 0; returns the people who were in it. */
export async function emptyBatch(tx: Queryable, batchId: number): Promise<number[]> {
  const { rows } = await tx.query(`delete from batch_items where batch_id = $1 returning notice_id`, [batchId]);
  await tx.query(`update batches set size = 0 where id = $1`, [batchId]);
  return rows.map((r) => r.notice_id as number);
}

/** Puts a person's letter (their nth mailing) in a batch; returns the batch's size after. */
export async function addToBatch(tx: Queryable, batchId: number, noticeId: number, mailing: number): Promise<number> {
  await tx.query('insert into batch_items (batch_id, notice_id, mailing) values ($1, $2, $3)', [batchId, noticeId, mailing]);
  const { rows } = await tx.query('update batches set size = size + 1 where id = $1 returning size', [batchId]);
  return rows[0].size;
}

export type LetterRow = Pick<NoticeRow, 'id' | 'campaign_id' | 'customer_id' | 'notice_code' | 'name' | 'email' | 'postal_code' | 'prefecture' | 'city' | 'address_line1' | 'address_line2' | 'locale' | 'segment' | 'extra'> & { seq: number };

// The order Japan Post's sorting discount wants: by postal code, then a stable tie-break.
const LETTER_ORDER = 'order by n.postal_code, n.id';

/** Numbers a batch's letters 1..n in LETTER_ORDER (batch_items.seq). */
export async function numberLetters(tx: Queryable, batchId: number): Promise<void> {
  await tx.query(
    `update batch_items bi set seq = o.rn from (
       select bi2.notice_id, row_number() over (${LETTER_ORDER}) as rn
       from batch_items bi2 join notices n on n.id = bi2.notice_id where bi2.batch_id = $1
     ) o where bi.batch_id = $1 and bi.notice_id = o.notice_id`,
    [batchId],
  );
}

/**
 * takes: a batch; yields its letters in LETTER_ORDER with their seq, streamed (one COPY, so a
 * batch of 100,000 is read in one pass). It reads on a connection of its own: the closer's
 * transaction is writing the files and its numbering is not visible here before it commits, so
 * the same numbering is computed again.
 */
export async function* lettersInOrder(db: Db, batchId: number): AsyncGenerator<LetterRow> {
  const reader = await db.connect();
  try {
    const source = reader.query(pgCopy.to(`copy (
      select row_number() over (${LETTER_ORDER}) as seq, n.id, n.campaign_id, n.customer_id, n.notice_code, n.name, n.email, n.postal_code, n.prefecture, n.city,
             n.address_line1, n.address_line2, n.locale, n.segment, n.extra::text
      from batch_items bi join notices n on n.id = bi.notice_id where bi.batch_id = ${Number(batchId)} ${LETTER_ORDER}
    ) to stdout with (format csv)`));
    for await (const rec of source.pipe(parse({ relax_column_count: false })) as AsyncIterable<string[]>) {
      const [seq, id, campaignId, customerId, noticeCode, name, email, postalCode, prefecture, city, line1, line2, locale, segment, extra] = rec;
      yield {
        seq: Number(seq), id: Number(id), campaign_id: Number(campaignId), customer_id: customerId, notice_code: noticeCode, name, email: email || null,
        postal_code: postalCode || null, prefecture, city, address_line1: line1, address_line2: line2, locale, segment, extra: JSON.parse(extra || '{}'),
      };
    }
  } finally {
    reader.release();
  }
}

/** closing → ready, with its size, exceptions and manifest. */
export async function markReady(tx: Queryable, batchId: number, letters: number, exceptions: number, manifest: unknown): Promise<void> {
  await tx.query(`update batches set status = 'ready', size = $2, exceptions = $3, manifest = $4 where id = $1 and status = 'closing'`, [batchId, letters, exceptions, JSON.stringify(manifest)]);
}

/** takes: vendor, batch; returns the batch if it is this vendor's and released to it (ready, printed, mailed). */
export async function vendorBatch(db: Queryable, vendorId: number, batchId: number): Promise<BatchRow | null> {
  const { rows } = await db.query(`select * from batches where id = $1 and vendor_id = $2 and status in ('ready', 'printed', 'mailed')`, [batchId, vendorId]);
  return (rows[0] as BatchRow) ?? null;
}

/** takes: vendor, optionally a status; returns its released batches (no personal data). */
export async function vendorBatches(db: Queryable, vendorId: number, status?: string) {
  const { rows } = await db.query(
    `select id, campaign_id, status, size, exceptions, closed_at, printed_at, mailed_at from batches
     where vendor_id = $1 and status in ('ready', 'printed', 'mailed') and ($2::text is null or status = $2) order by id`,
    [vendorId, status ?? null],
  );
  return rows;
}

/** takes: batch; returns its people in letter order. */
export async function batchNoticeIds(db: Queryable, batchId: number): Promise<number[]> {
  const { rows } = await db.query('select notice_id from batch_items where batch_id = $1 order by seq', [batchId]);
  return rows.map((r) => r.notice_id as number);
}

/** ready → printed (at `at`); false if it was not ready (acked before, or by a second report at once). */
export async function markPrinted(tx: Queryable, batchId: number, at: Date): Promise<boolean> {
  const { rowCount } = await tx.query(`update batches set status = 'printed', printed_at = $2 where id = $1 and status = 'ready'`, [batchId, at]);
  return (rowCount ?? 0) > 0;
}

/** printed → mailed on the vendor's date; false if it was not printed. */
export async function markMailed(tx: Queryable, batchId: number, mailedAt: string): Promise<boolean> {
  const { rowCount } = await tx.query(`update batches set status = 'mailed', mailed_at = $2 where id = $1 and status = 'printed'`, [batchId, mailedAt]);
  return (rowCount ?? 0) > 0;
}

/** takes: a notice, a vendor (in a transaction); returns the person locked, with their batch's print time, if their letter was this vendor's. */
export async function lockReturnedLetter(tx: Queryable, noticeId: number, vendorId: number): Promise<{ id: number; campaign_id: number; state: string; mailings: number; address_corrected_at: Date | null; printed_at: Date | null } | null> {
  const { rows } = await tx.query(
    `select n.id, n.campaign_id, n.state, n.mailings, n.address_corrected_at, b.printed_at from notices n
     join batches b on b.id = n.batch_id and b.vendor_id = $2 where n.id = $1 for update of n`,
    [noticeId, vendorId],
  );
  return rows[0] ?? null;
}

/** takes: a campaign or null for all; returns the ids of batches with letters still open (or left closing by a crash). */
export async function batchesToClose(db: Queryable, campaignId: number | null): Promise<number[]> {
  const { rows } = await db.query(`select id from batches where status in ('open', 'closing') and size > 0 and ($1::bigint is null or campaign_id = $1) order by id`, [campaignId]);
  return rows.map((r) => r.id as number);
}

/** Each letter's sha256 (notice id → hash) on its batch item. */
export async function setLetterHashes(tx: Queryable, batchId: number, hashes: ReadonlyArray<[number, string]>): Promise<void> {
  if (!hashes.length) return;
  await tx.query(
    `update batch_items bi set letter_sha256 = v.h from unnest($2::bigint[], $3::text[]) as v(id, h) where bi.batch_id = $1 and bi.notice_id = v.id`,
    [batchId, hashes.map((h) => h[0]), hashes.map((h) => h[1])],
  );
}

/** How a vendor names a letter: our notice id, the notice code printed on it, or batch and sequence number (printed in its footer). */
export type LetterRef = { notice_id: number } | { notice_code: string } | { batch_id: number; seq: number };

/** takes: vendor, a letter's reference; returns its notice id, only among the vendor's own batches (else null). */
export async function vendorLetterId(tx: Queryable, vendorId: number, ref: LetterRef): Promise<number | null> {
  // By id or code: the person's current batch (the letter that went out last).
  const { rows } = 'notice_id' in ref
    ? await tx.query('select n.id::int as id from notices n join batches b on b.id = n.batch_id where n.id = $1 and b.vendor_id = $2', [ref.notice_id, vendorId])
    : 'notice_code' in ref
      ? await tx.query('select n.id::int as id from notices n join batches b on b.id = n.batch_id where n.notice_code = $1 and b.vendor_id = $2', [ref.notice_code, vendorId])
      : await tx.query('select bi.notice_id::int as id from batch_items bi join batches b on b.id = bi.batch_id where bi.batch_id = $1 and bi.seq = $2 and b.vendor_id = $3', [ref.batch_id, ref.seq, vendorId]);
  return rows[0]?.id ?? null;
}

/** takes: a batch, a notice in it, its tracking number (特定記録); returns whether the letter is in that batch. */
export async function setTrackingNumber(tx: Queryable, batchId: number, noticeId: number, tracking: string): Promise<boolean> {
  const { rowCount } = await tx.query('update batch_items set tracking_number = $3 where batch_id = $1 and notice_id = $2', [batchId, noticeId, tracking]);
  return (rowCount ?? 0) > 0;
}
