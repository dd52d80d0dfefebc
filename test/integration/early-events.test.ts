// A bounce that beats the record of its send. The provider has accepted the message, the person
// is still `sending` because our record of the send has not committed (records are grouped; a
// slow or restarting PostgreSQL holds them), and the DSN or SES event arrives. It must wait and
// apply once the record commits: never be consumed without effect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, person } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { claimForSend, transition } from '../../src/db/notice-store.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { returns } from '../../src/channels/post/vendor-actions.ts';
import { makeSentRecorder } from '../../src/channels/email/sent-recorder.ts';
import { recordBounce, type NewBounceEvent } from '../../src/bounces/bounce-store.ts';
import { applyBounceEvent, type ApplyBounceDeps } from '../../src/bounces/apply-bounce.ts';
import { enqueueBounce, enqueueEmail, enqueuePostal } from '../../src/dispatch/enqueue.ts';
import { parseSesMessage } from '../../src/domain/ses-event.ts';
import { eventEffect } from '../../src/domain/event-rules.ts';
import { REASONS } from '../../src/domain/bounce-rules.ts';
import type { NoticeState } from '../../src/domain/notice-state.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
let workers: RunningWorkers;

beforeAll(async () => {
  t = await makeTestEnv();
  app = t.app();
  workers = await startWorkers(app, { queues: ['bounce'], concurrency: 2 }); // no email worker: we play the sender
});
afterAll(async () => {
  await workers?.close();
  await t?.teardown();
});

let seq = 0;
const dsn = (noticeId: number, reason: 'user_unknown' | 'mailbox_full'): NewBounceEvent => ({
  noticeId, source: 'dsn', class: REASONS[reason].class, reason, action: 'failed', status: reason === 'user_unknown' ? '5.1.1' : '4.2.2', diagnostic: 'smtp; 550 test', dedupeKey: `early-${++seq}`,
});
const ses = (noticeId: number, kind: 'Delivery' | 'Bounce'): NewBounceEvent => {
  const mail = { messageId: `ses-${++seq}`, headers: [{ name: 'X-Notice-Id', value: String(noticeId) }] };
  const body = kind === 'Delivery'
    ? { notificationType: 'Delivery', mail, delivery: { recipients: ['p@example.com'], smtpResponse: '250 2.0.0 OK' } }
    : { notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'General', feedbackId: `fb-${seq}`, bouncedRecipients: [{ emailAddress: 'p@example.com', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] } };
  const [e] = parseSesMessage(JSON.stringify(body), `sns-${seq}`);
  // The send is not recorded yet, so its SES MessageId is unknown to us: the header names the notice.
  expect(e.noticeIdHeader).toBe(noticeId);
  return { noticeId: e.noticeIdHeader, source: 'ses', class: e.class, reason: e.reason, action: e.action, status: e.status, diagnostic: e.diagnostic, dedupeKey: e.dedupeKey };
};

async function sendingPerson(i: number): Promise<{ id: number; campaignId: number }> {
  const { id: campaignId } = await campaignWith(app, t.tmp, [person(i)]);
  await launch(steeringDeps(app), campaignId);
  const { rows } = await app.db.query('select id from notices where campaign_id = $1', [campaignId]);
  const [claimed] = await claimForSend(app.db, [rows[0].id], 600_000);
  expect(claimed.state).toBe('sending');
  return { id: claimed.id, campaignId };
}
const stateOf = async (id: number) => (await app.db.query('select state, soft_bounces from notices where id = $1', [id])).rows[0];

describe('an event that arrives before the record of its send', () => {
  it.each([
    ['a hard-bounce DSN', (id: number) => dsn(id, 'user_unknown'), { state: 'postal_queued' }],
    ['a soft-bounce DSN', (id: number) => dsn(id, 'mailbox_full'), { state: 'queued', soft_bounces: 1 }],
    ['an SES Delivery', (id: number) => ses(id, 'Delivery'), { state: 'delivered' }],
    ['an SES Bounce', (id: number) => ses(id, 'Bounce'), { state: 'postal_queued' }],
  ])('%s waits while the sent record is held, then applies once', async (_what, event, expected) => {
    const { id } = await sendingPerson(100 + ++seq);
    // Hold the commit of the sent record: the recorder's statement waits on this row lock.
    const hold = await app.db.connect();
    await hold.query('begin');
    // (No key update: the DSN's own insert, whose foreign key takes a key-share lock, still goes in.)
    await hold.query('select id from notices where id = $1 for no key update', [id]);
    const recorder = makeSentRecorder(app.db, { maxBatch: 1, maxWaitMs: 1 });
    const recorded = recorder.record({ id, messageId: `<m${id}@example.com>`, providerMessageId: null, reply: '250 ok', templateVersion: 'x', attempt: 1 });

    const eventId = (await recordBounce(app.db, event(id)))!;
    await enqueueBounce(app.queues, eventId);
    const waiting = await waitFor(async () => {
      const r = (await app.db.query('select outcome, applied_at, waits, wait_reason from bounce_events where id = $1', [eventId])).rows[0];
      return r.outcome === 'waiting' && r.waits >= 2 && r;
    }, { what: 'the event to wait' });
    expect(waiting.applied_at).toBeNull();
    expect((await stateOf(id)).state).toBe('sending');
    const list = notice(t.env, 'bounce', 'list', '--waiting');
    expect(list.stdout).toContain(`waiting since`);
    expect(list.stdout).toContain(String(eventId));

    await hold.query('commit');
    hold.release();
    expect(await recorded).toBe(true);
    await waitFor(async () => (await app.db.query('select applied_at from bounce_events where id = $1', [eventId])).rows[0].applied_at, { what: 'the event to apply' });
    expect(await stateOf(id)).toMatchObject(expected);
    // Once: one move out of `sent`, and the event is applied for good.
    const moves = (await app.db.query(`select to_state from notice_events where notice_id = $1 and from_state = 'sent'`, [id])).rows;
    expect(moves).toEqual([{ to_state: expected.state }]);
    expect(notice(t.env, 'bounce', 'list', '--waiting').stdout).not.toContain(`${String(eventId).padStart(7)} `);
  });
});

describe('any order of events for one person', () => {
  it('ends where the table says (60 random subsets and orders of send record, delay warning, soft bounce (retry), hard bounce, delivery, letter printed, letter returned)', async () => {
    const deps: ApplyBounceDeps = {
      db: app.db, softBounceLimit: 2, errorBudget: 50, retryDelayMs: 10, configBounceDomains: 3, configBounceMinPeople: 10, configBounceShare: 0.02, configBounceWindowMs: 3_600_000,
      enqueuePostal: (x) => enqueuePostal(app.queues, x), enqueueEmail: (x, d) => enqueueEmail(app.queues, x, d),
    };
    const recorder = makeSentRecorder(app.db, { maxBatch: 1, maxWaitMs: 1 });
    const kinds = ['record', 'delay', 'soft', 'hard', 'delivery', 'print', 'return'] as const;
    const vendor = await addVendor(app.db, 'random-order-printer');
    const routeOf = { delay: 'delay', soft: 'retry_then_post', hard: 'post_now', delivery: 'delivered' } as const;
    const moveTo = { post_now: 'postal_queued', delivered: 'delivered', retry_then_post: 'queued', delay: 'delayed' } as Record<string, NoticeState>;
    let rnd = 20261201;
    const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const ends = new Map<string, number>();
    for (let trial = 0; trial < 60; trial++) {
      // The send record always happens; each other event is there or not, in any order.
      const order = [...kinds].filter((k) => k === 'record' || random() < 0.6).sort(() => random() - 0.5);
      const { id } = await sendingPerson(1000 + trial);
      // The model: the table alone, with early events applied in arrival order once the send is recorded.
      let model: NoticeState = 'sending';
      let waitingModel: string[] = [];
      const waitingIds: number[] = [];
      const applyModel = (k: string) => {
        const route = routeOf[k as keyof typeof routeOf];
        const effect = eventEffect(route, model);
        if (effect === 'wait') return false;
        if (effect === 'apply' && moveTo[route]) model = moveTo[route];
        return true;
      };
      for (const k of order) {
        if (k === 'print') {
          // The vendor prints the letter, if the person is on the postal route by now (a letter
          // exists only after the hand-off; otherwise there is nothing to print).
          if ((model as NoticeState) === 'postal_queued') {
            const { rows: b } = await app.db.query(`insert into batches (campaign_id, vendor_id, status, size, printed_at) select campaign_id, $2, 'printed', 1, now() from notices where id = $1 returning id`, [id, vendor.id]);
            await transition(app.db, { ids: [id], from: ['postal_queued'], to: 'batched', channel: 'postal', set: { batch_id: b[0].id } });
            await transition(app.db, { ids: [id], from: ['batched'], to: 'printed', channel: 'postal' });
            model = 'printed';
          }
          continue;
        }
        if (k === 'return') {
          // The vendor reports the letter back. Only a letter that was mailed can come back; an
          // early report is answered to the vendor (who still holds it) and changes nothing.
          if ((model as NoticeState) === 'printed') {
            await transition(app.db, { ids: [id], from: ['printed'], to: 'mailed', channel: 'postal' });
            model = 'mailed';
          }
          const [r] = await returns(app.db, vendor.id, [{ notice_id: id, reason: '宛所不明' }], (x) => enqueuePostal(app.queues, x));
          if ((model as NoticeState) === 'mailed') {
            expect(r.outcome, order.join(' → ')).toBe('unreachable');
            model = 'unreachable';
          } else expect(['not_found', 'not_mailed'], order.join(' → ')).toContain(r.outcome);
          continue;
        }
        if (k === 'record') {
          expect(await recorder.record({ id, messageId: `<r${id}@example.com>`, providerMessageId: null, reply: '250 ok', templateVersion: 'x', attempt: 1 })).toBe(true);
          model = 'sent';
          waitingModel = waitingModel.filter((w) => !applyModel(w));
          for (const e of waitingIds.splice(0)) expect((await applyBounceEvent(deps, e)).outcome).not.toBe('waiting');
          continue;
        }
        const e = k === 'delay'
          ? { ...dsn(id, 'mailbox_full'), class: 'auto_reply' as const, reason: 'delayed' as const, action: 'delayed' }
          : k === 'soft' ? dsn(id, 'mailbox_full') : k === 'hard' ? dsn(id, 'user_unknown') : ses(id, 'Delivery');
        const eventId = (await recordBounce(app.db, e))!;
        const r = await applyBounceEvent(deps, eventId);
        if (!applyModel(k)) {
          waitingModel.push(k);
          expect(r.outcome, `${order.join(' → ')}: ${k}`).toBe('waiting');
          waitingIds.push(eventId);
        }
      }
      expect((await stateOf(id)).state, order.join(' → ')).toBe(model);
      ends.set(model, (ends.get(model) ?? 0) + 1);
      // A letter, once printed, is never queued again by a late event.
      const toPost = (await app.db.query(`select count(*)::int as n from notice_events where notice_id = $1 and to_state = 'postal_queued' and from_state is distinct from 'postal_queued'`, [id])).rows[0].n;
      expect(toPost, order.join(' → ')).toBeLessThanOrEqual(1);
      const unapplied = (await app.db.query('select count(*)::int as n from bounce_events where notice_id = $1 and applied_at is null', [id])).rows[0].n;
      expect(unapplied, order.join(' → ')).toBe(0);
    }
    // The orders reach every kind of end: mailbox, retry, letter on its way, letter back.
    expect([...ends.keys()].sort(), JSON.stringify(Object.fromEntries(ends))).toEqual(expect.arrayContaining(['delivered', 'printed', 'queued', 'unreachable']));
  });
});
