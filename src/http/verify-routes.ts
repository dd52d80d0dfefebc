// "Is this notice genuine?" Fake breach notices follow every real breach. A person types the
// notice code from their email or letter and learns whether it is ours and which organisation and
// campaign sent it: nothing about them. Codes travel in POST bodies (never in URLs, which proxies
// log). Every answer takes at least VERIFY_FLOOR_MS, found or not, so timing tells nothing; each
// client gets VERIFY_RATE_MAX lookups per window (Redis-backed, shared by every `notice serve`);
// a call centre using an operator token is not limited.
import { noticeCodeLookup } from '../db/notice-store.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { App } from '../app.ts';
import { HttpError, tokenOf } from './auth.ts';
import { operatorByToken } from '../auth/operator-store.ts';
import { ErrorBody } from './api-schemas.ts';

type Lang = 'ja' | 'en';
const CODE = /^[0-9A-HJKMNP-TV-Z]{12}$/;

/** What a person may type: any case, spaces or dashes (full-width too), and I/L/O for 1/1/0. */
export function normaliseCode(input: string): string | null {
  const s = input.normalize('NFKC').toUpperCase().replace(/[\s\-‐‑‒–—―ー]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return CODE.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}` : null;
}

export interface Verdict {
  genuine: boolean;
  organisation?: string;
  campaign?: string;
  /** The day the campaign started sending (YYYY-MM-DD). */
  since?: string;
}

const VerdictBody = z.object({
  genuine: z.boolean(),
  organisation: z.string().optional(),
  campaign: z.string().optional(),
  since: z.string().optional().describe('the day the campaign started sending'),
});

const TEXT = {
  ja: {
    title: 'お知らせの真偽確認',
    lead: 'メールまたは封書に記載の「お問い合わせ番号」を入力してください。当社が送ったお知らせかどうかをお答えします。お客様の個人情報は表示されません。',
    label: 'お問い合わせ番号',
    button: '確認する',
    genuine: (v: Verdict) => `この番号は本物です。${v.organisation} が「${v.campaign}」についてお送りしたお知らせです（${v.since} から送付）。`,
    fake: 'この番号は当社のお知らせのものではありません。番号をお確かめください。心当たりのないメールのリンクは開かず、添付ファイルも開かないでください。',
    malformed: 'お問い合わせ番号は 12 文字（例: 7K3M-9Q2R-X4TB）です。',
    limited: '確認の回数が多すぎます。しばらくしてからお試しください。',
    other: 'English',
  },
  en: {
    title: 'Is this notice genuine?',
    lead: 'Type the notice code from your email or letter. We tell you whether the notice is ours. Nothing about you is shown.',
    label: 'Notice code',
    button: 'Check',
    genuine: (v: Verdict) => `This code is genuine: a notice from ${v.organisation} about "${v.campaign}" (sent since ${v.since}).`,
    fake: 'This code is not from any of our notices. Check that you typed it as printed. Do not open links or attachments in a message you cannot verify.',
    malformed: 'A notice code has 12 characters (e.g. 7K3M-9Q2R-X4TB).',
    limited: 'Too many checks from your address; please try again later.',
    other: '日本語',
  },
} as const;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(lang: Lang, organisation: string, result?: { kind: 'genuine' | 'fake' | 'malformed' | 'limited'; verdict?: Verdict }): string {
  const t = TEXT[lang];
  const message = !result ? '' : result.kind === 'genuine' ? t.genuine(result.verdict!) : t[result.kind];
  const cls = result?.kind === 'genuine' ? 'ok' : 'bad';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(t.title)} — ${escape(organisation)}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK JP","IPAexGothic",sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.6;color:#1b1b1b}
h1{font-size:1.4rem}form{display:flex;gap:.5rem;flex-wrap:wrap;margin:1.5rem 0}label{width:100%;font-weight:600}
input{font-size:1.3rem;letter-spacing:.1em;padding:.4rem .6rem;flex:1;min-width:12rem;text-transform:uppercase}
button{font-size:1.1rem;padding:.4rem 1.2rem}.result{padding:1rem;border-radius:.4rem}.ok{background:#e3f4e6;border:1px solid #2f7d3b}
.bad{background:#fdecea;border:1px solid #b3261e}footer{margin-top:2rem;font-size:.9rem;color:#555}
</style></head><body>
<h1>${escape(t.title)}</h1>
<p>${escape(t.lead)}</p>
<form method="post" action="/verify?lang=${lang}">
<label for="code">${escape(t.label)}</label>
<input id="code" name="code" autocomplete="off" inputmode="latin" maxlength="40" required placeholder="XXXX-XXXX-XXXX">
<button type="submit">${escape(t.button)}</button>
</form>
${result ? `<p class="result ${cls}" role="status">${escape(message)}</p>` : ''}
<footer>${escape(organisation)} · <a href="/verify?lang=${lang === 'ja' ? 'en' : 'ja'}">${escape(t.other)}</a></footer>
</body></html>`;
}

function langOf(req: FastifyRequest): Lang {
  const q = (req.query as { lang?: string } | undefined)?.lang;
  if (q === 'en' || q === 'ja') return q;
  const accept = String(req.headers['accept-language'] ?? '');
  return /^\s*en/i.test(accept) ? 'en' : 'ja';
}

export async function registerVerifyRoutes(server: FastifyInstance, app: App): Promise<void> {
  const floor = app.config.VERIFY_FLOOR_MS;
  const DUMMY = '0000-0000-0000';

  async function lookup(raw: string): Promise<{ malformed: boolean; verdict: Verdict }> {
    const started = performance.now();
    const code = normaliseCode(raw);
    // The same query whatever was typed, and the same floor after it: found, not found and
    // malformed take the same time.
    const rows = await noticeCodeLookup(app.db, code ?? DUMMY);
    const found = rows[0] && code && rows[0].notice_code.length === code.length && timingSafeEqual(Buffer.from(rows[0].notice_code), Buffer.from(code)) && rows[0].state !== 'draft';
    const verdict: Verdict = found
      ? { genuine: true, organisation: app.config.ORGANISATION_NAME, campaign: rows[0].name, since: rows[0].launched ? new Date(rows[0].launched).toISOString().slice(0, 10) : undefined }
      : { genuine: false };
    const left = floor - (performance.now() - started);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    return { malformed: !code, verdict };
  }

  await server.register(async (v) => {
    // A rate-limited or failed HTML request gets an HTML page back, not JSON.
    v.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) app.log.error({ err: err.message }, 'verify failed');
      if (req.url.startsWith('/verify.json')) {
        const field = err instanceof HttpError ? err.field : undefined;
        return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message, ...(field ? { field } : {}) });
      }
      const lang = langOf(req);
      const html = status === 429 ? page(lang, app.config.ORGANISATION_NAME, { kind: 'limited' }) : page(lang, app.config.ORGANISATION_NAME);
      return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(html);
    });
    // One count per client for both lookups (the form and the JSON): the limit is this plugin's
    // own, global to its routes, so the store is shared rather than one per route.
    await v.register(rateLimit, {
      global: true,
      max: app.config.VERIFY_RATE_MAX,
      timeWindow: app.config.VERIFY_RATE_WINDOW_MS,
      redis: app.redis,
      nameSpace: `${app.config.QUEUE_PREFIX}:verify-limit:`,
      // The organisation's call centre checks codes all day with an operator token.
      allowList: async (req: FastifyRequest) => {
        const token = tokenOf(req);
        return token ? (await operatorByToken(app.db, token)) !== null : false;
      },
      errorResponseBuilder: (_req: FastifyRequest, ctx: { after: string }) => new HttpError(429, `too many lookups from your address; try again in ${ctx.after}`),
    });
    const s = v.withTypeProvider<ZodTypeProvider>();
    const html = (reply: FastifyReply, body: string) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
    const LangQuery = z.object({ lang: z.enum(['ja', 'en']).optional() });

    s.get('/verify', {
      config: { rateLimit: false },
      schema: { tags: ['public'], summary: 'the verify page (Japanese and English)', querystring: LangQuery, produces: ['text/html'], response: { 200: z.unknown().meta({ type: 'string' }) } },
    }, async (req, reply) => html(reply, page(langOf(req), app.config.ORGANISATION_NAME)));

    s.post('/verify', {
      schema: {
        tags: ['public'], summary: 'the verify form\'s answer (HTML)', querystring: LangQuery, consumes: ['application/x-www-form-urlencoded'],
        body: z.object({ code: z.string().max(40) }), produces: ['text/html'], response: { 200: z.unknown().meta({ type: 'string' }), 429: z.unknown().meta({ type: 'string' }) },
      },
    }, async (req, reply) => {
      const r = await lookup(req.body.code);
      return html(reply, page(langOf(req), app.config.ORGANISATION_NAME, { kind: r.malformed ? 'malformed' : r.verdict.genuine ? 'genuine' : 'fake', verdict: r.verdict }));
    });

    s.post('/verify.json', {
      schema: {
        tags: ['public'], summary: 'is this notice code genuine? (JSON, for the call centre)',
        description: `Limited to ${app.config.VERIFY_RATE_MAX} lookups per client per ${Math.round(app.config.VERIFY_RATE_WINDOW_MS / 60000)} minutes, unless an operator token is sent.`,
        body: z.object({ code: z.string().max(40).describe('as printed, e.g. 7K3M-9Q2R-X4TB (case, spaces and dashes do not matter)') }),
        response: { 200: VerdictBody, 400: ErrorBody, 429: ErrorBody },
      },
    }, async (req) => {
      const r = await lookup(req.body.code);
      if (r.malformed) throw new HttpError(400, 'a notice code has 12 characters, e.g. 7K3M-9Q2R-X4TB', {}, 'body.code');
      return r.verdict;
    });
  });
}
