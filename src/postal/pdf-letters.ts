// letters.pdf: one A4 letter per person, in batch order, with a Japanese font. Reproducible: the
// document dates are the batch's close time, so the same batch renders the same bytes.
import PDFDocument from 'pdfkit';
import { formatPostalCode, type PostalAddress } from '../domain/address.ts';
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

export function makePdfWriter(out: FileWriter, o: PdfOptions) {
  const doc = new PDFDocument({ size: 'A4', margin: 56, autoFirstPage: false, info: { Title: o.title, Producer: 'notice-dispatch', Creator: 'notice-dispatch', CreationDate: o.createdAt, ModDate: o.createdAt } });
  doc.registerFont('jp', o.fontPath);
  let writing: Promise<void> = Promise.resolve();
  let failed: Error | null = null;
  doc.on('data', (chunk: Buffer) => {
    writing = writing.then(() => out.write(chunk)).catch((err) => {
      failed = err;
    });
  });
  const ended = new Promise<void>((resolve) => doc.on('end', () => resolve()));

  return {
    add(l: Letter): void {
      const a = l.address;
      doc.addPage();
      doc.font('jp').fontSize(8).fillColor('#444').text(o.returnAddress, 300, 40, { width: 240, align: 'right' });
      doc.fillColor('black').fontSize(11);
      doc.text(`〒${formatPostalCode(a.postalCode)}`, 70, 100);
      doc.text(`${a.prefecture}${a.city}${a.addressLine1}`, 70, 118, { width: 300 });
      if (a.addressLine2) doc.text(a.addressLine2, { width: 300 });
      doc.moveDown(0.6).fontSize(15).text(`${a.name} 様`, { width: 300 });
      doc.fontSize(10).text(`${l.locale === 'ja' ? 'お問い合わせ番号' : 'Notice code'}: ${l.noticeCode}`, 70, 230);
      doc.fontSize(10.5).text(plain(l.body), 70, 270, { width: 455, lineGap: 4, paragraphGap: 8 });
      doc.fontSize(7).fillColor('#666').text(`${o.title} / No. ${l.seq}`, 70, 800, { width: 455, align: 'right' });
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
