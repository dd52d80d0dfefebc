// The one rules table for bounces: what a failed delivery's status code and diagnostic text mean
// (a reason), and what we do about each reason (a route). Pure. Every source of bounces (DSNs,
// legacy text bounces, SES notifications) ends here.
//
// Order of questions: the text first, specific phrases before general ones, because a generic
// status (5.0.0, 5.7.1, a bare 550) says little and the text often says exactly what happened
// ("Fix reverse DNS", "IP address blacklisted", "Too many recipients", "User unknown"); then the
// status code; then the fail-safe. Decisions the mail world leaves open, made here:
// - A final failure whose text says the user does not exist is hard even when the remote MTA
//   reported it as 4.x.x (it gave up on a 550 it saw): user_unknown. A domain that was not found is
//   hard only when the reporter calls it permanent: "domain not found" under a 4.x.x status is the
//   reporter's own DNS lookup, which it rates transient itself (RFC 3463: with a failure report, a
//   4.x.x means "sending in the future may be successful"; Gmail's "DNS Error … couldn't be found"
//   is Status 4.0.0). Only a delivery report's Status field counts: text bounces' codes are loose
//   (qmail writes "#4.1.2" under "This is a permanent error"). temporary: retried, and our
//   own relay's lookup answers for good (Postfix bounces NXDOMAIN "Host or domain name not found"
//   as 5.4.4 and a null MX "does not accept mail (nullMX)" as 5.1.0: hard).
//   A temporary DNS failure ("try again", "temporary failure in name resolution") is never hard.
// - 5.2.1 / "account disabled, suspended, inactive": the mailbox exists but takes no mail; email
//   will not reach the person now, so a letter goes now, and the address is not suppressed for
//   good (it may be re-enabled): mailbox_disabled.
// - "User unknown" after DATA (the MTA took the recipient, then refused the message) is a filter:
//   Japanese carriers (docomo, au/ezweb, SoftBank…) answer so when the person's reception setting
//   blocks our sender. filtered: email will not reach them, so a letter now, no suppression.
// - Our own setup blamed (SPF/DKIM/DMARC, our IP listed, no reverse DNS, sender refused, TLS
//   required) pauses the campaign only when confirmed across receiving domains (apply-bounce.ts);
//   one such message (forgeable by any recipient) is handled like a soft bounce.
// - A message we cannot classify at all is a failure of unknown kind: soft (retried, then a letter).

export type BounceClass = 'hard' | 'soft' | 'message' | 'config' | 'complaint' | 'delivery' | 'auto_reply' | 'not_bounce';

export type BounceReason =
  | 'user_unknown' | 'host_unknown' | 'mailbox_disabled' | 'filtered' | 'mailbox_full' | 'expired' | 'temporary'
  | 'rate_limited' | 'rejected' | 'too_large' | 'content' | 'policy' | 'blocked' | 'our_authentication' | 'our_setup'
  | 'unknown_failure' | 'complaint' | 'delivered' | 'relayed' | 'auto_reply' | 'challenge' | 'delayed' | 'not_bounce';

/**
 * post_now: a letter now (suppress: the address is also never emailed again).
 * retry_then_post: email again later; past SOFT_BOUNCE_LIMIT, a letter.
 * review: a message or content problem; the person waits in needs_review (error budget).
 * pause_if_confirmed: our setup; pauses the campaign past CONFIG_BOUNCE_DOMAINS domains, CONFIG_BOUNCE_MIN_PEOPLE people and CONFIG_BOUNCE_SHARE of recent sends.
 * complaint: suppress email, the person stays notified. delivered: mark delivered. delay: sent → delayed (not
 * notified until a final answer or the deadline's letter). arrived: evidence that the email reached the
 * person (an auto-reply, a challenge): recorded, and it ends a delay (no letter for the deadline).
 * ignore: record only (evidence).
 */
export type BounceRoute = 'post_now' | 'retry_then_post' | 'review' | 'pause_if_confirmed' | 'complaint' | 'delivered' | 'delay' | 'relayed' | 'arrived' | 'ignore';

export interface ReasonInfo {
  class: BounceClass;
  route: BounceRoute;
  /** Never email this address again (it does not exist). */
  suppress: boolean;
  meaning: string;
}

export const REASONS: Readonly<Record<BounceReason, ReasonInfo>> = {
  user_unknown: { class: 'hard', route: 'post_now', suppress: true, meaning: 'the address does not exist (or has moved)' },
  host_unknown: { class: 'hard', route: 'post_now', suppress: true, meaning: 'the domain does not take mail (no such domain, no MX, unrouteable)' },
  mailbox_disabled: { class: 'soft', route: 'post_now', suppress: false, meaning: 'the mailbox exists but is disabled or suspended' },
  filtered: { class: 'soft', route: 'post_now', suppress: false, meaning: 'the recipient\'s reception filter refuses our sender' },
  mailbox_full: { class: 'soft', route: 'retry_then_post', suppress: false, meaning: 'the mailbox is full' },
  expired: { class: 'soft', route: 'retry_then_post', suppress: false, meaning: 'the remote MTA gave up after retrying' },
  temporary: { class: 'soft', route: 'retry_then_post', suppress: false, meaning: 'a temporary failure (network, system, try later)' },
  rate_limited: { class: 'soft', route: 'retry_then_post', suppress: false, meaning: 'too many messages, recipients or connections' },
  rejected: { class: 'soft', route: 'retry_then_post', suppress: false, meaning: 'refused without a reason we can name' },
  too_large: { class: 'message', route: 'review', suppress: false, meaning: 'the message is too large' },
  content: { class: 'message', route: 'review', suppress: false, meaning: 'the content was refused (spam, virus, attachment)' },
  policy: { class: 'message', route: 'review', suppress: false, meaning: 'refused by the receiver\'s policy' },
  blocked: { class: 'config', route: 'pause_if_confirmed', suppress: false, meaning: 'our sending IP or host is blocked (blocklist, reputation)' },
  our_authentication: { class: 'config', route: 'pause_if_confirmed', suppress: false, meaning: 'our mail failed authentication (SPF, DKIM, DMARC)' },
  our_setup: { class: 'config', route: 'pause_if_confirmed', suppress: false, meaning: 'our setup was refused (reverse DNS, HELO, sender address, TLS)' },
  unknown_failure: { class: 'soft', route: 'retry_then_post', suppress: false, meaning: 'a failure of unknown kind (never dropped)' },
  complaint: { class: 'complaint', route: 'complaint', suppress: false, meaning: 'the recipient reported the message (ARF)' },
  delivered: { class: 'delivery', route: 'delivered', suppress: false, meaning: 'delivered (a success report)' },
  relayed: { class: 'delivery', route: 'relayed', suppress: false, meaning: 'relayed on to a server that does not report delivery: the person\'s own mail server took it (evidence, not yet the mailbox)' },
  auto_reply: { class: 'auto_reply', route: 'arrived', suppress: false, meaning: 'an automatic reply from the person\'s mailbox (out of office, RFC 3834): evidence the email arrived' },
  challenge: { class: 'auto_reply', route: 'arrived', suppress: false, meaning: 'a challenge-response system holds the email until the sender confirms: evidence it reached the person\'s mail system' },
  delayed: { class: 'not_bounce', route: 'delay', suppress: false, meaning: 'a delay warning: the MTA is still trying (the person is not notified until a final answer, or the deadline\'s letter)' },
  not_bounce: { class: 'not_bounce', route: 'ignore', suppress: false, meaning: 'not about a delivery (spam, a virus, an ordinary message at a bounce address): kept for ops, no failure of the person' },
};

interface TextRule {
  text: RegExp;
  reason: BounceReason;
}

interface StatusRule {
  status: RegExp;
  reason: BounceReason;
}

/**
 * Phrases that say exactly what happened. First match wins: our own setup, then the message,
 * the mailbox, the recipient's filter, the address and the domain, then "gave up".
 */
export const SPECIFIC_TEXT: readonly TextRule[] = [
  // A spam filter's list of the checks it ran ("failed several antispam checks (SPF, HELO, PTR)")
  // is about the content's score, not a verdict on our authentication.
  { reason: 'content', text: /anti-?spam (checks?|tests?|filter)|spam (checks?|score|scoring|points)|(failed|triggered) .{0,30}spam/i },
  { reason: 'our_authentication', text: /\b(spf|dkim|dmarc)\b|sender policy framework|domainkeys|unauthenticated (e-?mail|mail|sender|message)|not authenticated|authentication (is )?(required|failed|failure)|must be authenticated/i },
  { reason: 'host_unknown', text: /(account|domain|address) (or domain )?may not exist|null mx/i },
  { reason: 'blocked', text: /black ?list|block ?list|deny ?list|\b(dnsbl|rbl|rhsbl)\b|spamhaus|spamcop|sorbs|barracudacentral|listed (in|on|at|by) .{0,40}(bl\b|rbl|dnsbl|block|black|spam|reputation)|blocked using|(poor|bad|low) (ip )?reputation|\breputation\b|ip (address )?(is )?(blocked|banned|blacklisted|listed|rejected|not allowed)|(your|sending|client) (ip|ip address|server|host|network|mail server).{0,60}(blocked|banned|rejected|refused|listed|not allowed)|client host .{0,100}(blocked|rejected|refused)|too many connections from your|connections? (not accepted|refused) from|unverifi?able sending ips?/i },
  { reason: 'our_setup', text: /reverse (dns|lookup)|\brdns\b|\bptr\b|no reverse|fix reverse dns|(hostname|host name|address) .{0,30}(does not|doesn't|cannot|can ?not) .{0,10}resolve|cannot (find|resolve) your (hostname|host name)|(bad|invalid|illegal|broken) (helo|ehlo)|(helo|ehlo) .{0,40}(rejected|refused|invalid|not allowed|required)|sender (address )?(rejected|refused|denied|verify failed|verification failed)|sender domain (must|does not)|envelope sender|(provide|use) a valid from\b|from:? (header|address|domain) (is )?(invalid|not valid)|(must issue|requires?) (a )?starttls|tls (is )?required|encryption required/i },
  { reason: 'host_unknown', text: /no smtp service|indicated no smtp/i },
  { reason: 'rate_limited', text: /too many (recipients|messages|emails|mails|connections|concurrent|invalid)(?! (in|on) (the |his |her |your )?(server|mail ?box|account|folder))|rate (limit|exceeded|of incoming)|sending rate|throttl|receiving mail at a rate|too much mail|exceeded (the )?(maximum )?(number|rate) of/i },
  { reason: 'mailbox_full', text: /mail ?box size limit|mail ?box (size|quota) (limit )?(exceeded|reached)|mail ?box exceeds|disk ?space (quota|limit)|overdrawn .{0,30}quota/i },
  { reason: 'too_large', text: /(max(imum)?|message) (message )?size (limit )?exceeded|message (size )?(is )?too (big|large)|message .{0,40}exceeds .{0,40}(size|limit)|size limit|exceeds? (the )?(maximum|max|fixed)( allowed)?( message)? size|message length exceeds|mesg(sage)? too big|larger than the (current )?(limit|maximum)/i },
  { reason: 'mailbox_full', text: /mail ?box (is )?full|mail ?box (size|quota)|over ?quota|quota (exceeded|exceed|full|violation|limit)|exceeded (the |their |his |her )?(storage|quota|mailbox)|insufficient (system )?(storage|disk)|storage (limit|allocation|space)|disk (quota|full|space)|user is over|is over (the |his |her )?(quota|limit)|too many messages (in|on)|mail ?box (has )?exceeded|full mail ?box|mailfolder is full|容量(が|を)?(超|オーバー|一杯|いっぱい)|メールボックスが(一杯|いっぱい|満杯)|(mail ?box|inbox) .{0,20}full/i },
  // au/ezweb answers "550 : User unknown" (no address) when the reception setting refuses the sender.
  { reason: 'filtered', text: /\b550 ?:( ?:)? ?user unknown|受信拒否|受信(設定|制限|許可)|迷惑メール|指定受信|ドメイン指定|filter(ed|ing)? .{0,40}(recipient|user|reject|refus|block|deliver)|rejected by (the )?(recipient|user)'?s? (filter|setting|rule)|recipient .{0,30}(has )?(blocked|refused|rejected) (you|your|the sender|mail from)|recipient preferences|the user has blocked|blocked by (the )?recipient|does not accept mail from (you|your|this sender)|not accepting mail from this sender|sender is (blocked|rejected) by (the )?recipient/i },
  { reason: 'user_unknown', text: /is a deactivated (mail ?box|account|address)|not an? (known|active|valid|registered) (user|recipient|mail ?box|address|account)|bad[_ ]recipient|badrcptto|non-?existent (user|recipient|address|mail ?box|account)|(user|recipient|rcpt|address|mail ?box|account)\b(?:[^.;\n]|\.(?=\S)){0,80}?\b(does not|doesn'?t|did not) exist/i },
  { reason: 'mailbox_disabled', text: /account (is |has been )?(disabled|suspended|inactive|deactivated|closed|locked|blocked|expired|frozen|not active|unavailable)|mail ?box (is |has been )?(disabled|inactive|not active|locked|suspended|frozen|deactivated)|(user|recipient) (account )?(is |has been )?(disabled|suspended|inactive|deactivated)|no longer (active|available|in use)|has been (disabled|deactivated|suspended)|mailbox currently suspended/i },
  // The local delivery program failed (procmail, maildrop, a pipe): the receiving system's fault.
  { reason: 'temporary', text: /\bprocmail\b|couldn'?t create "?\/|cannot (create|open|write) (file|mailbox|"?\/)|mailer error|command (died|failed) with|exit (code|status) \d+|local delivery (failed|error)/i },
  // A temporary DNS failure is not a missing domain.
  { reason: 'temporary', text: /temporary (dns|lookup|failure in name resolution)|malformed or unexpected name server reply|name server (failure|error|timeout)|dns (lookup )?(timed? ?out|temporar)|not found, try again|try again later.{0,40}(dns|lookup)/i },
  { reason: 'host_unknown', text: /host (or domain name )?(not found|unknown)|host [a-z0-9.-]+\.[a-z]{2,} not found|dns lookup failure|(system|host|server) not accepting (network )?messages|unknown (host|domain|mail domain)|domain (name )?(not found|does not exist|doesn'?t exist|is not reachable|not reachable|unknown|is invalid|not valid)|unrouteable (mail )?(address|domain)|unroutable (address|domain)|no (mx|mail exchanger|mail server|route to domain)\b|mx (record|lookup|host)|name or service not known|nxdomain|dns (error|lookup failed|failure)|host (name )?lookup (failed|did not complete)|no such domain|domain (does not|doesn'?t) accept mail|does not accept (e-?)?mail\b|couldn'?t find any host (named|by that name)|not a valid domain|nonexistent domain|domain is not configured/i },
  { reason: 'user_unknown', text: /user (is )?unknown|unknown (user|recipient|address|local ?part|mailbox|alias|account)|no such (user|recipient|mailbox|address|account|local user|person)|(address|account|recipient|mailbox|user|addressee|e-?mail) (does not|doesn'?t|did not) exist|(address|recipient|user|mailbox|account|addressee|userid) (not found|unknown|couldn'?t be found|could not be found|invalid|not recognized|not known|is not valid)|invalid (recipient|mailbox|address|user|e-?mail address|final delivery userid|userid)|not (a )?valid (recipient|mailbox|user|address)|no valid recipients?|mail[ -]?box (not found|does not exist)|no mail[ -]?box|not listed in|bad destination|undeliverable address|addressee unknown|recipient name is not recognized|the e-?mail account (that you tried to reach )?does not exist|no account by that name|doesn'?t have an? .{0,40} account|unknown or illegal alias|user not (found|local)|not our customer|has moved|no longer (valid|exists)|recipient address rejected: access denied|recipient address rejected\.(\s|$)|宛先(不明|が見つかりません)|存在しない(アドレス|ユーザ|メールアドレス)|アカウントが存在しません/i },
  { reason: 'content', text: /\bspam\b|junk|virus|malware|phish|suspicious|content (rejected|policy|filter)|message (content )?(was )?(rejected|refused) (due to|because|for|as)|banned|prohibited (content|attachment|file)|attachment|bulk (mail|e-?mail)|unsolicited/i },
  { reason: 'expired', text: /retry (timeout|time) exceeded|message expired|expired after|could not be delivered (within|for)|giving up(?! on \d)|gave up|deferred for too long|too long in (the )?queue|delivery time expired|has been (queued|undeliverable) for|maximum (time|retry|retries)|not delivered for \d+ days|no (successful|further) delivery attempts|retry period|message is too old|timed? ?out (in|from) (the )?queue|delivery expired/i },
];

/** Status codes that say what happened, when no phrase did. */
export const SPECIFIC_STATUS: readonly StatusRule[] = [
  { status: /^[245]\.1\.(1|3|6)$/, reason: 'user_unknown' },
  { status: /^5\.1\.0$/, reason: 'user_unknown' },
  { status: /^5\.1\.(2|10)$/, reason: 'host_unknown' },
  { status: /^[45]\.1\.[78]$/, reason: 'our_setup' },
  { status: /^5\.2\.1$/, reason: 'mailbox_disabled' },
  { status: /^[45]\.2\.2$/, reason: 'mailbox_full' },
  { status: /^5\.(2\.3|3\.4)$/, reason: 'too_large' },
  { status: /^5\.4\.4$/, reason: 'host_unknown' },
  { status: /^4\.4\.3$/, reason: 'temporary' },
  { status: /^[45]\.4\.7$/, reason: 'expired' },
  { status: /^5\.7\.(23|26|27)$/, reason: 'our_authentication' },
  { status: /^5\.7\.25$/, reason: 'our_setup' },
  { status: /^5\.7\.(7|28)$/, reason: 'content' },
];

/** Phrases that say only roughly what happened. */
export const GENERIC_TEXT: readonly TextRule[] = [
  // RFC 5321's own text for 550 ("Requested action not taken: mailbox unavailable"): what most
  // servers say for an unknown user, but a specific status (5.2.1 disabled, 5.2.2 full) says more.
  { reason: 'user_unknown', text: /mail ?box (is )?(unavailable|not available)/i },
  { reason: 'rejected', text: /relay(ing)? (access )?(denied|not permitted|prohibited|not allowed)|not permitted to relay|we do not relay|unable to relay|relay not permitted|is not allowed to relay|not a gateway/i },
  { reason: 'temporary', text: /temporar(y|ily)|try again|deferred|timed? ?out|connection (refused|reset|timed out|closed|lost|dropped)|network (error|unreachable|is unreachable)|no route to host|(service|server|system|host) (is )?(currently |temporarily )?(unavailable|not available|busy|too busy|error)|system (error|failure)|resources? (temporarily )?unavailable|local error|internal (server )?error|i\/o error|out of memory|system (is )?full|could not connect|unable to connect|lost connection|greylist|try later/i },
  { reason: 'policy', text: /\bpolicy\b|not authori[sz]ed|access denied|\bdenied\b|prohibited|not allowed/i },
  { reason: 'rejected', text: /rejected|refused|blocked|not accepted|cannot be delivered|could not be delivered|undeliverable|delivery (has )?failed|permanent (error|failure)|fatal error|failed/i },
];

/** Generic status codes, last. */
export const GENERIC_STATUS: readonly StatusRule[] = [
  { status: /^5\.7\./, reason: 'policy' },
  { status: /^5\.6\./, reason: 'content' },
  { status: /^4\./, reason: 'temporary' },
  { status: /^5\./, reason: 'rejected' },
];

/** The rules table's size, for the record. */
export const RULE_COUNT = SPECIFIC_TEXT.length + SPECIFIC_STATUS.length + GENERIC_TEXT.length + GENERIC_STATUS.length;

/** What a status code alone says, when it says something specific (5.1.1, 5.2.2…); else null. */
export function specificStatusReason(status: string | null): BounceReason | null {
  return status ? (SPECIFIC_STATUS.find((r) => r.status.test(status))?.reason ?? null) : null;
}

/** Find an enhanced status code (5.1.1) in a text, or derive one from a basic reply code. */
export function statusFromText(text: string | null | undefined): string | null {
  if (!text) return null;
  // Not a piece of an IP address ("[10.2.9.112]", "4.79.181.168").
  const enhanced = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/.exec(text);
  if (enhanced) return `${enhanced[1]}.${enhanced[2]}.${enhanced[3]}`;
  const basic = /(?:^|[\s:(<"'])([45]\d\d)(?=[\s:-]|$)/m.exec(text);
  if (!basic) return null;
  const c = Number(basic[1]);
  if (c === 552) return '5.2.2';
  return c >= 500 ? '5.0.0' : '4.0.0';
}

// Amazon SES puts its own category of the status before the remote server's reply: "5.1.0 -
// Unknown address error 550-'5.7.1 <…>... Access denied'". The category is SES's mapping (it files
// "Access denied" and "Mailbox Full" as "Unknown address error"); the remote's words are the answer.
const RELAY_CATEGORY = /^\s*[245]\.\d{1,3}\.\d{1,3} - [A-Za-z ]+?(?= [245]\d\d[ -])/;

/** A diagnostic without a relay's category of it (SES), when the remote's reply follows. */
export function remoteReply(diagnostic: string | null): string | null {
  return diagnostic?.replace(RELAY_CATEGORY, '') ?? null;
}

export interface ClassifiedFailure {
  reason: BounceReason;
  class: BounceClass;
}

export interface ClassifyContext {
  /** The failed recipient, when known. */
  address?: string | null;
  /** More of the report about this recipient (the human-readable part, an SMTP transcript): where in the dialogue it failed. */
  context?: string | null;
  /** The status is a delivery report's own Status field (RFC 3464), not a code found in a text bounce. */
  reportedStatus?: boolean;
}

// Where in the SMTP dialogue the refusal came: an MTA that took the recipient (RCPT) and refused
// the message after DATA is filtering, whatever it calls it; a refusal at MAIL FROM is about us.
const AT_DATA = /(end of|after|final|our) data\b|smtp command[\s-]*data\b|>>> data\s*\n?\s*<<<\s*5|after end of data|in reply to end of data/i;
const AT_MAIL_FROM = /after mail from|in reply to mail from|>>> mail from:[^\n]*\n\s*<<<\s*5/i;
// Said in so many words: this account does not exist (never a filter's euphemism).
const EXPLICIT_NO_SUCH = /(does not|doesn'?t) (exist|have an? .{0,40} account)|couldn'?t be found|could not be found|invalid recipient|destinataire invalide|not listed in|recipient name is not recognized/i;
const AT_RCPT = /rcpt to|after rcpt|in reply to rcpt|>>> rcpt|rcpt command|\[rcpt/i;

export function classifyFailure(status: string | null, diagnostic: string | null, ctx: ClassifyContext = {}): ClassifiedFailure {
  const text = remoteReply(diagnostic) ?? '';
  const dialogue = `${text}\n${ctx.context ?? ''}`;
  const byText = (rules: readonly TextRule[]) => rules.find((r) => r.text.test(text))?.reason ?? null;
  const byStatus = (rules: readonly StatusRule[]) => (status ? (rules.find((r) => r.status.test(status))?.reason ?? null) : null);
  let reason = byText(SPECIFIC_TEXT) ?? byStatus(SPECIFIC_STATUS) ?? byText(GENERIC_TEXT) ?? byStatus(GENERIC_STATUS) ?? 'unknown_failure';
  // "User unknown" is an address that does not exist when the receiver said so about the address:
  // an x.1.x code, or at RCPT. After DATA, or with a generic code and no sign of where, it is as
  // likely a filter (Japanese carriers answer so for blocked senders): not suppressed for good.
  if (reason === 'user_unknown') {
    const addressCode = !!status && /^[45]\.1\./.test(status);
    const atData = AT_DATA.test(dialogue) && !AT_RCPT.test(dialogue.slice(dialogue.search(AT_DATA)));
    const mailboxCode = !!status && /^[45]\.2\./.test(status);
    const explicit = EXPLICIT_NO_SUCH.test(text);
    if (!addressCode && !explicit && (atData || (mailboxCode && !AT_RCPT.test(dialogue)))) reason = 'filtered';
  }
  // Refused at MAIL FROM: about our sender address or domain ("No such domain" is ours), unless
  // this recipient's own lines show its RCPT (a transcript speaks of several recipients).
  if ((reason === 'user_unknown' || reason === 'host_unknown' || reason === 'rejected' || reason === 'policy') && AT_MAIL_FROM.test(reason === 'host_unknown' ? text : dialogue) && !AT_RCPT.test(text)) reason = 'our_setup';
  // A domain not found, in a report whose Status rates it transient (4.x.x): the reporter's DNS
  // lookup, not the end — unless it quotes a 5xx another server answered. (A text bounce's own
  // codes do not count: qmail's "#4.1.2" comes under "This is a permanent error; I've given up".)
  if (reason === 'host_unknown' && ctx.reportedStatus && status?.startsWith('4.') && !statusFromText(text)?.startsWith('5.')) reason = 'temporary';
  return { reason, class: REASONS[reason].class };
}
