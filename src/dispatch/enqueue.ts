// Putting notices on queues. Ids only; deterministic job ids so a repeat adds nothing while the
// job is live.
import { JOB, jobId } from '../../queues/names.ts';
import type { Queues } from '../../queues/queues.ts';

export interface NoticeRef {
  id: number;
  campaign_id: number;
}

const CHUNK = 1000;

export async function enqueueEmail(queues: Queues, notices: readonly NoticeRef[], delayMs = 0): Promise<void> {
  for (let i = 0; i < notices.length; i += CHUNK) {
    await queues.email.addBulk(
      notices.slice(i, i + CHUNK).map((n) => ({ name: JOB.sendEmail, data: { noticeId: n.id, campaignId: n.campaign_id }, opts: { jobId: jobId.email(n.id), delay: delayMs || undefined } })),
    );
  }
}

/** People to try again later, each in a job of its own (its delay its own). */
export async function enqueueEmailLater(queues: Queues, items: ReadonlyArray<{ noticeId: number; campaignId: number; delayMs: number }>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) {
    await queues.email.addBulk(
      items.slice(i, i + CHUNK).map((n) => ({ name: JOB.sendEmail, data: { noticeId: n.noticeId, campaignId: n.campaignId }, opts: { jobId: jobId.email(n.noticeId), delay: n.delayMs || undefined } })),
    );
  }
}

/** People of one campaign, in id order, as jobs of up to `chunkSize` each. */
export async function enqueueEmailChunks(queues: Queues, campaignId: number, noticeIds: readonly number[], chunkSize: number): Promise<number> {
  const jobs = [];
  for (let i = 0; i < noticeIds.length; i += chunkSize) {
    const ids = noticeIds.slice(i, i + chunkSize);
    jobs.push({ name: JOB.sendChunk, data: { campaignId, noticeIds: ids }, opts: { jobId: jobId.chunk(campaignId, ids[0]) } });
  }
  for (let i = 0; i < jobs.length; i += CHUNK) await queues.email.addBulk(jobs.slice(i, i + CHUNK));
  return jobs.length;
}

/**
 * People of one campaign held by its send window or hourly cap, as one delayed chunk job. Its id
 * names the chunk and the time it was put off, so it never collides with the job that held it.
 */
export async function enqueueChunkLater(queues: Queues, campaignId: number, noticeIds: readonly number[], delayMs: number): Promise<void> {
  if (!noticeIds.length) return;
  const id = `${jobId.chunk(campaignId, noticeIds[0])}-w${Date.now().toString(36)}`;
  await queues.email.add(JOB.sendChunk, { campaignId, noticeIds: [...noticeIds] }, { jobId: id, delay: delayMs });
}

export async function enqueuePostal(queues: Queues, notices: readonly NoticeRef[]): Promise<void> {
  for (let i = 0; i < notices.length; i += CHUNK) {
    await queues.postal.addBulk(
      notices.slice(i, i + CHUNK).map((n) => ({ name: JOB.routePostal, data: { noticeId: n.id, campaignId: n.campaign_id }, opts: { jobId: jobId.postal(n.id) } })),
    );
  }
}

export async function enqueueBounce(queues: Queues, bounceEventId: number): Promise<void> {
  await queues.bounce.add(JOB.applyBounce, { bounceEventId }, { jobId: jobId.bounce(bounceEventId) });
}

export async function enqueueCloseBatch(queues: Queues, batchId: number): Promise<void> {
  await queues.print.add(JOB.closeBatch, { batchId }, { jobId: jobId.closeBatch(batchId) });
}
