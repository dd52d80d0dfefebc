// A print batch's file over HTTP, as the vendor and the console both serve it: streamed from
// PostgreSQL, with its length and the sha256 the manifest lists.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/pool.ts';
import type { StoredFile } from '../channels/post/file-store.ts';
import { readFile } from '../channels/post/file-store.ts';

export const BATCH_FILE_NAMES = z.enum(['letters.csv', 'letters.sjis.csv', 'letters.pdf', 'exceptions.csv', 'manifest.json']);

export function sendBatchFile(reply: FastifyReply, db: Db, batchId: number, info: StoredFile): FastifyReply {
  return reply
    .header('content-type', info.contentType)
    .header('content-length', String(info.bytes))
    .header('content-disposition', `attachment; filename="batch-${batchId}-${info.name}"`)
    .header('x-content-sha256', info.sha256)
    .send(Readable.from(readFile(db, batchId, info.name)));
}
