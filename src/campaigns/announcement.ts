// The substitute notice (APPI 代替措置; GDPR Art. 34(3)(c) "public communication"): when a person
// cannot be told individually, a public announcement and an enquiry desk are what the law
// accepts. Published by an operator from the campaign's template set (announcement.<locale>.md),
// with the organisation's details only: no name, address, email or code of anyone. The
// publication goes in the campaign ledger; every person then unreachable is recorded as covered
// by it in their own ledger, and anyone who becomes unreachable later is covered from then on.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { withTransaction, type Db } from '../db/pool.ts';
import { getCampaign, noteCampaignEvent } from '../db/campaign-store.ts';
import { insertAnnouncement, latestAnnouncement, type AnnouncementRow } from '../db/announcement-store.ts';
import { noteCoverage } from '../db/notice-store.ts';
import type { TemplateCache } from '../db/template-store.ts';
import { escapeHtml, renderText } from '../domain/template.ts';
import { todayInJapan } from '../domain/deadline.ts';
import { PermanentError } from '../domain/errors.ts';

export class AnnouncementError extends PermanentError {
  constructor(message: string, code: 'not_found' | 'invalid' | 'conflict' = 'invalid') {
    super(code, message);
  }
}

export interface AnnouncementSettings {
  organisation: string;
  enquiryDesk: string;
  /** Where the public /verify page is (absolute when the public origin is known). */
  verifyUrl: string;
}

export interface Published {
  announcement: AnnouncementRow;
  /** People unreachable at publication, now covered by it. */
  covered: number;
}

export async function publishAnnouncement(db: Db, templates: TemplateCache, campaignId: number, s: AnnouncementSettings, actor: string, now = new Date()): Promise<Published> {
  const c = await getCampaign(db, campaignId);
  if (!c) throw new AnnouncementError(`campaign ${campaignId} does not exist`, 'not_found');
  const set = await templates.get(c.template_version, c.extra_vars);
  if (!set.announcements.size) throw new AnnouncementError(`campaign ${campaignId}'s template set has no announcement (add announcement.ja.md / announcement.en.md and create the campaign from it)`);
  const vars = { organisation: s.organisation, campaign_name: c.name, enquiry_desk: s.enquiryDesk, verify_url: s.verifyUrl, published_on: todayInJapan(now) };
  const locales = Object.fromEntries([...set.announcements].map(([locale, text]) => [locale, renderText(text, vars)]));
  const first = locales.ja ?? Object.values(locales)[0];
  const content = { title: first.split('\n').find((l) => l.startsWith('# '))?.slice(2).trim() ?? c.name, locales };
  const sha256 = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  return withTransaction(db, async (tx) => {
    const announcement = await insertAnnouncement(tx, campaignId, actor, sha256, content, now);
    await noteCampaignEvent(tx, campaignId, 'announce', actor, `public announcement ${announcement.id} published (sha256 ${sha256})`);
    const covered = await noteCoverage(tx, campaignId, announcement.id);
    return { announcement, covered };
  });
}

export { latestAnnouncement };

/** The few Markdown forms the announcement uses (#, ##, - lists, paragraphs), escaped. */
export function announcementHtml(text: string): string {
  const out: string[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (!lines.length) continue;
    if (lines.every((l) => l.startsWith('- '))) {
      out.push(`<ul>${lines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('')}</ul>`);
      continue;
    }
    for (const l of lines) {
      if (l.startsWith('## ')) out.push(`<h2>${escapeHtml(l.slice(3))}</h2>`);
      else if (l.startsWith('# ')) out.push(`<h1>${escapeHtml(l.slice(2))}</h1>`);
      else out.push(`<p>${escapeHtml(l)}</p>`);
    }
  }
  return out.join('\n');
}

/** The announcement as a printable A4 PDF (for a notice board, a newspaper, the regulator). */
export async function announcementPdf(a: AnnouncementRow, locale: string, fontPath: string): Promise<Buffer> {
  if (!existsSync(fontPath)) throw new Error(`PDF font not found at ${fontPath}: install Debian fonts-ipaexfont-mincho or set PDF_FONT`);
  const text = a.content.locales[locale] ?? Object.values(a.content.locales)[0];
  const doc = new PDFDocument({ size: 'A4', margin: 60, info: { Title: a.content.title, Producer: 'notice-dispatch', CreationDate: new Date(a.published_at) } });
  doc.registerFont('jp', fontPath);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((r) => doc.on('end', () => r()));
  doc.font('jp');
  for (const block of text.replace(/\r\n/g, '\n').split(/\n{2,}/)) {
    for (const l of block.split('\n').filter((x) => x.trim())) {
      if (l.startsWith('# ')) doc.fontSize(16).text(l.slice(2), { paragraphGap: 10 });
      else if (l.startsWith('## ')) doc.moveDown(0.4).fontSize(12.5).text(l.slice(3), { paragraphGap: 4 });
      else if (l.startsWith('- ')) doc.fontSize(10.5).text(`・${l.slice(2)}`, { indent: 8, paragraphGap: 3, lineGap: 3 });
      else doc.fontSize(10.5).text(l, { paragraphGap: 6, lineGap: 3 });
    }
  }
  doc.moveDown(1).fontSize(8).fillColor('#555').text(`published ${new Date(a.published_at).toISOString()} · sha256 ${a.sha256}`);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
