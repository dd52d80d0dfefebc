import pg from 'pg';

// bigint ids and counts come back as strings by default; they fit in a JS number for our sizes.
pg.types.setTypeParser(20, (v) => Number(v));
// A date column is a calendar date (YYYY-MM-DD), not a moment: keep it as text, free of time zones.
pg.types.setTypeParser(1082, (v) => v);

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;
/** The pool or a client in a transaction: what a store function takes. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface PoolOptions {
  max?: number;
  /** How long to wait for a connection before the query fails (PostgreSQL down or far away). */
  connectTimeoutMs?: number;
  /** Told about connection errors (server restart); they never crash the process. */
  onError?: (err: Error) => void;
}

export function makePool(databaseUrl: string, o: PoolOptions | number = {}): Db {
  const opts = typeof o === 'number' ? { max: o } : o;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    application_name: 'notice-dispatch',
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
  });
  const onError = opts.onError ?? (() => {});
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', onError);
  // Nor may a checked-out one's (a transaction, a COPY, the reconciler's lock): pg-pool removes its
  // own listener while a client is out, and an 'error' with no listener kills the process. The
  // query in flight fails with the error; the broken client is discarded when it is released.
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** Run fn in a transaction; roll back on any error. A broken connection is not returned to the pool. */
export async function withTransaction<T>(db: Db, fn: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}

/** A connection of its own for work that spans statements outside a transaction (COPY, locks). */
/**
 * Run `fn` holding a session advisory lock, or return null at once when another process holds it
 * (one relay, one reconciler, one closer of a batch across all machines). The lock lives as long
 * as its connection: if PostgreSQL restarts mid-run, the lock goes with it and the next try starts over.
 */
export async function withTryLock<T>(db: Db, key: readonly [number] | readonly [number, number], fn: (client: DbClient) => Promise<T>): Promise<T | null> {
  const args = key.length === 1 ? '$1' : '$1, $2::int';
  return withClient(db, async (client) => {
    const { rows } = await client.query(`select pg_try_advisory_lock(${args}) as ok`, [...key]);
    if (!rows[0].ok) return null;
    try {
      return await fn(client);
    } finally {
      await client.query(`select pg_advisory_unlock(${args})`, [...key]).catch(() => {});
    }
  });
}

export async function withClient<T>(db: Db, fn: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/** host:port/database of a connection string, without credentials (for messages). */
export function dbTarget(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/**
 * The server went away or is not taking connections (restart, failover, network), as opposed to
 * an error in what we asked. Worth retrying the same statement once it is back.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && /^(08|57P0[123])/.test(e.code)) return true; // connection exception, admin shutdown, cannot connect now
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code)) return true;
  return /connection terminated|terminating connection|server closed the connection|Connection terminated unexpectedly|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(e.message ?? '');
}

/** Takes an advisory lock held until the transaction `tx` ends (keys from locks.ts). */
export async function lockForTransaction(tx: Queryable, key: readonly [number] | readonly [number, number]): Promise<void> {
  await tx.query(key.length === 1 ? 'select pg_advisory_xact_lock($1)' : 'select pg_advisory_xact_lock($1::int, $2::int)', [...key]);
}

/** One round trip: does the server answer? */
export async function ping(db: Queryable): Promise<void> {
  await db.query('select 1');
}

/** `fn` in one transaction on a client the caller holds (e.g. under a session lock from withTryLock). */
export async function transactionOn<T>(client: DbClient, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await fn();
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}

let savepoints = 0;
/** `fn` under a savepoint of the transaction on `client`: if it throws, only its work is undone (and the error rethrown). */
export async function savepoint<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  const name = `sp_${++savepoints}`;
  await client.query(`savepoint ${name}`);
  try {
    const result = await fn();
    await client.query(`release savepoint ${name}`);
    return result;
  } catch (err) {
    // The caller's error is the one that matters; a connection gone meanwhile fails the transaction anyway.
    await client.query(`rollback to savepoint ${name}`).catch(() => {});
    throw err;
  }
}
