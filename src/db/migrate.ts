// Forward-only numbered SQL migrations from migrations/NNN_name.sql, all pending ones in one
// transaction (a failing migration leaves the database as it was), serialised across processes by
// an advisory lock.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Db } from './pool.ts';
import { withTransaction } from './pool.ts';
import { LOCK } from './locks.ts';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

export async function migrate(db: Db, dir = migrationsDir): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return withTransaction(db, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [LOCK.migrate]);
    await client.query(
      'create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())',
    );
    const done = new Set((await client.query('select version from schema_migrations')).rows.map((r) => r.version as number));
    const applied: string[] = [];
    for (const file of files) {
      const version = Number(file.split('_')[0]);
      if (done.has(version)) continue;
      const sql = await readFile(path.join(dir, file), 'utf8');
      try {
        await client.query(sql);
      } catch (err) {
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      await client.query('insert into schema_migrations (version, name) values ($1, $2)', [version, file]);
      applied.push(file);
    }
    return applied;
  });
}
