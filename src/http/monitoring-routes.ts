// Monitoring on `notice serve`: GET /metrics (Prometheus, open like /healthz: no personal data),
// GET /dashboard (a live page for operators) and its JSON, and /admin/queues (bull-board). The
// dashboard and the queue UI need an operator token (viewer is enough to look; the queue UI's
// buttons need the operator role).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { App } from '../app.ts';
import { makeServeMetrics } from '../metrics/serve-metrics.ts';
import { HttpError, isSafeMethod, requireOperator, viewerOrSignIn } from './auth.ts';
import { adminEvent } from '../auth/token-store.ts';
import { dashboardData, sampleCampaigns } from './dashboard-data.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const require = createRequire(import.meta.url);
const asset = (p: string) => readFileSync(new URL(p, import.meta.url));
const ASSETS: Record<string, { body: Buffer; type: string }> = {
  'app.js': { body: asset('./dashboard/app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { body: asset('./dashboard/app.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')), type: 'text/css; charset=utf-8' },
};
const PAGE = asset('./dashboard/index.html');

export async function registerMonitoring(server: FastifyInstance, app: App): Promise<void> {
  const registry = makeServeMetrics(app);
  const M = { tags: ['monitoring'] };
  const OP = { ...M, security: [{ operatorToken: [] }] };
  const text = z.unknown().meta({ type: 'string' });
  server.get('/metrics', { schema: { ...M, summary: 'Prometheus text: queues, campaigns, ledger-kept counts (no personal data)', produces: ['text/plain'], response: { 200: text } } }, async (_req, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));

  const viewer = requireOperator(app.db, 'viewer');
  const refreshMs = Math.min(5000, app.config.DASHBOARD_SAMPLE_MS);
  // A browser that is not signed in is sent to the sign-in page, and back here after it.
  const signIn = viewerOrSignIn(app.db, '/dashboard');
  server.get('/dashboard', { onRequest: signIn, schema: { ...OP, summary: 'the live dashboard (a page for operators; Japanese and English); not signed in: 303 to /signin', produces: ['text/html'], response: { 200: text, 303: text } } }, async (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE));
  server.get('/dashboard/:asset', { onRequest: viewer, schema: { ...OP, summary: 'the dashboard\'s scripts and styles', params: z.object({ asset: z.string() }), response: { 200: text } } }, async (req, reply) => {
    const a = ASSETS[(req.params as { asset: string }).asset];
    if (!a) throw new HttpError(404, 'no such file');
    return reply.header('content-type', a.type).send(a.body);
  });
  server.get('/api/v1/dashboard', { onRequest: viewer, schema: { ...OP, summary: 'what the dashboard shows, as JSON: queues, workers, campaigns, deadlines, samples', response: { 200: z.looseObject({}) } } }, async (_req, reply) => reply.header('cache-control', 'no-store').send(await dashboardData(app, { refreshMs })));

  // Samples for the charts, while this server runs.
  const sample = () => sampleCampaigns(app, app.config.DASHBOARD_SAMPLE_MS).catch((err) => app.log.warn({ err: (err as Error).message }, 'dashboard sample failed'));
  const timer = setInterval(() => void sample(), app.config.DASHBOARD_SAMPLE_MS);
  timer.unref();
  server.addHook('onClose', async () => clearInterval(timer));

  // The queue UI. Job data is ids only (no personal data ever goes to Redis).
  const board = new FastifyAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({ queues: ALL_QUEUE_NAMES.map((q) => new BullMQAdapter(app.queues[q])), serverAdapter: board, options: { uiConfig: { boardTitle: 'notice-dispatch queues' } } });
  await server.register(async (admin) => {
    // bull-board's own page cannot send our CSRF header: its writes with a session cookie are
    // protected by SameSite=Strict and the server's same-origin check (browser-guard.ts).
    const look = requireOperator(app.db, 'viewer', { csrf: 'origin' });
    const act = requireOperator(app.db, 'operator', { csrf: 'origin' });
    admin.addHook('onRequest', async (req, reply) => {
      try {
        // Looking is for viewers; retrying, cleaning, pausing queues is for operators.
        await (isSafeMethod(req.method) ? look : act)(req, reply);
      } catch (err) {
        // Answered here: bull-board's own error handler would turn a 401 into its 500 page.
        if (!(err instanceof HttpError)) throw err;
        return reply.code(err.statusCode).headers(err.headers).send({ error: err.message });
      }
    });
    // Every action taken in the queue UI (pause a queue, retry, clean, promote) is in the ledger.
    admin.addHook('onResponse', async (req, reply) => {
      if (isSafeMethod(req.method) || reply.statusCode >= 400 || !req.operator) return;
      await adminEvent(app.db, `operator:${req.operator.name}`, 'queue_ui', req.url.split('?')[0].replace(/^\/admin\/queues\/api\//, ''), { method: req.method, status: reply.statusCode })
        .catch((err: Error) => app.log.error({ err: err.message }, 'could not record a queue UI action'));
    });
    await admin.register(board.registerPlugin(), { prefix: '/admin/queues' });
  });
}
