// The bounce worker's decision: each bounce's reason has a route in the one rules table
// (src/domain/bounce-rules.ts). post_now → a letter now (and, for an address that does not exist,
// suppression); retry_then_post → email again, a letter after SOFT_BOUNCE_LIMIT; review → needs
// review; complaint → suppressed, stays notified; delivered → delivered; a receiver blaming our own
// setup → counted across receiving domains, and past CONFIG_BOUNCE_DOMAINS the campaign pauses (one
// message, which any recipient could forge, never does: below the threshold it is handled as a
// soft bounce; nor do a few people at a few domains: it takes CONFIG_BOUNCE_DOMAINS domains and
// CONFIG_BOUNCE_MIN_PEOPLE people and CONFIG_BOUNCE_SHARE of the recent sends). Auto-replies and
// delay warnings are recorded only. Whether an event applies, waits or is recorded in the state it
// finds its person in is the table in src/domain/event-rules.ts. Each bounce is applied in one
// transaction (state, suppression, ledger, applied mark); the jobs it causes are queued after the
// commit.
import type { Db, DbClient } from '../db/pool.ts';
import { makeHandOff, type ToPost } from '../dispatch/hand-off.ts';
import { chargeMessageError, pauseBySystem } from '../db/campaign-store.ts';
import { lockNotice, noteEvent, suppress, transition, type NoticeRow } from '../db/notice-store.ts';
import { configBounceEvidence, getBounceEvent, markApplied, markWaiting, type BounceEventRow } from './bounce-store.ts';
import { appliesIn, eventEffect } from '../domain/event-rules.ts';
import { REASONS, type BounceClass, type BounceReason } from '../domain/bounce-rules.ts';
import type { NoticeRef } from '../dispatch/enqueue.ts';

export interface ApplyBounceDeps {
  db: Db;
  softBounceLimit: number;
  errorBudget: number;
  /** Receiving domains whose bounces blame our setup before the campaign pauses. */
  configBounceDomains: number;
  /** And at least this many people… */
  configBounceMinPeople: number;
  /** …and this share of the campaign's sends in the window. */
  configBounceShare: number;
  configBounceWindowMs: number;
  enqueuePostal: (n: NoticeRef[]) => Promise<void>;
  enqueueEmail: (n: NoticeRef[], delayMs: number) => Promise<void>;
  retryDelayMs: number;
}

export type BounceOutcome = 'postal' | 'retry' | 'suppressed' | 'delivered' | 'relayed' | 'delayed' | 'needs_review' | 'paused' | 'recorded' | 'ignored' | 'unmatched' | 'duplicate' | 'waiting';

interface Decision {
  outcome: BounceOutcome;
  email?: NoticeRef[];
  /** Waiting: how many times this event has waited (the caller backs off by it). */
  waits?: number;
}

export interface BounceResult {
  outcome: BounceOutcome;
  /** For 'waiting': ask again after this long. */
  retryInMs?: number;
}

/** An early event asks again after 0.5 s, 1 s, 2 s … up to this. */
const WAIT_MAX_MS = 30_000;

export async function applyBounce(d: ApplyBounceDeps, bounceEventId: number): Promise<BounceOutcome> {
  return (await applyBounceEvent(d, bounceEventId)).outcome;
}

export async function applyBounceEvent(d: ApplyBounceDeps, bounceEventId: number): Promise<BounceResult> {
  // People handed to post are queued for their letters once this transaction commits.
  const decided = await makeHandOff(d.enqueuePostal).inTransaction(d.db, async (tx, toPost) => {
    const e = await getBounceEvent(tx, bounceEventId, { lock: true });
    if (!e || e.applied_at) return { outcome: 'duplicate' } as Decision;
    const decision = await decide(d, tx, toPost, e);
    // An early event is not consumed: it stays unapplied (the reconciler re-queues it if Redis
    // loses its job) until its person reaches a state it applies to.
    if (decision.outcome !== 'waiting') await markApplied(tx, e.id, decision.outcome);
    return decision;
  });
  if (decided.email?.length) await d.enqueueEmail(decided.email, d.retryDelayMs);
  if (decided.outcome === 'waiting') return { outcome: 'waiting', retryInMs: Math.min(WAIT_MAX_MS, 250 * 2 ** Math.min(decided.waits ?? 1, 10)) };
  return { outcome: decided.outcome };
}


/** Rows recorded before reasons existed carry only a class. */
const REASON_OF_CLASS: Record<BounceClass, BounceReason> = {
  hard: 'user_unknown', soft: 'temporary', message: 'policy', config: 'our_setup', complaint: 'complaint', delivery: 'delivered', auto_reply: 'auto_reply', not_bounce: 'not_bounce',
};

type ToPostFn = (o: ToPost) => Promise<NoticeRef[]>;

async function decide(d: ApplyBounceDeps, tx: DbClient, toPost: ToPostFn, e: BounceEventRow): Promise<Decision> {
  const reason = e.reason ?? REASON_OF_CLASS[e.class];
  const rule = REASONS[reason];
  if (!e.notice_id) return { outcome: rule.route === 'ignore' ? 'ignored' : 'unmatched' };
  // Locked, so the person's state cannot change under this decision. Locked by someone else right
  // now (the send's record committing, a vendor report): the event waits and asks again.
  const n = await lockNotice(tx, e.notice_id);
  if (n === 'locked') return { outcome: 'waiting', waits: await markWaiting(tx, e.id, `notice ${e.notice_id} is being changed right now`) };
  if (!n) return { outcome: 'unmatched' };
  const detail = { source: e.source, bounce_event: e.id, class: e.class, bounce_reason: reason, status: e.status, diagnostic: e.diagnostic };
  const effect = eventEffect(rule.route, n.state);
  if (effect === 'wait') {
    return { outcome: 'waiting', waits: await markWaiting(tx, e.id, `notice ${n.id} is ${n.state}: the send this answers is not recorded yet`) };
  }
  if (effect === 'record') {
    // Late (or of no consequence in this state): evidence in the person's ledger, nothing undone.
    await noteEvent(tx, n, null, { note: rule.route === 'ignore' || rule.route === 'relayed' || rule.route === 'arrived' ? reason : 'late_event', state_then: n.state, ...detail });
    return { outcome: rule.route === 'ignore' || rule.route === 'arrived' ? 'ignored' : 'recorded' };
  }
  const from = appliesIn(rule.route);

  switch (rule.route) {
    case 'post_now': {
      if (rule.suppress && n.email_normalized) await suppress(tx, n.email_normalized, 'hard_bounce', e.diagnostic ?? e.status ?? reason);
      const moved = await toPost({ ids: [n.id], from, reason, detail });
      return { outcome: moved.length ? 'postal' : 'recorded' };
    }
    case 'retry_then_post':
      return softBounce(d, tx, toPost, n, { ...detail, reason: 'soft_bounce' });
    case 'complaint':
      // Told, and did not want it: no more email. The letter is not needed; the notice stands.
      if (n.email_normalized) await suppress(tx, n.email_normalized, 'complaint', e.diagnostic ?? 'complaint');
      await noteEvent(tx, n, 'email', { note: 'complaint', ...detail });
      return { outcome: 'suppressed' };
    case 'delivered': {
      const moved = await transition(tx, { ids: [n.id], from, to: 'delivered', detail });
      return { outcome: moved.length ? 'delivered' : 'recorded' };
    }
    case 'relayed': {
      const moved = await transition(tx, { ids: [n.id], from, to: 'sent', detail: { ...detail, note: 'relayed' } });
      return { outcome: moved.length ? 'relayed' : 'recorded' };
    }
    case 'arrived': {
      // The person's mailbox answered: the delay is over, and the evidence is in the ledger.
      const moved = await transition(tx, { ids: [n.id], from, to: 'sent', detail: { ...detail, note: reason } });
      return { outcome: moved.length ? 'relayed' : 'recorded' };
    }
    case 'delay': {
      const moved = await transition(tx, { ids: [n.id], from, to: 'delayed', detail });
      return { outcome: moved.length ? 'delayed' : 'recorded' };
    }
    case 'review': {
      const moved = await transition(tx, { ids: [n.id], from, to: 'needs_review', detail: { ...detail, class: 'message' }, set: { last_error: e.diagnostic } });
      if (moved.length) await chargeMessageError(tx, n.campaign_id, d.errorBudget);
      return { outcome: moved.length ? 'needs_review' : 'recorded' };
    }
    case 'pause_if_confirmed': {
      const ev = await configBounceEvidence(tx, n.campaign_id, d.configBounceWindowMs);
      const peopleNeeded = Math.max(d.configBounceMinPeople, Math.ceil(d.configBounceShare * ev.sends));
      if (ev.domains < d.configBounceDomains || ev.people < peopleNeeded) {
        // Unconfirmed: a few receivers (or a few forgers, each with a mailbox of their own) say our
        // setup is wrong. The person is treated as soft-bounced (retried, then a letter); the
        // campaign goes on.
        return softBounce(d, tx, toPost, n, { ...detail, reason: 'config_bounce_unconfirmed', config_domains: ev.domains, config_people: ev.people, config_people_needed: peopleNeeded });
      }
      const evidence = `${ev.people} people in ${ev.domains} domains, of ${ev.sends} sent in the last ${Math.round(d.configBounceWindowMs / 60_000)} min`;
      // Confirmed across domains: our fault. The person goes back in the queue uncounted, and the
      // campaign waits for ops; nobody is sent to post for it.
      const moved = await transition(tx, { ids: [n.id], from, to: 'queued', channel: 'email', detail: { ...detail, reason: 'config_bounce' }, set: { last_error: e.diagnostic } });
      await pauseBySystem(tx, n.campaign_id, 'bounces', `receivers of ${evidence} refused our mail for our own setup (${reason}: SPF/DKIM/DMARC, our IP, reverse DNS…), e.g. ${e.status ?? ''} ${e.diagnostic ?? ''}`);
      return { outcome: moved.length ? 'paused' : 'recorded' };
    }
  }
  return { outcome: 'ignored' };
}

async function softBounce(d: ApplyBounceDeps, tx: DbClient, toPost: ToPostFn, n: NoticeRow, detail: Record<string, unknown>): Promise<Decision> {
  const counted = await transition(tx, { ids: [n.id], from: appliesIn('retry_then_post'), to: 'queued', channel: 'email', detail, also: 'soft-bounce' });
  if (!counted.length) return { outcome: 'recorded' };
  const c = counted[0] as (typeof counted)[0] & { soft_bounces: number };
  if (c.soft_bounces >= d.softBounceLimit) {
    await toPost({ ids: [n.id], from: ['queued'], reason: 'soft_exhausted', detail });
    return { outcome: 'postal' };
  }
  return { outcome: 'retry', email: counted };
}
