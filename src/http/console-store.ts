// The console's reads: the people who need a hand, paged (server side: a million-person campaign
// never sends a full list), and a campaign's batches.
import type { Queryable } from '../db/pool.ts';

export type AttentionKind = 'address_invalid' | 'needs_review' | 'returned' | 'unreachable';

export interface AttentionRow {
  notice_id: number;
  customer_id: string;
  notice_code: string;
  state: string;
  /** address_error, last_error or return_reason. */
  reason: string | null;
  postal_code: string | null;
  prefecture: string;
  city: string;
  address_line1: string;
  address_line2: string;
  name: string;
}

/** takes: campaign, kind, the last notice id seen, a page size; returns the next page, by id. */
export async function attentionPage(db: Queryable, campaignId: number, kind: AttentionKind, after: number, limit: number): Promise<AttentionRow[]> {
  const { rows } = await db.query(
    `select id::int as notice_id, customer_id, notice_code, state, coalesce(address_error, last_error, return_reason) as reason,
            postal_code, prefecture, city, address_line1, address_line2, name
     from notices where campaign_id = $1 and state = $2 and id > $3 order by id limit $4`,
    [campaignId, kind === 'unreachable' ? 'unreachable' : kind, after, limit],
  );
  return rows as AttentionRow[];
}

/** takes: a campaign; returns its batches, newest first, with what is in them. */
export async function campaignBatches(db: Queryable, campaignId: number): Promise<Array<{ id: number; status: string; size: number; exceptions: number; created_at: Date; closed_at: Date | null; printed_at: Date | null; mailed_at: string | null; vendor: string | null; files: Array<{ name: string; bytes: number }> }>> {
  const { rows } = await db.query(
    `select b.id::int, b.status, b.size, b.exceptions, b.created_at, b.closed_at, b.printed_at, b.mailed_at::text, v.name as vendor,
            coalesce((select jsonb_agg(jsonb_build_object('name', f->>'name', 'bytes', (f->>'bytes')::bigint)) from jsonb_array_elements(b.manifest->'files') f), '[]') as files
     from batches b left join vendors v on v.id = b.vendor_id where b.campaign_id = $1 order by b.id desc limit 200`,
    [campaignId],
  );
  return rows;
}
