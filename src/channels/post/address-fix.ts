// Ops correct a person's postal address. Someone waiting in address_invalid goes back to the
// postal route; someone unreachable after a return gets their one re-mail.
import { PermanentError } from '../../domain/errors.ts';
import type { Db } from '../../db/pool.ts';
import { correctAddress, getNotice, noteEvent } from '../../db/notice-store.ts';
import { normalizePostalCode } from '../../domain/recipient.ts';
import type { NoticeRef } from '../../dispatch/enqueue.ts';
import { makeHandOff } from '../../dispatch/hand-off.ts';

export interface AddressFields {
  postal_code?: string;
  prefecture?: string;
  city?: string;
  address_line1?: string;
  address_line2?: string;
  name?: string;
}

export class AddressFixError extends PermanentError {
  constructor(message: string, code: 'invalid' | 'not_found' = 'invalid') {
    super(code, message);
  }
}

export async function fixAddress(db: Db, noticeId: number, fields: AddressFields, enqueuePostal: (n: NoticeRef[]) => Promise<void>): Promise<{ state: string; requeued: boolean }> {
  const n = await getNotice(db, noticeId);
  if (!n) throw new AddressFixError(`notice ${noticeId} does not exist`, 'not_found');
  const changed = Object.entries(fields).filter(([, v]) => v !== undefined) as Array<[keyof AddressFields, string]>;
  if (!changed.length) throw new AddressFixError('give at least one field to change (--postal-code, --prefecture, --city, --line1, --line2, --name)');
  if (fields.postal_code !== undefined) {
    const p = normalizePostalCode(fields.postal_code);
    if (typeof p !== 'string' || p === 'invalid') throw new AddressFixError('postal code must be 7 digits');
    fields.postal_code = p;
  }
  const moved = await makeHandOff(enqueuePostal).inTransaction(db, async (tx, toPost) => {
    const row = await correctAddress(tx, noticeId, changed.map(([k]) => [k, fields[k]!]));
    await noteEvent(tx, row, 'postal', { note: 'address corrected', fields: changed.map(([k]) => k) });
    const fromStates = row.mailings < 2 ? (['address_invalid', 'unreachable'] as const) : (['address_invalid'] as const);
    return toPost({ ids: [n.id], from: fromStates, reason: 'address_corrected' });
  });
  return { state: moved.length ? 'postal_queued' : n.state, requeued: moved.length > 0 };
}
