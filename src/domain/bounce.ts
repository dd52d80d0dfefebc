// What a returned message says, per recipient, and what it means for us. Pure: the adapter hands
// in the message already split into headers, text and parts (src/bounces/mail-parts.ts); what a
// status and a diagnostic mean is the one rules table in bounce-rules.ts.
//
// Order of questions: a feedback report (ARF) is a complaint; an RFC 3464 report is read field by
// field; a delay warning is not a failure; an auto-reply (RFC 3834) is not a bounce; anything
// else that looks like a bounce is read as text: the part before the returned original message,
// every address in it a recipient with the lines that follow it as its diagnostic. And the
// fail-safe: a message that is none of these is a failure of unknown kind, never dropped.
import { parseSesMessage } from './ses-event.ts';
import { classifyFailure, REASONS, remoteReply, specificStatusReason, statusFromText, type BounceClass, type BounceReason } from './bounce-rules.ts';

export { statusFromText, type BounceClass, type BounceReason } from './bounce-rules.ts';

export interface MailParts {
  /** Header name (lower case) → unfolded value; first occurrence. */
  headers: ReadonlyMap<string, string>;
  text: string;
  parts: ReadonlyArray<{ contentType: string; content: string }>;
}

export interface BounceRecipient {
  address: string | null;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
  class: BounceClass;
  reason: BounceReason;
  /** The mail server that wrote the report (DSN Reporting-MTA), when it says. */
  reportingMta?: string | null;
  /**
   * Where the address came from: the report itself, or the VERP address the bounce came to (we
   * send one recipient per message, so the notice it names is the one that failed) when the
   * report names no address or another one; `named` then keeps what the report said.
   */
  addressFrom?: 'report' | 'verp';
  named?: string | null;
}

export interface BounceReport {
  kind: 'dsn' | 'legacy' | 'arf' | 'auto_reply' | 'delayed' | 'unknown';
  recipients: BounceRecipient[];
  /** X-Notice-Id of the original message, when the report includes its headers. */
  noticeId: number | null;
}

const ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
// Junk MTAs leave on an address: quotes ('x@…'), a transport prefix (smtp=x@… from dda:SMTP=…).
const clean = (a: string) => a.toLowerCase().replace(/^(smtp|rfc822|mailto)[=:;]/, '').replace(/^['"`]+/, '').replace(/['"`.,;:]+$/, '');
const squash = (s: string, max = 500) => s.replace(/\s+/g, ' ').trim().slice(0, max) || null;

/** Parse "Name: value" blocks (RFC 822 style, folded lines), separated by blank lines. */
export function parseFieldBlocks(text: string): Array<Map<string, string>> {
  const blocks: Array<Map<string, string>> = [];
  let current = new Map<string, string>();
  let lastKey: string | null = null;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current.size) blocks.push(current);
      current = new Map();
      lastKey = null;
      continue;
    }
    if (/^[ \t]/.test(line) && lastKey) {
      current.set(lastKey, `${current.get(lastKey)} ${line.trim()}`);
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) {
      lastKey = m[1].toLowerCase();
      if (!current.has(lastKey)) current.set(lastKey, m[2].trim());
    }
  }
  if (current.size) blocks.push(current);
  return blocks;
}

const stripType = (v: string | undefined) => (v ? v.replace(/^[a-z0-9-]+;\s*/i, '').replace(/^<|>$/g, '').trim() : null);
/** The address in a report field: "rfc822; <x@…>", "undisclosed recipient <x@…>", even x@#bad.domain. */
function fieldAddress(v: string | undefined): string | null {
  const raw = stripType(v);
  if (!raw) return null;
  const a = raw.match(ADDRESS)?.[0] ?? /[^\s<>;,"']+@[^\s<>;,"']+/.exec(raw)?.[0];
  return a ? clean(a) : null;
}

/** A report's generic status (x.0.0) gives way to a specific one its diagnostic quotes. */
function refineStatus(field: string | null, diagnostic: string | null): string | null {
  const quoted = statusFromText(remoteReply(diagnostic));
  if (!field) return quoted;
  return /\.0\.0$/.test(field) && quoted && !/\.0\.0$/.test(quoted) && quoted[0] === field[0] ? quoted : field;
}

function failure(address: string | null, action: string | null, status: string | null, diagnostic: string | null, context: string | null = null, reportedStatus = false): BounceRecipient {
  const c = classifyFailure(status, diagnostic, { address, context, reportedStatus });
  return { address, action, status, diagnostic, class: c.class, reason: c.reason };
}

function fixed(address: string | null, action: string | null, status: string | null, diagnostic: string | null, reason: BounceReason): BounceRecipient {
  return { address, action, status, diagnostic, class: REASONS[reason].class, reason };
}

// ---------------------------------------------------------------------------------------------
// The text of a bounce: the error part (before the returned original) and who failed in it.

const ORIGINAL_MARKER = new RegExp([
  String.raw`^\s*-*\s*(original message|original mail|the original message|returned message|undelivered message)\b.{0,40}(follows|attached|below|headers?|is|:)?\s*-*\s*$`,
  String.raw`^\s*-{2,}\s*original message\s*-{2,}`,
  String.raw`below (this line )?is a copy of`,
  String.raw`this is a copy of the message`,
  String.raw`^\s*-*\s*(message|original) headers? (follows?|of the original)`,
  String.raw`^\s*-*\s*the header of the original message`,
  String.raw`^\s*original message follows`,
  String.raw`(lines|copy) of (your|the) original message follows?:?`,
  String.raw`^\s*a copy of the original message`,
  String.raw`^\s*content-type:\s*(message\/rfc822|text\/rfc822-headers)`,
  String.raw`^\s*-+\s*(元のメッセージ|以下、?元のメール|元メール)`,
].join('|'), 'im');

const HEADER_LINE = /^(?:>\s*)?(received|return-path|message-id|date|from|subject|to|mime-version|content-type|x-[\w-]+|delivered-to|dkim-signature|arc-[\w-]+|authentication-results|reply-to|references|in-reply-to|user-agent|sender):/i;
const SUMMARY_LINE = /^\s*(to|from|cc|bcc|sent|date|subject|reply-to|return-path|sender|envelope-from|message-id|received|in-reply-to|references|x-[\w-]+|original-sender|your mail sent on)\s*:/i;

/** The error part of a text bounce, and the returned original (headers) after it. */
export function splitReturned(text: string): { error: string; original: string } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (ORIGINAL_MARKER.test(lines[i])) return { error: lines.slice(0, i).join('\n'), original: lines.slice(i + 1).join('\n') };
    // Three header lines in a row, at least one of the telling ones: the original starts here.
    if (i > 0 && HEADER_LINE.test(lines[i]) && HEADER_LINE.test(lines[i + 1] ?? '') && /^(?:>\s*)?(received|return-path|message-id|from|subject|mime-version|dkim-signature)/i.test(lines.slice(i, i + 4).join('\n').replace(/\n(?=\S)/g, '\n'))) {
      let k = i;
      while (k < lines.length && (HEADER_LINE.test(lines[k]) || /^(?:>)?[ \t]+\S/.test(lines[k]))) k++;
      if (k - i >= 3) return { error: lines.slice(0, i).join('\n'), original: lines.slice(i).join('\n') };
    }
  }
  return { error: text, original: '' };
}

/** "(expanded from: <x@…>)", "(ultimately generated from x@…)": the alias, not a second recipient. */
const ALIAS_LINE = /^\s*\(?\s*(expanded|ultimately generated|generated|forwarded|redirected) from\b/i;
/** Prose before an address that makes it a place to ask, not a recipient (a long sentence that says contact/send/call). */
const helpText = (before: string) => before.length > 60 && /\b(contact|send|write|e-?mail|report|questions?|help|support|call|visit|postmaster)\b/i.test(before) && !/rcpt to:?\s*<?$/i.test(before);

/** Every address in the error part (but ours and the MTA's), with the lines about it. */
export function recipientsInText(error: string, ignore: (a: string) => boolean): Array<{ address: string; diagnostic: string; context: string }> {
  const lines = error.replace(/\r\n/g, '\n').split('\n');
  const found: Array<{ address: string; line: number }> = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    if (SUMMARY_LINE.test(line) || ALIAS_LINE.test(line)) return;
    for (const m of line.matchAll(ADDRESS)) {
      const a = clean(m[0]);
      if (seen.has(a) || ignore(a)) continue;
      // An address inside the prose of someone else's diagnostic ("…or send an e-mail to
      // dz@…", "contact help@… for help") is where to ask, not who failed.
      if (found.length && helpText(line.slice(0, m.index))) continue;
      // "Sorry x@…. Your mail to the following recipients…", "Dear x@…": the sender, greeted.
      if (/^\s*(sorry|dear|hello|hi)\s*,?\s*$/i.test(line.slice(0, m.index))) continue;
      seen.add(a);
      found.push({ address: a, line: i });
    }
  });
  // An SMTP transcript ("----- Transcript of session follows -----") says where in the dialogue
  // each recipient failed; it is context for those it names (or for the only one).
  const t = lines.findIndex((l) => /transcript of (the )?session/i.test(l));
  const transcript = t >= 0 ? lines.slice(t).join('\n') : '';
  return found.map((f, k) => {
    let end = Math.min(found[k + 1]?.line ?? lines.length, f.line + 16);
    // A section of its own (a transcript, "----- ... -----") speaks of someone else.
    // So does sendmail's per-host line ("550 example.org (smtp)... Host unknown") before the
    // recipient it is about.
    for (let i = f.line + 1; i < end; i++) if (/^\s*-{3,}/.test(lines[i]) || /^\d{3} \S+ \(e?smtp\)\.\.\./i.test(lines[i])) end = i;
    // The line with the address, and those after it up to the next recipient.
    const diagnostic = lines.slice(f.line, Math.max(end, f.line + 1)).join('\n');
    const mine = transcript && (found.length === 1 || transcript.toLowerCase().includes(f.address));
    return { address: f.address, diagnostic, context: mine ? `${diagnostic}\n${transcript}` : diagnostic };
  });
}

/** Addresses a returned original names as its sender (never a failed recipient). */
function sendersIn(original: string): string[] {
  const out: string[] = [];
  for (const line of original.split('\n')) {
    if (/^\s*(from|return-path|sender|reply-to|envelope-from)\s*:/i.test(line)) for (const m of line.matchAll(ADDRESS)) out.push(clean(m[0]));
  }
  return out;
}

/** The recipient the returned original was addressed to (the last resort for "who failed"). */
function originalRecipient(texts: string[]): string | null {
  for (const t of texts) {
    const m = /^(?:to|delivered-to|x-original-to)\s*:\s*(.*)$/im.exec(t);
    const a = m?.[1].match(ADDRESS)?.[0];
    if (a) return clean(a);
  }
  return null;
}

const BOUNCE_SUBJECT = /undeliver|undelivered|not delivered|returned mail|returned to sender|delivery (status notification|failure|failed|has failed|notification|problem)|failure notice|mail delivery (failed|failure|subsystem|system)|could not be delivered|non-?delivery|nondeliverable|mail system error|delivery report|permanent (error|failure)|rejected|unable to deliver|mail (error|failure)|message (not delivered|failure)|配信(不能|エラー|失敗)|エラーメール|送信エラー|メールエラー|返送|届きませんでした/i;
const BOUNCE_FROM = /mailer-daemon|postmaster|mail ?delivery|mail ?administrator|mail system|delivery (system|subsystem)|internet mail delivery|mailerdaemon|no-?reply@.*(dion|ezweb|docomo|softbank)|microsoftexchange/i;
const BOUNCE_TEXT = /could not be delivered|couldn'?t be delivered|was not delivered|wasn'?t delivered|did not reach|delivery (to the following recipients? )?(has )?failed|permanent(ly)? (error|fatal|failure)|fatal errors?|undeliverable|unable to deliver|delivery failure|returned to sender|following (addresses|recipients?) (had|failed|could not|was rejected)|following address(es)? (had|failed)|user unknown|mailbox (unavailable|full)|no such user|the error that the other server returned|remote server returned|smtp error from remote|host .{0,80} said:|error delivering (your )?(mail|message)|not a member of (this|the) (mailing )?list|(mail )?loop (alert|detected)|duplicated message-id|did not like (our )?(rcpt|recipient)|\b55\d[ -]\d\.\d+\.\d+|配信できませんでした|送信できませんでした|届きませんでした/i;
// A delay warning in the words MTAs use when they have not given up: "will continue to try",
// "delivery attempts will continue to be made for 5 day(s)", Exim's "Warning: message … delayed
// 48 hours", "postponed due to a full mailbox".
const DELAY = /this is a warning message only|has been delayed|is delayed|delayed (mail|delivery)|message .{0,40}delayed \d+ (hours?|days?|minutes?)|will (continue to )?(be )?retr(y|ied)|delivery attempts will continue|(we|i) will (continue to |keep )?(try|trying|attempt)|will (continue to )?(try|attempt) (again|to deliver|delivery)|not yet been delivered|still (being )?(trying|attempting|queued)|(has been|was) postponed|delivery (is |was )?postponed|warning: (could not send|message) .{0,40}(delay|hours)/i;
const FINAL = /permanent|fatal|failed(?! (to|several))|undeliverable|could not be delivered|couldn'?t be delivered|did not reach|giving up|gave up|has been returned|5\d\d[ -]5\.\d/i;
// Out of office and other automatic answers, by their subject ("AUTO: … is out of the office",
// "[Automatyczna odpowiedź]", "Automatische Antwort", "Thank you for your e-mail") or their body.
const AUTO_SUBJECT = /^(re:\s*)?(auto(matic)?[ -]?(reply|response|antwort|answer)|out of (the )?office|abwesenheit|absence|vacation|on leave|away from|自動(返信|応答)|不在)|^auto:|\bout of (the )?office\b|\bautoreply\b|\[auto|\bautomat\w*[ -](reply|response|answer|antwort|odpowied\w*|atbilde|r[ée]ponse|respuesta|risposta|resposta|svar|vastaus)|r[ée]ponse automatique|respuesta autom[aá]tica|\(automatic (response|reply)\)|^thank(s| you) for (your|you) (e-?mail|message|mail|enquiry|inquiry)|自動(返信|応答)/i;
const AUTO_BODY = /\b(i am|i'm|i will be) (currently )?(out of (the )?office|away|on (vacation|holiday|leave|annual leave|maternity leave)|travel+ing|out of the country)\b|\bwill (be back|return) (on|to the office)|\blimited access to (my )?e-?mail\b|\bwill (reply|respond|get back to you) (as soon as|when|upon)|\bendeavou?r to reply\b/i;
// Challenge-response: the person's mail system holds the email until the sender proves itself.
const CHALLENGE = /not pre-?approved|challenge[- ]response|(account|mailbox) is protected by|added to (the |my )?(recipient'?s )?(allowed|approved|white) ?list|verify (that )?you are (a )?(human|person|real)|awaiting (your )?(verification|confirmation)|boxbe|bluebottle|spam ?arrest|mailblocks|sanebox/i;
// A complaint that is no ARF report: a receiver's abuse desk forwarding the message (Hotmail's
// "complaint about message from 1.2.3.4", "Abuse Report").
const COMPLAINT_SUBJECT = /complaint about (a )?message|abuse report|spam (complaint|report)|feedback loop/i;

function noticeIdIn(parts: MailParts): number | null {
  for (const p of [parts.text, ...parts.parts.map((x) => x.content)]) {
    const m = /^X-Notice-Id:\s*(\d+)/im.exec(p);
    if (m) return Number(m[1]);
  }
  return null;
}

export interface AnalyzeOptions {
  /**
   * The address the notice this bounce came back for was sent to (the VERP address names the
   * notice). It answers "who failed" when the report names nobody (an AOL screen name, "<<< No
   * Message Collected >>>") or somebody else (a forwarding address, a list, help text).
   */
  expected?: string | null;
}

export function analyzeBounce(mail: MailParts, ownAddress: (address: string) => boolean = () => false, opts: AnalyzeOptions = {}): BounceReport {
  const report = readReport(mail, ownAddress);
  const expected = opts.expected?.toLowerCase() ?? null;
  if (expected && report.recipients.length && !report.recipients.some((r) => r.address === expected)) {
    // We send one recipient per message: the report is about that one, whatever it calls them.
    const r = report.recipients.find((x) => REASONS[x.reason].route !== 'ignore') ?? report.recipients[0];
    r.named = r.address;
    r.address = expected;
    r.addressFrom = 'verp';
  }
  for (const r of report.recipients) r.addressFrom ??= r.address ? 'report' : undefined;
  return report;
}

function readReport(mail: MailParts, ownAddress: (address: string) => boolean): BounceReport {
  const h = (k: string) => mail.headers.get(k) ?? '';
  const contentType = h('content-type').toLowerCase();
  const noticeId = noticeIdIn(mail);
  const originals = mail.parts.filter((p) => /^(message\/rfc822|text\/rfc822-headers|message\/global|message\/global-headers)$/.test(p.contentType)).map((p) => p.content);
  const { error, original } = splitReturned(mail.text);
  const notRecipients = new Set([...(h('to').match(ADDRESS) ?? []), ...(h('from').match(ADDRESS) ?? []), ...sendersIn(original), ...originals.flatMap(sendersIn)].map(clean));
  const ignore = (a: string) => ownAddress(a) || notRecipients.has(a) || /^(mailer-daemon|postmaster|abuse|no-?reply|root|mail(er)?)@/i.test(a);
  const subject = h('subject');
  const from = h('from');
  const fromSystem = BOUNCE_FROM.test(from);

  // A complaint (ARF).
  const feedback = mail.parts.find((p) => p.contentType === 'message/feedback-report');
  if (feedback || /report-type="?feedback-report/.test(contentType)) {
    const fields = parseFieldBlocks(feedback?.content ?? '')[0] ?? new Map();
    const address = fieldAddress(fields.get('original-rcpt-to') ?? fields.get('removal-recipient')) ?? originalRecipient(originals);
    const type = (fields.get('feedback-type') ?? 'abuse').toLowerCase();
    // A DMARC/SPF failure report (auth-failure) is a receiver's note about our authentication, not
    // the person's complaint; it does not say the message was refused. Recorded, nothing more.
    return { kind: 'arf', noticeId, recipients: [fixed(address ?? null, type, null, fields.get('user-agent') ?? null, type === 'auth-failure' ? 'not_bounce' : 'complaint')] };
  }
  // A complaint in no report format: an abuse desk forwarding our message back.
  if (COMPLAINT_SUBJECT.test(subject) && originals.length && !fromSystem) {
    return { kind: 'arf', noticeId, recipients: [fixed(originalRecipient(originals), 'abuse', null, subject, 'complaint')] };
  }

  // An SES notification sent by email ("AWS Notification Message: {…}"): the JSON says it all.
  const json = /\{\s*"(notificationType|eventType)"\s*:/.exec(mail.text);
  if (json) {
    try {
      const events = parseSesMessage(mail.text.slice(json.index, mail.text.lastIndexOf('}') + 1), 'email');
      if (events.length) return { kind: 'dsn', noticeId: noticeId ?? events[0].noticeIdHeader, recipients: events.map((e) => ({ ...fixed(e.recipient.toLowerCase(), e.action, e.status, e.diagnostic, e.reason), reportingMta: e.reportingMta ?? null })) };
    } catch {
      // Not JSON after all: read it as text.
    }
  }

  const inText = recipientsInText(error, ignore);
  const textFor = (a: string | null) => inText.find((x) => x.address === a)?.diagnostic ?? null;
  const contextFor = (a: string | null) => inText.find((x) => x.address === a)?.context ?? null;
  const dsn = mail.parts.find((p) => p.contentType === 'message/delivery-status' || p.contentType === 'message/global-delivery-status');
  const dsnBlocks = dsn ? parseFieldBlocks(dsn.content) : [];

  // Challenge-response: held for the sender to confirm. It reached the person's mail system.
  const diagnostics = dsnBlocks.map((b) => b.get('diagnostic-code') ?? '').join('\n');
  if (CHALLENGE.test(`${subject}\n${from}\n${diagnostics}\n${error.slice(0, 4000)}`) && !finalHard(error)) {
    const who = dsnBlocks.map((b) => fieldAddress(b.get('final-recipient') ?? b.get('original-recipient'))).find(Boolean) ?? (h('from').match(ADDRESS)?.[0] ? clean(h('from').match(ADDRESS)![0]) : null);
    return { kind: 'auto_reply', noticeId, recipients: [fixed(who && !ownAddress(who) && !/^no-?reply@/i.test(who) ? who : null, null, null, subject || null, 'challenge')] };
  }

  // An RFC 3464 report: field by field; text the report leaves out comes from the human part.
  if (dsn) {
    const recipients: BounceRecipient[] = [];
    for (const b of dsnBlocks) {
      const field = b.get('final-recipient') ?? b.get('original-recipient') ?? b.get('x-actual-recipient');
      if (!stripType(field)) continue; // the per-message block
      let address = fieldAddress(field);
      // "rfc822;@host:user@daemon", "system;<>": no usable address; the human part names it.
      if (address && (/^@|@[\w.-]*daemon$/i.test(address) || address === '<>')) address = null;
      if (address && ownAddress(address)) continue;
      if (!address && inText.length === 1) address = inText[0].address;
      const action = (b.get('action') ?? '').toLowerCase().trim() || null;
      const reported = stripType(b.get('diagnostic-code'));
      let diagnostic = reported || squash(textFor(address) ?? '', 1000) || squash(error, 1000);
      // No Diagnostic-Code and the lines naming the recipient say nothing specific: the transcript
      // about them ("mail.local: unknown user: x") may.
      const around = contextFor(address);
      if (!reported && around && GENERIC_REASONS.has(classifyFailure(null, diagnostic).reason) && !GENERIC_REASONS.has(classifyFailure(null, around).reason)) diagnostic = squash(around, 1000);
      const statusField = /^\d\.\d{1,3}\.\d{1,3}/.exec(b.get('status') ?? '')?.[0] ?? null;
      const status = refineStatus(statusField, diagnostic);
      if (action === 'delayed' || action === 'delay') recipients.push(fixed(address, action, status, diagnostic, 'delayed'));
      else if (action === 'relayed' || action === 'expanded') recipients.push(fixed(address, action, status, diagnostic, 'relayed'));
      else if (action === 'delivered' || action === 'deliverable' || (!action && status?.startsWith('2.'))) recipients.push(fixed(address, action, status, diagnostic, 'delivered'));
      else if (!reported && specificStatusReason(status)) {
        // No Diagnostic-Code, a specific status (5.1.1): the status says it. The human part may
        // carry anything (a virus scanner's footer, a disclaimer) and must not overrule it.
        recipients.push({ ...failure(address, action ?? 'failed', status, null, null, !!statusField), diagnostic });
      } else recipients.push(failure(address, action ?? 'failed', status, diagnostic, contextFor(address) ?? error, !!statusField));
    }
    const reportingMta = stripType(dsnBlocks.find((b) => b.has('reporting-mta'))?.get('reporting-mta')) || null;
    for (const r of recipients) r.reportingMta = reportingMta;
    if (recipients.length && recipients.every((r) => r.address)) {
      return { kind: recipients.every((r) => r.reason === 'delayed') ? 'delayed' : 'dsn', noticeId, recipients };
    }
  }

  const looksLikeBounce = BOUNCE_SUBJECT.test(subject) || fromSystem || /report-type="?delivery-status/.test(contentType) || !!h('x-failed-recipients') || BOUNCE_TEXT.test(error);

  // A delay warning: the MTA is still trying. Not a failure.
  if ((DELAY.test(error) || /\bdelay/i.test(subject)) && !FINAL.test(error.replace(DELAY, ''))) {
    const who = inText.length ? inText.map((r) => r.address) : [originalRecipient([original, ...originals])];
    return { kind: 'delayed', noticeId, recipients: who.map((a) => fixed(a, 'delayed', statusFromText(error), squash(error), 'delayed')) };
  }

  // An automatic reply from a person's mailbox (RFC 3834), not from a mail system: by its headers,
  // its subject or its body. One that says the address does not exist ("You sent mail to x. That's
  // not a valid user here.", Auto-Submitted or not) is a failure.
  const autoSubmitted = h('auto-submitted').toLowerCase();
  const autoHeaders = autoSubmitted.startsWith('auto-replied') || /^yes/i.test(h('x-autoreply')) || !!h('x-autorespond') || /auto_reply/i.test(h('precedence'));
  const autoWords = AUTO_SUBJECT.test(subject) || (!looksLikeBounce && AUTO_BODY.test(error.slice(0, 2000)));
  if ((autoHeaders || autoWords) && !(fromSystem || BOUNCE_SUBJECT.test(subject) || h('x-failed-recipients')) && !finalHard(error)) {
    return { kind: 'auto_reply', noticeId, recipients: [fixed(null, null, null, subject || null, 'auto_reply')] };
  }

  if (looksLikeBounce || finalHard(error)) {
    // Who failed: the MTA's X-Failed-Recipients when it lists them (Exim: the rest of the text
    // may name aliases and help desks); else the addresses in the error text; else the returned
    // original's To (one message, one recipient: the VERP address says whose it is).
    const listed = (h('x-failed-recipients').match(ADDRESS) ?? []).map(clean).filter((a) => !ownAddress(a));
    let found = listed.length ? listed.map((a) => inText.find((x) => x.address === a) ?? { address: a, diagnostic: error, context: error }) : inText;
    if (!found.length) {
      const to = originalRecipient([...originals, original]);
      const bare = bareRecipient(error, from);
      found = (to && !ownAddress(to) ? [to] : bare ? [bare] : []).map((a) => ({ address: a, diagnostic: error, context: error }));
    }
    if (!found.length) return { kind: 'legacy', noticeId, recipients: [failure(null, 'failed', statusFromText(error), squash(error))] };
    const recipients = found.map((r) => {
      // The lines about this recipient; the whole error text when they say nothing (or, for the
      // only recipient, nothing specific: the text around them is about them too); the subject
      // ("Returned mail: User unknown") when even that says nothing.
      let diagnostic = squash(r.diagnostic, 1000);
      const status = statusFromText(diagnostic) ?? statusFromText(error);
      const own = classifyFailure(status, diagnostic).reason;
      if (!diagnostic || own === 'unknown_failure' || (found.length === 1 && GENERIC_REASONS.has(own) && !GENERIC_REASONS.has(classifyFailure(status, error).reason))) diagnostic = squash(error, 1000);
      if (classifyFailure(status, diagnostic).reason === 'unknown_failure' && subject) diagnostic = squash(`${subject}: ${diagnostic ?? ''}`, 1000);
      return failure(r.address, 'failed', status ?? statusFromText(diagnostic), diagnostic, r.context);
    });
    return { kind: 'legacy', noticeId, recipients };
  }

  // At a VERP address, a message that is no report, no delay and no auto-reply: a failure of
  // unknown kind (retried, then a letter) when it carries any sign of one (a status code, a
  // mail system's empty sender); otherwise (spam, a virus, someone writing to the bounce address)
  // it is kept for ops and is no failure of the person.
  const who = inText[0]?.address ?? originalRecipient([...originals, original]);
  const signal = !!statusFromText(error.slice(0, 4000)) || FAILURE_WORDS.test(error.slice(0, 2000)) || /^<?>?$/.test(h('return-path').trim()) && h('return-path') !== '' || /^<?>?$/.test(from.trim()) && from !== '';
  return { kind: 'unknown', noticeId, recipients: [fixed(who, signal ? 'failed' : null, null, squash(subject ? `${subject}: ${error}` : error), signal ? 'unknown_failure' : 'not_bounce')] };
}

/** Words of a failure report in a message no rule recognised ("We could not process the message you sent to x"). */
const FAILURE_WORDS = /\b(could not|couldn'?t|unable to|cannot|can'?t) (process|deliver|accept|be delivered|be processed)|undeliver|not (be )?delivered|delivery (failed|failure|problem|error)|(was|were|has been|have been) (rejected|refused|returned|bounced)/i;

const GENERIC_REASONS: ReadonlySet<BounceReason> = new Set(['rejected', 'policy', 'temporary', 'unknown_failure']);

/** The text says in so many words that the address or its domain does not exist. */
function finalHard(text: string): boolean {
  const r = classifyFailure(null, text.slice(0, 4000)).reason;
  return r === 'user_unknown' || r === 'host_unknown';
}

/**
 * A recipient named without a domain (AOL: "…could not be delivered…:\n\tscreenname") in a bounce
 * from MAILER-DAEMON@<domain>: the address is screenname@<domain>.
 */
function bareRecipient(error: string, from: string): string | null {
  const domain = /(?:mailer-daemon|postmaster)@([a-z0-9.-]+\.[a-z]{2,})/i.exec(from)?.[1];
  if (!domain) return null;
  const m = /(following recipients?|following addresses?|not be delivered[^\n]*)[^\n]*:\s*\n\s*([a-z0-9][a-z0-9._-]{1,63})\s*$/im.exec(error);
  return m ? `${m[2].toLowerCase()}@${domain.toLowerCase().replace(/^(mail|mx|smtp)\d*\./, '')}` : null;
}
