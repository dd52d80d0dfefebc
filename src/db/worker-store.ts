// Worker heartbeats: every `notice worker` says it is alive every few seconds, so monitoring can
// tell "no worker alive while a campaign runs" from "workers alive, nothing to do".
import type { Queryable } from './notice-store.ts';

export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  metricsPort: number | null;
}

export async function beat(db: Queryable, w: WorkerBeat): Promise<void> {
  await db.query(
    `insert into workers (id, host, pid, queues, metrics_port) values ($1, $2, $3, $4, $5)
     on conflict (id) do update set beat_at = now(), metrics_port = excluded.metrics_port`,
    [w.id, w.host, w.pid, w.queues, w.metricsPort],
  );
}

/** A clean stop: gone at once, rather than when its heartbeat goes stale. */
export async function leave(db: Queryable, id: string): Promise<void> {
  await db.query('delete from workers where id = $1', [id]);
}

/** Rows of workers that died without leaving, a day on. */
export async function pruneWorkers(db: Queryable): Promise<void> {
  await db.query(`delete from workers where beat_at < now() - interval '1 day'`);
}

export async function listWorkers(db: Queryable): Promise<Array<WorkerBeat & { beatAgoS: number; startedAt: Date }>> {
  const { rows } = await db.query(`select id, host, pid, queues, metrics_port, started_at, extract(epoch from now() - beat_at)::float as ago from workers order by started_at`);
  return rows.map((r) => ({ id: r.id, host: r.host, pid: r.pid, queues: r.queues, metricsPort: r.metrics_port, startedAt: r.started_at, beatAgoS: Math.round(r.ago) }));
}
