// Who is calling: an operator (viewer or operator role) or a printing vendor, by bearer token.
// Browsers get the same tokens through HTTP Basic (any user name, the token as the password), so
// the dashboard and the queue UI work in a plain browser tab. Operator tokens never open vendor
// routes and vendor tokens never open operator ones.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/pool.ts';
import { operatorByToken, type Operator, type OperatorRole } from './operator-store.ts';
import { StatusError } from '../errors.ts';

export class HttpError extends StatusError {
  readonly headers: Record<string, string>;
  /** The request field at fault (body.vendor, querystring.encoding), when there is one. */
  readonly field?: string;
  constructor(statusCode: number, message: string, headers: Record<string, string> = {}, field?: string) {
    super(statusCode, message, 'HttpError');
    this.headers = headers;
    this.field = field;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    operator?: Operator;
  }
}

/** The token of a request: `Authorization: Bearer T`, or Basic with T as the password. */
export function tokenOf(req: FastifyRequest): string | null {
  const h = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(h);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) || null : null;
  }
  return null;
}

const REALM = { 'www-authenticate': 'Basic realm="notice-dispatch operators", charset="UTF-8"' };

/** A preHandler: an operator token with at least `role`, or 401 / 403. */
export function requireOperator(db: Db, role: OperatorRole) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = tokenOf(req);
    const op = token ? await operatorByToken(db, token) : null;
    if (!op) throw new HttpError(401, 'an operator token is required (Authorization: Bearer …; in a browser, the token as the password)', REALM);
    if (role === 'operator' && op.role !== 'operator') throw new HttpError(403, `operator ${op.name} is a viewer: this needs the operator role`);
    req.operator = op;
  };
}
