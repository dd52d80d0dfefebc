// Before launch: what a person will get (the email: subject, HTML, text; the letter: a one-page
// PDF), a test send of a variant to an address of the operator's choosing (with a made-up person,
// so no one's data goes to a test inbox), and a dry run: who goes by email, who by post, who was
// rejected, per segment × locale, and the letters each vendor will get.
import { firstChannel } from '../domain/channel-plan.ts';
import { importTotals, reachBySegment } from './report-store.ts';
import { vendorNameOf } from '../channels/post/vendor-store.ts';
import { createHash } from 'node:crypto';
import type { Db } from '../db/pool.ts';
import { noticeOfCampaign, type NoticeRow } from '../db/notice-store.ts';
import { getCampaign } from '../db/campaign-store.ts';
import { renderVariant } from '../domain/template.ts';
import { buildMessage, templateVariables, type MessageSettings } from '../channels/email/message.ts';
import type { MailTransport } from '../channels/email/transport.ts';
import { makePdfWriter } from '../channels/post/pdf-letters.ts';
import { makeLetter } from '../channels/post/letter.ts';
import type { FileWriter } from '../channels/post/file-store.ts';
import type { TemplateCache } from '../db/template-store.ts';
import { PermanentError } from '../domain/errors.ts';

export class PreviewError extends PermanentError {
  constructor(message: string, code: 'not_found' | 'invalid' = 'not_found') {
    super(code, message);
  }
}

async function personOf(db: Db, campaignId: number, who: { noticeId?: number; customerId?: string }): Promise<NoticeRow> {
  const row = await noticeOfCampaign(db, campaignId, who);
  if (!row) throw new PreviewError(`campaign ${campaignId} has no such person (${who.noticeId ? `notice ${who.noticeId}` : `customer_id ${who.customerId}`})`);
  return row;
}

export interface EmailPreview {
  noticeId: number;
  to: string | null;
  subject: string;
  html: string;
  text: string;
}

export async function previewEmail(db: Db, templates: TemplateCache, settings: MessageSettings, campaignId: number, who: { noticeId?: number; customerId?: string }): Promise<EmailPreview> {
  const c = await getCampaign(db, campaignId);
  if (!c) throw new PreviewError(`campaign ${campaignId} does not exist`);
  const n = await personOf(db, campaignId, who);
  const set = await templates.get(c.template_version, c.extra_vars);
  const m = buildMessage({ ...n, email: n.email ?? '(no email: this person gets a letter)' }, c.name, set, settings);
  return { noticeId: n.id, to: n.email, subject: m.subject, html: m.html, text: m.text };
}

/** One A4 page, as the vendor will print it. */
export async function previewLetter(db: Db, templates: TemplateCache, o: { fontPath: string; returnAddress: string }, campaignId: number, who: { noticeId?: number; customerId?: string }): Promise<Buffer> {
  const c = await getCampaign(db, campaignId);
  if (!c) throw new PreviewError(`campaign ${campaignId} does not exist`);
  const n = await personOf(db, campaignId, who);
  const set = await templates.get(c.template_version, c.extra_vars);
  const chunks: Buffer[] = [];
  const memory: FileWriter = {
    async write(chunk) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    },
    async end() {
      const all = Buffer.concat(chunks);
      return { name: 'preview.pdf', sha256: createHash('sha256').update(all).digest('hex'), bytes: all.length, contentType: 'application/pdf' };
    },
  };
  const pdf = makePdfWriter(memory, { fontPath: o.fontPath, createdAt: new Date(0), returnAddress: o.returnAddress, title: `preview (campaign ${campaignId})` });
  pdf.add(makeLetter(n, 1, set, c.name));
  await pdf.end();
  return Buffer.concat(chunks);
}

/** A made-up person, so a test send carries nobody's data. */
const SAMPLE = {
  customer_id: 'TEST-0001', name: 'テスト 太郎', notice_code: 'TEST-0000-0000', postal_code: '1000005', prefecture: '東京都', city: '千代田区',
  address_line1: '丸の内1-1-1', address_line2: '', extra: {} as Record<string, string>,
};

export async function testSend(db: Db, templates: TemplateCache, transport: MailTransport, settings: MessageSettings, campaignId: number, o: { to: string; segment: string; locale: string }): Promise<{ messageId: string; reply: string }> {
  const c = await getCampaign(db, campaignId);
  if (!c) throw new PreviewError(`campaign ${campaignId} does not exist`);
  const set = await templates.get(c.template_version, c.extra_vars);
  if (!set.variants.has(`${o.segment}.${o.locale}`)) throw new PreviewError(`no template variant ${o.segment}.${o.locale} (there are: ${[...set.variants.keys()].join(', ')})`, 'invalid');
  const extra = Object.fromEntries(c.extra_vars.map((v) => [v, `(${v})`]));
  const vars = templateVariables({ ...SAMPLE, extra, email: o.to, locale: o.locale, segment: o.segment }, c.name, set.letterhead);
  const r = renderVariant(set, o.segment, o.locale, vars);
  const messageId = `<test-${campaignId}-${Date.now()}@${settings.bounceDomain}>`;
  const sent = await transport.send({
    from: settings.from, to: { name: SAMPLE.name, address: o.to }, returnPath: `postmaster@${settings.bounceDomain}`,
    subject: `[TEST] ${r.subject}`, html: r.html, text: r.text, messageId, headers: { 'Auto-Submitted': 'auto-generated', 'X-Notice-Test': 'yes' },
  });
  return { messageId, reply: sent.reply };
}

export interface DryRun {
  campaign: number;
  /** segment × locale × channel. */
  rows: Array<{ segment: string; locale: string; email: number; post: number }>;
  rejected: number;
  duplicates: number;
  letters: Array<{ vendor: string | null; letters: number }>;
  total: { email: number; post: number; rejected: number };
}

/**
 * What launch would do now, counted: email for everyone with a valid address that is not
 * suppressed, a letter for the rest; the rows imports rejected; letters per vendor.
 */
export async function dryRun(db: Db, campaignId: number): Promise<DryRun> {
  const c = await getCampaign(db, campaignId);
  if (!c) throw new PreviewError(`campaign ${campaignId} does not exist`);
  // The channel plan decides per group of people alike in what decides it.
  const bySegment = new Map<string, { segment: string; locale: string; email: number; post: number }>();
  for (const g of await reachBySegment(db, campaignId)) {
    const key = `${g.segment}\u0000${g.locale}`;
    const row = bySegment.get(key) ?? { segment: g.segment, locale: g.locale, email: 0, post: 0 };
    if (firstChannel(g).channel === 'email') row.email += g.n;
    else row.post += g.n;
    bySegment.set(key, row);
  }
  const rows = [...bySegment.values()];
  const imp = [await importTotals(db, campaignId)];
  const vendor = await vendorNameOf(db, c.vendor_id);
  const post = rows.reduce((a, r) => a + r.post, 0);
  const email = rows.reduce((a, r) => a + r.email, 0);
  return {
    campaign: campaignId, rows, rejected: imp[0].rejected, duplicates: imp[0].duplicates,
    letters: [{ vendor, letters: post }],
    total: { email, post, rejected: imp[0].rejected },
  };
}
