// Browser sign-in for operators: GET /signin (the page), POST /api/v1/session (token → session
// cookie, HttpOnly + SameSite=Strict, and the CSRF token the page sends back on writes),
// GET /api/v1/session (who am I, and the CSRF token), DELETE /api/v1/session (sign out).
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';
import { endSession, startSession } from '../auth/session-store.ts';
import { adminEvent } from '../auth/token-store.ts';
import { HttpError, requireOperator, SESSION_COOKIE, tokenOf } from './auth.ts';
import { operatorByToken } from '../auth/operator-store.ts';
import { ErrorBody } from './api-schemas.ts';

const asset = (p: string) => readFileSync(new URL(p, import.meta.url));
const PAGE = asset('./signin/index.html');
const ASSETS: Record<string, { body: Buffer; type: string }> = {
  'signin.js': { body: asset('./signin/signin.js'), type: 'text/javascript; charset=utf-8' },
  'signin.css': { body: asset('./signin/signin.css'), type: 'text/css; charset=utf-8' },
};

const SessionBody = z.object({ operator: z.string(), role: z.enum(['viewer', 'operator']), csrf_token: z.string().describe('send it back in X-CSRF-Token on every write'), expires_at: z.string() });
const S = { tags: ['operations'] };

export function registerSessionRoutes(server: FastifyInstance, app: App): void {
  const s = server.withTypeProvider<ZodTypeProvider>();
  const now = () => app.clock.now();
  const ttlMs = app.config.SESSION_TTL_MS;

  s.get('/signin', { schema: { ...S, summary: 'the sign-in page for browsers', produces: ['text/html'], response: { 200: z.unknown().meta({ type: 'string' }) } } }, async (_req, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE));
  s.get('/signin/:asset', { schema: { ...S, summary: 'the sign-in page\'s script and style', params: z.object({ asset: z.string() }), response: { 200: z.unknown().meta({ type: 'string' }), 404: ErrorBody } } }, async (req, reply) => {
    const a = ASSETS[req.params.asset];
    if (!a) throw new HttpError(404, 'no such file');
    return reply.header('content-type', a.type).send(a.body);
  });

  s.post('/api/v1/session', {
    schema: { ...S, summary: 'sign in a browser with an operator token', description: 'Sets an HttpOnly, SameSite=Strict session cookie; writes made with it need the returned csrf_token in X-CSRF-Token. API clients do not need this: they send the token as a Bearer header.', body: z.object({ token: z.string().min(1).max(200) }), response: { 200: SessionBody, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody } },
  }, async (req, reply) => {
    const op = await operatorByToken(app.db, req.body.token, now());
    if (!op) throw new HttpError(401, 'that token is not a live operator token (unknown, revoked or expired)');
    const { cookie, session } = await startSession(app.db, op, { now: now(), ttlMs });
    await adminEvent(app.db, `operator:${op.name}`, 'session.start', op.name, { session: session.id });
    void reply.setCookie(SESSION_COOKIE, cookie, { httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https', path: '/', maxAge: Math.floor(ttlMs / 1000) });
    return { operator: op.name, role: op.role, csrf_token: session.csrfToken, expires_at: session.expiresAt.toISOString() };
  });

  const viewer = requireOperator(app.db, 'viewer', { now });
  s.get('/api/v1/session', {
    onRequest: viewer,
    schema: { ...S, summary: 'the signed-in operator and the session\'s CSRF token', response: { 200: SessionBody, 401: ErrorBody } },
  }, async (req) => {
    if (!req.session) throw new HttpError(400, 'this request carries a bearer token, not a session');
    return { operator: req.operator!.name, role: req.operator!.role, csrf_token: req.session.csrfToken, expires_at: req.session.expiresAt.toISOString() };
  });

  s.delete('/api/v1/session', {
    onRequest: viewer,
    schema: { ...S, summary: 'sign out (ends the session)', response: { 200: z.object({ signed_out: z.boolean() }), 401: ErrorBody, 403: ErrorBody } },
  }, async (req, reply) => {
    if (tokenOf(req) || !req.session) return { signed_out: false };
    await endSession(app.db, req.session.id, now());
    await adminEvent(app.db, `operator:${req.operator!.name}`, 'session.end', req.operator!.name, { session: req.session.id });
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { signed_out: true };
  });
}
