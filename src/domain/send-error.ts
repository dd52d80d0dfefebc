// The core decision: what a failed send means. One pure function; everything else asks it.
// See DESIGN.md "Error classes".

/** What a transport reports when a send did not succeed, stripped to what classification needs. */
export interface SendFailure {
  transport: 'smtp' | 'ses';
  /** nodemailer's error code (EAUTH, ECONNECTION, ...), or a Node socket code. */
  code?: string;
  /** SMTP reply code, e.g. 550. */
  responseCode?: number;
  /** SMTP reply text, e.g. "550 5.1.1 <x@y>: Recipient address rejected". */
  response?: string;
  /** SMTP command that failed (CONN, RCPT TO, DATA, AUTH PLAIN, MAIL FROM). */
  command?: string;
  /** SES error name (Throttling, MessageRejected, ...). */
  name?: string;
  message: string;
  httpStatus?: number;
}

export type SendErrorClass =
  | 'transient_recipient' // retry with backoff; after the policy window, post
  | 'transient_infra' // our relay or the network: retry, never counts against the person
  | 'throttled' // the provider asks us to slow down
  | 'hard' // the address does not exist: suppress and post now
  | 'message' // content/policy: needs review, counts against the campaign's error budget
  | 'config'; // our own configuration: pause the campaign, reroute nobody

export interface ClassifiedSendError {
  class: SendErrorClass;
  /** Enhanced status code if we found one (5.1.1). */
  status?: string;
  /** One line for the ledger and the report. */
  reply: string;
}

const ENHANCED = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

export function enhancedStatus(text: string | undefined): string | undefined {
  const m = text ? ENHANCED.exec(text) : null;
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}

const INFRA_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETLS', 'EPROTOCOL', 'TimeoutError']);
const SES_THROTTLE = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException']);
const SES_CONFIG = new Set([
  'MailFromDomainNotVerifiedException', 'AccountSendingPausedException', 'ConfigurationSetSendingPausedException',
  'ConfigurationSetDoesNotExistException', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'AccessDenied',
  'AccessDeniedException', 'UnrecognizedClientException', 'MissingAuthenticationToken', 'InvalidAccessKeyId',
  'ExpiredToken', 'CredentialsProviderError',
]);
const SES_INFRA = new Set(['ServiceUnavailable', 'InternalFailure', 'InternalServerError', 'RequestTimeout', 'RequestTimeoutException']);

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim().slice(0, 500);
}

export function classifySendError(f: SendFailure): ClassifiedSendError {
  const reply = oneLine(f.response ?? (f.name ? `${f.name}: ${f.message}` : f.message));
  const status = enhancedStatus(f.response ?? f.message);
  const is = (cls: SendErrorClass): ClassifiedSendError => ({ class: cls, status, reply });
  return f.transport === 'ses' ? classifySes(f, is) : classifySmtp(f, status, is);
}

function classifySes(f: SendFailure, is: (c: SendErrorClass) => ClassifiedSendError): ClassifiedSendError {
  const name = f.name ?? '';
  if (SES_THROTTLE.has(name)) {
    // "Daily message quota exceeded" is a throttling error too, but it will not pass in seconds.
    return /daily message quota/i.test(f.message) ? is('config') : is('throttled');
  }
  if (SES_CONFIG.has(name)) return is('config');
  if (name === 'MessageRejected') {
    return /not verified|not authorized|sending paused/i.test(f.message) ? is('config') : is('message');
  }
  if (SES_INFRA.has(name) || (f.code && INFRA_CODES.has(f.code))) return is('transient_infra');
  if (f.httpStatus !== undefined && f.httpStatus >= 500) return is('transient_infra');
  if (f.httpStatus === 403) return is('config');
  return is('transient_infra');
}

function classifySmtp(f: SendFailure, status: string | undefined, is: (c: SendErrorClass) => ClassifiedSendError): ClassifiedSendError {
  const rc = f.responseCode ?? 0;
  const cmd = (f.command ?? '').toUpperCase();
  const text = `${f.response ?? ''} ${f.message}`;
  if (f.code === 'EAUTH' || rc === 530 || rc === 534 || rc === 535 || rc === 538) return is('config');
  if (/relay(ing)? (access )?(denied|not permitted)|not permitted to relay|sender address rejected|sender verify failed/i.test(text)) {
    return is('config');
  }
  if (cmd.startsWith('MAIL') && rc >= 500) return is('config');
  if (rc === 421 || rc === 454 || cmd === 'CONN' || (!rc && f.code && INFRA_CODES.has(f.code))) return is('transient_infra');
  if (rc >= 400 && rc < 500) return is('transient_recipient');
  if (rc >= 500) {
    if (status) {
      const [, subject, detail] = status.split('.').map(Number);
      if (subject === 1) return detail === 7 || detail === 8 ? is('config') : is('hard'); // 5.1.7/5.1.8: our sender address
      if (subject === 2) return detail === 2 ? is('transient_recipient') : detail === 1 ? is('hard') : is('message');
      if (subject === 4 && (detail === 4 || detail === 1)) return is('hard'); // unroutable / no answer from host
      if (subject === 7 && (detail === 0 || detail === 8) && /auth/i.test(text)) return is('config');
      return is('message'); // 5.3.x, 5.5.x, 5.6.x, 5.7.x: the message or the policy, not the person
    }
    if (cmd.startsWith('RCPT') && (rc === 550 || rc === 551 || rc === 553)) return is('hard');
    return is('message');
  }
  if (f.code === 'EENVELOPE' || f.code === 'EMESSAGE') return is('message');
  return is('transient_infra');
}
