// What a worker process counts about its own work, for Prometheus (prom-client). Names and labels
// follow the conventions: base units, `_total` for counters, bounded label values only (queue
// names, outcome kinds, error classes; never a notice id or an address).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  /** Email jobs by what became of them (sent, retry, throttled, postal, needs_review, paused, skipped). */
  sends: Counter<'outcome'>;
  /** Failed send attempts by class (transient_recipient, transient_infra, throttled, hard, message, config). */
  sendFailures: Counter<'class'>;
  /** Time the provider took to answer a send. */
  sendSeconds: Histogram<'result'>;
  /** Jobs finished per queue (completed or failed). */
  jobs: Counter<'queue' | 'result'>;
  /** The provider asked us to slow down (SES Throttling; the queue rested). */
  throttled: Counter;
  /** People the reconciler put back on a queue because their job was missing. */
  requeued: Counter<'queue'>;
  /** Bounces applied by the bounce worker, by outcome. */
  bouncesApplied: Counter<'outcome'>;
  /** Unix time of this process's last heartbeat. */
  heartbeat: Gauge;
}

export function makeWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    sends: new Counter({ name: 'notice_sends_total', help: 'Email jobs handled, by outcome', labelNames: ['outcome'], registers }),
    sendFailures: new Counter({ name: 'notice_send_failures_total', help: 'Failed send attempts, by error class', labelNames: ['class'], registers }),
    sendSeconds: new Histogram({
      name: 'notice_send_duration_seconds', help: 'Time from handing a message to the provider until its answer', labelNames: ['result'], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    jobs: new Counter({ name: 'notice_jobs_total', help: 'Queue jobs finished by this process', labelNames: ['queue', 'result'], registers }),
    throttled: new Counter({ name: 'notice_throttled_total', help: 'Times the provider throttled us and the email queue rested', registers }),
    requeued: new Counter({ name: 'notice_reconciler_requeued_total', help: 'People re-enqueued by the reconciler because their job was missing', labelNames: ['queue'], registers }),
    bouncesApplied: new Counter({ name: 'notice_bounces_applied_total', help: 'Bounces applied by the bounce worker, by outcome', labelNames: ['outcome'], registers }),
    heartbeat: new Gauge({ name: 'notice_worker_heartbeat_timestamp_seconds', help: 'Unix time of this worker\'s last heartbeat', registers }),
  };
}

/** Process metrics (CPU, memory, event loop, GC) on a registry, once. */
export function withProcessMetrics(registry: Registry): Registry {
  if (registry.getSingleMetric('process_cpu_user_seconds_total')) return registry;
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges with `_total`, which Prometheus keeps for counters
  // (`promtool check metrics` says so); the same numbers remain, per type, without the suffix.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return registry;
}
