// Operators and their bearer tokens (ops API, dashboard, queue UI). A token is shown once; only
// its sha256 is stored (src/auth/token-store.ts, which also revokes, rotates and expires them).
// A viewer reads; an operator also steers.
import type { Queryable } from '../db/notice-store.ts';
import { addHolder, holderOfToken } from './token-store.ts';

export type OperatorRole = 'viewer' | 'operator';

export interface Operator {
  id: number;
  name: string;
  role: OperatorRole;
}

export async function addOperator(db: Queryable, name: string, role: OperatorRole, o: { expiresAt?: Date | null; actor?: string } = {}): Promise<Operator & { token: string }> {
  const { id, token } = await addHolder(db, 'operators', name, { role, expiresAt: o.expiresAt, actor: o.actor ?? 'cli' });
  return { id, name, role, token };
}

export async function operatorByToken(db: Queryable, token: string, now = new Date()): Promise<Operator | null> {
  return (await holderOfToken(db, 'operators', token, now)) as Operator | null;
}

export async function operatorByName(db: Queryable, name: string): Promise<Operator | null> {
  const { rows } = await db.query('select id::int, name, role from operators where name = $1', [name]);
  return (rows[0] as Operator) ?? null;
}
