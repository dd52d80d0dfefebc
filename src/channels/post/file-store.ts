// Batch files live in Postgres, in 1 MB chunks: any API process on any machine can stream them,
// and no file has to fit in memory.
import { createHash } from 'node:crypto';
import type { Db } from '../../db/pool.ts';
import type { Queryable } from '../../db/notice-store.ts';

const CHUNK_BYTES = 1024 * 1024;

export interface StoredFile {
  name: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

export function makeFileWriter(db: Queryable, batchId: number, name: string, contentType: string) {
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let bytes = 0;
  const flush = async () => {
    if (!pendingBytes) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await db.query('insert into batch_file_chunks (batch_id, name, seq, data) values ($1, $2, $3, $4)', [batchId, name, seq++, data]);
  };
  return {
    async write(chunk: Buffer | string): Promise<void> {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      hash.update(b);
      bytes += b.length;
      pending.push(b);
      pendingBytes += b.length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    },
    async end(): Promise<StoredFile> {
      await flush();
      const file = { name, sha256: hash.digest('hex'), bytes, contentType };
      await db.query('insert into batch_files (batch_id, name, sha256, bytes, content_type) values ($1, $2, $3, $4, $5)', [batchId, name, file.sha256, bytes, contentType]);
      return file;
    },
  };
}
export type FileWriter = ReturnType<typeof makeFileWriter>;

export async function dropFiles(db: Queryable, batchId: number): Promise<void> {
  await db.query('delete from batch_file_chunks where batch_id = $1', [batchId]);
  await db.query('delete from batch_files where batch_id = $1', [batchId]);
}

export async function fileInfo(db: Queryable, batchId: number, name: string): Promise<StoredFile | null> {
  const { rows } = await db.query('select name, sha256, bytes, content_type as "contentType" from batch_files where batch_id = $1 and name = $2', [batchId, name]);
  return (rows[0] as StoredFile) ?? null;
}

/** The file's bytes, chunk by chunk. */
export async function* readFile(db: Db, batchId: number, name: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const { rows } = await db.query('select data from batch_file_chunks where batch_id = $1 and name = $2 and seq = $3', [batchId, name, seq]);
    if (!rows[0]) return;
    yield rows[0].data as Buffer;
  }
}
