// Per test file: its own database (cloned from the migrated template) and its own queue prefix,
// so files run in parallel without seeing each other. Real PostgreSQL, real Redis.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.ts';
import { makeApp, type App } from '../../src/app.ts';
import { makeLogger } from '../../src/logger.ts';
import { TEMPLATE_DB, withDb } from './global-setup.ts';

export interface TestEnv {
  name: string;
  env: Record<string, string>;
  config(overrides?: Partial<Record<keyof Config, string>>): Config;
  app(overrides?: Partial<Record<keyof Config, string>>): App;
  tmp: string;
  logFile: string;
  teardown(): Promise<void>;
}

export async function makeTestEnv(): Promise<TestEnv> {
  const name = `t_${randomBytes(5).toString('hex')}`;
  const base = new URL(loadConfig().DATABASE_URL);
  const admin = new pg.Client({ connectionString: withDb(base, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${name} template ${TEMPLATE_DB}`);
  await admin.end();
  const tmp = mkdtempSync(path.join(tmpdir(), 'notice-test-'));
  const logFile = path.join(tmp, 'notice.log');
  const env: Record<string, string> = {
    DATABASE_URL: withDb(base, name),
    QUEUE_PREFIX: `{${name}}`,
    LOG_FILE: logFile,
    LOG_LEVEL: 'info',
    NOTICE_DEV: '1',
    WORKER_METRICS_PORT: '0',
    BACKOFF_BASE_MS: '200',
    BACKOFF_MAX_MS: '1000',
    INFRA_RETRY_MS: '300',
    RECONCILE_INTERVAL_MS: '1000',
    WORKER_LOCK_MS: '3000',
    SEND_LEASE_MS: '4000',
    THROTTLE_BACKOFF_MS: '200',
    // Test lists are made with many dead addresses on purpose (20 % and more): the reputation
    // brakes would slow and pause them as they would a real campaign. Off here; reputation.test.ts
    // sets its own levels.
    REPUTATION_WARN_HARD: '1',
    REPUTATION_PAUSE_HARD: '1',
    // No public DNS here: domains are not looked up unless a test serves its own (mx-check).
    MX_CHECK: 'off',
  };
  const apps: App[] = [];
  const config = (overrides: Partial<Record<keyof Config, string>> = {}) => loadConfig({ ...process.env, ...env }, overrides);
  return {
    name,
    env,
    tmp,
    logFile,
    config,
    app(overrides = {}) {
      const c = config(overrides);
      const a = makeApp(c, { log: makeLogger({ level: c.LOG_LEVEL, file: c.LOG_FILE }) });
      apps.push(a);
      return a;
    },
    async teardown() {
      for (const a of apps.splice(0)) await a.close().catch(() => {});
      const redis = new Redis(loadConfig().REDIS_URL);
      const keys = await redis.keys(`{${name}}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      const adm = new pg.Client({ connectionString: withDb(base, 'postgres') });
      await adm.connect();
      await adm.query(`drop database if exists ${name} with (force)`);
      await adm.end();
    },
  };
}

/** Wait for a condition, never a fixed sleep. */
export async function waitFor<T>(fn: () => Promise<T | false | null | undefined> | T | false | null | undefined, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
