// The operator API: everything `notice campaign …` and `notice import` do, over HTTP, for the people
// who run a campaign without a shell and the tools they script. Viewer tokens read; operator tokens
// write. Every write lands in the campaign ledger (campaign_events) with `operator:<name>`. Bodies,
// queries and parameters are zod schemas: the same ones validate requests and describe /docs.
import { campaignEvents, listCampaigns } from '../db/campaign-store.ts';
import { ledgerOf, noticeSummary } from '../db/notice-store.ts';
import { evidenceOf } from '../campaigns/evidence.ts';
import { storedTemplateFiles } from '../db/template-store.ts';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';
import { makePool } from '../db/pool.ts';
import { getCampaign, noteCampaignEvent, setCampaignPacing } from '../db/campaign-store.ts';
import { isCalendarDate } from '../domain/deadline.ts';
import { isClock, isValidTimeZone } from '../domain/send-window.ts';
import { importCsv } from '../intake/importer.ts';
import { vendorByName } from '../channels/post/vendor-store.ts';
import { cancel, launch, pause, resume, steeringDeps } from '../campaigns/control.ts';
import { writeReport, writeReportJson } from '../campaigns/report.ts';
import { campaignStatus } from '../campaigns/status.ts';
import { dryRun, previewEmail, previewLetter, testSend } from '../campaigns/preview.ts';
import { reconcileReport } from '../campaigns/audit.ts';
import { pacingOf } from '../dispatch/pacing-gate.ts';
import { createCampaignFromFiles } from '../campaigns/create.ts';
import { messageSettings } from '../channels/email/message.ts';
import { viewerDetail } from '../domain/redact.ts';
import { HttpError, requireOperator } from './auth.ts';
import { ErrorBody, errors, OPS, SECURITY } from './api-schemas.ts';


const CampaignParams = z.object({ id: z.coerce.number().int().positive().describe('campaign id') });
const Clock = z.string().refine(isClock, 'a local time HH:MM, e.g. 21:00');
const TimeZone = z.string().refine(isValidTimeZone, 'an IANA time zone, e.g. Asia/Tokyo');
const QuietHours = z.object({
  from: Clock.describe('start of the quiet hours, local time'),
  to: Clock.describe('end of the quiet hours, local time (may be past midnight: 21:00 → 08:00)'),
  time_zone: TimeZone.default('Asia/Tokyo'),
});
const Pacing = z.object({
  quiet_hours: QuietHours.nullable().describe('no email in these hours; null: none'),
  hourly_cap: z.number().int().positive().nullable().describe('emails per hour at most; null: no cap'),
});

/** The API's pacing body as the store keeps it (what is left out: none). */
const pacingOfBody = (p: Partial<z.infer<typeof Pacing>>) => {
  const q = p.quiet_hours ?? null;
  return { quietFrom: q?.from ?? null, quietTo: q?.to ?? null, timeZone: q?.time_zone ?? 'Asia/Tokyo', hourlyCap: p.hourly_cap ?? null };
};

const CreateCampaign = z
  .object({
    name: z.string().trim().min(1).max(200).describe('shown in notices as {{campaign_name}}'),
    templates: z
      .record(z.string().regex(/^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.(subject\.txt|html|txt|letter\.md)|announcement\.[A-Za-z0-9_-]+\.md|letterhead\.json)$/, 'a template file name: <segment>.<locale>.{subject.txt,html,txt,letter.md}, announcement.<locale>.md, or letterhead.json'), z.string().max(256 * 1024))
      .optional()
      .describe('the template set: file name → text (as in a template directory)'),
    template_version: z.string().regex(/^[0-9a-f]{16}$/).optional().describe('or: a template set already stored (the version another campaign shows)'),
    extra_vars: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/)).max(50).default([]).describe('extra CSV columns the templates use'),
    vendor: z.string().optional().describe('printing vendor for the letters (see `notice vendor add`)'),
    discovered_on: z.string().refine(isCalendarDate, 'a calendar date YYYY-MM-DD').optional().describe('when the incident was discovered (starts the legal deadline clock)'),
    deadline_basis: z.enum(['unauthorized_access', 'other']).default('unauthorized_access'),
    pacing: Pacing.partial().optional(),
  })
  .refine((b) => (b.templates ? 1 : 0) + (b.template_version ? 1 : 0) === 1, { message: 'give either templates or template_version', path: ['templates'] });

const Created = z.object({ id: z.number(), template_version: z.string(), segments: z.array(z.string()), locales: z.array(z.string()) });
const Reason = z.object({ reason: z.string().trim().min(1).max(300).optional().describe('why (shown in status and the ledger)') }).nullish();
const Steer = z.object({
  campaign: z.number(),
  from: z.string().describe('the state before'),
  state: z.string().describe('the state after'),
  changed: z.boolean(),
  message: z.string().describe('one line for the operator'),
  relay: z.object({ queued: z.number(), postal: z.number(), requeued: z.number() }).optional().describe('launch and resume: people queued for email, for post, put back'),
  cancelled: z.number().optional().describe('cancel: people not yet told who were cancelled'),
});
const LineIssue = z.object({ line: z.number(), field: z.string(), reason: z.string() });
/** Large answers (status, dry run) are described by their key fields and passed through whole. */
const asLoose = <T>(v: T) => v as T & Record<string, unknown>;
const ImportReport = z.object({
  file: z.string(),
  campaignId: z.number(),
  rows: z.number(),
  accepted: z.number(),
  duplicates: z.array(LineIssue),
  rejected: z.array(LineIssue),
  warnings: z.array(LineIssue),
  droppedColumns: z.array(z.string()).describe('columns that look like card data: never read'),
  undeclaredColumns: z.array(z.string()).describe('extra columns not declared at campaign create (extra_vars): not stored'),
  encoding: z.enum(['utf8', 'shift_jis']).describe('the encoding the file was read in'),
  encodingDetected: z.boolean().describe('true when it was detected rather than given'),
});
const Who = z
  .object({
    notice_id: z.coerce.number().int().positive().optional(),
    customer_id: z.string().min(1).max(200).optional(),
  })
  .refine((q) => q.notice_id !== undefined || q.customer_id !== undefined, { message: 'say who: notice_id or customer_id', path: ['notice_id'] });

/** The body of a text/csv upload: the request stream itself, never buffered. */
const CsvBody = z.unknown().meta({ type: 'string', format: 'binary', description: 'the recipient CSV (header row required), streamed' });

/** Counts bytes on their way to disk and stops an upload that is larger than allowed. */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) return done(new HttpError(413, `the file is larger than UPLOAD_MAX_BYTES (${max} bytes)`));
      done(null, chunk);
    },
  });
}

export function registerOpsRoutes(server: FastifyInstance, app: App): void {
  const viewer = requireOperator(app.db, 'viewer');
  const operator = requireOperator(app.db, 'operator');
  const actor = (req: FastifyRequest) => `operator:${req.operator!.name}`;
  const mustExist = async (id: number) => {
    const c = await getCampaign(app.db, id);
    if (!c) throw new HttpError(404, `campaign ${id} does not exist`);
    return c;
  };
  const s = server.withTypeProvider<ZodTypeProvider>();

  // text/csv bodies stay streams; the route writes them to a temporary file as they arrive.
  server.addContentTypeParser(['text/csv', 'application/csv'], (_req, payload, done) => done(null, payload));

  s.get('/api/v1/campaigns', {
    onRequest: viewer,
    schema: { tags: OPS, security: SECURITY, summary: 'list campaigns', response: { 200: z.object({ campaigns: z.array(z.object({ id: z.number(), name: z.string(), state: z.string(), created_at: z.string() })) }), ...errors } },
  }, async () => {
    const rows = await listCampaigns(app.db, 500);
    return { campaigns: rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() })) };
  });

  s.post('/api/v1/campaigns', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'create a campaign from a template set', description: 'Template problems (unknown variables, missing variants) are a 400 listing every one.', body: CreateCampaign, response: { 201: Created, ...errors } },
  }, async (req, reply) => {
    const b = req.body;
    const who = actor(req);
    const vendor = b.vendor ? await vendorByName(app.db, b.vendor) : null;
    if (b.vendor && !vendor) throw new HttpError(400, `no vendor named "${b.vendor}"`, {}, 'body.vendor');
    let files: Map<string, string>;
    if (b.templates) files = new Map(Object.entries(b.templates));
    else {
      const stored = await storedTemplateFiles(app.db, b.template_version!);
      if (!stored) throw new HttpError(400, `no stored template set ${b.template_version}`, {}, 'body.template_version');
      files = stored;
    }
    const c = await createCampaignFromFiles(app.db, b.name, files, b.extra_vars, who, {
      vendorId: vendor?.id, deadline: b.discovered_on ? { discoveredOn: b.discovered_on, basis: b.deadline_basis } : undefined, pacing: b.pacing ? pacingOfBody(b.pacing) : undefined,
    });
    return reply.code(201).send({ id: c.id, template_version: c.templateVersion, segments: c.segments, locales: c.locales });
  });

  s.post('/api/v1/campaigns/:id/recipients', {
    onRequest: operator,
    schema: {
      tags: OPS, security: SECURITY, summary: 'upload recipients (CSV, streamed)',
      description: 'The same line-by-line report as `notice import`: rows accepted, duplicates, rejected and warnings, each with its line, field and reason. A file that cannot be read at all (an unclosed quote) is a 400 naming the line; nothing of it is imported.',
      params: CampaignParams,
      querystring: z.object({
        encoding: z.enum(['auto', 'utf8', 'shift_jis']).default('auto').describe('auto: UTF-8 (with or without BOM), else Shift_JIS (CP932) when the file reads cleanly as such; a file that is neither is refused naming its first bad line'),
        file_name: z.string().max(200).regex(/^[^/\\]+$/, 'a file name, no directories').default('upload.csv').describe('the name the report uses'),
      }),
      consumes: ['text/csv'],
      body: CsvBody,
      response: { 200: ImportReport, ...errors, 413: ErrorBody, 415: ErrorBody },
    },
  }, async (req) => {
    const id = req.params.id;
    await mustExist(id);
    const body = req.body as Readable | string | undefined;
    if (!body || typeof body === 'string' || typeof (body as Readable).pipe !== 'function') throw new HttpError(415, 'send the CSV as the request body with Content-Type: text/csv');
    const dir = await mkdtemp(path.join(tmpdir(), 'notice-upload-'));
    const file = path.join(dir, 'upload.csv');
    try {
      await pipeline(body, byteLimit(app.config.UPLOAD_MAX_BYTES), createWriteStream(file, { mode: 0o600 }));
      return await importCsv(app.db, app.templates, { campaignId: id, file, encoding: req.query.encoding, actor: actor(req), displayName: req.query.file_name });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const steerSchema = (summary: string, description: string) => ({
    tags: OPS, security: SECURITY, summary, description, params: CampaignParams, body: Reason, response: { 200: Steer, ...errors },
  });
  s.post('/api/v1/campaigns/:id/launch', { onRequest: operator, schema: steerSchema('launch', 'draft → running; everyone imported is queued for email, or for post when email cannot reach them. On a running campaign it queues people imported since.') }, async (req) =>
    launch(steeringDeps(app), req.params.id, { actor: actor(req) }));
  s.post('/api/v1/campaigns/:id/pause', { onRequest: operator, schema: steerSchema('pause', 'Stops new sends within one job; sends in flight finish.') }, async (req) =>
    pause(app.db, req.params.id, { actor: actor(req) }, req.body?.reason ?? `paused by ${req.operator!.name}`));
  s.post('/api/v1/campaigns/:id/resume', { onRequest: operator, schema: steerSchema('resume', 'paused → running; whoever was waiting goes back on the queue.') }, async (req) =>
    resume(steeringDeps(app), req.params.id, { actor: actor(req) }));
  s.post('/api/v1/campaigns/:id/cancel', { onRequest: operator, schema: steerSchema('cancel', 'For good: everyone not yet told is cancelled; no new letters go out.') }, async (req) =>
    cancel(app.db, req.params.id, { actor: actor(req) }, req.body?.reason ?? `cancelled by ${req.operator!.name}`));

  s.get('/api/v1/campaigns/:id', {
    onRequest: viewer,
    schema: { tags: OPS, security: SECURITY, summary: 'status: counts per state, what is waiting and why, rate, ETA, pacing, deadline', params: CampaignParams, response: { 200: z.looseObject({ id: z.number(), name: z.string(), state: z.string() }), ...errors } },
  }, async (req) => {
    const st = await campaignStatus(app.db, req.params.id, { now: app.clock.now() });
    if (!st) throw new HttpError(404, `campaign ${req.params.id} does not exist`);
    return asLoose(st);
  });

  s.get('/api/v1/campaigns/:id/events', {
    onRequest: viewer,
    schema: {
      tags: OPS, security: SECURITY, summary: 'the campaign ledger: every write, by whom, when and why', params: CampaignParams,
      response: { 200: z.object({ events: z.array(z.object({ at: z.string(), verb: z.string(), from_state: z.string(), to_state: z.string(), actor: z.string(), reason: z.string().nullable() })) }), ...errors },
    },
  }, async (req) => {
    await mustExist(req.params.id);
    const rows = await campaignEvents(app.db, req.params.id);
    return { events: rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() })) };
  });

  s.get('/api/v1/campaigns/:id/dry-run', {
    onRequest: viewer,
    schema: { tags: OPS, security: SECURITY, summary: 'what launch would do: email / post / rejected per segment × locale, and letters per vendor', params: CampaignParams, response: { 200: z.looseObject({ campaign: z.number() }), ...errors } },
  }, async (req) => asLoose(await dryRun(app.db, req.params.id)));

  s.get('/api/v1/campaigns/:id/preview', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'one person\'s rendered email (subject, HTML, text)', description: 'Shows a person\'s data, so it needs the operator role.', params: CampaignParams, querystring: Who, response: { 200: z.object({ noticeId: z.number(), to: z.string().nullable(), subject: z.string(), html: z.string(), text: z.string() }), ...errors } },
  }, async (req) => previewEmail(app.db, app.templates, messageSettings(app.config), req.params.id, { noticeId: req.query.notice_id, customerId: req.query.customer_id }));

  s.get('/api/v1/campaigns/:id/preview/letter.pdf', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'one person\'s letter: one A4 page, as the vendor will print it', params: CampaignParams, querystring: Who, produces: ['application/pdf'], response: { 200: z.unknown().meta({ type: 'string', format: 'binary' }), ...errors } },
  }, async (req, reply) => {
    const pdf = await previewLetter(app.db, app.templates, { fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS }, req.params.id, { noticeId: req.query.notice_id, customerId: req.query.customer_id });
    return reply.header('content-type', 'application/pdf').header('content-disposition', `inline; filename="campaign-${req.params.id}-preview.pdf"`).send(pdf);
  });

  s.post('/api/v1/campaigns/:id/test-send', {
    onRequest: operator,
    schema: {
      tags: OPS, security: SECURITY, summary: 'send one variant, filled in for a made-up person, to an address of yours', params: CampaignParams,
      body: z.object({ to: z.email(), segment: z.string().min(1).default('card'), locale: z.string().min(1).default('ja') }),
      response: { 200: z.object({ messageId: z.string(), reply: z.string() }), ...errors },
    },
  }, async (req) => {
    const r = await testSend(app.db, app.templates, await app.transport(), messageSettings(app.config), req.params.id, req.body);
    await noteCampaignEvent(app.db, req.params.id, 'test_send', actor(req), `${req.body.segment}.${req.body.locale}`);
    return r;
  });

  s.put('/api/v1/campaigns/:id/pacing', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'quiet hours and an hourly cap', description: 'People outside the window wait (their jobs are delayed), they do not fail. Status shows when the window opens.', params: CampaignParams, body: Pacing, response: { 200: Pacing, ...errors } },
  }, async (req) => {
    await mustExist(req.params.id);
    await setCampaignPacing(app.db, req.params.id, pacingOfBody(req.body), actor(req));
    const p = (await pacingOf(app.db, req.params.id))!;
    return { quiet_hours: p.quietFrom ? { from: p.quietFrom, to: p.quietTo!, time_zone: p.timeZone } : null, hourly_cap: p.hourlyCap };
  });

  // Reports stream (a million rows never sit in memory). The reconciliation is in the file's last
  // lines and, because it is worked out first, in the X-Reconciliation header too.
  // Reports read through a small pool of their own: many downloads at once wait for each other,
  // never for the connections the API, the relay or /healthz need.
  const reportDb = makePool(app.config.DATABASE_URL, { max: app.config.REPORT_POOL_SIZE, connectTimeoutMs: app.config.DEPENDENCY_TIMEOUT_MS, onError: (err) => app.log.warn({ err: err.message }, 'report pool connection error') });
  server.addHook('onClose', async () => reportDb.end());
  const report = async (id: number, format: 'csv' | 'json', req: FastifyRequest, reply: FastifyReply) => {
    await mustExist(id);
    const r = await reconcileReport(reportDb, id);
    const out = new PassThrough();
    const write = format === 'csv' ? writeReport : writeReportJson;
    // A viewer's copy leaves out notice codes and the text of replies and errors.
    write(reportDb, id, out, req.operator!.role === 'operator' ? 'operator' : 'viewer').catch((err: Error) => {
      app.log.error({ err: err.message, campaign: id }, 'report failed while streaming');
      out.destroy(err);
    });
    return reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="campaign-${id}-report.${format}"`)
      .header('x-reconciliation', r.ok ? 'ok' : `unaccounted=${r.unaccountedTotal}`)
      .send(out);
  };
  const reportSchema = (produces: string, what: string) => ({
    tags: OPS, security: SECURITY, summary: `the report (${what}): one row per person, ending with the reconciliation`,
    description: 'imported = Σ people per final state, per channel. X-Reconciliation: ok, or unaccounted=N (those people are named in the reconciliation).',
    params: CampaignParams, produces: [produces], response: { 200: z.unknown().meta({ type: 'string' }), ...errors },
  });
  s.get('/api/v1/campaigns/:id/report.csv', { onRequest: viewer, schema: reportSchema('text/csv', 'CSV') }, async (req, reply) => report(req.params.id, 'csv', req, reply));
  s.get('/api/v1/campaigns/:id/report.json', { onRequest: viewer, schema: reportSchema('application/json', 'JSON') }, async (req, reply) => report(req.params.id, 'json', req, reply));

  s.get('/api/v1/notices/:id', {
    onRequest: viewer,
    schema: {
      tags: OPS, security: SECURITY, summary: 'one person\'s notice: its state and its whole ledger (no name, no address)',
      params: z.object({ id: z.coerce.number().int().positive().describe('notice id') }),
      response: {
        200: z.object({
          id: z.number(), campaign_id: z.number(), customer_id: z.string(), state: z.string(), channel: z.string().nullable(), attempts: z.number(),
          evidence_level: z.string().describe('accepted_by_our_relay < relayed_to_recipient_server < auto_reply_from_mailbox < delivered; email_delayed; letter_mailed, letter_returned, public_announcement; none'),
          events: z.array(z.object({ at: z.string(), from_state: z.string().nullable(), to_state: z.string(), detail: z.unknown() })),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const notice = await noticeSummary(app.db, req.params.id);
    if (!notice) throw new HttpError(404, `notice ${req.params.id} does not exist`);
    const events = await ledgerOf(app.db, req.params.id);
    // Replies from mail servers quote the person's address: a viewer sees them masked.
    const shown = req.operator!.role === 'operator' ? (d: unknown) => d : (d: unknown) => viewerDetail(d);
    return { ...notice, evidence_level: (await evidenceOf(app.db, req.params.id)).outcome.level, events: events.map((e) => ({ ...e, detail: shown(e.detail), at: new Date(e.at).toISOString() })) };
  });
}
