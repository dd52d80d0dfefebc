// Who is calling, and whether a browser could have been tricked into the call.
//
// API clients send `Authorization: Bearer <token>` (operator or vendor). A browser never sends
// such a header on its own, so a page on another origin cannot borrow it. Browsers sign in once
// (POST /api/v1/session with the token) and then hold a session cookie that is HttpOnly and
// SameSite=Strict; every write made with that cookie must also carry the session's CSRF token
// in X-CSRF-Token, which only a page of ours can read. HTTP Basic is not accepted anywhere: a
// browser replays Basic credentials to any page that asks, whoever's page started the request.
// Operator tokens never open vendor routes and vendor tokens never open operator ones.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/pool.ts';
import { operatorByToken, type Operator, type OperatorRole } from '../auth/operator-store.ts';
import { sessionOf, type Session } from '../auth/session-store.ts';

export const SESSION_COOKIE = 'nd_session';
export const CSRF_HEADER = 'x-csrf-token';

/** An answer only HTTP has (a status, headers, the request field at fault). */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  /** The request field at fault (body.vendor, querystring.encoding), when there is one. */
  readonly field?: string;
  constructor(statusCode: number, message: string, headers: Record<string, string> = {}, field?: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.headers = headers;
    this.field = field;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    operator?: Operator;
    session?: Session;
  }
}

/** The bearer token of a request, or null. */
export function tokenOf(req: FastifyRequest): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return bearer ? bearer[1] : null;
}

export const isSafeMethod = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="notice-dispatch"' };

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The operator behind a request: by bearer token, or by session cookie (a write with the cookie
 * needs the CSRF token too, unless `csrf: 'origin'` where the caller's own page cannot send it
 * and the same-origin check in the server's guard is what protects it). Null when neither.
 */
export async function operatorOf(db: Db, req: FastifyRequest, o: { now: Date; csrf?: 'token' | 'origin' } = { now: new Date() }): Promise<Operator | null> {
  if (/^Basic\s/i.test(req.headers.authorization ?? '')) {
    throw new HttpError(401, 'HTTP Basic is not accepted: send Authorization: Bearer <token>, or sign in at /signin in a browser', CHALLENGE);
  }
  const token = tokenOf(req);
  if (token) return operatorByToken(db, token, o.now);
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (!cookie) return null;
  const session = await sessionOf(db, cookie, o.now);
  if (!session) return null;
  if (!isSafeMethod(req.method) && (o.csrf ?? 'token') === 'token') {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
      throw new HttpError(403, `a write from a signed-in browser needs the session's CSRF token in the ${CSRF_HEADER} header`);
    }
  }
  req.session = session;
  return session.operator;
}

/** An onRequest hook: an operator with at least `role`, or 401 / 403. */
export function requireOperator(db: Db, role: OperatorRole, o: { now?: () => Date; csrf?: 'token' | 'origin' } = {}) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const op = await operatorOf(db, req, { now: o.now?.() ?? new Date(), csrf: o.csrf });
    if (!op) throw new HttpError(401, 'an operator token is required (Authorization: Bearer …; in a browser, sign in at /signin)', CHALLENGE);
    if (role === 'operator' && op.role !== 'operator') throw new HttpError(403, `operator ${op.name} is a viewer: this needs the operator role`);
    req.operator = op;
  };
}

/**
 * For a browser page: a viewer passes; a browser that is not signed in is sent to the sign-in page
 * (303), and back to `page` after it. An API client that sent a token that did not work gets its 401.
 */
export function viewerOrSignIn(db: Db, page: string) {
  const viewer = requireOperator(db, 'viewer');
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      await viewer(req, reply);
    } catch (err) {
      if (err instanceof HttpError && err.statusCode === 401 && !req.headers.authorization) return reply.redirect(`/signin?next=${page}`, 303); // page: one of our own paths
      throw err;
    }
  };
}
