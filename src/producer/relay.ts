// The outbox relay. Pages through a campaign's pending notices by id (keyset), marks each page
// queued (or postal_queued for people email cannot reach) in one transaction, then enqueues it.
// A crash between the commit and the enqueue leaves notices queued with no job: the reconciler
// finds them. Run twice, it enqueues nobody twice: pending rows are taken only once, and job ids
// are deterministic.
import type { Db } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { getCampaign } from '../db/campaign-store.ts';
import { transition } from '../db/notice-store.ts';
import type { Queues } from '../../queues/queues.ts';
import { enqueueEmail, enqueuePostal, type NoticeRef } from './enqueue.ts';

export interface RelayProgress {
  queued: number;
  postal: number;
  requeued: number;
}

export interface RelayDeps {
  db: Db;
  queues: Queues;
  pageSize: number;
}

/** pending → queued / postal_queued, page by page, while the campaign runs. */
export async function relayPending(d: RelayDeps, campaignId: number, onPage?: (p: RelayProgress) => void): Promise<RelayProgress> {
  const progress: RelayProgress = { queued: 0, postal: 0, requeued: 0 };
  let cursor = 0;
  for (;;) {
    const campaign = await getCampaign(d.db, campaignId);
    if (campaign?.state !== 'running') break;
    const page = await withTransaction(d.db, async (tx) => {
      const { rows } = await tx.query(
        `select n.id, n.email_normalized is not null and s.email_normalized is null as emailable,
                case when n.email_normalized is null then 'no_email' else 'suppressed' end as reason
         from notices n left join suppressions s on s.email_normalized = n.email_normalized
         where n.campaign_id = $1 and n.state = 'pending' and n.id > $2
         order by n.id limit $3`,
        [campaignId, cursor, d.pageSize],
      );
      if (!rows.length) return null;
      const email = await transition(tx, { ids: rows.filter((r) => r.emailable).map((r) => r.id), from: ['pending'], to: 'queued', channel: 'email' });
      const postal: NoticeRef[] = [];
      for (const reason of ['no_email', 'suppressed']) {
        const ids = rows.filter((r) => !r.emailable && r.reason === reason).map((r) => r.id);
        postal.push(...(await transition(tx, { ids, from: ['pending'], to: 'postal_queued', channel: 'postal', detail: { reason } })));
      }
      return { last: rows[rows.length - 1].id as number, email, postal };
    });
    if (!page) break;
    await enqueueEmail(d.queues, page.email);
    await enqueuePostal(d.queues, page.postal);
    cursor = page.last;
    progress.queued += page.email.length;
    progress.postal += page.postal.length;
    onPage?.(progress);
  }
  return progress;
}
