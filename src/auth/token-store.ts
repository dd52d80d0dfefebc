// Bearer tokens of operators and printing vendors: shown once, stored as sha256, and able to be
// listed, revoked, rotated and given an expiry. Every lookup reads PostgreSQL, so a revoked or
// expired token is refused at once by every `notice serve`. Changes land in admin_events.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/notice-store.ts';

export type TokenTable = 'operators' | 'vendors';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const PREFIX: Record<TokenTable, string> = { operators: 'no_', vendors: 'nv_' };
const newToken = (table: TokenTable) => `${PREFIX[table]}${randomBytes(24).toString('base64url')}`;

export interface TokenHolder {
  id: number;
  name: string;
  role?: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  rotated_at: Date | null;
  status: 'active' | 'expired' | 'revoked';
}

/** takes: table, token; returns the holder when the token is live (not revoked, not expired). */
export async function holderOfToken(db: Queryable, table: TokenTable, token: string, now: Date): Promise<{ id: number; name: string; role?: string } | null> {
  const { rows } = await db.query(
    `select id::int, name${table === 'operators' ? ', role' : ''} from ${table}
     where token_hash = $1 and revoked_at is null and (expires_at is null or expires_at > $2)`,
    [hashToken(token), now],
  );
  return rows[0] ?? null;
}

export async function addHolder(db: Queryable, table: TokenTable, name: string, o: { role?: string; expiresAt?: Date | null; actor: string }): Promise<{ id: number; token: string }> {
  const token = newToken(table);
  const { rows } = table === 'operators'
    ? await db.query('insert into operators (name, role, token_hash, expires_at) values ($1, $2, $3, $4) returning id::int', [name, o.role, hashToken(token), o.expiresAt ?? null])
    : await db.query('insert into vendors (name, token_hash, expires_at) values ($1, $2, $3) returning id::int', [name, hashToken(token), o.expiresAt ?? null]);
  await adminEvent(db, o.actor, `${table === 'operators' ? 'operator' : 'vendor'}.add`, name, { role: o.role ?? null, expires_at: o.expiresAt ?? null });
  return { id: rows[0].id, token };
}

export async function holderExists(db: Queryable, table: TokenTable, name: string): Promise<boolean> {
  const { rows } = await db.query(`select 1 from ${table} where name = $1`, [name]);
  return rows.length > 0;
}

/** takes: table, now; returns every holder with its token's status (no tokens: those are not kept). */
export async function listHolders(db: Queryable, table: TokenTable, now: Date): Promise<TokenHolder[]> {
  const { rows } = await db.query(
    `select id::int, name${table === 'operators' ? ', role' : ''}, created_at, expires_at, revoked_at, rotated_at,
            case when revoked_at is not null then 'revoked' when expires_at is not null and expires_at <= $1 then 'expired' else 'active' end as status
     from ${table} order by name`,
    [now],
  );
  return rows as TokenHolder[];
}

/** Revokes the token (and, for operators, every browser session). Returns false when there is no such name. */
export async function revokeHolder(db: Queryable, table: TokenTable, name: string, o: { actor: string; now: Date }): Promise<boolean> {
  const { rows } = await db.query(`update ${table} set revoked_at = coalesce(revoked_at, $2) where name = $1 returning id::int`, [name, o.now]);
  if (!rows[0]) return false;
  if (table === 'operators') await db.query('update operator_sessions set ended_at = $2 where operator_id = $1 and ended_at is null', [rows[0].id, o.now]);
  await adminEvent(db, o.actor, `${table === 'operators' ? 'operator' : 'vendor'}.revoke`, name, {});
  return true;
}

/** A new token for the name; the old one stops working now (sessions too). Null when there is no such name. */
export async function rotateHolder(db: Queryable, table: TokenTable, name: string, o: { actor: string; now: Date; expiresAt?: Date | null }): Promise<string | null> {
  const token = newToken(table);
  const { rows } = await db.query(
    `update ${table} set token_hash = $2, rotated_at = $3, revoked_at = null, expires_at = $4 where name = $1 returning id::int`,
    [name, hashToken(token), o.now, o.expiresAt ?? null],
  );
  if (!rows[0]) return null;
  if (table === 'operators') await db.query('update operator_sessions set ended_at = $2 where operator_id = $1 and ended_at is null', [rows[0].id, o.now]);
  await adminEvent(db, o.actor, `${table === 'operators' ? 'operator' : 'vendor'}.rotate`, name, { expires_at: o.expiresAt ?? null });
  return token;
}

/** One row of the administrative ledger (append-only): tokens, queue UI actions. */
export async function adminEvent(db: Queryable, actor: string, verb: string, subject: string, detail: Record<string, unknown>): Promise<void> {
  await db.query('insert into admin_events (actor, verb, subject, detail) values ($1, $2, $3, $4)', [actor, verb, subject, JSON.stringify(detail)]);
}

export async function adminEvents(db: Queryable, limit: number): Promise<Array<{ at: Date; actor: string; verb: string; subject: string; detail: unknown }>> {
  const { rows } = await db.query('select at, actor, verb, subject, detail from admin_events order by id desc limit $1', [limit]);
  return rows;
}
