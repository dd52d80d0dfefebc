// The long-running commands: `notice worker`, `notice serve`, `notice receive`. Each checks its
// configuration and dependencies, starts every part, and only then says it started; if any part
// fails to start (a port in use, PostgreSQL or Redis unreachable) it stops what it started and
// exits 1 with one line. SIGTERM/SIGINT stop taking work and let what is in flight finish.
/* eslint-disable no-console -- this is the CLI's own output */
import type { Command } from 'commander';
import type { App } from '../app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';
import { UsageError, positiveInt } from './common.ts';


interface Running {
  close(): Promise<void>;
}

/** Start, report, run until a signal, stop. A failed start closes what it opened and rethrows. */
async function runProcess(name: string, start: (app: App) => Promise<{ running: Running; started: string }>): Promise<void> {
  const [{ assertProductionSafe, loadConfig }, { makeApp }] = await Promise.all([import('../config.ts'), import('../app.ts')]);
  const config = loadConfig();
  assertProductionSafe(config);
  const app = makeApp(config, { mode: 'process' });
  let started: { running: Running; started: string };
  try {
    await app.ready({ redis: true });
    started = await start(app);
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  // A long-running process logs what escapes and keeps serving: dying would stall the campaign
  // silently, and Postgres/Redis hold every piece of work anyway.
  process.on('unhandledRejection', (err) => app.log.error({ err: (err as Error)?.message }, 'unhandled rejection'));
  app.log.info({ process: name, pid: process.pid }, `${name} started`);
  console.error(`notice: ${started.started}`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  app.log.info({ signal }, `${name} stopping: finishing work in flight`);
  await started.running.close();
  await app.close();
}

export function addProcessCommands(program: Command): void {
  program
    .command('worker')
    .description('run workers until SIGTERM/SIGINT (in-flight jobs finish first); run as many as you like, several per machine')
    .option('--queues <list>', 'comma-separated queues', ALL_QUEUE_NAMES.join(','))
    .option('--concurrency <n>', 'jobs in flight per queue', positiveInt)
    .option('--no-reconcile', 'do not run the periodic reconciler in this process')
    .option('--metrics-port <n>', 'answer Prometheus on exactly this port (default: the first free one from WORKER_METRICS_PORT; 0 = none)', (v) => Number(v))
    .action((o: { queues: string; concurrency?: number; reconcile: boolean; metricsPort?: number }) => {
      const queues = o.queues.split(',').map((s) => s.trim());
      const unknown = queues.filter((q) => !(ALL_QUEUE_NAMES as string[]).includes(q));
      if (unknown.length) throw new UsageError(`unknown queue(s): ${unknown.join(', ')} (known: ${ALL_QUEUE_NAMES.join(', ')})`);
      if (o.metricsPort !== undefined && (!Number.isInteger(o.metricsPort) || o.metricsPort < 0 || o.metricsPort > 65535)) throw new UsageError('--metrics-port is a port number (0 = none)');
      return runProcess('worker', async (app) => {
        const [{ startWorkers }, { startMetricsServer }, { withProcessMetrics }] = await Promise.all([
          import('../../workers/runner.ts'), import('../metrics/metrics-server.ts'), import('../metrics/worker-metrics.ts'),
        ]);
        const c = app.config;
        const port = o.metricsPort ?? c.WORKER_METRICS_PORT;
        const metrics = port > 0
          ? await startMetricsServer(withProcessMetrics(app.metrics.registry), { host: c.WORKER_METRICS_HOST, port, tries: o.metricsPort !== undefined ? 1 : 16, setting: o.metricsPort !== undefined ? '--metrics-port' : 'WORKER_METRICS_PORT' })
          : null;
        try {
          const workers = await startWorkers(app, { queues, concurrency: o.concurrency, reconcile: o.reconcile, metricsPort: metrics?.port ?? null });
          const close = async () => {
            await workers.close();
            await metrics?.close();
          };
          return { running: { close }, started: `worker ${process.pid} started (queues ${queues.join(', ')}${metrics ? `; metrics on http://${c.WORKER_METRICS_HOST}:${metrics.port}/metrics` : ''})` };
        } catch (err) {
          await metrics?.close();
          throw err;
        }
      });
    });

  program
    .command('serve')
    .description('HTTP: health, vendor API, SES webhook')
    .option('--port <n>', 'port (default HTTP_PORT)', positiveInt)
    .action((o: { port?: number }) =>
      runProcess('serve', async (app) => {
        const [{ confirmSnsSubscription, fetchSnsCert, makeSnsVerifier }, { buildServer }, { listenError }] = await Promise.all([
          import('../bounces/sns.ts'), import('../http/server.ts'), import('../dependencies.ts'),
        ]);
        const c = app.config;
        const port = o.port ?? c.HTTP_PORT;
        const sns = makeSnsVerifier({ allowedTopics: c.SNS_TOPIC_ARNS.split(',').map((s) => s.trim()).filter(Boolean), fetchCert: fetchSnsCert });
        const server = await buildServer({ app, sns, confirmSubscription: confirmSnsSubscription });
        try {
          await server.listen({ host: c.HTTP_HOST, port });
        } catch (err) {
          await server.close().catch(() => {});
          throw listenError(err, c.HTTP_HOST, port, o.port ? '--port' : 'HTTP_PORT');
        }
        return { running: { close: () => server.close() }, started: `serving on http://${c.HTTP_HOST}:${port}` };
      }),
    );

  program
    .command('receive')
    .description('the SMTP bounce receiver: DSNs to VERP addresses (one per MX host)')
    .option('--port <n>', 'port (default BOUNCE_SMTP_PORT)', positiveInt)
    .action((o: { port?: number }) =>
      runProcess('receive', async (app) => {
        const { startReceiverFor } = await import('../bounces/receiver.ts');
        const port = o.port ?? app.config.BOUNCE_SMTP_PORT;
        if (!port) throw new UsageError('BOUNCE_SMTP_PORT is 0 (off): give --port or set it');
        const receiver = await startReceiverFor(app, port);
        return { running: receiver, started: `bounce receiver listening on ${app.config.BOUNCE_SMTP_HOST}:${receiver.port} for ${app.config.BOUNCE_DOMAIN}` };
      }),
    );
}
