// Sending notices: claim them (a chunk of the relay's window in one statement), build each
// message, send, and record what happened. The worker maps the outcomes to BullMQ; this file
// decides. Postgres is the truth: the claim is a conditional UPDATE, so a job that runs twice
// sends once. Sends in flight per process are capped (WORKER_CONCURRENCY) and every send first
// takes a token from the global rate limit.
import type { Db } from '../../db/pool.ts';
import { withTransaction } from '../../db/pool.ts';
import { chargeMessageError, clearOutage, noteOutage, pauseBySystem } from '../../db/campaign-store.ts';
import { cancelPeople, CANCEL_REASON } from '../../dispatch/cancel-people.ts';
import { firstChannel } from '../../domain/channel-plan.ts';
import { claimForSend, statesOf, suppress, transition, type ClaimedNotice, type NoticeRow } from '../../db/notice-store.ts';
import { retryDelayMs } from '../../domain/backoff.ts';
import { classifySendError } from '../../domain/send-error.ts';
import { redactAddresses } from '../../domain/redact.ts';
import { TemplateError } from '../../domain/template.ts';
import type { Logger } from '../../logger.ts';
import type { TemplateCache } from '../../db/template-store.ts';
import { buildMessage, type MessageSettings } from './message.ts';
import { SendFailureError, type MailTransport } from './transport.ts';
import type { SentRecord } from './sent-recorder.ts';
import type { PacingGate } from '../../dispatch/pacing-gate.ts';
import { makeHandOff } from '../../dispatch/hand-off.ts';

export interface SendPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  infraRetryMs: number;
  outagePauseMs: number;
  throttleBackoffMs: number;
  errorBudget: number;
  leaseMs: number;
}

export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry'; delayMs: number; reason: string }
  | { kind: 'throttled'; delayMs: number }
  /** Outside the campaign's send window or past its hourly cap: the job waits, delayed. */
  | { kind: 'waiting'; delayMs: number; reason: 'quiet_hours' | 'hourly_cap' }
  | { kind: 'postal'; reason: string }
  | { kind: 'needs_review'; reason: string }
  | { kind: 'paused'; reason: string };

export interface NoticeSenderDeps {
  db: Db;
  transport: MailTransport;
  templates: TemplateCache;
  message: MessageSettings;
  policy: SendPolicy;
  /** Hand people to the postal route (enqueue their postal jobs). */
  enqueuePostal: (notices: Array<{ id: number; campaign_id: number }>) => Promise<void>;
  /** Record an accepted send (grouped with others finishing at the same moment). */
  recordSent: (r: SentRecord) => Promise<boolean>;
  /** Told how long each send took and, when it failed, its class (metrics). */
  observe?: (e: { seconds: number; failureClass?: string }) => void;
  /** Wait for a token of the global send rate (across every worker); resolves at once when unlimited. */
  acquire?: () => Promise<void>;
  /** The provider throttled us: everyone waits this long before the next send. */
  throttle?: (ms: number) => Promise<void>;
  /** Sends in flight in this process at most. */
  maxInFlight: number;
  /** The campaign's send window and hourly cap: who may be sent now (the rest wait, unclaimed). */
  pacing?: PacingGate;
  log: Logger;
  /** The time leases and outages are measured against (the app's clock; tests move it). */
  clock?: { now(): Date };
}

const now = (d: Pick<NoticeSenderDeps, 'clock'>) => d.clock?.now() ?? new Date();

/** At most `max` of fn() at a time; the rest wait in order. */
export function makeSemaphore(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= max) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export interface NoticeSender {
  /** One notice (a retry, the reconciler's). */
  sendOne(campaignId: number, noticeId: number): Promise<SendOutcome>;
  /** A chunk of one campaign's notices: claimed together, sent side by side. */
  sendMany(campaignId: number, noticeIds: readonly number[]): Promise<Array<{ id: number; outcome: SendOutcome }>>;
}

export function makeNoticeSender(d: NoticeSenderDeps): NoticeSender {
  const inFlight = makeSemaphore(Math.max(1, d.maxInFlight));
  const handOff = makeHandOff(d.enqueuePostal);
  const toPostal = async (n: NoticeRow, from: 'sending' | 'queued', reason: string, detail: Record<string, unknown> = {}) => {
    await handOff.now(d.db, { ids: [n.id], from: [from], reason, detail, also: 'unclaim' });
    return { kind: 'postal', reason } as const;
  };

  async function sendClaimed(n: ClaimedNotice): Promise<SendOutcome> {
    const log = d.log.child({ noticeId: n.id, campaignId: n.campaign_id, attempt: n.attempts });

    const plan = firstChannel({ hasEmail: n.email_normalized !== null, suppressed: n.suppressed });
    if (plan.channel !== 'email') return toPostal(n, 'sending', plan.reason);

    let message;
    try {
      const templates = await d.templates.get(n.campaign_template_version, n.campaign_extra_vars);
      message = buildMessage(n, n.campaign_name, templates, d.message);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      // The person's move and the campaign's error budget change together, or neither does.
      await withTransaction(d.db, async (tx) => {
        await transition(tx, { ids: [n.id], from: ['sending'], to: 'needs_review', detail: { class: 'template', reason: err.message }, set: { last_error: err.message }, also: 'unclaim' });
        await chargeMessageError(tx, n.campaign_id, d.policy.errorBudget);
      });
      return { kind: 'needs_review', reason: 'template' };
    }

    let result;
    await d.acquire?.();
    const started = performance.now();
    try {
      result = await d.transport.send(message);
      d.observe?.({ seconds: (performance.now() - started) / 1000 });
    } catch (err) {
      if (!(err instanceof SendFailureError)) throw err;
      const c = classifySendError(err.failure);
      d.observe?.({ seconds: (performance.now() - started) / 1000, failureClass: c.class });
      const detail = { class: c.class, status: c.status, reply: c.reply, attempt: n.attempts };
      log.info({ class: c.class, status: c.status }, 'send failed');
      switch (c.class) {
        case 'hard':
          // The address is suppressed and the person handed to post in one transaction.
          await handOff.inTransaction(d.db, async (tx, toPost) => {
            await suppress(tx, n.email_normalized!, 'hard_bounce', c.reply);
            await toPost({ ids: [n.id], from: ['sending'], reason: 'hard_bounce', detail, also: 'unclaim' });
          });
          return { kind: 'postal', reason: 'hard_bounce' };
        case 'transient_recipient':
          if (n.attempts >= d.policy.maxAttempts) return toPostal(n, 'sending', 'soft_exhausted', detail);
          await transition(d.db, { ids: [n.id], from: ['sending'], to: 'queued', detail, set: { last_error: c.reply }, also: 'unclaim' });
          return { kind: 'retry', delayMs: retryDelayMs(n.attempts, d.policy.backoffBaseMs, d.policy.backoffMaxMs), reason: c.reply };
        case 'transient_infra': {
          const paused = await withTransaction(d.db, async (tx) => {
            await transition(tx, { ids: [n.id], from: ['sending'], to: 'queued', detail, set: { last_error: c.reply }, also: 'refund-attempt' });
            return noteOutage(tx, n.campaign_id, d.policy.outagePauseMs, c.reply, now(d));
          });
          if (paused) {
            log.error({ reply: redactAddresses(c.reply) }, 'campaign paused: mail relay outage');
            return { kind: 'paused', reason: 'outage' };
          }
          return { kind: 'retry', delayMs: d.policy.infraRetryMs, reason: c.reply };
        }
        case 'throttled':
          await transition(d.db, { ids: [n.id], from: ['sending'], to: 'queued', detail, also: 'refund-attempt' });
          await d.throttle?.(d.policy.throttleBackoffMs);
          return { kind: 'throttled', delayMs: d.policy.throttleBackoffMs };
        case 'message': {
          const spent = await withTransaction(d.db, async (tx) => {
            await transition(tx, { ids: [n.id], from: ['sending'], to: 'needs_review', detail, set: { last_error: c.reply }, also: 'unclaim' });
            return chargeMessageError(tx, n.campaign_id, d.policy.errorBudget);
          });
          if (spent) log.error('campaign paused: error budget spent');
          return { kind: 'needs_review', reason: c.reply };
        }
        case 'config':
          // Our fault, not theirs: put the person back and stop the campaign, in one transaction
          // (a crash between the two must not leave the campaign running into the same failure);
          // nobody goes to post.
          await withTransaction(d.db, async (tx) => {
            await transition(tx, { ids: [n.id], from: ['sending'], to: 'queued', detail, set: { last_error: c.reply }, also: 'refund-attempt' });
            await pauseBySystem(tx, n.campaign_id, 'email-worker', `sending configuration problem: ${c.reply}`);
          });
          log.error({ reply: redactAddresses(c.reply) }, 'campaign paused: our sending configuration was refused');
          return { kind: 'paused', reason: c.reply };
      }
    }

    const recorded = await d.recordSent({
      id: n.id, messageId: message.messageId, providerMessageId: result.providerMessageId, reply: result.reply, templateVersion: n.campaign_template_version, attempt: n.attempts, messageSha256: result.sha256 ?? null,
    });
    // Someone took the notice from us mid-send (lease expired): the send stands, but say so.
    if (!recorded) log.warn('notice changed state while sending; accepted send not recorded as sent');
    if (n.campaign_in_outage) await clearOutage(d.db, n.campaign_id);
    return { kind: 'sent' };
  }

  async function sendMany(campaignId: number, all: readonly number[]): Promise<Array<{ id: number; outcome: SendOutcome }>> {
    // Outside the send window, or past the hourly cap: these wait, unclaimed, in a delayed job.
    const gate = d.pacing ? await d.pacing.admit(campaignId, all) : { admitted: [...all], held: [], why: null, delayMs: 0 };
    const waiting = gate.held.map((id) => ({ id, outcome: { kind: 'waiting', delayMs: gate.delayMs, reason: gate.why ?? 'quiet_hours' } as SendOutcome }));
    const noticeIds = gate.admitted;
    const claimed = await claimForSend(d.db, noticeIds, d.policy.leaseMs, now(d));
    const taken = new Set(claimed.map((n) => n.id));
    const others = await settleUnclaimed(d.db, noticeIds.filter((id) => !taken.has(id)), d.policy.leaseMs);
    const sent = await Promise.all(claimed.map(async (n) => ({ id: n.id, outcome: await inFlight(() => sendClaimed(n)) })));
    return [...sent, ...others, ...waiting];
  }

  return {
    sendMany,
    async sendOne(campaignId, noticeId) {
      return (await sendMany(campaignId, [noticeId]))[0].outcome;
    },
  };
}

/**
 * The notices a claim did not take, and why: claimed by another worker (try again after its
 * lease), their campaign paused (the job ends; resume puts them back) or cancelled, or done
 * already. It writes: people still queued in a cancelled campaign are cancelled now, not left
 * waiting with no job.
 */
async function settleUnclaimed(db: Db, noticeIds: readonly number[], leaseMs: number): Promise<Array<{ id: number; outcome: SendOutcome }>> {
  if (!noticeIds.length) return [];
  const rows = await statesOf(db, noticeIds);
  const found = new Set(rows.map((r) => r.id));
  const out: Array<{ id: number; outcome: SendOutcome }> = noticeIds.filter((id) => !found.has(id)).map((id) => ({ id, outcome: { kind: 'skipped', reason: 'no such notice' } }));
  const toCancel = rows.filter((r) => r.state === 'queued' && r.campaign_state === 'cancelled').map((r) => r.id);
  if (toCancel.length) await cancelPeople(db, toCancel, ['queued']);
  for (const r of rows) {
    const outcome: SendOutcome = r.state === 'sending'
      ? { kind: 'retry', delayMs: leaseMs, reason: 'claimed by another worker' }
      : r.state !== 'queued' ? { kind: 'skipped', reason: `already ${r.state}` }
      : r.campaign_state === 'cancelled' ? { kind: 'skipped', reason: CANCEL_REASON }
      : r.campaign_state === 'running' ? { kind: 'skipped', reason: 'being claimed by another worker' }
      : { kind: 'skipped', reason: 'campaign not running' };
    out.push({ id: r.id, outcome });
  }
  return out;
}
