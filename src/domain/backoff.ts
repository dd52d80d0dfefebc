/**
 * Exponential backoff with "equal jitter": half the capped delay is fixed, half is random, so
 * retries spread out without ever coming back immediately. attempt is 1-based.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + random() * (capped / 2));
}
