// The proof that adds up, which an auditor reads first: everyone imported is counted once, in one
// state; each person's state is what their own ledger says; the channel fits the state; and who is
// not accounted for (not told, and in no state someone must act on by name) is named.
import type { Db } from '../db/pool.ts';
import { ACCOUNTED, NOTICE_STATES, type NoticeState } from '../domain/notice-state.ts';

export interface Unaccounted {
  notice_id: number;
  customer_id: string;
  state: string;
  why: string;
}

export interface Reconciliation {
  campaign: number;
  /** People the imports accepted. */
  imported: number;
  /** People in the campaign now (one row each). */
  people: number;
  byState: Partial<Record<NoticeState, number>>;
  byChannel: { email: number; postal: number; none: number };
  accounted: number;
  unaccountedTotal: number;
  /** The first of them by id (all of them are in the per-person rows, accounted = false). */
  unaccounted: Unaccounted[];
  ok: boolean;
}

const LIST = 100;

export async function reconcileReport(db: Db, campaignId: number): Promise<Reconciliation> {
  const { rows: states } = await db.query(`select state, coalesce(channel, 'none') as channel, count(*)::int as n from notices where campaign_id = $1 group by 1, 2`, [campaignId]);
  const { rows: imp } = await db.query('select coalesce(sum(accepted), 0)::int as n from import_runs where campaign_id = $1', [campaignId]);
  const byState: Partial<Record<NoticeState, number>> = {};
  const byChannel = { email: 0, postal: 0, none: 0 };
  let people = 0;
  for (const r of states) {
    byState[r.state as NoticeState] = (byState[r.state as NoticeState] ?? 0) + r.n;
    byChannel[r.channel as keyof typeof byChannel] += r.n;
    people += r.n;
  }
  const accountedStates = ACCOUNTED.map((s) => `'${s}'`).join(', ');
  // Not told and nobody's to act on; or a state the person's own ledger does not end in; or a
  // channel that does not fit the state.
  const { rows: bad } = await db.query(
    `select n.id as notice_id, n.customer_id, n.state,
            case when coalesce(e.to_state, 'pending') <> n.state then 'state ' || n.state || ' but the ledger says ' || coalesce(e.to_state, 'nothing happened (pending)')
                 when n.state in ('sent', 'delivered') and n.channel is distinct from 'email' then 'state ' || n.state || ' on channel ' || coalesce(n.channel, 'none')
                 when n.state in ('batched', 'printed', 'mailed', 'returned', 'unreachable') and n.channel is distinct from 'postal' then 'state ' || n.state || ' on channel ' || coalesce(n.channel, 'none')
                 else 'still ' || n.state || ': not yet told, and in no state someone acts on by name' end as why
     from notices n
     left join lateral (select to_state from notice_events x where x.notice_id = n.id order by x.id desc limit 1) e on true
     where n.campaign_id = $1 and (
       n.state not in (${accountedStates})
       or coalesce(e.to_state, 'pending') <> n.state
       or (n.state in ('sent', 'delivered') and n.channel is distinct from 'email')
       or (n.state in ('batched', 'printed', 'mailed', 'returned', 'unreachable') and n.channel is distinct from 'postal'))
     order by n.id`,
    [campaignId],
  );
  const accounted = people - bad.length;
  return {
    campaign: campaignId,
    imported: imp[0].n,
    people,
    byState: Object.fromEntries(NOTICE_STATES.filter((s) => byState[s]).map((s) => [s, byState[s]])),
    byChannel,
    accounted,
    unaccountedTotal: bad.length,
    unaccounted: bad.slice(0, LIST),
    ok: bad.length === 0 && people === imp[0].n,
  };
}

/** The reconciliation as the last lines of the CSV report ("#" lines: a CSV reader can skip them). */
export function reconciliationCsvLines(r: Reconciliation): string {
  const states = Object.entries(r.byState).map(([s, n]) => `${s} ${n}`).join(', ');
  const lines = [
    '#',
    `# reconciliation: imported ${r.imported}; people ${r.people} (${states}); by channel: email ${r.byChannel.email}, postal ${r.byChannel.postal}, none ${r.byChannel.none}`,
    `# ${r.people === r.imported ? 'imported = people: every imported person is here once' : `MISMATCH: ${r.imported} imported but ${r.people} people`}`,
    `# accounted ${r.accounted}, unaccounted ${r.unaccountedTotal}: ${r.ok ? 'everyone is accounted for' : 'NOT everyone is accounted for'}`,
    ...r.unaccounted.map((u) => `# unaccounted: notice ${u.notice_id} (customer ${u.customer_id.replace(/[\r\n]/g, ' ')}): ${u.why}`),
    ...(r.unaccountedTotal > r.unaccounted.length ? [`# … and ${r.unaccountedTotal - r.unaccounted.length} more (the rows with accounted = f)`] : []),
  ];
  return lines.join('\n') + '\n';
}
