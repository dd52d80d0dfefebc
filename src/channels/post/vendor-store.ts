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

/** A window in millimetres from the sheet's top-left corner (the sheet as it sits in the envelope). */
export interface WindowMm {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** takes: vendor id; returns: its envelope window, or null (the default). */
export async function vendorWindow(db: Queryable, id: number | null): Promise<WindowMm | null> {
  if (id === null) return null;
  const { rows } = await db.query('select window_mm from vendors where id = $1', [id]);
  return rows[0]?.window_mm ?? null;
}

/** takes: vendor id, its window (null: back to the default). */
export async function setVendorWindow(db: Queryable, id: number, w: WindowMm | null): Promise<void> {
  await db.query('update vendors set window_mm = $2 where id = $1', [id, w === null ? null : JSON.stringify(w)]);
}
