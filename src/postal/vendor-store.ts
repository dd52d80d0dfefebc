// Printing vendors and their bearer tokens. A token is shown once; only its sha256 is stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/notice-store.ts';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export async function addVendor(db: Queryable, name: string): Promise<{ id: number; token: string }> {
  const token = `nv_${randomBytes(24).toString('base64url')}`;
  const { rows } = await db.query('insert into vendors (name, token_hash) values ($1, $2) returning id', [name, hashToken(token)]);
  return { id: rows[0].id, token };
}

export async function vendorByToken(db: Queryable, token: string): Promise<{ id: number; name: string } | null> {
  const { rows } = await db.query('select id, name from vendors where token_hash = $1', [hashToken(token)]);
  return rows[0] ?? null;
}

export async function vendorByName(db: Queryable, name: string): Promise<{ id: number; name: string } | null> {
  const { rows } = await db.query('select id, name from vendors where name = $1', [name]);
  return rows[0] ?? null;
}
