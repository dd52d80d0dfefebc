// The send window and the hourly cap, applied: the worker asks before it claims a chunk which of
// its people may be sent now, and the relay asks how many it may add (none in quiet hours). People
// held back stay queued in Postgres (nothing fails, no attempt is counted) and their job waits,
// delayed, until the window opens or the next hour starts; a long wait is cut into rechecks, so an
// operator who changes the pacing is obeyed within one. The hourly count is kept in Redis (one key
// per campaign and hour), shared by every worker.
import { pacingColumns } from '../db/campaign-store.ts';
import type { Redis } from 'ioredis';
import type { Db } from '../db/pool.ts';
import { capHour, inQuietHours, windowOpensAt, type Pacing } from '../domain/send-window.ts';

export interface PacingGate {
  /** Of these people of a campaign, those that may be sent now; the rest wait. */
  admit(campaignId: number, noticeIds: readonly number[]): Promise<Admission>;
  /** How many people the relay may add for this campaign now (Infinity: no limit). */
  room(campaignId: number): Promise<number>;
}

export interface Admission {
  admitted: number[];
  held: number[];
  why: 'quiet_hours' | 'hourly_cap' | null;
  /** How long the held wait before they ask again. */
  delayMs: number;
}

export interface PacingGateDeps {
  db: Db;
  redis: Redis;
  keyPrefix: string;
  now?: () => Date;
  /** The longest a held job waits before it asks again (default a minute). */
  recheckMs?: number;
  /** Emails per hour at most while the reputation brakes slow a campaign. */
  slowHourlyCap?: number;
}

/** A campaign row's pacing columns (times come back as HH:MM:SS). */
export function pacingOfRow(r: { quiet_from: string | null; quiet_to: string | null; time_zone: string; hourly_cap: number | null; reputation?: { level?: string } | null }): Pacing {
  return { quietFrom: r.quiet_from?.slice(0, 5) ?? null, quietTo: r.quiet_to?.slice(0, 5) ?? null, timeZone: r.time_zone, hourlyCap: r.hourly_cap, slowed: r.reputation?.level === 'slowed' };
}

export async function pacingOf(db: Pick<Db, 'query'>, campaignId: number): Promise<Pacing | null> {
  const row = await pacingColumns(db, campaignId);
  return row ? pacingOfRow(row) : null;
}

export function makePacingGate(d: PacingGateDeps): PacingGate {
  const now = d.now ?? (() => new Date());
  const cache = new Map<number, { at: number; pacing: Pacing | null }>();
  const pacing = async (id: number) => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < 1000) return hit.pacing;
    const p = await pacingOf(d.db, id);
    // Slowed by the reputation brakes: a lower hourly cap, whatever the campaign's own.
    const effective = p?.slowed && d.slowHourlyCap ? { ...p, hourlyCap: Math.min(p.hourlyCap ?? Infinity, d.slowHourlyCap) } : p;
    cache.set(id, { at: Date.now(), pacing: effective });
    return effective;
  };
  const capKey = (id: number) => `${d.keyPrefix}:hourly:${id}:${capHour(now())}`;
  const recheck = d.recheckMs ?? 60_000;
  const waitUntil = (at: Date) => Math.max(1000, Math.min(recheck, at.getTime() - now().getTime()));

  return {
    async admit(campaignId, noticeIds) {
      const p = await pacing(campaignId);
      const ids = [...noticeIds];
      if (!p || !ids.length) return { admitted: ids, held: [], why: null, delayMs: 0 };
      const opens = windowOpensAt(p, now());
      if (opens) return { admitted: [], held: ids, why: 'quiet_hours', delayMs: waitUntil(opens) };
      if (p.hourlyCap === null) return { admitted: ids, held: [], why: null, delayMs: 0 };
      const key = capKey(campaignId);
      const [[, used]] = (await d.redis.multi().incrby(key, ids.length).expire(key, 7200).exec()) as Array<[Error | null, number]>;
      const allowed = Math.max(0, Math.min(ids.length, p.hourlyCap - (used - ids.length)));
      if (allowed === ids.length) return { admitted: ids, held: [], why: null, delayMs: 0 };
      await d.redis.decrby(key, ids.length - allowed);
      return { admitted: ids.slice(0, allowed), held: ids.slice(allowed), why: 'hourly_cap', delayMs: waitUntil(nextHour(now())) };
    },
    async room(campaignId) {
      const p = await pacing(campaignId);
      if (!p) return Infinity;
      if (inQuietHours(p, now())) return 0;
      if (p.hourlyCap === null) return Infinity;
      return Math.max(0, p.hourlyCap - Number((await d.redis.get(capKey(campaignId))) ?? 0));
    },
  };
}

/** The start of the next clock hour (UTC): when an hourly cap is fresh again. */
export function nextHour(now: Date): Date {
  const t = new Date(now);
  t.setUTCMinutes(60, 0, 0);
  return t;
}
