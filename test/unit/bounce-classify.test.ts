import { describe, expect, it } from 'vitest';
import { classifyFailure, statusFromText, RULE_COUNT, type BounceClass, type BounceReason } from '../../src/domain/bounce-rules.ts';
import { parseSesMessage } from '../../src/domain/ses-event.ts';

const table: Array<[string | null, string, BounceClass]> = [
  ['5.1.1', '550 5.1.1 User unknown', 'hard'],
  ['5.1.10', 'RESOLVER.ADR.RecipientNotFound', 'hard'],
  ['5.2.1', 'mailbox disabled', 'soft'],
  ['5.4.4', 'unroutable address', 'hard'],
  ['5.2.2', 'mailbox full', 'soft'],
  ['4.2.2', 'over quota', 'soft'],
  ['4.4.7', 'delivery time expired', 'soft'],
  ['5.7.1', 'Message rejected as spam', 'message'],
  ['5.3.4', 'message too big', 'message'],
  ['5.7.26', 'unauthenticated sender, DMARC policy fail', 'config'],
  ['5.7.1', 'Relay access denied', 'soft'],
  ['5.1.8', 'bad sender domain', 'config'],
  [null, '550 Unknown user someone@docomo.ne.jp', 'hard'],
  [null, 'この宛先は存在しないアドレスです', 'hard'],
  [null, 'The user(s) account is temporarily over quota.', 'soft'],
  [null, 'connection timed out, will try again', 'soft'],
  [null, 'something nobody understands', 'soft'],
];

describe('classifyFailure: the class (one table)', () => {
  it.each(table)('%s %s → %s', (status, text, cls) => expect(classifyFailure(status, text).class).toBe(cls));
  it('reads codes from text', () => {
    expect(statusFromText('smtp; 550 5.1.1 <a@b>')).toBe('5.1.1');
    expect(statusFromText('552 mailbox full')).toBe('5.2.2');
    expect(statusFromText('421 try later')).toBe('4.0.0');
    expect(statusFromText('no code')).toBeNull();
  });
});

// Reasons: generic codes refined by specific text; specific codes kept against generic text.
const reasons: Array<[string | null, string, BounceReason]> = [
  ['5.0.0', '550 Please fix reverse DNS for 192.0.2.1', 'our_setup'],
  ['5.0.0', '554 IP address 192.0.2.1 blacklisted at zen.example', 'blocked'],
  ['5.0.0', '452 Too many recipients', 'rate_limited'],
  ['5.0.0', '554 Service currently unavailable', 'temporary'],
  ['5.0.0', 'No MX record for domain', 'host_unknown'],
  ['5.0.0', 'Unrouteable address', 'host_unknown'],
  ['5.0.0', 'the domain is not reachable', 'host_unknown'],
  ['4.4.3', 'Host not found, try again', 'temporary'],
  ['5.1.0', '550 #5.1.0 Address rejected', 'user_unknown'],
  ['5.2.0', '550 Unknown user x@docomo.ne.jp (in reply to end of DATA command)', 'filtered'],
  ['5.0.0', '550 : User unknown', 'filtered'],
  ['5.1.1', '550 5.1.1 User unknown (in reply to RCPT TO command)', 'user_unknown'],
  ['5.0.0', '550 user unknown (in reply to MAIL FROM command)', 'our_setup'],
  ['5.0.0', 'Recipient address rejected: Access denied', 'user_unknown'],
  ['5.2.1', 'The account is disabled', 'mailbox_disabled'],
  ['5.7.1', 'Message rejected as spam', 'content'],
  ['5.7.1', 'Delivery not authorized, message refused', 'policy'],
  ['5.0.0', 'SPF check failed', 'our_authentication'],
  ['4.4.7', 'retry timeout exceeded', 'expired'],
  [null, 'something nobody understands', 'unknown_failure'],
];

describe('classifyFailure: reasons', () => {
  it.each(reasons)('%s %s → %s', (status, text, reason) => expect(classifyFailure(status, text).reason).toBe(reason));
  it('has one table of a known size', () => expect(RULE_COUNT).toBeGreaterThan(20));
  // RFC 3463: a 4.x.x in a failure report means sending later may succeed. A domain "not found"
  // under a report's own 4.x.x Status is the reporter's DNS lookup; hard when the Status is 5.x.x,
  // when another server's 5xx is quoted, or when the code is a text bounce's (qmail's "#4.1.2").
  it('reads a domain not found by the reporter\'s own rating of it', () => {
    const dns = "DNS Error: 1 DNS type 'mx' lookup of typo.example responded with code NXDOMAIN Domain name not found: typo.example";
    expect(classifyFailure('4.0.0', dns, { reportedStatus: true }).reason).toBe('temporary');
    expect(classifyFailure('5.0.0', dns, { reportedStatus: true }).reason).toBe('host_unknown');
    expect(classifyFailure('4.4.1', 'host relay.example said: 550 5.1.2 Host unknown', { reportedStatus: true }).reason).toBe('host_unknown');
    expect(classifyFailure('4.1.2', "Sorry, I couldn't find any host by that name. (#4.1.2)").reason).toBe('host_unknown');
    expect(classifyFailure('4.0.0', 'User unknown', { reportedStatus: true }).reason).toBe('user_unknown');
  });
  it('reads the remote\'s reply, not the category SES files it under', () => {
    expect(classifyFailure('5.0.0', "5.1.0 - Unknown address error 550-'5.2.2 <a@x.example>... Mailbox Full' (delivery attempts: 0)").reason).toBe('mailbox_full');
    expect(classifyFailure('5.7.1', "5.1.0 - Unknown address error 550-'5.7.1 <b@amazonses.example>... Access denied'").reason).toBe('policy');
    expect(classifyFailure('5.1.0', '5.1.0 - Unknown address error').reason).toBe('user_unknown');
  });
});

describe('SES notifications', () => {
  const mail = { messageId: 'ses-1', headers: [{ name: 'X-Notice-Id', value: '7' }] };
  it('reads notificationType and eventType shapes, several recipients each', () => {
    const a = parseSesMessage(JSON.stringify({ notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'General', feedbackId: 'f1', bouncedRecipients: [{ emailAddress: 'A@x.example', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 unknown' }, { emailAddress: 'b@x.example' }] } }), 'sns-1');
    expect(a.map((e) => [e.recipient, e.class, e.dedupeKey, e.noticeIdHeader])).toEqual([
      ['a@x.example', 'hard', 'ses:bounce:f1:a@x.example', 7],
      ['b@x.example', 'hard', 'ses:bounce:f1:b@x.example', 7],
    ]);
    const b = parseSesMessage(JSON.stringify({ eventType: 'Bounce', mail, bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', feedbackId: 'f2', bouncedRecipients: [{ emailAddress: 'c@x.example' }] } }), 'sns-2');
    expect(b[0].class).toBe('soft');
    expect(parseSesMessage(JSON.stringify({ eventType: 'Complaint', mail, complaint: { feedbackId: 'f3', complainedRecipients: [{ emailAddress: 'd@x.example' }] } }), 's')[0].class).toBe('complaint');
    expect(parseSesMessage(JSON.stringify({ notificationType: 'Delivery', mail, delivery: { recipients: ['e@x.example'], smtpResponse: '250 2.0.0 OK' } }), 's')[0].class).toBe('delivery');
    expect(parseSesMessage(JSON.stringify({ notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'ContentRejected', bouncedRecipients: [{ emailAddress: 'f@x.example' }] } }), 's')[0].class).toBe('message');
    expect(parseSesMessage('not json', 's')).toEqual([]);
  });
});
