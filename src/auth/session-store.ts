// Browser sessions of operators: after one sign-in with a token, the browser holds an HttpOnly,
// SameSite=Strict cookie with a random id (only its sha256 is stored) and the page holds a CSRF
// token it sends back in X-CSRF-Token on every write. A session ends on sign-out, on expiry, and
// when its operator's token is revoked or rotated.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/notice-store.ts';
import { hashToken } from './token-store.ts';
import type { Operator } from './operator-store.ts';

export interface Session {
  id: number;
  operator: Operator;
  csrfToken: string;
  expiresAt: Date;
}

/** takes: operator id, lifetime; returns the cookie value (shown once) and the session. */
export async function startSession(db: Queryable, operator: Operator, o: { now: Date; ttlMs: number }): Promise<{ cookie: string; session: Session }> {
  const cookie = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(o.now.getTime() + o.ttlMs);
  const { rows } = await db.query(
    'insert into operator_sessions (operator_id, session_hash, csrf_token, created_at, expires_at) values ($1, $2, $3, $4, $5) returning id::int',
    [operator.id, hashToken(cookie), csrfToken, o.now, expiresAt],
  );
  return { cookie, session: { id: rows[0].id, operator, csrfToken, expiresAt } };
}

/** takes: cookie value, now; returns the live session with its operator (whose token is live too). */
export async function sessionOf(db: Queryable, cookie: string, now: Date): Promise<Session | null> {
  const { rows } = await db.query(
    `select s.id::int, s.csrf_token, s.expires_at, o.id::int as operator_id, o.name, o.role
     from operator_sessions s join operators o on o.id = s.operator_id
     where s.session_hash = $1 and s.ended_at is null and s.expires_at > $2
       and o.revoked_at is null and (o.expires_at is null or o.expires_at > $2)`,
    [hashToken(cookie), now],
  );
  const r = rows[0];
  return r ? { id: r.id, operator: { id: r.operator_id, name: r.name, role: r.role }, csrfToken: r.csrf_token, expiresAt: r.expires_at } : null;
}

export async function endSession(db: Queryable, id: number, now: Date): Promise<void> {
  await db.query('update operator_sessions set ended_at = $2 where id = $1 and ended_at is null', [id, now]);
}
