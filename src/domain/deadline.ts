// The legal clock of a breach notice campaign. Japan's APPI (個人情報保護法) asks for the final
// report to the Personal Information Protection Commission within 30 days of discovering the
// incident, or 60 days when it was caused by unauthorised access (不正アクセス). Pure.

export type DeadlineBasis = 'unauthorized_access' | 'other';

export interface Deadline {
  discoveredOn: string;
  basis: DeadlineBasis;
  days: number;
  /** The last day, YYYY-MM-DD. */
  due: string;
  /** Whole days from today (in Japan) to the due date; negative once it has passed. */
  daysLeft: number;
}

export const DEADLINE_DAYS: Record<DeadlineBasis, number> = { unauthorized_access: 60, other: 30 };

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/** Today's date in Japan (UTC+9, no daylight saving). */
export function todayInJapan(now: Date): string {
  return ymd(new Date(now.getTime() + 9 * 3_600_000));
}

export function deadlineOf(discoveredOn: string | null, basis: string | null, now: Date): Deadline | null {
  if (!discoveredOn) return null;
  const b: DeadlineBasis = basis === 'unauthorized_access' ? 'unauthorized_access' : 'other';
  const start = discoveredOn.slice(0, 10);
  const days = DEADLINE_DAYS[b];
  const due = ymd(new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000));
  const daysLeft = Math.round((Date.parse(`${due}T00:00:00Z`) - Date.parse(`${todayInJapan(now)}T00:00:00Z`)) / 86_400_000);
  return { discoveredOn: start, basis: b, days, due, daysLeft };
}

/** A real calendar date, YYYY-MM-DD (2026-02-31 is not one). */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
