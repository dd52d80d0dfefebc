// The proof that adds up, which an auditor reads first: everyone imported is counted once, in one
// state; each person's state is what their own ledger says; the channel fits the state; and who is
// not accounted for (not told, and in no state someone must act on by name) is named.
import type { Db } from '../db/pool.ts';
import { NOTICE_STATES, type NoticeState } from '../domain/notice-state.ts';
import { importTotals, stateChannelCounts, unaccountedRows } from './report-store.ts';

export type { Unaccounted } from './report-store.ts';
import type { Unaccounted } from './report-store.ts';

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
  const states = await stateChannelCounts(db, campaignId);
  const imported = await importTotals(db, campaignId);
  const byState: Partial<Record<NoticeState, number>> = {};
  const byChannel = { email: 0, postal: 0, none: 0 };
  let people = 0;
  for (const r of states) {
    byState[r.state as NoticeState] = (byState[r.state as NoticeState] ?? 0) + r.n;
    byChannel[r.channel as keyof typeof byChannel] += r.n;
    people += r.n;
  }
  const bad = await unaccountedRows(db, campaignId);
  const accounted = people - bad.length;
  return {
    campaign: campaignId,
    imported: imported.accepted,
    people,
    byState: Object.fromEntries(NOTICE_STATES.filter((s) => byState[s]).map((s) => [s, byState[s]])),
    byChannel,
    accounted,
    unaccountedTotal: bad.length,
    unaccounted: bad.slice(0, LIST),
    ok: bad.length === 0 && people === imported.accepted,
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
