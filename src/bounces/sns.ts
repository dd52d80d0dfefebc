// Amazon SNS message verification (signature versions 1 and 2). The signing certificate is only
// ever fetched from SNS itself in the topic's own region (https://sns.<region>.amazonaws.com, or
// .amazonaws.com.cn in China), never from a look-alike such as an S3 bucket named "sns"
// (https://sns.s3.amazonaws.com/…). Messages older than an hour are refused (a replay), and the
// certificate cache is bounded. The fetcher is injectable so tests can trust their own
// certificate without touching the network.
import { createVerify } from 'node:crypto';
import { PermanentError, RetryableError } from '../domain/errors.ts';

export interface SnsEnvelope {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  SubscribeURL?: string;
  Token?: string;
}

/** A notification we refuse (malformed, not signed by SNS for our topic). */
export class SnsError extends PermanentError {
  constructor(code: 'invalid' | 'forbidden', message: string) {
    super(code, message);
  }
}

/** SNS's signing certificate could not be fetched: the notification may verify later (SNS retries). */
export class SnsUpstreamError extends RetryableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('upstream', message, options);
  }
}

/** arn:<partition>:sns:<region>:<account>:<topic> → partition and region, or null. */
export function topicRegion(topicArn: string): { partition: 'aws' | 'aws-cn' | 'aws-us-gov'; region: string } | null {
  const m = /^arn:(aws|aws-cn|aws-us-gov):sns:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):\d{12}:[A-Za-z0-9_.-]{1,256}$/.exec(topicArn);
  return m ? { partition: m[1] as 'aws' | 'aws-cn' | 'aws-us-gov', region: m[2] } : null;
}

/** The one host SNS signs from for a topic: sns.<region>.amazonaws.com (.com.cn in China). */
export function snsHostFor(topicArn: string): string | null {
  const t = topicRegion(topicArn);
  if (!t) return null;
  if (t.partition === 'aws-cn') return t.region.startsWith('cn-') ? `sns.${t.region}.amazonaws.com.cn` : null;
  if (t.partition === 'aws-us-gov') return t.region.startsWith('us-gov-') ? `sns.${t.region}.amazonaws.com` : null;
  return t.region.startsWith('cn-') || t.region.startsWith('us-gov-') ? null : `sns.${t.region}.amazonaws.com`;
}

/** https on the default port, no credentials, exactly the topic's SNS host. */
export function isSnsUrl(url: string, topicArn: string): boolean {
  const host = snsHostFor(topicArn);
  if (!host) return false;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname === host && !u.username && !u.password && (u.port === '' || u.port === '443');
  } catch {
    return false;
  }
}

/** How old a message may be: SNS delivers within minutes; an older one is a replay. */
const MAX_AGE_MS = 3_600_000;
const MAX_CERTS = 32;

const FIELDS: Record<SnsEnvelope['Type'], Array<keyof SnsEnvelope>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** The canonical string SNS signs: "Key\nvalue\n" for each present field, in this order. */
export function stringToSign(m: SnsEnvelope): string {
  return FIELDS[m.Type].filter((k) => m[k] !== undefined && m[k] !== null).map((k) => `${k}\n${m[k]}\n`).join('');
}

export interface SnsVerifier {
  verify(body: unknown): Promise<SnsEnvelope>;
}

export function makeSnsVerifier(o: { allowedTopics: readonly string[]; fetchCert: (url: string) => Promise<string>; now?: () => number }): SnsVerifier {
  const certs = new Map<string, Promise<string>>();
  const now = o.now ?? Date.now;
  return {
    async verify(body) {
      const m = body as Partial<SnsEnvelope>;
      if (!m || typeof m !== 'object' || !m.Type || !(m.Type in FIELDS) || typeof m.Message !== 'string' || !m.MessageId || !m.TopicArn || !m.Signature || !m.SigningCertURL) {
        throw new SnsError('invalid', 'not an SNS message');
      }
      if (!o.allowedTopics.includes(m.TopicArn)) throw new SnsError('forbidden', 'unexpected TopicArn');
      if (!isSnsUrl(m.SigningCertURL, m.TopicArn)) throw new SnsError('forbidden', `signing certificate is not from ${snsHostFor(m.TopicArn) ?? 'sns.<region>.amazonaws.com'} over https`);
      if (m.SubscribeURL !== undefined && !isSnsUrl(m.SubscribeURL, m.TopicArn)) throw new SnsError('forbidden', 'SubscribeURL is not on the topic\'s SNS host');
      const sentAt = Date.parse(m.Timestamp ?? '');
      if (Number.isNaN(sentAt)) throw new SnsError('invalid', 'no valid Timestamp');
      if (now() - sentAt > MAX_AGE_MS) throw new SnsError('forbidden', 'message is more than an hour old (a replay?)');
      if (sentAt - now() > 5 * 60_000) throw new SnsError('forbidden', 'message is dated in the future');
      const algorithm = m.SignatureVersion === '1' ? 'RSA-SHA1' : m.SignatureVersion === '2' ? 'RSA-SHA256' : null;
      if (!algorithm) throw new SnsError('invalid', 'unknown SignatureVersion');
      let cert = certs.get(m.SigningCertURL);
      if (cert) {
        certs.delete(m.SigningCertURL); // most recently used goes last
        certs.set(m.SigningCertURL, cert);
      } else {
        cert = o.fetchCert(m.SigningCertURL);
        certs.set(m.SigningCertURL, cert);
        cert.catch(() => certs.delete(m.SigningCertURL!));
        if (certs.size > MAX_CERTS) certs.delete(certs.keys().next().value!);
      }
      let ok = false;
      try {
        ok = createVerify(algorithm).update(stringToSign(m as SnsEnvelope), 'utf8').verify(await cert, m.Signature, 'base64');
      } catch {
        ok = false;
      }
      if (!ok) throw new SnsError('forbidden', 'bad signature');
      return m as SnsEnvelope;
    },
  };
}

/** Fetch a certificate from SNS (production); the verifier has checked the host against the topic. */
export async function fetchSnsCert(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (!res.ok) throw new SnsUpstreamError(`certificate fetch failed: ${res.status}`);
  return res.text();
}

/** Confirm a subscription: a GET to its SubscribeURL (checked against the topic's SNS host). */
export async function confirmSnsSubscription(url: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (!res.ok) throw new SnsUpstreamError(`subscription confirmation failed: ${res.status}`);
}
