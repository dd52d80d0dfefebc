// Ops correct a person's postal address. Someone waiting in address_invalid goes back to the
// postal route; someone unreachable after a return gets their one re-mail.
import type { Db } from '../db/pool.ts';
import { getNotice, noteEvent } from '../db/notice-store.ts';
import { normalizePostalCode } from '../domain/recipient.ts';
import type { NoticeRef } from '../producer/enqueue.ts';
import { makeHandOff } from '../dispatch/hand-off.ts';

export interface AddressFields {
  postal_code?: string;
  prefecture?: string;
  city?: string;
  address_line1?: string;
  address_line2?: string;
  name?: string;
}

export class AddressFixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressFixError';
  }
}

export async function fixAddress(db: Db, noticeId: number, fields: AddressFields, enqueuePostal: (n: NoticeRef[]) => Promise<void>): Promise<{ state: string; requeued: boolean }> {
  const n = await getNotice(db, noticeId);
  if (!n) throw new AddressFixError(`notice ${noticeId} does not exist`);
  const changed = Object.entries(fields).filter(([, v]) => v !== undefined) as Array<[keyof AddressFields, string]>;
  if (!changed.length) throw new AddressFixError('give at least one field to change (--postal-code, --prefecture, --city, --line1, --line2, --name)');
  if (fields.postal_code !== undefined) {
    const p = normalizePostalCode(fields.postal_code);
    if (typeof p !== 'string' || p === 'invalid') throw new AddressFixError('postal code must be 7 digits');
    fields.postal_code = p;
  }
  const sets = changed.map(([k], i) => `${k} = $${i + 2}`);
  const moved = await makeHandOff(enqueuePostal).inTransaction(db, async (tx, toPost) => {
    const { rows } = await tx.query(
      `update notices set ${sets.join(', ')}, address_corrected_at = now(), address_error = null, updated_at = now() where id = $1 returning id, campaign_id, state, mailings`,
      [noticeId, ...changed.map(([k]) => fields[k])],
    );
    await noteEvent(tx, rows[0], 'postal', { note: 'address corrected', fields: changed.map(([k]) => k) });
    const fromStates = rows[0].mailings < 2 ? (['address_invalid', 'unreachable'] as const) : (['address_invalid'] as const);
    return toPost({ ids: [n.id], from: fromStates, reason: 'address_corrected' });
  });
  return { state: moved.length ? 'postal_queued' : n.state, requeued: moved.length > 0 };
}
