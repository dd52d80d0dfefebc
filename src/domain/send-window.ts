// When a campaign may send: its quiet hours (no email between, say, 21:00 and 08:00 local time)
// and its hourly cap, so notices arrive in waves the enquiry desk can answer. Pure; the clock is
// an argument.

export interface Pacing {
  /** "HH:MM" local; both set or neither. */
  quietFrom: string | null;
  quietTo: string | null;
  /** IANA zone the quiet hours are in (Asia/Tokyo unless the campaign says otherwise). */
  timeZone: string;
  /** Emails per hour at most, or null for no cap. */
  hourlyCap: number | null;
  /** The reputation brakes slowed the campaign (the gate caps it lower). */
  slowed?: boolean;
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** Minutes since local midnight in `timeZone`. */
export function localMinutes(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function isClock(hhmm: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(hhmm);
}

/** Inside the quiet hours now? A span may cross midnight (21:00–08:00). */
export function inQuietHours(p: Pacing, now: Date): boolean {
  if (!p.quietFrom || !p.quietTo) return false;
  const t = localMinutes(now, p.timeZone);
  const from = minutesOf(p.quietFrom);
  const to = minutesOf(p.quietTo);
  return from <= to ? t >= from && t < to : t >= from || t < to;
}

/** When the quiet hours end (the send window opens), or null when it is open now. */
export function windowOpensAt(p: Pacing, now: Date): Date | null {
  if (!inQuietHours(p, now)) return null;
  const wait = (minutesOf(p.quietTo!) - localMinutes(now, p.timeZone) + 1440) % 1440;
  const at = new Date(now.getTime() + wait * 60_000);
  at.setUTCSeconds(0, 0);
  return at;
}

/** The hour a send counts against for the hourly cap (UTC hours: a cap is per clock hour anywhere). */
export function capHour(now: Date): string {
  return now.toISOString().slice(0, 13);
}
