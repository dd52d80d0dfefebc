// `notice serve` (fastify): health, /metrics, the dashboard and queue UI (operators), the operator
// API, the vendor API, the SES webhook, the public /verify page, and /docs: the OpenAPI 3.1
// description generated from the zod schemas that validate every request.
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cookie from '@fastify/cookie';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { App } from '../app.ts';
import type { SnsVerifier } from '../bounces/sns.ts';
import { HttpError } from './auth.ts';
import { PermanentError, RetryableError, type PermanentCode, type RetryableCode } from '../domain/errors.ts';
import { registerVendorRoutes } from './vendor-routes.ts';
import { registerSesWebhook } from './ses-webhook.ts';
import { registerMonitoring } from './monitoring-routes.ts';
import { registerOpsRoutes } from './ops-routes.ts';
import { registerProofRoutes } from './proof-routes.ts';
import { registerConsoleRoutes } from './console-routes.ts';
import { registerVerifyRoutes } from './verify-routes.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { registerTokenRoutes } from './token-routes.ts';
import { registerBrowserGuard } from './browser-guard.ts';
import { ImportFileError } from '../intake/importer.ts';
import { TemplateError } from '../domain/template.ts';

/** Every route the server registered (method and URL): the /docs test holds the description to it. */
/** The one place an error's code becomes an HTTP status. */
const STATUS: Record<PermanentCode | RetryableCode, number> = { invalid: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409, upstream: 502, unavailable: 503 };
export const statusOf = (code: PermanentCode | RetryableCode): number => STATUS[code];

export const registeredRoutes = new WeakMap<FastifyInstance, Array<{ method: string; url: string }>>();

export interface ServerDeps {
  app: App;
  sns: SnsVerifier;
  /** GET a URL (SNS SubscribeURL); injectable for tests. */
  confirmSubscription: (url: string) => Promise<void>;
}

/** A hop count trusts that many proxies nearest to us (proxy-addr's own rule for a number). */
const trustProxyOf = (t: false | number | string[]) => (typeof t === 'number' ? (_addr: string, hop: number) => hop < t : t);

export async function buildServer(d: ServerDeps): Promise<FastifyInstance> {
  const { app } = d;
  const server = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, trustProxy: trustProxyOf(app.config.TRUST_PROXY) });
  const routes: Array<{ method: string; url: string }> = [];
  registeredRoutes.set(server, routes);
  server.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  // Fastify reads text/plain bodies as strings by default; nothing of ours takes one but the SES
  // webhook, which parses its own (in its scope below). Elsewhere such a body is refused.
  server.removeContentTypeParser('text/plain');
  await server.register(cookie);
  registerBrowserGuard(server, { publicOrigins: app.config.PUBLIC_ORIGINS });
  server.setErrorHandler((err: Error & { statusCode?: number; validationContext?: string }, _req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ field: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.').replace(/\.$/, '')}`, message: v.message ?? 'invalid' }));
      return reply.code(400).send({ error: issues.map((i) => `${i.field}: ${i.message}`).join('; '), field: issues[0].field, issues });
    }
    if (err instanceof ImportFileError) return reply.code(400).send({ error: err.message, field: err.line > 0 ? `line ${err.line}` : undefined });
    if (err instanceof TemplateError) return reply.code(400).send({ error: err.message, field: 'body.templates', issues: err.problems.map((m) => ({ field: 'body.templates', message: m })) });
    const status = err instanceof PermanentError || err instanceof RetryableError ? statusOf(err.code) : (err.statusCode ?? 500);
    if (status >= 500) app.log.error({ err: err.message }, 'http error');
    if (err instanceof HttpError) void reply.headers(err.headers);
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message, ...(err instanceof HttpError && err.field ? { field: err.field } : {}) });
  });

  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'notice-dispatch',
        version: '1',
        description: 'Tell every person affected by an incident, individually, and prove it. Operators steer campaigns (viewer tokens read, operator tokens write); printing vendors pull their own batches; the public verify page tells a person whether a notice code is genuine. Tokens: `notice operator add NAME --role viewer|operator`, `notice vendor add NAME` (printed once, stored hashed).',
      },
      tags: [
        { name: 'operations', description: 'campaigns: create, upload recipients, check, launch, steer, report (Bearer operator token)' },
        { name: 'vendor', description: 'printing vendors: batches, files, printed, mailed, returns (Bearer vendor token; a vendor sees only its own batches)' },
        { name: 'public', description: 'the verify page: is this notice genuine?' },
        { name: 'monitoring', description: 'health, Prometheus metrics, the dashboard and the queue UI' },
        { name: 'webhooks', description: 'bounce and delivery events from providers' },
      ],
      components: {
        securitySchemes: {
          operatorToken: { type: 'http', scheme: 'bearer', description: 'an operator token (viewer: read; operator: write). Browsers sign in once at /signin (POST /api/v1/session) and hold a SameSite=Strict session cookie; their writes carry X-CSRF-Token. HTTP Basic is not accepted.' },
          vendorToken: { type: 'http', scheme: 'bearer', description: 'a vendor token' },
        },
      },
    },
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      // The queue UI (bull-board) registers its own routes, hidden; they are listed, under monitoring.
      if (input.url.startsWith('/admin/queues')) {
        return { ...out, schema: { ...out.schema, hide: false, tags: ['monitoring'], security: [{ operatorToken: [] }], summary: 'the queue UI (bull-board): viewer to look, operator to act' } };
      }
      return out;
    },
    transformObject: jsonSchemaTransformObject,
  });
  await server.register(swaggerUi, { routePrefix: '/docs' });

  registerHealthRoutes(server, app);
  registerSessionRoutes(server, app);
  await registerMonitoring(server, app);
  registerOpsRoutes(server, app);
  registerProofRoutes(server, app);
  registerConsoleRoutes(server, app);
  registerTokenRoutes(server, app);
  registerVendorRoutes(server, app);
  await server.register(async (scope) => {
    // SNS posts JSON with Content-Type text/plain.
    scope.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('body is not JSON'), { statusCode: 400 }), undefined);
      }
    });
    registerSesWebhook(scope, app, d.sns, d.confirmSubscription);
  });
  await server.register(async (scope) => {
    // The verify page's form (the only form body anything here takes).
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    await registerVerifyRoutes(scope, app);
  });
  return server;
}
