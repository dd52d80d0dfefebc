// GET /healthz (the process answers) and GET /readyz (its dependencies answer). Open, like
// /metrics: they say which dependency is down, never its error text (which may name hosts, users
// or addresses).
import { ping } from '../db/pool.ts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';

const UpDown = z.enum(['up', 'down']);

export function registerHealthRoutes(server: FastifyInstance, app: App): void {
  const s = server.withTypeProvider<ZodTypeProvider>();
  s.get('/healthz', { schema: { tags: ['monitoring'], summary: 'the process answers', response: { 200: z.object({ ok: z.boolean() }) } } }, async () => ({ ok: true }));
  s.get('/readyz', {
    schema: {
      tags: ['monitoring'], summary: 'PostgreSQL and Redis answer (503 naming the one that does not)',
      response: { 200: z.object({ ok: z.boolean(), postgres: UpDown, redis: UpDown }), 503: z.object({ ok: z.boolean(), postgres: UpDown, redis: UpDown }) },
    },
  }, async (_req, reply) => {
    const check = async (p: () => Promise<unknown>) => {
      try {
        await Promise.race([p(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
        return 'up' as const;
      } catch {
        return 'down' as const;
      }
    };
    const [postgres, redis] = await Promise.all([check(() => ping(app.db)), check(() => app.redis.ping())]);
    const ok = postgres === 'up' && redis === 'up';
    return reply.code(ok ? 200 : 503).send({ ok, postgres, redis });
  });
}
