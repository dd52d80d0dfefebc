// `notice serve`: health, the vendor API and the SES webhook (fastify).
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { App } from '../app.ts';
import { SnsError, type SnsVerifier } from '../bounces/sns.ts';
import { parseSesMessage } from '../domain/ses-event.ts';
import { fileInfo, readFile } from '../postal/file-store.ts';
import { batchEvent } from '../postal/batch-store.ts';
import { ack, listBatches, mailed, ownBatch, returns, VendorError } from '../postal/vendor-actions.ts';
import { vendorByToken } from '../postal/vendor-store.ts';
import { enqueuePostal } from '../producer/enqueue.ts';
import { makeBounceAcceptor } from '../bounces/accept-bounce.ts';
import { noticeByProviderMessageId } from '../db/notice-store.ts';

export interface ServerDeps {
  app: App;
  sns: SnsVerifier;
  /** GET a URL (SNS SubscribeURL); injectable for tests. */
  confirmSubscription: (url: string) => Promise<void>;
}

type Vendor = { id: number; name: string };
declare module 'fastify' {
  interface FastifyRequest {
    vendor?: Vendor;
  }
}

const FILE_NAMES = new Set(['letters.csv', 'letters.sjis.csv', 'letters.pdf', 'exceptions.csv', 'manifest.json']);

export async function buildServer(d: ServerDeps): Promise<FastifyInstance> {
  const { app } = d;
  const server = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  // SNS posts JSON with Content-Type text/plain.
  server.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('body is not JSON'), { statusCode: 400 }), undefined);
    }
  });
  server.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err instanceof VendorError || err instanceof SnsError ? err.statusCode : (err.statusCode ?? 500);
    if (status >= 500) app.log.error({ err: err.message }, 'http error');
    void reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  server.get('/healthz', async () => ({ ok: true }));
  // Which dependency is down, never its error text (which may name hosts, users or addresses).
  server.get('/readyz', async (_req, reply) => {
    const check = async (p: () => Promise<unknown>) => {
      try {
        await Promise.race([p(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
        return 'up';
      } catch {
        return 'down';
      }
    };
    const [postgres, redis] = await Promise.all([check(() => app.db.query('select 1')), check(() => app.redis.ping())]);
    const ok = postgres === 'up' && redis === 'up';
    return reply.code(ok ? 200 : 503).send({ ok, postgres, redis });
  });

  // --- vendor API -------------------------------------------------------------------------
  const vendorAuth = async (req: FastifyRequest) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const vendor = m ? await vendorByToken(app.db, m[1]) : null;
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

  // --- SES via SNS ------------------------------------------------------------------------
  const accept = makeBounceAcceptor(app);
  server.post('/webhooks/ses', async (req, reply) => {
    const m = await d.sns.verify(req.body);
    if (m.Type === 'SubscriptionConfirmation') {
      if (!m.SubscribeURL) throw new SnsError(400, 'no SubscribeURL');
      await d.confirmSubscription(m.SubscribeURL);
      app.log.info({ topic: m.TopicArn }, 'SNS subscription confirmed');
      return reply.code(200).send({ confirmed: true });
    }
    if (m.Type !== 'Notification') return { ignored: m.Type };
    let applied = 0;
    let duplicates = 0;
    let unmatched = 0;
    for (const e of parseSesMessage(m.Message, m.MessageId)) {
      const noticeId = (e.sesMessageId ? await noticeByProviderMessageId(app.db, e.sesMessageId) : null) ?? e.noticeIdHeader;
      if (!noticeId) unmatched++;
      const fresh = await accept({ noticeId: noticeId ?? null, source: 'ses', class: e.class, action: e.action, status: e.status, diagnostic: e.diagnostic, dedupeKey: e.dedupeKey });
      if (fresh) applied++;
      else duplicates++;
    }
    if (unmatched) app.log.warn({ unmatched, snsMessageId: m.MessageId }, 'SES event for no notice of ours; recorded, not applied');
    return { accepted: applied, duplicates, unmatched };
  });

  return server;
}
