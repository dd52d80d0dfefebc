import { describe, expect, it } from 'vitest';
import { classifySendError, type SendFailure, type SendErrorClass } from '../../src/domain/send-error.ts';

const smtp = (responseCode: number | undefined, response: string, command = 'RCPT TO', code?: string): SendFailure => ({ transport: 'smtp', responseCode, response, command, code, message: response });
const ses = (name: string, message: string, httpStatus = 400): SendFailure => ({ transport: 'ses', name, message, httpStatus });

const cases: Array<[string, SendFailure, SendErrorClass]> = [
  ['550 5.1.1 user unknown', smtp(550, '550 5.1.1 <a@b>: Recipient address rejected: User unknown'), 'hard'],
  ['550 without enhanced code at RCPT', smtp(550, '550 No such user here'), 'hard'],
  ['553 5.1.3 bad syntax', smtp(553, '553 5.1.3 Bad recipient address syntax'), 'hard'],
  ['551 5.1.6 moved', smtp(551, '551 5.1.6 User has moved'), 'hard'],
  ['550 5.2.1 mailbox disabled', smtp(550, '550 5.2.1 Mailbox disabled'), 'hard'],
  ['552 5.2.2 mailbox full', smtp(552, '552 5.2.2 Mailbox full'), 'transient_recipient'],
  ['450 4.2.0 greylisted', smtp(450, '450 4.2.0 Greylisted'), 'transient_recipient'],
  ['451 4.7.1 try later', smtp(451, '451 4.7.1 Try again later'), 'transient_recipient'],
  ['452 4.2.2 over quota', smtp(452, '452 4.2.2 Over quota'), 'transient_recipient'],
  ['421 at connect', smtp(421, '421 4.3.2 Service shutting down', 'CONN'), 'transient_infra'],
  ['454 TLS unavailable', smtp(454, '454 4.7.0 TLS not available', 'STARTTLS'), 'transient_infra'],
  ['ECONNECTION', { transport: 'smtp', code: 'ECONNECTION', command: 'CONN', message: 'connect ECONNREFUSED' }, 'transient_infra'],
  ['ETIMEDOUT', { transport: 'smtp', code: 'ETIMEDOUT', message: 'Connection timeout' }, 'transient_infra'],
  ['EAUTH', { transport: 'smtp', code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed', command: 'AUTH PLAIN', message: 'Invalid login' }, 'config'],
  ['535 at MAIL FROM', smtp(535, '535 5.7.8 Authentication credentials invalid', 'MAIL FROM'), 'config'],
  ['relay denied', smtp(554, '554 5.7.1 <a@b>: Relay access denied'), 'config'],
  ['550 at MAIL FROM', smtp(550, '550 5.1.0 Sender rejected', 'MAIL FROM'), 'config'],
  ['5.7.1 content policy', smtp(550, '550 5.7.1 Message rejected as spam', 'DATA'), 'message'],
  ['5.7.26 DMARC', smtp(550, '550 5.7.26 Unauthenticated email is not accepted', 'DATA'), 'message'],
  ['552 5.3.4 too big', smtp(552, '552 5.3.4 Message size exceeds fixed limit', 'DATA'), 'message'],
  ['554 at DATA no enhanced', smtp(554, '554 Transaction failed', 'DATA'), 'message'],
  ['SES Throttling', ses('Throttling', 'Maximum sending rate exceeded.'), 'throttled'],
  ['SES daily quota', ses('Throttling', 'Daily message quota exceeded.'), 'config'],
  ['SES MessageRejected content', ses('MessageRejected', 'Email rejected: content'), 'message'],
  ['SES MessageRejected unverified', ses('MessageRejected', 'Email address is not verified. The following identities failed the check'), 'config'],
  ['SES MailFromDomainNotVerified', ses('MailFromDomainNotVerifiedException', 'not verified'), 'config'],
  ['SES AccountSendingPaused', ses('AccountSendingPausedException', 'paused'), 'config'],
  ['SES ServiceUnavailable', ses('ServiceUnavailable', 'unavailable', 503), 'transient_infra'],
  ['SES network error', { transport: 'ses', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'transient_infra'],
];

describe('classifySendError', () => {
  it.each(cases)('%s', (_name, failure, expected) => {
    expect(classifySendError(failure).class).toBe(expected);
  });

  it('keeps the reply on one line with the enhanced status', () => {
    const c = classifySendError(smtp(550, '550 5.1.1 unknown\r\nBcc: x'));
    expect(c).toEqual({ class: 'hard', status: '5.1.1', reply: '550 5.1.1 unknown Bcc: x' });
  });
});
