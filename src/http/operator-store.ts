// Operators and their bearer tokens (ops API, dashboard, queue UI). A token is shown once; only
// its sha256 is stored. A viewer reads; an operator also steers.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/notice-store.ts';
import { hashToken } from '../postal/vendor-store.ts';

export type OperatorRole = 'viewer' | 'operator';

export interface Operator {
  id: number;
  name: string;
  role: OperatorRole;
}

export async function addOperator(db: Queryable, name: string, role: OperatorRole): Promise<Operator & { token: string }> {
  const token = `no_${randomBytes(24).toString('base64url')}`;
  const { rows } = await db.query('insert into operators (name, role, token_hash) values ($1, $2, $3) returning id', [name, role, hashToken(token)]);
  return { id: rows[0].id, name, role, token };
}

export async function operatorByToken(db: Queryable, token: string): Promise<Operator | null> {
  const { rows } = await db.query('select id, name, role from operators where token_hash = $1', [hashToken(token)]);
  return (rows[0] as Operator) ?? null;
}

export async function operatorByName(db: Queryable, name: string): Promise<Operator | null> {
  const { rows } = await db.query('select id, name, role from operators where name = $1', [name]);
  return (rows[0] as Operator) ?? null;
}
