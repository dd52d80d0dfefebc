// The printing vendor's API: list, manifest, files, ack (printed), mailed, returns. A vendor sees
// only its own batches (anything else is 404).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { fileInfo } from '../channels/post/file-store.ts';
import { BATCH_FILE_NAMES, sendBatchFile } from './batch-file.ts';
import { batchEvent } from '../channels/post/batch-store.ts';
import { ack, listBatches, mailed, ownBatch, returns, tracking, VendorError } from '../channels/post/vendor-actions.ts';
import { vendorByToken } from '../channels/post/vendor-store.ts';
import { enqueuePostal } from '../dispatch/enqueue.ts';
import { tokenOf } from './auth.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from './api-schemas.ts';

type Vendor = { id: number; name: string };
declare module 'fastify' {
  interface FastifyRequest {
    vendor?: Vendor;
  }
}


const LetterRefSchema = z.union([z.object({ notice_id: z.number() }), z.object({ notice_code: z.string() }), z.object({ batch_id: z.number(), seq: z.number() })]);
const V = { tags: ['vendor'], security: [{ vendorToken: [] }] };
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const BatchParams = z.object({ id: z.coerce.number().int().positive().describe('batch id') });
const Batch = z.object({
  id: z.number(), campaign_id: z.number(), status: z.enum(['ready', 'printed', 'mailed']), size: z.number().describe('letters'), exceptions: z.number().describe('letters that cannot be written in Shift_JIS (in exceptions.csv)'),
  closed_at: z.string().nullable(), printed_at: z.string().nullable(), mailed_at: z.string().nullable().describe('YYYY-MM-DD'),
});
const Manifest = z.object({
  batch_id: z.number(), campaign_id: z.number(), vendor_id: z.number(), count: z.number(), sjis_count: z.number(), exceptions: z.number(), created_at: z.string(),
  sort_key: z.array(z.string()).describe('rows are sorted by postal code (Japan Post presort)'),
  files: z.array(z.object({ name: z.string(), sha256: z.string(), bytes: z.number(), content_type: z.string() })),
  postal_data: z.object({ source: z.string(), commit: z.string(), data_date: z.string(), rows: z.number(), business_offices: z.number() }).optional().describe('the Japan Post postal-code data the addresses were checked against'),
  window_mm: z.object({ left: z.number(), top: z.number(), width: z.number(), height: z.number() }).optional().describe('the envelope window the letters are laid out for, mm from the sheet\'s top-left corner'),
  letter_classes: z.record(z.string(), z.string()).optional().describe('letter class per segment (普通 unless named; 特定記録: report a tracking number per letter)'),
  discount_estimate: z.object({
    letters: z.number(), barcoded: z.number(), per_kubun: z.record(z.string(), z.number()).describe('letters per 郵便区番号 (the code\'s first three digits)'),
    barcode_rate: z.number(), presort_rate: z.number(), postage_yen: z.number(), estimated_saving_yen: z.number(),
    rules: z.object({ letterPriceYen: z.number(), barcode: z.object({ rate: z.number(), minimum: z.number() }), presort: z.array(z.object({ from: z.number(), rate: z.number() })) }),
  }).optional().describe('an estimate of the barcode and pre-sort (区分) discounts, by the rules it shows: check them against the current tariff'),
}).meta({ id: 'Manifest' });

export function registerVendorRoutes(server: FastifyInstance, app: App): void {
  const vendorAuth = async (req: FastifyRequest) => {
    const token = tokenOf(req);
    const vendor = token ? await vendorByToken(app.db, token, app.clock.now()) : null;
    if (!vendor) throw new VendorError('unauthorized', 'a vendor token is required (Authorization: Bearer …)');
    req.vendor = vendor;
  };

  server.register(async (plain) => {
    plain.addHook('onRequest', vendorAuth);
    const v = plain.withTypeProvider<ZodTypeProvider>();
    v.get('/vendor/v1/batches', {
      schema: { ...V, summary: 'your batches', querystring: z.object({ status: z.enum(['ready', 'printed', 'mailed']).optional().describe('ready: to download and print') }), response: { 200: z.object({ batches: z.array(Batch) }), ...errors } },
    }, async (req) => {
      const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
      const rows = await listBatches(app.db, req.vendor!.id, req.query.status);
      return { batches: rows.map((b) => ({ ...b, closed_at: iso(b.closed_at), printed_at: iso(b.printed_at) })) };
    });
    v.get('/vendor/v1/batches/:id', {
      schema: { ...V, summary: 'a batch\'s manifest: counts and each file\'s sha256', params: BatchParams, response: { 200: Manifest, ...errors } },
    }, async (req) => (await ownBatch(app.db, req.vendor!.id, req.params.id)).manifest as z.infer<typeof Manifest>);
    v.get('/vendor/v1/batches/:id/files/:name', {
      schema: {
        ...V, summary: 'a file of a batch', description: 'letters.csv (UTF-8), letters.sjis.csv (CP932), exceptions.csv, letters.pdf (one page per letter), manifest.json. X-Content-SHA256 carries the checksum the manifest lists.',
        params: BatchParams.extend({ name: BATCH_FILE_NAMES }),
        produces: ['text/csv', 'application/pdf', 'application/json'], response: { 200: z.unknown().meta({ type: 'string', format: 'binary' }), ...errors },
      },
    }, async (req, reply) => {
      const { id, name } = req.params;
      await ownBatch(app.db, req.vendor!.id, id);
      const info = await fileInfo(app.db, id, name);
      if (!info) throw new VendorError('not_found', 'no such file');
      await batchEvent(app.db, id, req.vendor!.id, 'download', { file: name });
      return sendBatchFile(reply, app.db, id, info);
    });
    v.post('/vendor/v1/batches/:id/ack', {
      schema: { ...V, summary: 'the batch is printed', description: 'Safe to repeat: a second ack changes nothing.', params: BatchParams, response: { 200: z.object({ printed: z.number() }), ...errors } },
    }, async (req) => ack(app.db, req.vendor!.id, req.params.id));
    v.post('/vendor/v1/batches/:id/mailed', {
      schema: { ...V, summary: 'the batch is handed to the post', params: BatchParams, body: z.object({ mailed_at: z.string().describe('YYYY-MM-DD, the day it was posted') }), response: { 200: z.object({ mailed: z.number() }), ...errors } },
    }, async (req) => mailed(app.db, req.vendor!.id, req.params.id, req.body.mailed_at, app.clock.now()));
    v.post('/vendor/v1/returns', {
      schema: {
        ...V, summary: 'letters that came back',
        description: 'Name each letter by notice_id, by the notice code printed on it, or by batch_id and seq (the "No." in its footer). Each is re-mailed when its address was corrected since, or else the person is marked unreachable.',
        body: z.array(z.union([
          z.object({ notice_id: z.number().int().positive(), reason: z.string().min(1).max(300) }),
          z.object({ notice_code: z.string().min(4).max(40), reason: z.string().min(1).max(300) }),
          z.object({ batch_id: z.number().int().positive(), seq: z.number().int().positive(), reason: z.string().min(1).max(300) }),
        ])).max(10_000),
        response: { 200: z.object({ results: z.array(z.object({ notice_id: z.number().nullable(), outcome: z.enum(['remail', 'unreachable', 'not_found', 'not_mailed']), ref: LetterRefSchema })) }), ...errors },
      },
    }, async (req) => ({ results: await returns(app.db, req.vendor!.id, req.body, (n) => enqueuePostal(app.queues, n)) }));
    v.post('/vendor/v1/batches/:id/tracking', {
      schema: {
        ...V, summary: 'tracking numbers (特定記録), one per letter',
        description: 'Name each letter by seq (in this batch), notice_id or notice code. Reporting a number again changes nothing.',
        params: BatchParams,
        body: z.array(z.union([
          z.object({ seq: z.number().int().positive(), tracking_number: z.string().regex(/^[0-9A-Za-z-]{6,40}$/) }),
          z.object({ notice_id: z.number().int().positive(), tracking_number: z.string().regex(/^[0-9A-Za-z-]{6,40}$/) }),
          z.object({ notice_code: z.string().min(4).max(40), tracking_number: z.string().regex(/^[0-9A-Za-z-]{6,40}$/) }),
        ])).max(100_000),
        response: { 200: z.object({ results: z.array(z.object({ notice_id: z.number().nullable(), outcome: z.enum(['recorded', 'not_found']), ref: LetterRefSchema })) }), ...errors },
      },
    }, async (req) => ({ results: await tracking(app.db, req.vendor!.id, req.params.id, req.body) }));
  });
}
