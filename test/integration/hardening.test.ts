// Holes found by reading the code: an unindexed webhook lookup, personal data in pause reasons and
// /readyz, a receiver buffering past its limit, SES sends with no timeout.
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import { waitFor } from '../support/harness.ts';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { freePort } from '../support/processes.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { NOTICE_BY_PROVIDER_ID } from '../../src/db/notice-store.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import { startBounceReceiver } from '../../src/bounces/receiver.ts';
import { makeSesTransport } from '../../src/channels/email/ses.ts';
import { SendFailureError } from '../../src/channels/email/transport.ts';
import { classifySendError } from '../../src/domain/send-error.ts';
import { verpAddress } from '../../src/channels/email/verp.ts';

const ctx = useEnvWithSink();

describe('the SES webhook lookup', () => {
  it('finds a notice by its SES MessageId through an index, not a scan', async () => {
    const app = ctx.t.app();
    const { id } = await campaignWith(app, ctx.t.tmp, [person(1)]);
    // 200,000 sent notices: enough that a scan per SNS event would show; the plan says which it is.
    await app.db.query(
      `insert into notices (campaign_id, customer_id, notice_code, name, locale, segment, state, provider_message_id)
       select $1, 'X' || g, 'CODE-' || g, 'n', 'ja', 'card', 'sent', '0100' || md5(g::text) || '-000000' from generate_series(1, 200000) g`,
      [id],
    );
    await app.db.query('analyze notices');
    const { rows } = await app.db.query(`explain (format json) ${NOTICE_BY_PROVIDER_ID}`, ['0100' + 'abc' + '-000000']);
    const plan = JSON.stringify(rows[0]['QUERY PLAN']);
    expect(plan).toMatch(/"Index Name":"notices_provider_message_id"/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});

describe('personal data', () => {
  it('a relay refusal quoting the address pauses the campaign with the address masked, in the reason and the log', async () => {
    const app = ctx.t.app({ SMTP_URL: ctx.sink.url });
    const { id } = await campaignWith(app, ctx.t.tmp, [person(1, 'taro.private@example.jp')]);
    ctx.sink.mode.rcptHook = (a) => ({ code: 554, message: `5.7.1 <${a}>: Relay access denied` });
    const workers = await startWorkers(app, { concurrency: 1 });
    try {
      await launch(steeringDeps(app), id);
      const s = await waitFor(async () => ((await counts(app, id)).state === 'paused' ? counts(app, id) : null), { what: 'paused' });
      expect(s.pauseReason).toMatch(/Relay access denied/);
      expect(s.pauseReason).not.toMatch(/taro|@/);
      expect(s.counts.postal_queued).toBe(0);
    } finally {
      ctx.sink.mode.rcptHook = undefined;
      await workers.close();
    }
    await app.close();
    expect(readFileSync(ctx.t.logFile, 'utf8')).not.toContain('taro.private');
  });

  it('/readyz names the dependency that is down, not its error', async () => {
    const app = ctx.t.app({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const server = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
    const r = await server.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ ok: false, postgres: 'up', redis: 'down' });
    await server.close();
    app.redis.disconnect();
  });
});

describe('limits', () => {
  it('the bounce receiver refuses a message over its size limit without keeping it', async () => {
    const accepted: unknown[] = [];
    const log = ctx.t.app().log;
    const receiver = await startBounceReceiver({ host: '127.0.0.1', port: 0, verpSecret: 'a-secret-of-enough-length', bounceDomain: 'b.example', accept: async (e) => (accepted.push(e), true), log, maxBytes: 20_000 });
    const mta = createTransport({ host: '127.0.0.1', port: receiver.port, secure: false, ignoreTLS: true });
    const to = verpAddress('a-secret-of-enough-length', 'b.example', 7);
    const big = `From: MAILER-DAEMON@x.example\r\nSubject: Undelivered\r\n\r\n${'x'.repeat(200_000)}\r\n`;
    await expect(mta.sendMail({ envelope: { from: '', to }, raw: big })).rejects.toThrow(/552/);
    expect(accepted).toHaveLength(0);
    mta.close();
    await receiver.close();
  });

  it('an SES request with no answer fails within the request timeout, as a relay problem (retried, nobody to post)', async () => {
    const hang = http.createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const ses = makeSesTransport({ region: 'ap-northeast-1', endpoint: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`, accessKeyId: 'x', secretAccessKey: 'y', requestTimeoutMs: 500 });
    const started = Date.now();
    const err = await ses.send({ from: 'a@example.com', to: { name: 'n', address: 'b@example.com' }, returnPath: 'r@example.com', subject: 's', html: 'h', text: 't', messageId: '<m@example.com>', headers: {} }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(SendFailureError);
    expect(classifySendError((err as SendFailureError).failure).class).toBe('transient_infra');
    await ses.close();
    hang.closeAllConnections();
    hang.close();
  });
});
