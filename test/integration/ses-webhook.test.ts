// POST /webhooks/ses: SNS signatures (v1 and v2), topics, certificate hosts, subscriptions,
// duplicates. The trust is injected: the test signs with its own key, and the "fetched"
// certificate is the test's own, served only for an SNS-looking URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root } from '../support/fixtures.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { buildServer } from '../../src/http/server.ts';
import { isSnsUrl, makeSnsVerifier, snsHostFor, stringToSign, type SnsEnvelope } from '../../src/bounces/sns.ts';
import { isSuppressed } from '../../src/db/notice-store.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

const fixtures = path.join(root, 'test/fixtures/sns');
const key = readFileSync(path.join(fixtures, 'key.pem'), 'utf8');
const cert = readFileSync(path.join(fixtures, 'cert.pem'), 'utf8');
const otherKey = readFileSync(path.join(fixtures, 'other-key.pem'), 'utf8');
const TOPIC = 'arn:aws:sns:ap-northeast-1:123456789012:ses-bounces';
const CERT_URL = 'https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-test.pem';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let workers: RunningWorkers;
let http: FastifyInstance;
const fetched: string[] = [];
const confirmed: string[] = [];

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  app = t.app({ SMTP_URL: sink.url });
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 4 });
  const sns = makeSnsVerifier({
    allowedTopics: [TOPIC],
    fetchCert: async (url) => {
      fetched.push(url);
      if (!isSnsUrl(url, TOPIC)) throw new Error('not SNS');
      return cert;
    },
  });
  http = await buildServer({ app, sns, confirmSubscription: async (url) => void confirmed.push(url) });
});
afterAll(async () => {
  await http?.close();
  await workers?.close();
  await sink?.close();
  await t?.teardown();
});

let seq = 0;
function envelope(message: object | string, o: { version?: '1' | '2'; topic?: string; certUrl?: string; signWith?: string; type?: SnsEnvelope['Type']; at?: Date } = {}): SnsEnvelope {
  const m: SnsEnvelope = {
    Type: o.type ?? 'Notification',
    MessageId: `sns-${++seq}`,
    TopicArn: o.topic ?? TOPIC,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: (o.at ?? new Date()).toISOString(),
    SignatureVersion: o.version ?? '1',
    Signature: '',
    SigningCertURL: o.certUrl ?? CERT_URL,
  };
  if (m.Type === 'SubscriptionConfirmation') {
    m.SubscribeURL = 'https://sns.ap-northeast-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc';
    m.Token = 'abc';
  }
  m.Signature = createSign(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256').update(stringToSign(m)).sign(o.signWith ?? key, 'base64');
  return m;
}

const post = (body: unknown) => http.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(body) });

async function sentCampaign(emails: string[]) {
  const { id } = await campaignWith(app, t.tmp, emails.map((e, i) => person(i + 1, e)));
  await launch(steeringDeps(app), id);
  await waitFor(async () => (await counts(app, id)).emailPhaseDone);
  const { rows } = await app.db.query('select id, email, provider_message_id from notices where campaign_id = $1 order by id', [id]);
  // The SMTP sink's queue id stands in for SES's MessageId.
  for (const r of rows) await app.db.query('update notices set provider_message_id = $2 where id = $1', [r.id, `ses-msg-${r.id}`]);
  return { id, notices: rows.map((r) => ({ ...r, provider_message_id: `ses-msg-${r.id}` })) };
}

const bounce = (sesId: string, recipients: string[], feedbackId: string) => ({
  notificationType: 'Bounce',
  mail: { messageId: sesId, destination: recipients },
  bounce: { bounceType: 'Permanent', bounceSubType: 'General', feedbackId, bouncedRecipients: recipients.map((r) => ({ emailAddress: r, status: '5.1.1', action: 'failed', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })) },
});

describe('SNS certificate hosts', () => {
  // The host must be SNS itself, in the topic's own region and partition.
  const cases: Array<[string, string, boolean]> = [
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-abc.pem', true],
    ['arn:aws:sns:us-east-1:123456789012:t', 'https://sns.us-east-1.amazonaws.com/x.pem', true],
    ['arn:aws-cn:sns:cn-north-1:123456789012:t', 'https://sns.cn-north-1.amazonaws.com.cn/x.pem', true],
    ['arn:aws-us-gov:sns:us-gov-west-1:123456789012:t', 'https://sns.us-gov-west-1.amazonaws.com/x.pem', true],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.s3.amazonaws.com/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.s3.ap-northeast-1.amazonaws.com/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.us-east-1.amazonaws.com/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.ap-northeast-1.amazonaws.com.cn/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'http://sns.ap-northeast-1.amazonaws.com/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.ap-northeast-1.amazonaws.com:8443/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://user:pw@sns.ap-northeast-1.amazonaws.com/x.pem', false],
    ['arn:aws:sns:ap-northeast-1:123456789012:t', 'https://sns.ap-northeast-1.amazonaws.com.evil.example/x.pem', false],
    ['arn:aws:sns:s3:123456789012:t', 'https://sns.s3.amazonaws.com/x.pem', false],
    ['arn:aws-cn:sns:us-east-1:123456789012:t', 'https://sns.us-east-1.amazonaws.com.cn/x.pem', false],
    ['not-an-arn', 'https://sns.ap-northeast-1.amazonaws.com/x.pem', false],
  ];
  it.each(cases)('%s + %s → %s', (topic, url, ok) => {
    expect(isSnsUrl(url, topic)).toBe(ok);
  });
  it('names the host it wants', () => {
    expect(snsHostFor('arn:aws:sns:eu-west-1:123456789012:t')).toBe('sns.eu-west-1.amazonaws.com');
  });
});

describe('the SES webhook', () => {
  it('applies a correctly signed bounce (v1 and v2), once however often SNS delivers it', async () => {
    const { id, notices } = await sentCampaign(['ses-a@example.com', 'ses-b@example.com', 'ses-c@example.com']);
    const [a, b] = notices;
    const m1 = envelope(bounce(a.provider_message_id, [a.email], 'fb-1'), { version: '1' });
    expect((await post(m1)).json()).toEqual({ accepted: 1, duplicates: 0, unmatched: 0 });
    expect((await post(m1)).json()).toEqual({ accepted: 0, duplicates: 1, unmatched: 0 }); // SNS retry
    const m2 = envelope({ ...bounce(b.provider_message_id, [b.email], 'fb-2'), notificationType: undefined, eventType: 'Bounce' }, { version: '2' });
    expect((await post(m2)).statusCode).toBe(200);
    await waitFor(async () => (await counts(app, id)).counts.batched + (await counts(app, id)).counts.postal_queued === 2, { what: 'bounces applied' });
    expect(await isSuppressed(app.db, a.email)).toBe(true);
    const { rows } = await app.db.query(`select count(*)::int as n from notice_events where notice_id = $1 and to_state = 'postal_queued'`, [a.id]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses a tampered body, a wrong topic and a certificate from another host, and changes nothing', async () => {
    const { id, notices } = await sentCampaign(['ses-t@example.com']);
    const n = notices[0];
    const before = JSON.stringify((await counts(app, id)).counts);
    const tampered = envelope(bounce(n.provider_message_id, [n.email], 'fb-t'));
    tampered.Message = tampered.Message.replace('Permanent', 'Transient');
    expect((await post(tampered)).statusCode).toBe(403);
    expect((await post(envelope(bounce(n.provider_message_id, [n.email], 'fb-t2'), { topic: 'arn:aws:sns:ap-northeast-1:999:evil' }))).statusCode).toBe(403);
    fetched.length = 0;
    for (const certUrl of [
      'https://evil.example.com/sns.pem', 'http://sns.ap-northeast-1.amazonaws.com/x.pem', 'https://sns.ap-northeast-1.amazonaws.com.evil.example/x.pem',
      // An S3 bucket named "sns" (anyone can create one), and SNS in another region than the topic's.
      'https://sns.s3.amazonaws.com/x.pem', 'https://sns.s3.ap-northeast-1.amazonaws.com/x.pem', 'https://sns.us-east-1.amazonaws.com/x.pem',
    ]) {
      expect((await post(envelope(bounce(n.provider_message_id, [n.email], 'fb-t3'), { certUrl }))).statusCode).toBe(403);
    }
    expect(fetched).toEqual([]); // never even fetched
    expect((await post(envelope(bounce(n.provider_message_id, [n.email], 'fb-t4'), { signWith: otherKey }))).statusCode).toBe(403);
    expect((await post({ hello: 'world' })).statusCode).toBe(400);
    // A correctly signed message, replayed more than an hour later.
    expect((await post(envelope(bounce(n.provider_message_id, [n.email], 'fb-t5'), { at: new Date(Date.now() - 2 * 3_600_000) }))).statusCode).toBe(403);
    expect(JSON.stringify((await counts(app, id)).counts)).toBe(before);
    expect((await app.db.query('select count(*)::int as n from bounce_events where notice_id = $1', [n.id])).rows[0].n).toBe(0);
  });

  it('confirms subscriptions, and handles complaints, deliveries and several recipients', async () => {
    expect((await post(envelope('confirm', { type: 'SubscriptionConfirmation' }))).json()).toEqual({ confirmed: true });
    expect(confirmed).toHaveLength(1);
    const { id, notices } = await sentCampaign(['ses-x@example.com', 'ses-y@example.com']);
    const [x, y] = notices;
    await post(envelope({ notificationType: 'Delivery', mail: { messageId: x.provider_message_id }, delivery: { recipients: [x.email], smtpResponse: '250 2.0.0 OK' } }));
    await post(envelope({ eventType: 'Complaint', mail: { messageId: y.provider_message_id }, complaint: { feedbackId: 'c-1', complainedRecipients: [{ emailAddress: y.email }] } }));
    await waitFor(async () => (await counts(app, id)).counts.delivered === 1);
    await waitFor(async () => isSuppressed(app.db, y.email));
    expect((await counts(app, id)).counts).toMatchObject({ delivered: 1, sent: 1 }); // the complainer stays notified
    const multi = await post(envelope(bounce('unknown-ses-id', ['p@example.com', 'q@example.com'], 'fb-m')));
    expect(multi.json()).toEqual({ accepted: 2, duplicates: 0, unmatched: 2 }); // recorded, matched to nobody, dropped
  });
});
