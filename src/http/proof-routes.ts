// Proof over HTTP: one person's evidence (operator only: it holds their contact data), finding a
// person the way people ask (viewers get the state only), the regulator's figures, and the public
// announcement: published by an operator, then open to anyone at /announcements/:id (HTML in
// Japanese or English, or a printable PDF), with no personal data in it.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';
import { evidenceOf, evidencePdf } from '../campaigns/evidence.ts';
import { findNotice } from '../campaigns/evidence-store.ts';
import { announcementHtml, announcementPdf, latestAnnouncement, publishAnnouncement, type AnnouncementSettings } from '../campaigns/announcement.ts';
import { regulatorReport } from '../campaigns/regulator.ts';
import { noticeSummary } from '../db/notice-store.ts';
import { escapeHtml } from '../domain/template.ts';
import { HttpError, requireOperator } from './auth.ts';
import { errors, Id, OPS, SECURITY } from './api-schemas.ts';

const asLoose = <T>(v: T) => v as T & Record<string, unknown>;

export function announcementSettings(app: Pick<App, 'config'>): AnnouncementSettings {
  const origin = app.config.PUBLIC_ORIGINS[0];
  return { organisation: app.config.ORGANISATION_NAME, enquiryDesk: app.config.ENQUIRY_DESK, verifyUrl: origin ? `${origin}/verify` : '/verify' };
}

export function registerProofRoutes(server: FastifyInstance, app: App): void {
  const viewer = requireOperator(app.db, 'viewer');
  const operator = requireOperator(app.db, 'operator');
  const s = server.withTypeProvider<ZodTypeProvider>();

  s.get('/api/v1/notices/:id/evidence', {
    onRequest: operator,
    schema: {
      tags: OPS, security: SECURITY, summary: 'one person\'s evidence: import, the email and letter made for them (sha256), every reply, DSN and SES event, vendor reports, and the ledger with its chain hashes (operator only)',
      params: Id, response: { 200: z.looseObject({ evidence_version: z.literal(1) }), ...errors },
    },
  }, async (req) => asLoose(await evidenceOf(app.db, req.params.id)));

  s.get('/api/v1/notices/:id/evidence.pdf', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'the same evidence as one A4 page a person can be sent', params: Id, produces: ['application/pdf'], response: { 200: z.unknown().meta({ type: 'string', format: 'binary' }), ...errors } },
  }, async (req, reply) => {
    const e = await evidenceOf(app.db, req.params.id);
    const pdf = await evidencePdf(e, { fontPath: app.config.PDF_FONT, organisation: app.config.ORGANISATION_NAME });
    return reply.header('content-type', 'application/pdf').header('content-disposition', `inline; filename="evidence-${e.person.notice_code}.pdf"`).send(pdf);
  });

  s.get('/api/v1/campaigns/:id/people', {
    onRequest: viewer,
    schema: {
      tags: OPS, security: SECURITY, summary: 'find people by customer_id, notice code or email: their state (operators also get the evidence level and its link)',
      params: Id, querystring: z.object({ customer_id: z.string().max(200).optional(), code: z.string().max(40).optional(), email: z.string().max(320).optional() }).refine((q) => [q.customer_id, q.code, q.email].filter((x) => x !== undefined).length === 1, 'give exactly one of customer_id, code, email'),
      response: { 200: z.object({ people: z.array(z.looseObject({ notice_id: z.number(), state: z.string() })) }), ...errors },
    },
  }, async (req) => {
    const ids = await findNotice(app.db, req.params.id, { customerId: req.query.customer_id, code: req.query.code, email: req.query.email });
    const people = [];
    for (const id of ids) {
      const n = (await noticeSummary(app.db, id))!;
      if (req.operator!.role !== 'operator') people.push({ notice_id: n.id, state: n.state, channel: n.channel });
      else {
        const e = await evidenceOf(app.db, id);
        people.push({ notice_id: n.id, customer_id: n.customer_id, state: n.state, channel: n.channel, level: e.outcome.level, notified: e.outcome.notified, evidence: `/api/v1/notices/${id}/evidence` });
      }
    }
    return { people };
  });

  s.get('/api/v1/campaigns/:id/regulator-report', {
    onRequest: viewer,
    schema: { tags: OPS, security: SECURITY, summary: 'the regulator\'s figures (PPC final report, GDPR Art. 33(5) register entry), reconciling with the per-person report', params: Id, response: { 200: z.looseObject({ affected: z.number() }), ...errors } },
  }, async (req) => asLoose(await regulatorReport(app.db, req.params.id)));

  s.post('/api/v1/campaigns/:id/announcement', {
    onRequest: operator,
    schema: { tags: OPS, security: SECURITY, summary: 'publish the campaign\'s public announcement (substitute notice) from its template set; everyone unreachable is covered from now', params: Id, body: z.object({}).optional(), response: { 201: z.looseObject({ id: z.number(), covered: z.number(), url: z.string() }), ...errors } },
  }, async (req, reply) => {
    const p = await publishAnnouncement(app.db, app.templates, req.params.id, announcementSettings(app), `operator:${req.operator!.name}`);
    return reply.code(201).send({ id: p.announcement.id, published_at: new Date(p.announcement.published_at).toISOString(), sha256: p.announcement.sha256, covered: p.covered, url: `/announcements/${req.params.id}` });
  });

  // Public: the announcement itself, for anyone (no personal data in it by construction).
  server.get<{ Params: { id: string }; Querystring: { lang?: string; format?: string } }>('/announcements/:id', async (req, reply) => {
    const id = Number(req.params.id);
    const a = Number.isInteger(id) && id > 0 ? await latestAnnouncement(app.db, id) : null;
    if (!a) throw new HttpError(404, 'no announcement has been published for this campaign');
    const locales = Object.keys(a.content.locales);
    const lang = req.query.lang && locales.includes(req.query.lang) ? req.query.lang : locales.includes('ja') ? 'ja' : locales[0];
    if (req.query.format === 'pdf') {
      return reply.header('content-type', 'application/pdf').header('content-disposition', `inline; filename="announcement-${id}-${lang}.pdf"`).send(await announcementPdf(a, lang, app.config.PDF_FONT));
    }
    const other = locales.filter((l) => l !== lang).map((l) => `<a href="/announcements/${id}?lang=${l}">${l === 'ja' ? '日本語' : l === 'en' ? 'English' : escapeHtml(l)}</a>`).join(' · ');
    const page = `<!doctype html><html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(a.content.title)}</title>
<style>body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.75;color:#222}h1{font-size:1.5rem;line-height:1.4}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ddd}footer{margin-top:2.5rem;font-size:.85rem;color:#666}nav{font-size:.9rem;text-align:right}</style>
</head><body><nav>${other}${other ? ' · ' : ''}<a href="/announcements/${id}?lang=${escapeHtml(lang)}&format=pdf">PDF</a></nav>
<main>${announcementHtml(a.content.locales[lang])}</main>
<footer>${escapeHtml(app.config.ORGANISATION_NAME)} · ${lang === 'ja' ? '公表日' : 'Published'} ${new Date(a.published_at).toISOString().slice(0, 10)} · sha256 ${a.sha256.slice(0, 16)}…</footer></body></html>`;
    return reply.header('content-type', 'text/html; charset=utf-8').send(page);
  });
}
