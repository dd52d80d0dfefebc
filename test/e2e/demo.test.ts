// `notice demo` as a user runs it, then a look for personal data where it must never be: the logs
// and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { notice } from '../support/cli.ts';
import { loadConfig } from '../../src/config.ts';

let t: TestEnv;
beforeAll(async () => {
  t = await makeTestEnv();
});
afterAll(async () => {
  await t?.teardown();
});

async function redisText(prefix: string): Promise<string> {
  const redis = new Redis(loadConfig().REDIS_URL);
  const parts: string[] = [];
  try {
    for (const key of await redis.keys(`${prefix}*`)) {
      const type = await redis.type(key);
      if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'list') parts.push((await redis.lrange(key, 0, -1)).join('|'));
      else if (type === 'set') parts.push((await redis.smembers(key)).join('|'));
      else if (type === 'zset') parts.push((await redis.zrange(key, '0', '-1')).join('|'));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}

describe('notice demo', () => {
  it('settles every person and keeps personal data out of logs and Redis', async () => {
    const r = notice({ ...t.env, NOTICE_DATA_DIR: t.tmp, LOG_FILE: '' }, 'demo', '--recipients', '400', '--no-services');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Summary: campaign \d+ \(running\), 400 people/);
    expect(r.stdout).toMatch(/not settled\s+0/);
    expect(r.stdout).toMatch(/sent\s+\d+/);
    expect(r.stdout).toMatch(/mailed\s+\d+/);
    expect(r.stdout).toMatch(/print batch \d+: \d+ letters/);

    const csv = readFileSync(path.join(t.tmp, 'demo/recipients.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const personal = new Set<string>();
    for (const [, name, email, , , , line1] of csv) {
      personal.add(name);
      if (email) personal.add(email);
      personal.add(line1);
    }
    const logs = readFileSync(path.join(t.tmp, 'demo/notice.log'), 'utf8');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toMatch(/"noticeId":\d+/); // the logs speak of people by id
    const stored = await redisText(t.env.QUEUE_PREFIX);
    for (const p of personal) {
      if (p.length < 4) continue;
      expect(logs.includes(p), `log contains "${p}"`).toBe(false);
      expect(stored.includes(p), `redis contains "${p}"`).toBe(false);
    }
    expect(logs).not.toMatch(/@example\.(com|net|org)/);
    expect(stored).not.toMatch(/@example\.(com|net|org)/);

    const report = readFileSync(path.join(t.tmp, 'demo/report.csv'), 'utf8').trim().split('\n');
    expect(report.filter((l) => !l.startsWith('#'))).toHaveLength(401);
    expect(report.at(-1)).toMatch(/^# accounted 400, unaccounted 0: everyone is accounted for/);

    // The regulator's figures are the report's counts.
    const figures = JSON.parse(readFileSync(path.join(t.tmp, 'demo/regulator.json'), 'utf8'));
    const rows = parse(report.filter((l) => !l.startsWith('#')).join('\n'), { columns: true }) as Array<Record<string, string>>;
    const by = (f: (r: Record<string, string>) => boolean) => rows.filter(f).length;
    expect(figures.affected).toBe(rows.length);
    expect(figures.notified.email.total).toBe(by((r) => ['sent', 'delivered'].includes(r.final_state)));
    expect(figures.notified.post).toBe(by((r) => r.final_state === 'mailed'));
    expect(figures.notified.total).toBe(by((r) => r.notified === 't'));
    expect(figures.public_announcement.covered).toBe(by((r) => r.final_state === 'unreachable' && r.covered_by_announcement !== ''));
    expect(figures.public_announcement.covered).toBe(1);
    expect(figures.in_progress.total + figures.excluded.total + figures.public_announcement.unreachable_not_covered).toBe(by((r) => !['sent', 'delivered', 'mailed'].includes(r.final_state) && !(r.final_state === 'unreachable' && r.covered_by_announcement !== '')));
    expect(figures.adds_up).toBe(true);
    expect(r.stdout).toMatch(/9\. ledger: \d+ rows in 400 person chains intact/);
  });
});
