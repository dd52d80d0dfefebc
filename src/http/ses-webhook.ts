// POST /webhooks/ses: SES bounces, complaints and deliveries via SNS, signature verified.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorBody } from './api-schemas.ts';
import type { App } from '../app.ts';
import { SnsError, type SnsVerifier } from '../bounces/sns.ts';
import { parseSesMessage } from '../domain/ses-event.ts';
import { makeBounceAcceptor } from '../bounces/accept-bounce.ts';
import { noticeByProviderMessageId } from '../db/notice-store.ts';

export function registerSesWebhook(server: FastifyInstance, app: App, sns: SnsVerifier, confirmSubscription: (url: string) => Promise<void>): void {
  const accept = makeBounceAcceptor(app);
  server.post('/webhooks/ses', {
    schema: {
      tags: ['webhooks'], summary: 'SES bounces, complaints and deliveries via SNS (signature verified)',
      description: 'SNS posts JSON with Content-Type text/plain. SubscriptionConfirmation is confirmed for the topics in SNS_TOPIC_ARNS; anything unsigned, from another topic or older than an hour is refused.',
      consumes: ['text/plain', 'application/json'],
      body: z.unknown().meta({ type: 'object', description: 'an SNS message' }),
      response: { 200: z.looseObject({}), 400: ErrorBody, 403: ErrorBody },
    },
  }, async (req, reply) => {
    const m = await sns.verify(req.body);
    if (m.Type === 'SubscriptionConfirmation') {
      if (!m.SubscribeURL) throw new SnsError('invalid', 'no SubscribeURL');
      await confirmSubscription(m.SubscribeURL);
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
      const fresh = await accept({ noticeId: noticeId ?? null, source: 'ses', class: e.class, reason: e.reason, action: e.action, status: e.status, diagnostic: e.diagnostic, reportingMta: e.reportingMta ?? null, dedupeKey: e.dedupeKey });
      if (fresh) applied++;
      else duplicates++;
    }
    if (unmatched) app.log.warn({ unmatched, snsMessageId: m.MessageId }, 'SES event for no notice of ours; recorded, not applied');
    return { accepted: applied, duplicates, unmatched };
  });
}
