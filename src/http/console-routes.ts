// The operations console (/console): a browser front end to the operator API, in Japanese and
// English, for operations and legal staff. Sign in once (/signin: an HttpOnly, SameSite=Strict
// session and a CSRF token); viewers see it read-only. The page is Preact + htm (htm's standalone
// build, served from node_modules: no CDN), one script of ours. Everything it does is the API's:
// this file adds what the console needs and the API lacked (the campaign list with progress,
// people who need a hand, paged; fixing an address; batches, closing one, their files), each
// write in the campaign ledger as operator:NAME.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';
import { campaignStatus, statusFrom } from '../campaigns/status.ts';
import { getCampaign, listCampaignRows, noteCampaignEvent, setCampaignDeadline, setCampaignVendor } from '../db/campaign-store.ts';
import { vendorByName } from '../channels/post/vendor-store.ts';
import { listBounces } from '../bounces/bounce-store.ts';
import { isCalendarDate } from '../domain/deadline.ts';
import { catchUpCounts, countsByCampaign } from '../db/counts-store.ts';
import { getNotice } from '../db/notice-store.ts';
import { fixAddress, AddressFixError } from '../channels/post/address-fix.ts';
import { closeBatch } from '../channels/post/close-batch.ts';
import { getBatch, batchesToClose } from '../channels/post/batch-store.ts';
import { fileInfo } from '../channels/post/file-store.ts';
import { BATCH_FILE_NAMES, sendBatchFile } from './batch-file.ts';
import { enqueuePostal } from '../dispatch/enqueue.ts';
import { HttpError, requireOperator, viewerOrSignIn } from './auth.ts';
import { ErrorBody, errors, Id, OPS, SECURITY } from './api-schemas.ts';
import { attentionPage, campaignBatches } from './console-store.ts';

const here = (p: string) => new URL(p, import.meta.url);
const ASSETS: Record<string, { file: URL | string; type: string }> = {
  'app.js': { file: here('./console/app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { file: here('./console/app.css'), type: 'text/css; charset=utf-8' },
  // Preact, its hooks and htm in one file (htm's standalone build), as npm installed it.
  'preact.js': { file: fileURLToPath(import.meta.resolve('htm/preact/standalone')), type: 'text/javascript; charset=utf-8' },
};
/** The share of people settled (no email work open), in %, one decimal. */
const progressOf = (st: { total: number; open: number }) => (st.total ? Math.round((1000 * (st.total - st.open)) / st.total) / 10 : 0);

const loaded = new Map<string, Buffer>();
const body = (name: string) => {
  let b = loaded.get(name);
  if (!b) loaded.set(name, (b = readFileSync(ASSETS[name].file)));
  return b;
};


export function registerConsoleRoutes(server: FastifyInstance, app: App): void {
  const viewer = requireOperator(app.db, 'viewer');
  const operator = requireOperator(app.db, 'operator');
  const actor = (req: FastifyRequest) => `operator:${req.operator!.name}`;
  const s = server.withTypeProvider<ZodTypeProvider>();

  s.get('/console', { onRequest: viewerOrSignIn(app.db, '/console'), schema: { tags: OPS, summary: 'the operations console (a page for operators and viewers; Japanese and English); not signed in: 303 to /signin', produces: ['text/html'], response: { 200: z.unknown().meta({ type: 'string' }), 303: z.unknown().meta({ type: 'string' }) } } }, async (_req, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(here('./console/index.html'))));
  s.get('/console/:asset', { onRequest: viewer, schema: { tags: OPS, summary: 'the console\'s script, style and library', params: z.object({ asset: z.string() }), response: { 200: z.unknown().meta({ type: 'string' }), 404: ErrorBody } } }, async (req, reply) => {
    if (!ASSETS[req.params.asset]) throw new HttpError(404, 'no such file');
    return reply.header('content-type', ASSETS[req.params.asset].type).header('cache-control', 'no-cache').send(body(req.params.asset));
  });

  s.get('/api/v1/console/campaigns', {
    onRequest: viewer,
    schema: {
      tags: OPS, security: SECURITY, summary: 'campaigns with their progress: state (completed too), %, rate, ETA (quiet hours and caps known), deadline, what waits and why',
      description: 'Counts are the ones kept from the ledger (a moment behind, cheap at a million people).',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.object({ campaigns: z.array(z.looseObject({ id: z.number(), state: z.string() })) }), ...errors },
    },
  }, async (req) => {
    await catchUpCounts(app.db);
    const rows = await listCampaignRows(app.db, req.query.limit);
    const counts = await countsByCampaign(app.db, rows.map((r) => r.id));
    const now = app.clock.now();
    const campaigns = [];
    for (const c of rows) {
      const st = await statusFrom(app.db, c, counts.get(c.id)!, now);
      campaigns.push({ ...st, created_at: new Date(c.created_at as unknown as string).toISOString(), progress: progressOf(st) });
    }
    return { campaigns };
  });

  s.get('/api/v1/campaigns/:id/attention', {
    onRequest: viewer,
    schema: {
      tags: OPS, security: SECURITY, summary: 'the people who need a hand, a page at a time: address_invalid (with the reason), needs_review, returned, unreachable',
      description: 'Viewers get ids and states only (a notice code is proof for its person, a reason quotes the address); operators everything.',
      params: Id,
      querystring: z.object({ kind: z.enum(['address_invalid', 'needs_review', 'returned', 'unreachable']), after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.object({ people: z.array(z.looseObject({ notice_id: z.number() })), next: z.number().nullable() }), ...errors },
    },
  }, async (req) => {
    if (!(await getCampaign(app.db, req.params.id))) throw new HttpError(404, `campaign ${req.params.id} does not exist`);
    const rows = await attentionPage(app.db, req.params.id, req.query.kind, req.query.after, req.query.limit);
    const people = req.operator!.role === 'operator' ? rows : rows.map((r) => ({ notice_id: r.notice_id, state: r.state }));
    return { people, next: rows.length === req.query.limit ? rows.at(-1)!.notice_id : null };
  });

  s.post('/api/v1/notices/:id/address', {
    onRequest: operator,
    schema: {
      tags: OPS, security: SECURITY, summary: 'correct a person\'s postal address (someone in address_invalid goes back on the postal route)',
      params: Id,
      body: z.object({ postal_code: z.string().max(20).optional(), prefecture: z.string().max(20).optional(), city: z.string().max(100).optional(), address_line1: z.string().max(200).optional(), address_line2: z.string().max(200).optional() }),
      response: { 200: z.object({ state: z.string(), requeued: z.boolean() }), ...errors },
    },
  }, async (req) => {
    const n = await getNotice(app.db, req.params.id);
    if (!n) throw new HttpError(404, `notice ${req.params.id} does not exist`);
    try {
      const r = await fixAddress(app.db, n.id, { ...req.body }, (x) => enqueuePostal(app.queues, x));
      await noteCampaignEvent(app.db, n.campaign_id, 'address_fix', actor(req), `notice ${n.id}: ${Object.keys(req.body).filter((k) => req.body[k as keyof typeof req.body] !== undefined).join(', ')}`);
      return r;
    } catch (err) {
      if (err instanceof AddressFixError) throw new HttpError(err.code === 'not_found' ? 404 : 400, err.message);
      throw err;
    }
  });

  s.get('/api/v1/campaigns/:id/batches', {
    onRequest: viewer,
    schema: { tags: OPS, security: SECURITY, summary: 'a campaign\'s print batches and their files', params: Id, response: { 200: z.object({ batches: z.array(z.looseObject({ id: z.number(), status: z.string() })) }), ...errors } },
  }, async (req) => ({
    batches: (await campaignBatches(app.db, req.params.id)).map((b) => ({ ...b, created_at: b.created_at.toISOString(), closed_at: b.closed_at?.toISOString() ?? null, printed_at: b.printed_at?.toISOString() ?? null })),
  }));

  s.post('/api/v1/campaigns/:id/batches/close', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'close the campaign\'s open batches now (numbered, rendered, ready for the vendor)', params: Id, response: { 200: z.object({ closed: z.array(z.object({ batch_id: z.number(), letters: z.number(), exceptions: z.number() })) }), ...errors } },
  }, async (req) => {
    if (!(await getCampaign(app.db, req.params.id))) throw new HttpError(404, `campaign ${req.params.id} does not exist`);
    const closed = [];
    for (const id of await batchesToClose(app.db, req.params.id)) {
      const r = await closeBatch({ db: app.db, templates: app.templates, fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS, clock: app.clock }, id);
      if (r) closed.push({ batch_id: r.batchId, letters: r.letters, exceptions: r.exceptions });
    }
    await noteCampaignEvent(app.db, req.params.id, 'close_batches', actor(req), closed.map((c) => `batch ${c.batch_id}: ${c.letters} letters`).join('; ') || 'nothing open');
    return { closed };
  });

  s.get('/api/v1/batches/:id/files/:name', {
    onRequest: operator,
    schema: {
      tags: OPS, security: SECURITY, summary: 'a batch\'s file, as the vendor gets it', params: Id.extend({ name: BATCH_FILE_NAMES }),
      produces: ['text/csv', 'application/pdf', 'application/json'], response: { 200: z.unknown().meta({ type: 'string', format: 'binary' }), ...errors },
    },
  }, async (req, reply) => {
    const { id, name } = req.params;
    if (!(await getBatch(app.db, id))) throw new HttpError(404, `batch ${id} does not exist`);
    const info = await fileInfo(app.db, id, name);
    if (!info) throw new HttpError(404, 'no such file (is the batch closed?)');
    return sendBatchFile(reply, app.db, id, info);
  });

  s.put('/api/v1/campaigns/:id/vendor', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'name (or change) the campaign\'s printing vendor', params: Id, body: z.object({ vendor: z.string().min(1).max(200) }), response: { 200: z.object({ vendor: z.string() }), ...errors } },
  }, async (req) => {
    const v = await vendorByName(app.db, req.body.vendor);
    if (!v) throw new HttpError(400, `no vendor named "${req.body.vendor}"`, {}, 'body.vendor');
    if (!(await setCampaignVendor(app.db, req.params.id, v.id, actor(req)))) throw new HttpError(404, `campaign ${req.params.id} does not exist`);
    return { vendor: v.name };
  });

  s.put('/api/v1/campaigns/:id/deadline', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'when the incident was discovered, and why: the legal reporting deadline', params: Id, body: z.object({ discovered_on: z.string().refine(isCalendarDate, 'a calendar date YYYY-MM-DD'), basis: z.enum(['unauthorized_access', 'other']).default('unauthorized_access') }), response: { 200: z.object({ discovered_on: z.string(), basis: z.string() }), ...errors } },
  }, async (req) => {
    if (!(await setCampaignDeadline(app.db, req.params.id, req.body.discovered_on, req.body.basis, actor(req)))) throw new HttpError(404, `campaign ${req.params.id} does not exist`);
    return { discovered_on: req.body.discovered_on, basis: req.body.basis };
  });

  s.get('/api/v1/bounces/unmatched', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'bounces that reached no notice of ours (kept for ops), newest first', description: 'Diagnostics may quote an address: operators only.', querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }), response: { 200: z.object({ bounces: z.array(z.looseObject({ id: z.number() })) }), ...errors } },
  }, async (req) => ({
    bounces: (await listBounces(app.db, { unmatched: true, limit: req.query.limit })).map((b) => ({ ...b, id: Number(b.id), received_at: new Date(b.received_at).toISOString() })),
  }));

  // The status of one campaign (the console's campaign page, polled): the counts kept from the
  // ledger, caught up first (counting a million rows exactly takes most of a second).
  s.get('/api/v1/console/campaigns/:id', {
    onRequest: viewer,
    schema: { tags: OPS, security: SECURITY, summary: 'one campaign\'s progress', params: Id, response: { 200: z.looseObject({ id: z.number() }), ...errors } },
  }, async (req) => {
    await catchUpCounts(app.db);
    const st = await campaignStatus(app.db, req.params.id, { source: 'counters' });
    if (!st) throw new HttpError(404, `campaign ${req.params.id} does not exist`);
    return { ...st, progress: progressOf(st), role: req.operator!.role };
  });
}
