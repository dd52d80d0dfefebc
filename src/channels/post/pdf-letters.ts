// letters.pdf: one A4 letter per person, in batch order, with a Japanese font. Reproducible: the
// document dates are the batch's close time, so the same batch renders the same bytes.
import PDFDocument from 'pdfkit';
import { formatPostalCode, type PostalAddress } from '../../domain/address.ts';
import type { FileWriter, StoredFile } from './file-store.ts';

export interface Letter {
  seq: number;
  noticeCode: string;
  locale: string;
  address: PostalAddress;
  /** The rendered body (from <segment>.<locale>.letter.md). */
  body: string;
}

export interface PdfOptions {
  fontPath: string;
  createdAt: Date;
  returnAddress: string;
  title: string;
}

/** Markdown kept simple: paragraphs and line breaks; emphasis and headings markers dropped. */
function plain(md: string): string {
  return md.replace(/^#{1,6}\s*/gm, '').replace(/\*\*(.+?)\*\*/g, '$1').replace(/__(.+?)__/g, '$1');
}

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 56;
const BODY = { x: 70, y: 270, width: 455 };
/** The footer's baseline area, inside the bottom margin: drawing it never starts a new page. */
const FOOTER_Y = A4.height - 40;
const BODY_BOTTOM = FOOTER_Y - 16;

/**
 * Lines of at most `width` points, broken only between words (spaces in the setting): a company
 * name or a department is never split in the middle ("お客/様窓口"). A word longer than a line
 * gets a line of its own and is drawn smaller by the caller if it must be.
 */
export function fitWords(words: string[], width: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const candidate = line ? `${line} ${w}` : w;
    if (line && measure(candidate) > width) {
      lines.push(line);
      line = w;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

export function makePdfWriter(out: FileWriter, o: PdfOptions) {
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, autoFirstPage: false, info: { Title: o.title, Producer: 'notice-dispatch', Creator: 'notice-dispatch', CreationDate: o.createdAt, ModDate: o.createdAt } });
  doc.registerFont('jp', o.fontPath);
  let writing: Promise<void> = Promise.resolve();
  let failed: Error | null = null;
  doc.on('data', (chunk: Buffer) => {
    writing = writing.then(() => out.write(chunk)).catch((err) => {
      failed = err;
    });
  });
  const ended = new Promise<void>((resolve) => doc.on('end', () => resolve()));

  // The return address, laid out once: right-aligned lines broken between its words.
  doc.font('jp').fontSize(8);
  const RETURN_WIDTH = 260;
  const returnLines = fitWords(o.returnAddress.split(/\s+/).filter(Boolean), RETURN_WIDTH, (t) => doc.widthOfString(t));

  /** One line, never wrapped and never paginating (the caller has placed it inside the page). */
  const line = (text: string, x: number, y: number, opts: PDFKit.Mixins.TextOptions = {}) => doc.text(text, x, y, { lineBreak: false, ...opts });

  return {
    add(l: Letter): void {
      const a = l.address;
      doc.addPage();
      doc.font('jp').fontSize(8).fillColor('#444');
      returnLines.forEach((t, i) => line(t, A4.width - MARGIN - RETURN_WIDTH, 40 + i * 11, { width: RETURN_WIDTH, align: 'right' }));
      doc.fillColor('black').fontSize(11);
      line(`〒${formatPostalCode(a.postalCode)}`, 70, 100);
      doc.text(`${a.prefecture}${a.city}${a.addressLine1}`, 70, 118, { width: 300 });
      if (a.addressLine2) doc.text(a.addressLine2, { width: 300 });
      doc.moveDown(0.6).fontSize(15).text(`${a.name} 様`, { width: 300 });
      doc.fontSize(10);
      line(`${l.locale === 'ja' ? 'お問い合わせ番号' : 'Notice code'}: ${l.noticeCode}`, 70, 230);
      // The body fits the page: a long body is set smaller rather than spill onto a second sheet
      // (one too long even at 7 pt runs on, whole, to a second page: never cut).
      const body = plain(l.body);
      let size = 10.5;
      const opts = (s: number) => ({ width: BODY.width, lineGap: s * 0.38, paragraphGap: s * 0.76 });
      while (size > 7 && doc.fontSize(size).heightOfString(body, opts(size)) > BODY_BOTTOM - BODY.y) size -= 0.5;
      doc.fontSize(size).text(body, BODY.x, BODY.y, opts(size));
      doc.fontSize(7).fillColor('#666');
      const bottom = doc.page.margins.bottom;
      doc.page.margins.bottom = 0;
      line(`${o.title} / No. ${l.seq}`, BODY.x, FOOTER_Y, { width: BODY.width, align: 'right' });
      doc.page.margins.bottom = bottom;
      doc.fillColor('black');
    },
    async end(): Promise<StoredFile> {
      doc.end();
      await ended;
      await writing;
      if (failed) throw failed;
      return out.end();
    },
  };
}
