// A campaign's public announcements (the substitute notice). Who they cover is written in each
// person's ledger by the notice store (noteCoverage).
import type { Queryable } from './pool.ts';

export interface AnnouncementRow {
  id: number;
  campaign_id: number;
  published_at: Date;
  actor: string;
  sha256: string;
  content: { locales: Record<string, string>; title: string };
}

/** takes: campaign, actor, the content and its sha256; returns the new publication. */
export async function insertAnnouncement(tx: Queryable, campaignId: number, actor: string, sha256: string, content: AnnouncementRow['content'], now: Date): Promise<AnnouncementRow> {
  const { rows } = await tx.query(
    `insert into announcements (campaign_id, actor, sha256, content, published_at) values ($1, $2, $3, $4, $5) returning id::int, campaign_id::int, published_at, actor, sha256, content`,
    [campaignId, actor, sha256, JSON.stringify(content), now],
  );
  return rows[0];
}

/** takes: campaign; returns its newest publication, or null when none was made. */
export async function latestAnnouncement(db: Queryable, campaignId: number): Promise<AnnouncementRow | null> {
  const { rows } = await db.query(`select id::int, campaign_id::int, published_at, actor, sha256, content from announcements where campaign_id = $1 order by id desc limit 1`, [campaignId]);
  return rows[0] ?? null;
}
