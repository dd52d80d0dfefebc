// The reads one person's evidence is assembled from: their row with its import, their ledger
// with its hashes, the bounces and deliveries reported for them, and their letters with the
// batch, its files and what the vendor reported.
import type { Queryable } from '../db/pool.ts';

/** takes: campaign and a customer id or notice code; returns that person's notice id, or null. */
export async function findNotice(db: Queryable, campaignId: number, who: { customerId?: string; code?: string; email?: string }): Promise<number[]> {
  const { rows } = who.customerId !== undefined
    ? await db.query('select id from notices where campaign_id = $1 and customer_id = $2', [campaignId, who.customerId])
    : who.code !== undefined
      ? await db.query('select id from notices where campaign_id = $1 and notice_code = $2', [campaignId, who.code.toUpperCase()])
      : await db.query('select id from notices where campaign_id = $1 and email_normalized = lower($2) order by id', [campaignId, who.email ?? '']);
  return rows.map((r) => r.id as number);
}

/** takes: a notice; returns the person with their campaign and the import run they came from. */
export async function personWithImport(db: Queryable, noticeId: number) {
  const { rows } = await db.query(
    `select n.id::int as notice_id, n.campaign_id::int, n.customer_id, n.notice_code, n.name, n.email, n.postal_code, n.prefecture, n.city,
            n.address_line1, n.address_line2, n.segment, n.locale, n.state, n.channel, n.attempts, n.message_id, n.provider_message_id,
            n.template_version, n.sent_at, n.mailed_at, n.return_reason, n.created_at as imported_at, n.import_line,
            r.id::int as import_run_id, r.file_name, r.file_sha256, r.actor as imported_by,
            c.name as campaign_name, c.template_version as campaign_template_version, c.discovered_on
     from notices n join campaigns c on c.id = n.campaign_id left join import_runs r on r.id = n.import_run_id where n.id = $1`,
    [noticeId],
  );
  return rows[0] ?? null;
}

/** takes: a notice; returns its ledger with each row's chain hashes, oldest first. */
export async function chainedLedger(db: Queryable, noticeId: number): Promise<Array<{ id: number; at: Date; from_state: string | null; to_state: string; channel: string | null; detail: Record<string, unknown>; prev_hash: string; hash: string }>> {
  const { rows } = await db.query(
    `select id::int, at, from_state, to_state, channel, detail, encode(prev_hash, 'hex') as prev_hash, encode(hash, 'hex') as hash from notice_events where notice_id = $1 order by id`,
    [noticeId],
  );
  return rows;
}

/** takes: a notice; returns every bounce, delay, delivery and complaint reported for it, in arrival order. */
export async function reportsFor(db: Queryable, noticeId: number) {
  const { rows } = await db.query(
    `select received_at, source, class, reason, action, status, diagnostic, reporting_mta, outcome, applied_at from bounce_events where notice_id = $1 order by id`,
    [noticeId],
  );
  return rows;
}

/** takes: a notice; returns each letter made for it: batch, mailing, seq, its sha256, the batch's files and vendor, and what the vendor reported. */
export async function lettersFor(db: Queryable, noticeId: number) {
  const { rows } = await db.query(
    `select bi.batch_id::int, bi.mailing, bi.seq, bi.letter_sha256, bi.tracking_number, (select c.letter_classes->>n.segment from notices n join campaigns c on c.id = n.campaign_id where n.id = bi.notice_id) as letter_class, b.status as batch_status, b.closed_at, b.printed_at, b.mailed_at, v.name as vendor,
            coalesce((select jsonb_agg(jsonb_build_object('name', f->>'name', 'sha256', f->>'sha256')) from jsonb_array_elements(b.manifest->'files') f), '[]') as files,
            (select jsonb_agg(jsonb_build_object('at', e.at, 'action', e.action) order by e.id) from batch_events e where e.batch_id = b.id) as batch_ledger
     from batch_items bi join batches b on b.id = bi.batch_id left join vendors v on v.id = b.vendor_id where bi.notice_id = $1 order by bi.mailing`,
    [noticeId],
  );
  return rows;
}

/** takes: campaign, after id, limit; returns the next page of its people's ids (the archive pages by id). */
export async function noticeIdsAfter(db: Queryable, campaignId: number, after: number, limit: number): Promise<number[]> {
  const { rows } = await db.query('select id from notices where campaign_id = $1 and id > $2 order by id limit $3', [campaignId, after, limit]);
  return rows.map((r) => r.id as number);
}
