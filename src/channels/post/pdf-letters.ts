// letters.pdf: one A4 letter per person, in batch order, with a Japanese font, laid out for a
// window envelope (長形3号 by default: the sheet folded in three, its top third behind the window).
// Reproducible: the document dates are the batch's close time, so the same batch renders the same
// bytes.
//
// The page, top to bottom (millimetres):
//   the window (default left 20, top 13, 90 × 45): the address block and nothing else: 〒code,
//     the address in as many lines as it takes, the name 様, the customer barcode. Set from 10.5 pt
//     down to 8 pt until it fits; an address that fits at no size is refused before it is batched
//     (`addressFits`), and drawn clipped to the window, never over its edge, should a vendor's
//     window shrink later;
//   right of the window: the date (西暦 or 和暦) and the sender (company, representative, address);
//   below it: the title (件名), the body (Markdown: headings, **bold**, lists), the contact desk
//     (phone, hours, the verify page and the notice code), a small footer (batch / No.).
// Japanese line breaking: no 。、」）… at the start of a line (they hang in the margin or take the
// character before them along), no 「（ at the end; Latin words are never split.
import PDFDocument from 'pdfkit';
import { formatPostalCode, type PostalAddress } from '../../domain/address.ts';
import { barsOf, type CustomerBarcode } from '../../domain/customer-barcode.ts';
import type { Letterhead } from '../../domain/template.ts';
import type { FileWriter, StoredFile } from './file-store.ts';
import type { WindowMm } from './vendor-store.ts';

export interface Letter {
  seq: number;
  noticeCode: string;
  locale: string;
  address: PostalAddress;
  /** The rendered body (from <segment>.<locale>.letter.md). */
  body: string;
  /** The customer barcode, when the code has one. */
  barcode: CustomerBarcode | null;
  /** The campaign's letterhead; null for campaigns made before letterheads (the return address is used). */
  letterhead: Letterhead | null;
}

export interface PdfOptions {
  fontPath: string;
  createdAt: Date;
  /** The sender when a campaign has no letterhead. */
  returnAddress: string;
  title: string;
  /** The envelope window (default DEFAULT_WINDOW_MM). */
  window?: WindowMm | null;
  /**
   * What to draw: all (a letter), or for checking a layout by its pixels only what belongs in
   * the window, or only what does not.
   */
  layers?: 'all' | 'window' | 'outside-window';
}

/** 長形3号 window envelope, A4 folded in three: the window as it lies over the sheet. */
export const DEFAULT_WINDOW_MM: WindowMm = { left: 20, top: 13, width: 90, height: 45 };

const PT_PER_MM = 72 / 25.4;
const mm = (v: number) => v * PT_PER_MM;
const A4 = { width: 595.28, height: 841.89 };
/** Inside the window: clear of its edges (the letter moves a little in the envelope). */
const PAD = { x: mm(3), y: mm(2.5) };
const SIZES = [10.5, 10, 9.5, 9, 8.5, 8];

export function windowProblems(w: WindowMm): string[] {
  const p: string[] = [];
  for (const k of ['left', 'top', 'width', 'height'] as const) if (!Number.isFinite(w[k]) || w[k] < 0) p.push(`${k} must be a number of millimetres ≥ 0`);
  if (w.width < 60 || w.height < 30) p.push('the window must be at least 60 × 30 mm to hold an address and its barcode');
  if (w.left + w.width > 200 || w.top + w.height > 99) p.push('the window must lie within the top third of an A4 sheet (210 × 99 mm)');
  return p;
}

// ------------------------------------------------------------------------------------------------
// Japanese line breaking (禁則処理).

const NO_START = new Set([...'。、，．,.・：；:;？！?!ー」』）)］]｝}】〕〉》’”ゝゞ々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ']);
const NO_END = new Set([...'「『（(［[｛{【〔〈《‘“']);
/** These may hang past the right edge rather than start a line (ぶら下げ). */
const HANG = new Set([...'。、，．,.']);

/** Break a text into tokens: a Latin word (never split), or one other character. */
function tokens(text: string): string[] {
  return text.match(/[A-Za-z0-9@#$%&*+=/\\_'.:~-]+|\s+|[\s\S]/gu) ?? [];
}

interface Tok {
  t: string;
  bold?: boolean;
}

/** Token lines of at most `width` points (a hanging 。、 aside), by the rules above. */
function breakTokens<T extends Tok>(toks: readonly T[], width: number, measure: (s: string) => number): T[][] {
  const out: T[][] = [];
  let line: T[] = [];
  let w = 0;
  const flush = () => {
    while (line.length && /^\s+$/.test(line[line.length - 1].t)) line.pop();
    out.push(line);
    line = [];
    w = 0;
  };
  for (const tok of toks) {
    const t = tok.t;
    if (t === '\n') {
      flush();
      continue;
    }
    if (!line.length && /^\s+$/.test(t)) continue;
    const tw = measure(t);
    if (w + tw <= width || !line.length) {
      line.push(tok);
      w += tw;
      continue;
    }
    if (HANG.has(t)) {
      line.push(tok);
      flush();
      continue;
    }
    // The next line may not start with t: take the character before it along (追い出し)…
    const carried: T[] = [];
    if (NO_START.has(t[0])) {
      while (line.length > 1 && NO_START.has(line[line.length - 1].t[0])) carried.unshift(line.pop()!);
      if (line.length > 1) carried.unshift(line.pop()!);
    }
    // …nor may this one end with an opening bracket.
    while (line.length > 1 && NO_END.has(line[line.length - 1].t)) carried.unshift(line.pop()!);
    flush();
    for (const c of carried) {
      line.push(c);
      w += measure(c.t);
    }
    if (!/^\s+$/.test(t)) {
      line.push(tok);
      w += tw;
    }
  }
  if (line.length) flush();
  return out;
}

/** Lines of at most `width` points, by the rules above. */
export function breakLines(text: string, width: number, measure: (s: string) => number): string[] {
  return text.split('\n').flatMap((para) => {
    const lines = breakTokens(tokens(para).map((t) => ({ t })), width, measure).map((l) => l.map((x) => x.t).join(''));
    return lines.length ? lines : [''];
  });
}

// ------------------------------------------------------------------------------------------------
// Markdown, kept to what a letter uses: headings, paragraphs, - and 1. lists, **bold**.

interface Block {
  kind: 'heading' | 'paragraph' | 'item';
  /** For items: the bullet or number shown. */
  marker?: string;
  runs: Run[];
}
interface Run {
  text: string;
  bold: boolean;
}

function inline(text: string): Run[] {
  const runs: Run[] = [];
  const re = /\*\*(.+?)\*\*|__(.+?)__/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) runs.push({ text: text.slice(at, m.index), bold: false });
    runs.push({ text: m[1] ?? m[2], bold: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) runs.push({ text: text.slice(at), bold: false });
  return runs.length ? runs : [{ text: '', bold: false }];
}

export function markdownBlocks(md: string): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const endPara = () => {
    if (para.length) blocks.push({ kind: 'paragraph', runs: inline(para.join('\n')) });
    para = [];
  };
  for (const raw of md.replace(/\r\n/g, '\n').split('\n')) {
    const line = raw.trimEnd();
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*・]\s+(.*)$/.exec(line);
    const numbered = /^\s*(\d+)[.)．]\s+(.*)$/.exec(line);
    if (!line.trim()) endPara();
    else if (h) {
      endPara();
      blocks.push({ kind: 'heading', runs: inline(h[1]) });
    } else if (bullet) {
      endPara();
      blocks.push({ kind: 'item', marker: '・', runs: inline(bullet[1]) });
    } else if (numbered) {
      endPara();
      blocks.push({ kind: 'item', marker: `${numbered[1]}.`, runs: inline(numbered[2]) });
    } else para.push(line.trim());
  }
  endPara();
  return blocks;
}

// ------------------------------------------------------------------------------------------------

const dates = new Map<string, string>();
/** 2026年12月2日 / 令和8年12月2日 / 2 December 2026, in Japan's time. */
export function letterDate(d: Date, locale: string, style: Letterhead['date_style']): string {
  const key = `${d.getTime()}|${locale}|${style}`;
  let v = dates.get(key);
  if (v === undefined) {
    v = formatDate(d, locale, style);
    if (dates.size > 1000) dates.clear();
    dates.set(key, v);
  }
  return v;
}

function formatDate(d: Date, locale: string, style: Letterhead['date_style']): string {
  if (locale !== 'ja') return new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', day: 'numeric', month: 'long', year: 'numeric' }).format(d);
  const cal = style === 'wareki' ? 'ja-JP-u-ca-japanese' : 'ja-JP';
  return new Intl.DateTimeFormat(cal, { timeZone: 'Asia/Tokyo', era: style === 'wareki' ? 'long' : undefined, year: 'numeric', month: 'long', day: 'numeric' }).format(d);
}

type Doc = PDFKit.PDFDocument;

/** The address block laid out for a window: the sizes and lines that fit, or null. */
interface AddressLayout {
  size: number;
  postal: string;
  lines: string[];
  nameLines: string[];
  nameSize: number;
  barcodeScale: number;
  height: number;
}

/** The largest size at which the block fits; when none does, the smallest (`fits: false`). */
function layoutAddress(doc: Doc, a: PostalAddress, barcode: boolean, w: WindowMm): AddressLayout & { fits: boolean } {
  const width = mm(w.width) - 2 * PAD.x;
  const height = mm(w.height) - 2 * PAD.y;
  let last: AddressLayout | null = null;
  for (const size of SIZES) {
    doc.font('jp').fontSize(size);
    const measure = (s: string) => doc.widthOfString(s);
    const lines = [...breakLines(`${a.prefecture}${a.city}${a.addressLine1}`, width, measure), ...(a.addressLine2 ? breakLines(a.addressLine2, width, measure) : [])];
    const nameSize = Math.min(size * 1.35, 14);
    doc.fontSize(nameSize);
    const nameLines = breakLines(`${a.name} 様`, width, (s) => doc.widthOfString(s));
    const barcodeScale = Math.max(0.8, Math.min(1, size / 10));
    const lineH = size * 1.3;
    const total = lineH /* 〒 */ + lines.length * lineH + mm(1.2) + nameLines.length * nameSize * 1.25 + (barcode ? mm(1.5) + mm(3.6 * barcodeScale) : 0);
    last = { size, postal: `〒${formatPostalCode(a.postalCode)}`, lines, nameLines, nameSize, barcodeScale, height: total };
    if (total <= height && (!barcode || mm(67 * 1.2 * barcodeScale) <= width)) return { ...last, fits: true };
  }
  return { ...last!, fits: false };
}

/**
 * Text widths, remembered per font size: a batch measures the same characters at the same few
 * sizes thousands of times (line breaking measures every character), and pdfkit lays each string
 * out afresh.
 */
function cacheWidths(doc: Doc): void {
  const measure = doc.widthOfString.bind(doc);
  const cache = new Map<string, number>();
  doc.widthOfString = ((text: string, options?: PDFKit.Mixins.TextOptions) => {
    if (options) return measure(text, options);
    const key = `${(doc as unknown as { _fontSize: number })._fontSize}|${text}`;
    let w = cache.get(key);
    if (w === undefined) {
      w = measure(text);
      if (cache.size > 200_000) cache.clear();
      cache.set(key, w);
    }
    return w;
  }) as Doc['widthOfString'];
}

let measurer: { font: string; doc: Doc } | null = null;
/**
 * Whether an address fits the window at some size (and with its barcode): null when it does, else
 * the reason. For the postal worker, before a letter joins a batch.
 */
export function addressFits(a: PostalAddress, barcode: boolean, fontPath: string, w: WindowMm | null = null): string | null {
  if (!measurer || measurer.font !== fontPath) {
    const doc = new PDFDocument({ autoFirstPage: false });
    doc.registerFont('jp', fontPath);
    cacheWidths(doc);
    measurer = { font: fontPath, doc };
  }
  const win = w ?? DEFAULT_WINDOW_MM;
  const l = layoutAddress(measurer.doc, a, barcode, win);
  if (l.fits) return null;
  return `the address does not fit the envelope window (${win.width} × ${win.height} mm) even at ${SIZES.at(-1)} pt: it needs ${(l.height / PT_PER_MM + 5).toFixed(0)} mm; shorten address_line1/address_line2 or use a larger window`;
}

export function makePdfWriter(out: FileWriter, o: PdfOptions) {
  const doc = new PDFDocument({ size: 'A4', margin: 0, autoFirstPage: false, info: { Title: o.title, Producer: 'notice-dispatch', Creator: 'notice-dispatch', CreationDate: o.createdAt, ModDate: o.createdAt } });
  doc.registerFont('jp', o.fontPath);
  let writing: Promise<void> = Promise.resolve();
  let failed: Error | null = null;
  doc.on('data', (chunk: Buffer) => {
    writing = writing.then(() => out.write(chunk)).catch((err) => {
      failed = err;
    });
  });
  const ended = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  const win = o.window ?? DEFAULT_WINDOW_MM;
  cacheWidths(doc);

  /** One line, never wrapped and never paginating (the caller has placed it inside the page). */
  const text = (t: string, x: number, y: number, opts: PDFKit.Mixins.TextOptions = {}) => doc.text(t, x, y, { lineBreak: false, ...opts });
  /** Faux bold (the Mincho font has no bold face): filled and stroked. */
  const bold = (t: string, x: number, y: number, size: number) => {
    doc.save().lineWidth(size * 0.035).strokeColor('black');
    text(t, x, y, { fill: true, stroke: true });
    doc.restore();
  };
  const right = (t: string, rightX: number, y: number) => text(t, rightX - doc.widthOfString(t), y);

  function addressBlock(l: Letter): void {
    const x = mm(win.left) + PAD.x;
    let y = mm(win.top) + PAD.y;
    const fit = layoutAddress(doc, l.address, !!l.barcode, win);
    doc.save();
    // Never past the window's edge, whatever the layout says.
    doc.rect(mm(win.left), mm(win.top), mm(win.width), mm(win.height)).clip();
    doc.font('jp').fillColor('black').fontSize(fit.size);
    text(fit.postal, x, y);
    y += fit.size * 1.3;
    for (const line of fit.lines) {
      text(line, x, y);
      y += fit.size * 1.3;
    }
    y += mm(1.2);
    doc.fontSize(fit.nameSize);
    for (const line of fit.nameLines) {
      text(line, x, y);
      y += fit.nameSize * 1.25;
    }
    if (l.barcode) {
      // Japan Post's geometry at 10 pt, scaled: pitch 1.2 mm, bar 0.6 mm, full 3.6 mm, half 2.4 mm, timing 1.2 mm.
      const s = fit.barcodeScale;
      const top = y + mm(1.5);
      const unit = mm(1.2 * s);
      barsOf(l.barcode).forEach((bar, i) => {
        const bx = x + i * unit;
        const [from, to] = bar === 'F' ? [0, 3] : bar === 'A' ? [0, 2] : bar === 'D' ? [1, 3] : [1, 2];
        doc.rect(bx, top + from * unit, mm(0.6 * s), (to - from) * unit).fill('black');
      });
    }
    doc.restore();
  }

  function senderBlock(l: Letter, date: string): number {
    const rightX = mm(190);
    const left = mm(win.left + win.width + 8);
    let y = mm(13);
    doc.font('jp').fillColor('black').fontSize(10);
    right(date, rightX, y);
    y += mm(8);
    const lh = l.letterhead;
    const sender: Array<[string, number]> = lh ? [[lh.company, 10.5], [lh.representative, 10], [lh.address, 8.5]] : o.returnAddress.split(/\s+(?=\S*(株式会社|窓口))/).filter(Boolean).map((t) => [t, 9] as [string, number]);
    for (const [t, size] of sender) {
      doc.fontSize(size);
      for (const line of breakLines(t, rightX - left, (s) => doc.widthOfString(s))) {
        right(line, rightX, y);
        y += size * 1.4;
      }
    }
    return Math.max(y, mm(win.top + win.height));
  }

  function body(l: Letter, top: number, bottom: number): void {
    const x = mm(22);
    const width = mm(166);
    const blocks = markdownBlocks(l.body);
    // Set it smaller rather than spill onto a second sheet; too long even at 7.5 pt: it runs on.
    for (const size of [10.5, 10, 9.5, 9, 8.5, 8, 7.5]) {
      const h = drawBlocks(blocks, x, top, width, size, null);
      if (h <= bottom - top || size === 7.5) {
        drawBlocks(blocks, x, top, width, size, bottom);
        return;
      }
    }
  }

  /** Height of the blocks at `size`; draws them when `bottom` is given (a new page past it). */
  function drawBlocks(blocks: Block[], x: number, top: number, width: number, size: number, bottom: number | null): number {
    let y = top;
    for (const b of blocks) {
      const s = b.kind === 'heading' ? size * 1.1 : size;
      doc.font('jp').fontSize(s);
      const indent = b.kind === 'item' ? doc.widthOfString('　') * 1.2 : 0;
      const toks = b.runs.flatMap((r) => r.text.split(/(\n)/).flatMap((part) => (part === '\n' ? [{ t: '\n', bold: r.bold }] : tokens(part).map((t) => ({ t, bold: r.bold || b.kind === 'heading' })))));
      const lines = breakTokens(toks, width - indent, (t) => doc.widthOfString(t));
      if (b.kind === 'heading') y += s * 0.5;
      lines.forEach((line, i) => {
        if (bottom !== null && y + s > bottom) {
          doc.addPage();
          y = mm(20);
        }
        if (bottom !== null) {
          if (i === 0 && b.marker) text(b.marker, x, y);
          let cx = x + indent;
          // Runs of the same weight, drawn together.
          for (let k = 0; k < line.length; ) {
            let j = k;
            while (j < line.length && !!line[j].bold === !!line[k].bold) j++;
            const piece = line.slice(k, j).map((t) => t.t).join('');
            if (line[k].bold) bold(piece, cx, y, s);
            else text(piece, cx, y);
            cx += doc.widthOfString(piece);
            k = j;
          }
        }
        y += s * 1.55;
      });
      y += b.kind === 'heading' ? s * 0.2 : s * 0.6;
    }
    return y - top;
  }

  function contactDesk(l: Letter): number {
    const lh = l.letterhead;
    const ja = l.locale === 'ja';
    const pick = (v: Record<string, string> | undefined) => v?.[l.locale] ?? v?.ja ?? '';
    const lines: Array<[string, number, boolean]> = [];
    if (lh) {
      lines.push([pick(lh.contact.desk), 10.5, true]);
      lines.push([`${ja ? '電話' : 'Tel.'} ${lh.contact.phone}\u3000${pick(lh.contact.hours)}`, 10, false]);
      lines.push([`${ja ? '確認用ページ' : 'Verification page'}: ${lh.contact.verify_url}`, 9.5, false]);
    }
    lines.push([`${ja ? 'お問い合わせ番号' : 'Notice code'}: ${l.noticeCode}`, 10.5, true]);
    const h = lines.reduce((a, [, s]) => a + s * 1.5, 0) + mm(6);
    const top = mm(282) - h;
    doc.save().lineWidth(0.6).strokeColor('#444').roundedRect(mm(20), top, mm(170), h, 4).stroke().restore();
    let y = top + mm(3);
    for (const [t, s, b] of lines) {
      doc.font('jp').fontSize(s).fillColor('black');
      if (b) bold(t, mm(26), y, s);
      else text(t, mm(26), y);
      y += s * 1.5;
    }
    return top;
  }

  return {
    add(l: Letter): void {
      doc.addPage();
      const layers = o.layers ?? 'all';
      if (layers !== 'outside-window') addressBlock(l);
      if (layers === 'window') return;
      const style = l.letterhead?.date_style ?? 'seireki';
      const below = senderBlock(l, letterDate(o.createdAt, l.locale, style));
      // The title (件名), centred under the window.
      const title = l.letterhead ? (l.letterhead.title[l.locale] ?? l.letterhead.title.ja ?? '') : '';
      let y = Math.max(below, mm(win.top + win.height)) + mm(8);
      if (title) {
        doc.font('jp').fontSize(13);
        for (const line of breakLines(title, mm(166), (s) => doc.widthOfString(s))) {
          bold(line, (A4.width - doc.widthOfString(line)) / 2, y, 13);
          y += 13 * 1.5;
        }
        y += mm(4);
      }
      const deskTop = contactDesk(l);
      body(l, y, deskTop - mm(4));
      doc.font('jp').fontSize(7).fillColor('#666');
      right(`${o.title} / No. ${l.seq}`, mm(190), mm(287));
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
