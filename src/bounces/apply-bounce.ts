// The bounce worker's decision, per DESIGN.md: hard → suppress + post; soft → retry email, post
// after the limit; complaint → suppress, stays notified; delivery → delivered; message problem →
// needs review; our configuration → pause the campaign and put the person back in the queue.
// Anything unknown is recorded and dropped, never thrown.
import type { Db } from '../db/pool.ts';
import { chargeMessageError, setCampaignState } from '../db/campaign-store.ts';
import { getNotice, suppress, transition } from '../db/notice-store.ts';
import { getBounceEvent, markApplied } from './bounce-store.ts';
import type { NoticeRef } from '../producer/enqueue.ts';

export interface ApplyBounceDeps {
  db: Db;
  softBounceLimit: number;
  errorBudget: number;
  enqueuePostal: (n: NoticeRef[]) => Promise<void>;
  enqueueEmail: (n: NoticeRef[], delayMs: number) => Promise<void>;
  retryDelayMs: number;
}

export type BounceOutcome = 'postal' | 'retry' | 'suppressed' | 'delivered' | 'needs_review' | 'paused' | 'recorded' | 'ignored' | 'unmatched' | 'duplicate';

export async function applyBounce(d: ApplyBounceDeps, bounceEventId: number): Promise<BounceOutcome> {
  const e = await getBounceEvent(d.db, bounceEventId);
  if (!e || e.applied_at) return 'duplicate';
  const outcome = await decide(d, e);
  await markApplied(d.db, e.id, outcome);
  return outcome;
}

async function decide(d: ApplyBounceDeps, e: NonNullable<Awaited<ReturnType<typeof getBounceEvent>>>): Promise<BounceOutcome> {
  if (e.class === 'auto_reply' || e.class === 'not_bounce') return 'ignored';
  if (!e.notice_id) return 'unmatched';
  const n = await getNotice(d.db, e.notice_id);
  if (!n) return 'unmatched';
  const detail = { source: e.source, bounce_event: e.id, class: e.class, status: e.status, diagnostic: e.diagnostic };
  const emailed = ['sent', 'delivered', 'queued'] as const;

  switch (e.class) {
    case 'hard': {
      if (n.email_normalized) await suppress(d.db, n.email_normalized, 'hard_bounce', e.diagnostic ?? e.status ?? 'hard bounce');
      const moved = await transition(d.db, { ids: [n.id], from: emailed, to: 'postal_queued', channel: 'postal', detail: { reason: 'hard_bounce', ...detail } });
      if (moved.length) await d.enqueuePostal(moved);
      return moved.length ? 'postal' : 'recorded';
    }
    case 'soft': {
      const counted = await transition(d.db, { ids: [n.id], from: ['sent', 'delivered'], to: 'queued', channel: 'email', detail: { reason: 'soft_bounce', ...detail }, also: 'soft-bounce' });
      if (!counted.length) return 'recorded';
      const c = counted[0] as typeof counted[0] & { soft_bounces: number };
      if (c.soft_bounces >= d.softBounceLimit) {
        const moved = await transition(d.db, { ids: [n.id], from: ['queued'], to: 'postal_queued', channel: 'postal', detail: { reason: 'soft_exhausted', ...detail } });
        if (moved.length) await d.enqueuePostal(moved);
        return 'postal';
      }
      await d.enqueueEmail(counted, d.retryDelayMs);
      return 'retry';
    }
    case 'complaint':
      // Told, and did not want it: no more email. The letter is not needed; the notice stands.
      if (n.email_normalized) await suppress(d.db, n.email_normalized, 'complaint', e.diagnostic ?? 'complaint');
      await d.db.query(
        `insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail) values ($1, $2, $3, $3, 'email', $4)`,
        [n.id, n.campaign_id, n.state, JSON.stringify({ note: 'complaint', ...detail })],
      );
      return 'suppressed';
    case 'delivery': {
      const moved = await transition(d.db, { ids: [n.id], from: ['sent'], to: 'delivered', detail });
      return moved.length ? 'delivered' : 'recorded';
    }
    case 'message': {
      const moved = await transition(d.db, { ids: [n.id], from: emailed, to: 'needs_review', detail, set: { last_error: e.diagnostic } });
      if (moved.length) await chargeMessageError(d.db, n.campaign_id, d.errorBudget);
      return moved.length ? 'needs_review' : 'recorded';
    }
    case 'config': {
      const moved = await transition(d.db, { ids: [n.id], from: ['sent', 'delivered'], to: 'queued', channel: 'email', detail, set: { last_error: e.diagnostic } });
      await setCampaignState(d.db, n.campaign_id, ['running'], 'paused', `a receiver refused our mail for our own setup: ${e.status ?? ''} ${e.diagnostic ?? ''}`.slice(0, 300));
      return moved.length ? 'paused' : 'recorded';
    }
  }
  return 'ignored';
}
