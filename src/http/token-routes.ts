// Tokens over the operator API (operator role): list, add, revoke and rotate operators' and
// vendors' tokens, as `notice operator|vendor …` does. New tokens are in the answer once.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';
import { addHolder, holderExists, listHolders, revokeHolder, rotateHolder, type TokenTable } from '../auth/token-store.ts';
import { HttpError, requireOperator } from './auth.ts';
import { ErrorBody } from './api-schemas.ts';

const S = { tags: ['operations'], security: [{ operatorToken: [] }] };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const Holder = z.object({ name: z.string(), role: z.string().optional(), status: z.enum(['active', 'expired', 'revoked']), created_at: z.string(), expires_at: z.string().nullable(), revoked_at: z.string().nullable(), rotated_at: z.string().nullable() });
const Expiry = z.iso.datetime({ offset: true }).nullish().describe('when the token stops working (ISO 8601); absent: never');
const Name = z.object({ name: z.string().min(1).max(200) });
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function registerTokenRoutes(server: FastifyInstance, app: App): void {
  const s = server.withTypeProvider<ZodTypeProvider>();
  const operator = requireOperator(app.db, 'operator', { now: () => app.clock.now() });
  const actor = (req: FastifyRequest) => `operator:${req.operator!.name}`;
  const future = (v: string | null | undefined) => {
    if (!v) return null;
    const d = new Date(v);
    if (d.getTime() <= app.clock.now().getTime()) throw new HttpError(400, 'expires_at is in the past', {}, 'body.expires_at');
    return d;
  };

  for (const [table, path, what] of [['operators', 'operators', 'operator'], ['vendors', 'vendors', 'vendor']] as Array<[TokenTable, string, string]>) {
    s.get(`/api/v1/${path}`, { onRequest: operator, schema: { ...S, summary: `every ${what} and its token's status (never the token)`, response: { 200: z.object({ [path]: z.array(Holder) }), ...errors } } }, async () => {
      const rows = await listHolders(app.db, table, app.clock.now());
      return { [path]: rows.map((r) => ({ name: r.name, ...(r.role ? { role: r.role } : {}), status: r.status, created_at: iso(r.created_at)!, expires_at: iso(r.expires_at), revoked_at: iso(r.revoked_at), rotated_at: iso(r.rotated_at) })) };
    });
    s.post(`/api/v1/${path}`, {
      onRequest: operator,
      schema: {
        ...S, summary: `add a ${what}; the token is in this answer only`,
        body: z.object({ name: z.string().trim().min(1).max(200), expires_at: Expiry, ...(table === 'operators' ? { role: z.enum(['viewer', 'operator']).default('viewer') } : {}) }),
        response: { 201: z.object({ name: z.string(), token: z.string() }), ...errors },
      },
    }, async (req, reply) => {
      const b = req.body as { name: string; expires_at?: string | null; role?: string };
      if (await holderExists(app.db, table, b.name)) throw new HttpError(409, `${what} "${b.name}" exists already (rotate gives a new token)`, {}, 'body.name');
      const { token } = await addHolder(app.db, table, b.name, { role: b.role, expiresAt: future(b.expires_at), actor: actor(req) });
      return reply.code(201).send({ name: b.name, token });
    });
    s.post(`/api/v1/${path}/:name/revoke`, { onRequest: operator, schema: { ...S, summary: `revoke a ${what}'s token now`, params: Name, response: { 200: z.object({ name: z.string(), revoked: z.boolean() }), ...errors } } }, async (req) => {
      if (!(await revokeHolder(app.db, table, req.params.name, { actor: actor(req), now: app.clock.now() }))) throw new HttpError(404, `no ${what} named "${req.params.name}"`);
      return { name: req.params.name, revoked: true };
    });
    s.post(`/api/v1/${path}/:name/rotate`, {
      onRequest: operator,
      schema: { ...S, summary: `a new token for a ${what} (in this answer only); the old one stops working now`, params: Name, body: z.object({ expires_at: Expiry }).nullish(), response: { 200: z.object({ name: z.string(), token: z.string() }), ...errors } },
    }, async (req) => {
      const token = await rotateHolder(app.db, table, req.params.name, { actor: actor(req), now: app.clock.now(), expiresAt: future(req.body?.expires_at) });
      if (!token) throw new HttpError(404, `no ${what} named "${req.params.name}"`);
      return { name: req.params.name, token };
    });
  }
}
