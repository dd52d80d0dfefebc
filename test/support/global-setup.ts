// Once per test run: make sure local Redis/PostgreSQL run (npm test starts them; this covers
// `npx vitest`), then build a migrated template database that each test file clones.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { makePool } from '../../src/db/pool.ts';
import { migrate } from '../../src/db/migrate.ts';

export const TEMPLATE_DB = 'notice_test_template';

export default async function setup(): Promise<void> {
  const up = spawnSync('bash', ['scripts/services.sh', 'up'], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`services.sh up failed:\n${up.stderr}`);
  const base = new URL(loadConfig().DATABASE_URL);
  const admin = new pg.Client({ connectionString: withDb(base, 'postgres') });
  await admin.connect();
  try {
    // Leftovers of runs that were killed, and the old template (migrations may have changed).
    const { rows } = await admin.query(`select datname from pg_database where datname like 't\\_%' or datname = $1`, [TEMPLATE_DB]);
    for (const r of rows) await admin.query(`drop database if exists "${r.datname}" with (force)`);
    await admin.query(`create database ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const db = makePool(withDb(base, TEMPLATE_DB), 1);
  await migrate(db);
  await db.end();
}

export function withDb(base: URL, name: string): string {
  const u = new URL(base.toString());
  u.pathname = `/${name}`;
  return u.toString();
}
