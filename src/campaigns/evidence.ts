// One person's evidence: everything we know of how they were told, in one document an operator
// can hand to the person, a card brand's investigator or the regulator. The import (file, its
// sha256, line), the template version and the sha256 of the exact email and letter made for
// them, every reply, DSN and SES event with its time and reporting server, their letters (batch,
// seq, the batch files' sha256, vendor ack / mailed / returned), and their ledger with the chain
// hashes that let anyone re-check it (src/db/ledger-chain.ts says how). JSON, a one-page PDF, or
// the whole campaign as a stream of JSON lines for an auditor.
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { Db } from '../db/pool.ts';
import { NOTIFIED, type NoticeState } from '../domain/notice-state.ts';
import { PermanentError } from '../domain/errors.ts';
import { chainedLedger, findNotice, lettersFor, noticeIdsAfter, personWithImport, reportsFor } from './evidence-store.ts';
import { latestAnnouncement } from '../db/announcement-store.ts';

export class EvidenceError extends PermanentError {
  constructor(message: string, code: 'not_found' | 'invalid' = 'not_found') {
    super(code, message);
  }
}

/** How far the email is known to have got (the last that is true), or the letter. */
export type EvidenceLevel = 'none' | 'accepted_by_our_relay' | 'email_delayed' | 'relayed_to_recipient_server' | 'auto_reply_from_mailbox' | 'delivered' | 'letter_mailed' | 'letter_returned' | 'public_announcement';

export const CHAIN_RULE = "hash = sha256(prev_hash || the UTF-8 of: n1, id, notice_id, campaign_id, at (UTC, microseconds), from_state or \\N, to_state, channel or \\N, detail (PostgreSQL jsonb text), joined by U+001F); the first row's prev_hash is 32 zero bytes";

export interface Evidence {
  evidence_version: 1;
  generated_at: string;
  campaign: { id: number; name: string; template_version: string; discovered_on: string | null };
  person: { notice_id: number; customer_id: string; notice_code: string; name: string; email: string | null; address: { postal_code: string | null; prefecture: string; city: string; line1: string; line2: string }; segment: string; locale: string };
  outcome: { state: NoticeState; channel: string | null; notified: boolean; level: EvidenceLevel; covered_by_announcement: string | null };
  import: { import_run_id: number | null; file_name: string | null; file_sha256: string | null; line: number | null; imported_at: string; imported_by: string | null };
  email: { template_version: string | null; message_id: string | null; message_sha256: string | null; provider_message_id: string | null; sent_at: string | null; attempts: Array<{ at: string; attempt: unknown; outcome: string; reply: unknown }> };
  reports: Array<{ received_at: string; source: string; class: string; reason: string | null; action: string | null; status: string | null; diagnostic: string | null; reporting_mta: string | null; outcome: string | null }>;
  letters: Array<{ batch_id: number; mailing: number; seq: number | null; letter_sha256: string | null; letter_class: string; tracking_number: string | null; vendor: string | null; batch_files: Array<{ name: string; sha256: string }>; printed_at: string | null; mailed_at: string | null; vendor_ledger: Array<{ at: string; action: string }> }>;
  ledger: Array<{ id: number; at: string; from_state: string | null; to_state: string; channel: string | null; detail: Record<string, unknown>; prev_hash: string; hash: string }>;
  chain: { rows: number; head: string | null; rule: string };
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

function levelOf(state: NoticeState, ledger: Evidence['ledger'], covered: boolean): EvidenceLevel {
  if (state === 'unreachable' && covered) return 'public_announcement';
  if (state === 'returned' || state === 'unreachable') return 'letter_returned';
  if (state === 'mailed') return 'letter_mailed';
  if (state === 'delivered') return 'delivered';
  // An out-of-office reply or a challenge-response from the person's mail system: it arrived.
  if ((state === 'sent' || state === 'delayed') && ledger.some((e) => e.detail.note === 'auto_reply' || e.detail.note === 'challenge')) return 'auto_reply_from_mailbox';
  if (state === 'delayed') return 'email_delayed';
  if (state === 'sent' && ledger.some((e) => e.detail.note === 'relayed')) return 'relayed_to_recipient_server';
  if (ledger.some((e) => e.to_state === 'sent')) return 'accepted_by_our_relay';
  return 'none';
}

export async function evidenceOf(db: Db, noticeId: number, now = new Date()): Promise<Evidence> {
  const p = await personWithImport(db, noticeId);
  if (!p) throw new EvidenceError(`notice ${noticeId} does not exist`);
  const [rows, reports, letters, announcement] = await Promise.all([chainedLedger(db, noticeId), reportsFor(db, noticeId), lettersFor(db, noticeId), latestAnnouncement(db, p.campaign_id)]);
  const ledger = rows.map((e) => ({ ...e, at: iso(e.at)! }));
  const sent = [...ledger].reverse().find((e) => e.to_state === 'sent');
  const unreachableAt = [...ledger].reverse().find((e) => e.to_state === 'unreachable')?.at ?? null;
  // Covered by the public announcement from when both were true: unreachable, and published.
  const covered = p.state === 'unreachable' && announcement ? iso(new Date(Math.max(new Date(announcement.published_at).getTime(), new Date(unreachableAt ?? 0).getTime()))) : null;
  return {
    evidence_version: 1,
    generated_at: now.toISOString(),
    campaign: { id: p.campaign_id, name: p.campaign_name, template_version: p.campaign_template_version, discovered_on: p.discovered_on ? String(p.discovered_on).slice(0, 10) : null },
    person: {
      notice_id: p.notice_id, customer_id: p.customer_id, notice_code: p.notice_code, name: p.name, email: p.email,
      address: { postal_code: p.postal_code, prefecture: p.prefecture, city: p.city, line1: p.address_line1, line2: p.address_line2 }, segment: p.segment, locale: p.locale,
    },
    outcome: { state: p.state, channel: p.channel, notified: NOTIFIED.includes(p.state), level: levelOf(p.state, ledger, covered !== null), covered_by_announcement: covered },
    import: { import_run_id: p.import_run_id, file_name: p.file_name, file_sha256: p.file_sha256, line: p.import_line, imported_at: iso(p.imported_at)!, imported_by: p.imported_by },
    email: {
      template_version: p.template_version ?? p.campaign_template_version, message_id: p.message_id, message_sha256: (sent?.detail.message_sha256 as string | undefined) ?? null,
      provider_message_id: p.provider_message_id, sent_at: iso(p.sent_at),
      attempts: ledger.filter((e) => e.from_state === 'sending').map((e) => ({ at: e.at, attempt: e.detail.attempt, outcome: e.to_state, reply: e.detail.reply ?? e.detail.status ?? e.detail.reason ?? null })),
    },
    reports: reports.map((r) => ({ ...r, received_at: iso(r.received_at)!, applied_at: undefined })),
    letters: letters.map((l) => ({
      batch_id: l.batch_id, mailing: l.mailing, seq: l.seq, letter_sha256: l.letter_sha256, letter_class: l.tracking_number ? '特定記録' : (l.letter_class ?? '普通'), tracking_number: l.tracking_number ?? null, vendor: l.vendor, batch_files: l.files,
      printed_at: iso(l.printed_at), mailed_at: l.mailed_at ? String(l.mailed_at).slice(0, 10) : null,
      vendor_ledger: ((l.batch_ledger ?? []) as Array<{ at: string; action: string }>).map((e) => ({ at: iso(e.at)!, action: e.action })),
    })),
    ledger,
    chain: { rows: ledger.length, head: ledger.at(-1)?.hash ?? null, rule: CHAIN_RULE },
  };
}

/** The person asked for by customer id, notice code or email, in one campaign. */
export async function evidenceFor(db: Db, campaignId: number, who: { customerId?: string; code?: string; email?: string }): Promise<Evidence[]> {
  const ids = await findNotice(db, campaignId, who);
  if (!ids.length) throw new EvidenceError(`campaign ${campaignId} has no such person (${who.customerId ? `customer_id ${who.customerId}` : who.code ? `notice code ${who.code}` : 'that email'})`);
  return Promise.all(ids.map((id) => evidenceOf(db, id)));
}

/** Every person's evidence, one JSON document per line, paged by id (an archive for the auditor). */
export async function writeEvidenceArchive(db: Db, campaignId: number, out: NodeJS.WritableStream, onPerson?: (n: number) => void): Promise<number> {
  let after = 0;
  let n = 0;
  for (;;) {
    const ids = await noticeIdsAfter(db, campaignId, after, 200);
    if (!ids.length) break;
    for (const doc of await Promise.all(ids.map((id) => evidenceOf(db, id)))) {
      if (!out.write(JSON.stringify(doc) + '\n')) await new Promise((r) => out.once('drain', r));
      n++;
    }
    onPerson?.(n);
    after = ids[ids.length - 1];
  }
  await new Promise<void>((r) => out.end(() => r()));
  return n;
}

const STATE_JA: Partial<Record<NoticeState, string>> = {
  queued: '送信待ち', sending: '送信中', sent: 'メール送信済み', delivered: 'メール配信確認済み', postal_queued: '郵送準備中', batched: '印刷待ち', printed: '印刷済み',
  mailed: '郵送済み', returned: '返送', unreachable: '到達不能', cancelled: '中止', needs_review: '要確認', address_invalid: '住所不備',
};

/** The evidence as one A4 page a person can be sent (Japanese and English), the details in the JSON. */
export async function evidencePdf(e: Evidence, o: { fontPath: string; organisation: string }): Promise<Buffer> {
  if (!existsSync(o.fontPath)) throw new Error(`PDF font not found at ${o.fontPath}: install Debian fonts-ipaexfont-mincho or set PDF_FONT`);
  const doc = new PDFDocument({ size: 'A4', margin: 48, info: { Title: `Evidence of notice ${e.person.notice_code}`, Producer: 'notice-dispatch', CreationDate: new Date(e.generated_at) } });
  doc.registerFont('jp', o.fontPath);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((r) => doc.on('end', () => r()));
  const W = doc.page.width - 96;
  const kv = (k: string, v: string) => {
    doc.font('jp').fontSize(8.5).fillColor('#555').text(k, 48, doc.y, { continued: false, width: 150 });
    doc.moveUp().fillColor('black').text(v, 200, doc.y, { width: W - 152 });
    doc.moveDown(0.15);
  };
  doc.font('jp').fontSize(15).text('通知の記録 / Record of notice', 48, 48);
  doc.fontSize(8.5).fillColor('#555').text(`${o.organisation} — ${e.campaign.name} (campaign ${e.campaign.id}) — generated ${e.generated_at}`);
  doc.fillColor('black').moveDown(0.8);
  const a = e.person.address;
  kv('宛先 / Person', `${e.person.name} 様  (customer ${e.person.customer_id}, notice ${e.person.notice_id}, code ${e.person.notice_code})`);
  kv('住所 / Address', `〒${a.postal_code ?? ''} ${a.prefecture}${a.city}${a.line1}${a.line2 ? ` ${a.line2}` : ''}`);
  kv('メール / Email', e.person.email ?? '(なし / none)');
  kv('結果 / Outcome', `${STATE_JA[e.outcome.state] ?? e.outcome.state} (${e.outcome.state}); evidence: ${e.outcome.level}${e.outcome.covered_by_announcement ? `; public announcement since ${e.outcome.covered_by_announcement}` : ''}`);
  kv('取込 / Imported', `${e.import.file_name ?? '?'} line ${e.import.line ?? '?'} at ${e.import.imported_at}; file sha256 ${e.import.file_sha256 ?? '(not recorded)'}`);
  if (e.email.message_id) kv('メール / Email sent', `${e.email.sent_at ?? ''} ${e.email.message_id}; template ${e.email.template_version}; message sha256 ${e.email.message_sha256 ?? '(not recorded)'}`);
  for (const r of e.reports) kv('報告 / Report', `${r.received_at} ${r.source} ${r.action ?? r.class} ${r.status ?? ''} ${r.reporting_mta ? `by ${r.reporting_mta}` : ''} ${(r.diagnostic ?? '').slice(0, 90)}`);
  for (const l of e.letters) {
    const pdf = l.batch_files.find((f) => f.name === 'letters.pdf');
    kv('郵送 / Letter', `batch ${l.batch_id} no. ${l.seq ?? '?'} (mailing ${l.mailing}), ${l.letter_class}${l.tracking_number ? ` ${l.tracking_number}` : ''}, ${l.vendor ?? 'vendor ?'}; printed ${l.printed_at ?? '—'}, mailed ${l.mailed_at ?? '—'}; letter sha256 ${l.letter_sha256 ?? '—'}${pdf ? `; letters.pdf sha256 ${pdf.sha256}` : ''}`);
  }
  doc.moveDown(0.6).fontSize(10).text('記録 / Ledger', 48);
  doc.moveDown(0.2);
  const rowsRoom = Math.max(3, Math.floor((doc.page.height - 110 - doc.y) / 21));
  const shown = e.ledger.slice(-rowsRoom);
  if (shown.length < e.ledger.length) doc.fontSize(7.5).fillColor('#555').text(`(the first ${e.ledger.length - shown.length} rows are in the JSON evidence)`, 48);
  for (const r of shown) {
    const what = r.detail.reply ?? r.detail.reason ?? r.detail.covered_by ?? r.detail.status ?? (r.detail.batch_id !== undefined ? `batch ${r.detail.batch_id}` : r.detail.attempt !== undefined ? `attempt ${r.detail.attempt}` : '');
    doc.font('jp').fontSize(8).fillColor('black').text(`${r.at}  ${r.from_state ?? '—'} → ${r.to_state}  ${String(what).slice(0, 80)}`, 48, doc.y, { width: W, lineBreak: false });
    doc.fontSize(6).fillColor('#666').text(`#${r.id} hash ${r.hash}`, 60, doc.y + 1, { width: W - 12, lineBreak: false });
    doc.moveDown(0.35);
  }
  doc.fontSize(6.5).fillColor('#555').text(`chain: ${e.chain.rows} rows, head ${e.chain.head ?? '—'}. ${e.chain.rule}`, 48, doc.page.height - 78, { width: W });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
