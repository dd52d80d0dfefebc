// Recording accepted sends in groups: one statement for up to `maxBatch` notices that finished
// within `maxWaitMs` of each other, instead of one each. Each caller still waits for the commit
// that records its notice, so a job completes only once Postgres knows; the group only shares the
// round trip (and the WAL flush).
//
// The message has left by the time we record it: if PostgreSQL is restarting, the group waits and
// tries again (up to `retryForMs`) rather than failing the job, because a failed job would be
// claimed again after its lease and the person emailed twice.
import { isConnectionError, type Db } from '../db/pool.ts';
import { assertMoves } from '../domain/notice-machine.ts';

assertMoves(['sending'], 'sent'); // the one move this statement makes

export interface SentRecord {
  id: number;
  messageId: string;
  providerMessageId: string | null;
  reply: string;
  templateVersion: string;
  attempt: number;
}

const SQL = `
  with v as (
    select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
      as v(id, message_id, provider_message_id, reply, template_version, attempt)
  ), o as (
    select n.id from notices n join v on v.id = n.id where n.state = 'sending' order by n.id for update of n
  ), u as (
    update notices n set state = 'sent', updated_at = now(), sent_at = now(), claimed_at = null, last_error = null,
      message_id = v.message_id, provider_message_id = v.provider_message_id, smtp_reply = v.reply, template_version = v.template_version
    from v join o on o.id = v.id where n.id = v.id
    returning n.id, n.campaign_id
  ), e as (
    insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
    select u.id, u.campaign_id, 'sending', 'sent', 'email',
      jsonb_build_object('message_id', v.message_id, 'provider_message_id', v.provider_message_id, 'reply', v.reply, 'template_version', v.template_version, 'attempt', v.attempt)
    from u join v on v.id = u.id
  )
  select id from u`;

export function makeSentRecorder(db: Db, o: { maxBatch: number; maxWaitMs: number; retryForMs?: number; onRetry?: (err: Error) => void }) {
  let pending: Array<{ r: SentRecord; resolve: (recorded: boolean) => void; reject: (e: unknown) => void }> = [];
  let timer: NodeJS.Timeout | null = null;

  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const group = pending;
    pending = [];
    if (!group.length) return;
    const rs = group.map((g) => g.r);
    const values = [rs.map((r) => r.id), rs.map((r) => r.messageId), rs.map((r) => r.providerMessageId), rs.map((r) => r.reply), rs.map((r) => r.templateVersion), rs.map((r) => r.attempt)];
    const giveUpAt = Date.now() + (o.retryForMs ?? 60_000);
    for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5000)) {
      try {
        const { rows } = await db.query({ name: 'record-sent', text: SQL, values });
        const done = new Set(rows.map((x) => x.id as number));
        for (const g of group) g.resolve(done.has(g.r.id));
        return;
      } catch (err) {
        if (!isConnectionError(err) || Date.now() + delayMs > giveUpAt) {
          for (const g of group) g.reject(err);
          return;
        }
        o.onRetry?.(err as Error);
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  };

  return {
    /** Resolves true once committed as sent; false if the notice was no longer 'sending'. */
    record(r: SentRecord): Promise<boolean> {
      return new Promise((resolve, reject) => {
        pending.push({ r, resolve, reject });
        if (pending.length >= o.maxBatch) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), o.maxWaitMs);
      });
    },
    flush,
  };
}
export type SentRecorder = ReturnType<typeof makeSentRecorder>;
