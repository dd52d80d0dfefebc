// Amazon SNS message verification (signature versions 1 and 2). The signing certificate is only
// ever fetched from https://sns.<region>.amazonaws.com; the fetcher is injectable so tests can
// trust their own certificate without touching the network.
import { createVerify } from 'node:crypto';

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

export class SnsError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = 'SnsError';
  }
}

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export function isSnsUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && SNS_HOST.test(u.hostname) && !u.username && !u.password && (u.port === '' || u.port === '443');
  } catch {
    return false;
  }
}

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

export function makeSnsVerifier(o: { allowedTopics: readonly string[]; fetchCert: (url: string) => Promise<string> }): SnsVerifier {
  const certs = new Map<string, Promise<string>>();
  return {
    async verify(body) {
      const m = body as Partial<SnsEnvelope>;
      if (!m || typeof m !== 'object' || !m.Type || !(m.Type in FIELDS) || typeof m.Message !== 'string' || !m.MessageId || !m.TopicArn || !m.Signature || !m.SigningCertURL) {
        throw new SnsError(400, 'not an SNS message');
      }
      if (!o.allowedTopics.includes(m.TopicArn)) throw new SnsError(403, 'unexpected TopicArn');
      if (!isSnsUrl(m.SigningCertURL)) throw new SnsError(403, 'signing certificate is not from sns.<region>.amazonaws.com over https');
      const algorithm = m.SignatureVersion === '1' ? 'RSA-SHA1' : m.SignatureVersion === '2' ? 'RSA-SHA256' : null;
      if (!algorithm) throw new SnsError(400, 'unknown SignatureVersion');
      let cert = certs.get(m.SigningCertURL);
      if (!cert) {
        cert = o.fetchCert(m.SigningCertURL);
        certs.set(m.SigningCertURL, cert);
        cert.catch(() => certs.delete(m.SigningCertURL!));
      }
      let ok = false;
      try {
        ok = createVerify(algorithm).update(stringToSign(m as SnsEnvelope), 'utf8').verify(await cert, m.Signature, 'base64');
      } catch {
        ok = false;
      }
      if (!ok) throw new SnsError(403, 'bad signature');
      return m as SnsEnvelope;
    },
  };
}

/** Fetch a certificate from SNS (production). */
export async function fetchSnsCert(url: string): Promise<string> {
  if (!isSnsUrl(url)) throw new SnsError(403, 'refusing to fetch a certificate from outside SNS');
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (!res.ok) throw new SnsError(502, `certificate fetch failed: ${res.status}`);
  return res.text();
}

/** Confirm a subscription: a GET to its SubscribeURL, only ever on SNS itself (production). */
export async function confirmSnsSubscription(url: string): Promise<void> {
  if (!isSnsUrl(url)) throw new SnsError(400, 'SubscribeURL is not an SNS URL');
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (!res.ok) throw new SnsError(502, `subscription confirmation failed: ${res.status}`);
}
