// What keeps a page on another origin from using an operator's browser against us, and what
// every page of ours tells the browser about itself.
//
// Every request that changes something (any method but GET/HEAD/OPTIONS) is refused with 403 when
// the browser says it comes from elsewhere: `Sec-Fetch-Site` other than same-origin/none, or an
// `Origin` that is not ours (PUBLIC_ORIGINS, else the request's own scheme://host). Writes under
// /api/ take JSON only (the recipient upload takes text/csv): a form or a text/plain body, the
// two kinds another origin can send without asking first, are 415. Server-to-server callers (API
// scripts, vendors, SNS) send neither header and are unaffected; SNS's webhook takes text/plain.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, isSafeMethod } from './auth.ts';

export interface GuardOptions {
  /** Origins a browser page of ours is served from (scheme://host[:port]); empty: the request's own. */
  publicOrigins: readonly string[];
}

/** Routes that take another body than JSON, by the content types they take. */
const BODY_TYPES: Array<{ test: (url: string) => boolean; types: string[] }> = [
  { test: (u) => /^\/api\/v1\/campaigns\/[^/]+\/recipients(\?|$)/.test(u), types: ['text/csv', 'application/csv'] },
];

const hasBody = (req: FastifyRequest) => Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
const mediaType = (req: FastifyRequest) => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

export function registerBrowserGuard(server: FastifyInstance, o: GuardOptions): void {
  server.addHook('onRequest', async (req: FastifyRequest) => {
    if (isSafeMethod(req.method)) return;
    const site = req.headers['sec-fetch-site'];
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
      throw new HttpError(403, `refused: a ${site} request may not change anything here (Sec-Fetch-Site: ${site})`);
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string') {
      const ours = o.publicOrigins.length ? o.publicOrigins : [`${req.protocol}://${req.host}`];
      if (!ours.includes(origin)) {
        throw new HttpError(403, `refused: a request from ${origin === 'null' ? 'an opaque origin' : origin} may not change anything here (operators: if that is the address you reach this server at, behind a proxy, add it to PUBLIC_ORIGINS)`);
      }
    }
  });

  // After authentication (route onRequest hooks), before the body is read: a caller without a
  // token learns 401 first, not what the route would take.
  server.addHook('preParsing', async (req: FastifyRequest) => {
    if (isSafeMethod(req.method)) return;
    if (req.url.startsWith('/api/') && hasBody(req)) {
      const type = mediaType(req);
      const allowed = BODY_TYPES.find((b) => b.test(req.url))?.types ?? ['application/json'];
      if (!allowed.includes(type)) {
        throw new HttpError(415, `send the body as ${allowed.join(' or ')}${type === 'multipart/form-data' ? ' (multipart form uploads are not taken: send the file itself as the body)' : ''}; got ${type || 'no Content-Type'}`);
      }
    }
  });

  server.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      // swagger-ui and bull-board start with inline scripts; our own pages need none.
      const thirdParty = req.url.startsWith('/docs') || req.url.startsWith('/admin/queues');
      void reply.header(
        'content-security-policy',
        `default-src 'self'; script-src 'self'${thirdParty ? " 'unsafe-inline'" : ''}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
      );
    }
  });
}
