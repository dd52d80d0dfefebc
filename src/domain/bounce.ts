// What a returned message says, per recipient, and what it means for us. Pure: the adapter hands
// in the message already split into headers, text and parts (src/bounces/mail-parts.ts).
//
// Order of questions: a feedback report (ARF) is a complaint; an RFC 3464 report is read field by
// field; a legacy bounce (Postfix, qmail, Exim, Sendmail, Yahoo, carriers...) is read from its
// text; an auto-reply (RFC 3834) is not a bounce; anything else is not a bounce either.

export type BounceClass = 'hard' | 'soft' | 'message' | 'config' | 'complaint' | 'delivery' | 'auto_reply' | 'not_bounce';

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
}

export interface BounceReport {
  kind: 'dsn' | 'legacy' | 'arf' | 'auto_reply' | 'not_bounce';
  recipients: BounceRecipient[];
  /** X-Notice-Id of the original message, when the report includes its headers. */
  noticeId: number | null;
}

// ---------------------------------------------------------------------------------------------
// The one table: status code and diagnostic text → class. First match wins. `status` is the
// enhanced code (5.1.1); rules with only `text` also apply when no code was found.
interface Rule {
  status?: RegExp;
  text?: RegExp;
  class: BounceClass;
  why: string;
}

export const BOUNCE_RULES: readonly Rule[] = [
  { text: /\b(spf|dkim|dmarc)\b.*\b(fail|reject|not pass|policy)|\bnot authori[sz]ed to send\b|relay(ing)? (access )?(denied|not permitted)|sender (address )?(rejected|verify failed)|authentication (required|failed)/i, class: 'config', why: 'our sending setup (SPF/DKIM/DMARC, relay, sender)' },
  { status: /^5\.1\.[78]$/, class: 'config', why: 'our sender address' },
  { status: /^[45]\.2\.2$/, class: 'soft', why: 'mailbox full' },
  { text: /mailbox (is )?full|over ?quota|quota exceeded|insufficient (system )?storage|容量(が|を)?(超|オーバー)|temporarily over quota/i, class: 'soft', why: 'mailbox full' },
  { status: /^5\.1\.(0|1|2|3|6|10)$/, class: 'hard', why: 'address does not exist' },
  { status: /^5\.2\.1$/, class: 'hard', why: 'mailbox disabled' },
  { status: /^5\.4\.[14]$/, class: 'hard', why: 'domain does not receive mail' },
  { status: /^4\./, class: 'soft', why: 'temporary failure' },
  { status: /^5\.(3\.4|6\.\d+)$/, class: 'message', why: 'message format or size' },
  { status: /^5\.7\./, class: 'message', why: 'policy or content' },
  {
    text: /user unknown|unknown user|no such (user|recipient|mailbox)|does(n't| not) (exist|have a [\w.]+ account)|mailbox (not found|unavailable|does not exist)|invalid (recipient|mailbox|address)|recipient (address )?(rejected|not found|unknown)|address rejected|account (is )?(disabled|suspended|inactive)|no mailbox here|not our customer|undeliverable address|宛先(不明|が見つかりません)|存在しない(アドレス|ユーザ)/i,
    class: 'hard', why: 'address does not exist',
  },
  { text: /\bspam\b|blocked|blacklist|block ?list|content (rejected|policy)|message (rejected|refused) (due to|for) (policy|content)|virus/i, class: 'message', why: 'policy or content' },
  { text: /temporar(y|ily)|try again|deferred|timed? ?out|connection (refused|reset)/i, class: 'soft', why: 'temporary failure' },
  { status: /^5\./, class: 'hard', why: 'permanent failure' },
];

/** Find an enhanced status code (5.1.1) in a text, or derive one from a basic reply code. */
export function statusFromText(text: string | null | undefined): string | null {
  if (!text) return null;
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text);
  if (enhanced) return `${enhanced[1]}.${enhanced[2]}.${enhanced[3]}`;
  const basic = /\b([45]\d\d)[\s:-]/.exec(text);
  if (!basic) return null;
  const c = Number(basic[1]);
  if (c === 552) return '5.2.2';
  if (c >= 550 && c <= 553) return null; // no detail: let the text decide (user unknown? policy?)
  return c >= 500 ? '5.0.0' : '4.0.0';
}

export function classifyBounce(status: string | null, diagnostic: string | null): BounceClass {
  const text = diagnostic ?? '';
  for (const r of BOUNCE_RULES) {
    if (r.status && (!status || !r.status.test(status))) continue;
    if (r.text && !r.text.test(text)) continue;
    return r.class;
  }
  // Nothing matched: a 550-553 with no detail is the classic "no such user"; otherwise we do not
  // know, and soft (counted, limited) is the careful answer.
  return /\b55[0-3]\b/.test(text) ? 'hard' : 'soft';
}

// ---------------------------------------------------------------------------------------------

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

function fromDeliveryStatus(content: string): BounceRecipient[] {
  const blocks = parseFieldBlocks(content);
  const out: BounceRecipient[] = [];
  for (const b of blocks) {
    const address = stripType(b.get('final-recipient') ?? b.get('original-recipient'));
    if (!address) continue; // the per-message block
    const action = (b.get('action') ?? '').toLowerCase() || null;
    const diagnostic = stripType(b.get('diagnostic-code')) ?? null;
    const status = /^\d\.\d{1,3}\.\d{1,3}/.exec(b.get('status') ?? '')?.[0] ?? statusFromText(diagnostic);
    // Only "failed" is final; "delayed" means the MTA is still trying, "delivered"/"relayed" are fine.
    const cls: BounceClass = action === 'failed' || action === null ? classifyBounce(status, diagnostic) : action === 'delivered' || action === 'relayed' || action === 'expanded' ? 'delivery' : 'not_bounce';
    out.push({ address: address.toLowerCase(), action, status, diagnostic, class: cls });
  }
  return out;
}

const ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/;

/**
 * Legacy text bounces. Two shapes cover most MTAs: "<addr>: diagnostic..." blocks (Postfix, qmail,
 * Yahoo, many carriers) and an address line followed by indented diagnostic lines (Exim,
 * Sendmail's "(reason: ...)", au/ezweb). Our own addresses (VERP, postmaster) are not recipients.
 */
function fromLegacyText(text: string, ignore: (a: string) => boolean): BounceRecipient[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const found = new Map<string, string[]>();
  let current: string | null = null;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    const angle = /^\s*<([^>\s]+@[^>\s]+)>:?\s*(.*)$/.exec(line);
    const bare = /^\s{0,4}([^\s<>()"]+@[^\s<>()"]+)\s*:?\s*$/.exec(line);
    const hit = angle ?? bare;
    if (hit && ADDRESS.test(hit[1]) && !ignore(hit[1])) {
      current = hit[1].toLowerCase().replace(/[.,;]$/, '');
      if (!found.has(current)) found.set(current, []);
      if (angle?.[2]) found.get(current)!.push(angle[2]);
      continue;
    }
    if (!current) continue;
    if (line.trim() === '' || /^-{3,}|^\s*-{3,}/.test(line)) {
      if ((found.get(current) ?? []).length) current = null;
      continue;
    }
    found.get(current)!.push(line.trim());
  }
  const out: BounceRecipient[] = [];
  for (const [address, diag] of found) {
    const diagnostic = diag.join(' ').replace(/^\(reason:\s*/i, '').replace(/\)$/, '').slice(0, 500) || null;
    if (!diagnostic) continue;
    const status = statusFromText(diagnostic);
    out.push({ address, action: 'failed', status, diagnostic, class: classifyBounce(status, diagnostic) });
  }
  return out;
}

const BOUNCE_SUBJECT = /undeliver|undelivered|returned mail|delivery (status notification|failure|has failed)|failure notice|mail delivery (failed|failure|subsystem)|could not be delivered|non-?delivery|配信(不能|エラー|失敗)|エラーメール|送信エラー/i;
const BOUNCE_FROM = /mailer-daemon|postmaster|mail delivery (system|subsystem)/i;
const AUTO_SUBJECT = /^(re:\s*)?(auto(matic)?[ -]?(reply|response)|out of (the )?office|abwesenheit|absence|vacation|自動(返信|応答)|不在)/i;

function noticeIdIn(parts: MailParts): number | null {
  for (const p of [parts.text, ...parts.parts.map((x) => x.content)]) {
    const m = /^X-Notice-Id:\s*(\d+)/im.exec(p);
    if (m) return Number(m[1]);
  }
  return null;
}

export function analyzeBounce(mail: MailParts, ownAddress: (address: string) => boolean = () => false): BounceReport {
  const h = (k: string) => mail.headers.get(k) ?? '';
  const contentType = h('content-type').toLowerCase();
  const noticeId = noticeIdIn(mail);
  const ignore = (a: string) => ownAddress(a) || /^(mailer-daemon|postmaster)@/i.test(a);

  const feedback = mail.parts.find((p) => p.contentType === 'message/feedback-report');
  if (feedback || /report-type="?feedback-report/.test(contentType)) {
    const fields = parseFieldBlocks(feedback?.content ?? '')[0] ?? new Map();
    const address = stripType(fields.get('original-rcpt-to') ?? fields.get('removal-recipient'));
    return { kind: 'arf', noticeId, recipients: [{ address: address?.toLowerCase() ?? null, action: fields.get('feedback-type') ?? 'abuse', status: null, diagnostic: fields.get('user-agent') ?? null, class: 'complaint' }] };
  }

  const status = mail.parts.find((p) => p.contentType === 'message/delivery-status' || p.contentType === 'message/global-delivery-status');
  if (status) {
    const recipients = fromDeliveryStatus(status.content).filter((r) => !r.address || !ignore(r.address));
    if (recipients.length) return { kind: 'dsn', noticeId, recipients };
  }

  const looksLikeBounce = BOUNCE_SUBJECT.test(h('subject')) || BOUNCE_FROM.test(h('from')) || /report-type="?delivery-status/.test(contentType);
  if (looksLikeBounce) {
    const recipients = fromLegacyText(mail.text, ignore);
    if (recipients.length) return { kind: 'legacy', noticeId, recipients };
    // A bounce we cannot split by recipient: the VERP address still says whose it is.
    const status = statusFromText(mail.text);
    if (status || /\b[45]\d\d\b/.test(mail.text)) {
      const diagnostic = mail.text.replace(/\s+/g, ' ').trim().slice(0, 300);
      return { kind: 'legacy', noticeId, recipients: [{ address: null, action: 'failed', status, diagnostic, class: classifyBounce(status, diagnostic) }] };
    }
  }

  const autoSubmitted = h('auto-submitted').toLowerCase();
  if (autoSubmitted.startsWith('auto-replied') || /^yes/i.test(h('x-autoreply')) || h('x-autorespond') || /auto_reply/i.test(h('precedence')) || AUTO_SUBJECT.test(h('subject'))) {
    return { kind: 'auto_reply', noticeId, recipients: [{ address: null, action: null, status: null, diagnostic: h('subject') || null, class: 'auto_reply' }] };
  }
  return { kind: 'not_bounce', noticeId, recipients: [{ address: null, action: null, status: null, diagnostic: null, class: 'not_bounce' }] };
}
