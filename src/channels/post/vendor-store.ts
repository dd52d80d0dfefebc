// Printing vendors and their bearer tokens. A token is shown once; only its sha256 is stored
// (src/auth/token-store.ts, which also revokes, rotates and expires them).
import type { Queryable } from '../../db/notice-store.ts';
import { addHolder, holderOfToken } from '../../auth/token-store.ts';

export async function addVendor(db: Queryable, name: string, o: { expiresAt?: Date | null; actor?: string } = {}): Promise<{ id: number; token: string }> {
  return addHolder(db, 'vendors', name, { expiresAt: o.expiresAt, actor: o.actor ?? 'cli' });
}

export async function vendorByToken(db: Queryable, token: string, now = new Date()): Promise<{ id: number; name: string } | null> {
  return holderOfToken(db, 'vendors', token, now);
}

export async function vendorByName(db: Queryable, name: string): Promise<{ id: number; name: string } | null> {
  const { rows } = await db.query('select id::int, name from vendors where name = $1', [name]);
  return rows[0] ?? null;
}

export async function vendorNameOf(db: Queryable, id: number | null): Promise<string | null> {
  if (id === null) return null;
  const { rows } = await db.query('select name from vendors where id = $1', [id]);
  return rows[0]?.name ?? null;
}
