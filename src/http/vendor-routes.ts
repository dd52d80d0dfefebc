// The printing vendor's API: list, manifest, files, ack (printed), mailed, returns. A vendor sees
// only its own batches (anything else is 404).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { App } from '../app.ts';
import { fileInfo, readFile } from '../postal/file-store.ts';
import { batchEvent } from '../postal/batch-store.ts';
import { ack, listBatches, mailed, ownBatch, returns, VendorError } from '../postal/vendor-actions.ts';
import { vendorByToken } from '../postal/vendor-store.ts';
import { enqueuePostal } from '../producer/enqueue.ts';
import { tokenOf } from './auth.ts';

type Vendor = { id: number; name: string };
declare module 'fastify' {
  interface FastifyRequest {
    vendor?: Vendor;
  }
}

const FILE_NAMES = new Set(['letters.csv', 'letters.sjis.csv', 'letters.pdf', 'exceptions.csv', 'manifest.json']);

export function registerVendorRoutes(server: FastifyInstance, app: App): void {
  const vendorAuth = async (req: FastifyRequest) => {
    const token = tokenOf(req);
    const vendor = token ? await vendorByToken(app.db, token) : null;
    if (!vendor) throw new VendorError(401, 'a vendor token is required (Authorization: Bearer …)');
    req.vendor = vendor;
  };
  const batchId = (req: FastifyRequest) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isInteger(id) || id <= 0) throw new VendorError(404, 'no such batch');
    return id;
  };

  server.register(async (v) => {
    v.addHook('onRequest', vendorAuth);
    v.get('/vendor/v1/batches', async (req) => {
      const status = (req.query as { status?: string }).status;
      if (status && !['ready', 'printed', 'mailed'].includes(status)) throw new VendorError(400, 'status is one of ready, printed, mailed');
      return { batches: await listBatches(app.db, req.vendor!.id, status) };
    });
    v.get('/vendor/v1/batches/:id', async (req) => {
      const b = await ownBatch(app.db, req.vendor!.id, batchId(req));
      return b.manifest;
    });
    v.get('/vendor/v1/batches/:id/files/:name', async (req, reply) => {
      const id = batchId(req);
      await ownBatch(app.db, req.vendor!.id, id);
      const name = (req.params as { name: string }).name;
      const info = FILE_NAMES.has(name) ? await fileInfo(app.db, id, name) : null;
      if (!info) throw new VendorError(404, 'no such file');
      await batchEvent(app.db, id, req.vendor!.id, 'download', { file: name });
      return reply
        .header('content-type', info.contentType)
        .header('content-length', String(info.bytes))
        .header('content-disposition', `attachment; filename="batch-${id}-${name}"`)
        .header('x-content-sha256', info.sha256)
        .send(Readable.from(readFile(app.db, id, name)));
    });
    v.post('/vendor/v1/batches/:id/ack', async (req) => ack(app.db, req.vendor!.id, batchId(req)));
    v.post('/vendor/v1/batches/:id/mailed', async (req) => {
      const body = (req.body ?? {}) as { mailed_at?: unknown };
      if (typeof body.mailed_at !== 'string') throw new VendorError(400, 'mailed_at (YYYY-MM-DD) is required');
      return mailed(app.db, req.vendor!.id, batchId(req), body.mailed_at);
    });
    v.post('/vendor/v1/returns', async (req) => {
      const items = req.body as Array<{ notice_id?: unknown; reason?: unknown }>;
      if (!Array.isArray(items) || !items.every((i) => Number.isInteger(i?.notice_id) && typeof i?.reason === 'string')) {
        throw new VendorError(400, 'body is a list of {notice_id, reason}');
      }
      const results = await returns(app.db, req.vendor!.id, items as Array<{ notice_id: number; reason: string }>, (n) => enqueuePostal(app.queues, n));
      return { results };
    });
  });
}
