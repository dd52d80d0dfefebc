// `notice serve` (fastify): health, /metrics, the dashboard and queue UI (operators), the vendor
// API and the SES webhook.
import Fastify, { type FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import { SnsError, type SnsVerifier } from '../bounces/sns.ts';
import { VendorError } from '../postal/vendor-actions.ts';
import { CampaignStateError } from '../producer/campaign-control.ts';
import { HttpError } from './auth.ts';
import { registerVendorRoutes } from './vendor-routes.ts';
import { registerSesWebhook } from './ses-webhook.ts';
import { registerMonitoring } from './monitoring-routes.ts';

export interface ServerDeps {
  app: App;
  sns: SnsVerifier;
  /** GET a URL (SNS SubscribeURL); injectable for tests. */
  confirmSubscription: (url: string) => Promise<void>;
}

export async function buildServer(d: ServerDeps): Promise<FastifyInstance> {
  const { app } = d;
  const server = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  // SNS posts JSON with Content-Type text/plain.
  server.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('body is not JSON'), { statusCode: 400 }), undefined);
    }
  });
  server.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const known = err instanceof VendorError || err instanceof SnsError || err instanceof HttpError || err instanceof CampaignStateError;
    const status = known ? (err as { statusCode: number }).statusCode : (err.statusCode ?? 500);
    if (status >= 500) app.log.error({ err: err.message }, 'http error');
    if (err instanceof HttpError) void reply.headers(err.headers);
    void reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  server.get('/healthz', async () => ({ ok: true }));
  // Which dependency is down, never its error text (which may name hosts, users or addresses).
  server.get('/readyz', async (_req, reply) => {
    const check = async (p: () => Promise<unknown>) => {
      try {
        await Promise.race([p(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
        return 'up';
      } catch {
        return 'down';
      }
    };
    const [postgres, redis] = await Promise.all([check(() => app.db.query('select 1')), check(() => app.redis.ping())]);
    const ok = postgres === 'up' && redis === 'up';
    return reply.code(ok ? 200 : 503).send({ ok, postgres, redis });
  });

  await registerMonitoring(server, app);
  registerVendorRoutes(server, app);
  registerSesWebhook(server, app, d.sns, d.confirmSubscription);
  return server;
}
