// The global send rate, shared by every worker process through Redis: SEND_RATE_PER_SEC messages
// per second across all of them (a fixed one-second window: INCR on the second's key), and a
// pause every worker honours after the provider throttles us (SES Throttling). Jobs carry many
// people each, so BullMQ's per-job limiter cannot count messages; this counts sends.
import type { Redis } from 'ioredis';

export interface SendRateLimiter {
  /** Resolves when this process may send one more message. */
  acquire(): Promise<void>;
  /** Everyone waits `ms` before the next send. */
  pause(ms: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function makeSendRateLimiter(redis: Redis, o: { keyPrefix: string; perSecond: number; now?: () => number }): SendRateLimiter {
  const now = o.now ?? Date.now;
  const pauseKey = `${o.keyPrefix}:send-paused-until`;
  // The pause is read at most every 250 ms (not once per send): a throttle reaches everyone within that.
  let pausedUntil = 0;
  let checkedAt = 0;
  const waitForPause = async () => {
    if (now() - checkedAt > 250) {
      checkedAt = now();
      pausedUntil = Number((await redis.get(pauseKey)) ?? 0);
    }
    while (pausedUntil > now()) await sleep(Math.min(pausedUntil - now(), 1000));
  };
  return {
    async acquire() {
      await waitForPause();
      if (o.perSecond <= 0) return;
      for (;;) {
        const second = Math.floor(now() / 1000);
        const key = `${o.keyPrefix}:send-rate:${second}`;
        const [[, n]] = (await redis.multi().incr(key).expire(key, 5).exec()) as Array<[Error | null, number]>;
        if (n <= o.perSecond) return;
        await sleep((second + 1) * 1000 - now() + Math.floor(Math.random() * 20));
      }
    },
    async pause(ms) {
      const until = now() + ms;
      pausedUntil = Math.max(pausedUntil, until);
      await redis.set(pauseKey, String(until), 'PX', ms);
    },
  };
}
