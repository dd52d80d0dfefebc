// Child processes the tests start and stop by PID: `notice worker`, a private redis-server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { root } from './fixtures.ts';
import { waitFor } from './harness.ts';
import pg from 'pg';
import { makePool } from '../../src/db/pool.ts';
import { migrate } from '../../src/db/migrate.ts';

export type NoticeProcess = ChildProcess & { stderrText(): string };

/** A long-running `notice …` (worker, serve, receive), its stderr kept for the test to read. */
export function spawnNotice(env: Record<string, string>, args: string[]): NoticeProcess {
  const child = spawn(process.execPath, [path.join(root, 'bin/notice.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  }) as NoticeProcess;
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (err.length < 100_000) err += c.toString('utf8');
  });
  child.stderrText = () => err;
  return child;
}

export function spawnWorker(env: Record<string, string>, args: string[] = []): NoticeProcess {
  return spawnNotice(env, ['worker', ...args]);
}

/** Stop a child by its PID and wait for it; its exit code (null if it died of the signal). */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return exited(child);
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Does a Redis answer PING at this URL (one try, no reconnecting)? */
async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } finally {
    r.disconnect();
  }
}

/** A redis-server of our own, so a FLUSHALL or a restart cannot touch other test files. */
export async function startPrivateRedis(o: { aof?: boolean } = {}): Promise<{ url: string; restart(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'notice-redis-'));
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', o.aof ? 'yes' : 'no', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'];
  let child = spawn('redis-server', args, { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const ready = () => waitFor(() => redisAnswers(url), { what: 'private redis' });
  await ready();
  return {
    url,
    async restart() {
      child.kill('SIGTERM');
      await exited(child);
      child = spawn('redis-server', args, { stdio: 'ignore' });
      await ready();
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pgBin = (): string => {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) return `/usr/lib/postgresql/${v}/bin`;
  throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
};

/** Run a PostgreSQL tool as the `postgres` user when we are root (initdb refuses root). */
function asPostgres(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const r = root ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed: ${r.stderr || r.stdout}`);
}

/**
 * A PostgreSQL server of our own (a few seconds to start), so a test can restart it mid-campaign
 * without touching the shared one. The database `notice` is migrated.
 */
export async function startPrivatePostgres(): Promise<{ url: string; restart(): Promise<void>; stop(): Promise<void> }> {
  const bin = pgBin();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'notice-pg-'));
  if (process.getuid?.() === 0) spawnSync('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  asPostgres(`${bin}/initdb`, ['-D', data, '-U', 'notice', '--auth=trust', '-E', 'UTF8', '--locale=C']);
  const ctl = (...args: string[]) => asPostgres(`${bin}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', ...args]);
  const opts = ['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`];
  ctl(...opts, 'start');
  const admin = new pg.Client({ connectionString: `postgres://notice@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('create database notice');
  await admin.end();
  const url = `postgres://notice@127.0.0.1:${port}/notice`;
  const db = makePool(url, 1);
  await migrate(db);
  await db.end();
  return {
    url,
    async restart() {
      ctl('-m', 'fast', ...opts, 'restart');
    },
    async stop() {
      ctl('-m', 'immediate', 'stop');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A three-master Redis Cluster on 127.0.0.1 (a few seconds to start), for the hash-tag test. */
export async function startRedisCluster(): Promise<{ url: string; stop(): Promise<void> }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), 'notice-cluster-'));
  const children = ports.map((port) => spawn('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', '5000', '--save', '', '--appendonly', 'no',
  ], { stdio: 'ignore' }));
  for (const port of ports) {
    await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`), { what: `cluster node ${port}` });
  }
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  await waitFor(() => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout), { what: 'cluster ok' });
  return {
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','),
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => exited(c)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
