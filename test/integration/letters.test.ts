// Letters a Japanese printer can post (issue 17), from the vendor's side: the batch's letters.pdf
// for a window envelope (checked by its pixels: the address block's ink inside the window, nothing
// else showing through it), the letter's parts once each (pdftotext), the barcode column, the
// 区分 counts and discount estimate in the manifest, the postal-code data's version, the letter
// class per segment, tracking numbers in the person's evidence, and an address too long for the
// window refused with its reason before it is batched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { closeBatch } from '../../src/channels/post/close-batch.ts';
import { DEFAULT_WINDOW_MM, letterDate, makePdfWriter, type PdfOptions } from '../../src/channels/post/pdf-letters.ts';
import { letterAddress, makeLetter } from '../../src/channels/post/letter.ts';
import { lettersInOrder } from '../../src/channels/post/batch-store.ts';
import { customerBarcode } from '../../src/domain/customer-barcode.ts';
import { evidenceOf } from '../../src/campaigns/evidence.ts';
import { postalDataVersion } from '../../src/channels/post/postal-data.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

let t: TestEnv;
let app: App;
let workers: RunningWorkers;
let http: FastifyInstance;
let vendor: { id: number; token: string };
let campaignId: number;
const artifacts = path.join(root, 'test-artifacts');
const get = (url: string) => http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${vendor.token}` } });
const post = (url: string, payload: unknown) => http.inject({ method: 'POST', url, headers: { authorization: `Bearer ${vendor.token}` }, payload: payload as object });

// The longest addresses the window takes (and one it cannot).
const LONG_LINE1 = '南四条西二十九丁目1524-23';
const LONG_LINE2 = '第2郵便ハウス501号室 サンプルレジデンス南四条西ウエストタワー棟 管理事務所気付';
const TOO_LONG = 'グランドメゾン'.repeat(28);

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  t = await makeTestEnv();
  app = t.app();
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES.filter((q) => q !== 'email'), concurrency: 4 });
  http = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
  vendor = await addVendor(app.db, '窓付封筒印刷');
  const rows = [
    person(1, null, { name: '山田 太郎', address_line1: '丸の内一丁目二番三号', address_line2: '丸の内パークビルディング 1203号室', segment: 'card' }),
    person(2, null, { name: '長谷川 五十鈴之助右衛門', postal_code: '064-0804', prefecture: '北海道', city: '札幌市中央区', address_line1: LONG_LINE1, address_line2: LONG_LINE2, segment: 'personal' }),
    person(3, null, { name: '窓 入らず', address_line2: TOO_LONG, segment: 'personal' }),
    person(4, null, { name: '東京 都子', prefecture: '東京', address_line1: '丸の内2-4-1', segment: 'personal' }),
    person(5, null, { name: 'Smith John', postal_code: '650-0046', prefecture: '兵庫県', city: '神戸市中央区', address_line1: '港島中町9丁目7-6', address_line2: '郵便シティA棟1F1号', locale: 'en', segment: 'card' }),
  ];
  const c = await campaignWith(app, t.tmp, rows);
  campaignId = c.id;
  await app.db.query('update campaigns set vendor_id = $2 where id = $1', [campaignId, vendor.id]);
  expect(notice(t.env, 'campaign', 'letter-class', String(campaignId), 'card=特定記録').status).toBe(0);
  await launch(steeringDeps(app), campaignId);
  await waitFor(async () => {
    const s = await counts(app, campaignId);
    return s.counts.batched === 4 && s.counts.address_invalid === 1;
  }, { what: 'postal routing', timeoutMs: 20_000 }).catch(async (err) => {
    console.log(JSON.stringify((await counts(app, campaignId)).counts), (await app.db.query('select name, state, address_error from notices where campaign_id = $1', [campaignId])).rows);
    throw err;
  });
});
afterAll(async () => {
  await http?.close();
  await workers?.close();
  await t?.teardown();
});

/** A PGM (pdftoppm -gray) as width, height and pixels. */
function pgm(file: string): { w: number; h: number; px: Buffer } {
  const buf = readFileSync(file);
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 40).toString('latin1'))!;
  return { w: Number(m[1]), h: Number(m[2]), px: buf.subarray(m[0].length) };
}

async function renderLayers(layers: PdfOptions['layers'], seqs: number[], name: string): Promise<string> {
  const chunks: Buffer[] = [];
  const w = makePdfWriter({ async write(c) { chunks.push(Buffer.from(c)); }, async end() { return { name, sha256: '', bytes: 0, contentType: '' }; } }, { fontPath: app.config.PDF_FONT, createdAt: new Date(), returnAddress: '', title: name, layers });
  const set = await app.templates.get((await app.db.query('select template_version from campaigns where id = $1', [campaignId])).rows[0].template_version, []);
  for await (const r of lettersInOrder(app.db, (await app.db.query('select id from batches where campaign_id = $1', [campaignId])).rows[0].id)) {
    if (seqs.includes(r.seq)) w.add(makeLetter(r, r.seq, set, 'テスト通販', letterAddress(r)));
  }
  await w.end();
  const file = path.join(t.tmp, `${name}.pdf`);
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

describe('letters for a window envelope', () => {
  it('lays the address block inside the window and nothing else there, for the longest addresses', async () => {
    const { rows: [batch] } = await app.db.query('select id from batches where campaign_id = $1', [campaignId]);
    const r = await closeBatch({ db: app.db, templates: app.templates, fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS }, batch.id);
    expect(r?.letters).toBe(4);
    const pdf = (await get(`/vendor/v1/batches/${batch.id}/files/letters.pdf`)).rawPayload;
    const pdfFile = path.join(artifacts, 'letters-window.pdf');
    writeFileSync(pdfFile, pdf);
    // Pages to look at: every letter, and the window's corner enlarged.
    execFileSync('pdftoppm', ['-r', '80', '-png', pdfFile, path.join(artifacts, 'letter-page')]);
    execFileSync('pdftoppm', ['-r', '250', '-png', '-x', '0', '-y', '0', '-W', '1300', '-H', '650', pdfFile, path.join(artifacts, 'letter-window')]);

    const dpi = 100;
    const px = (mmv: number) => Math.round((mmv / 25.4) * dpi);
    const win = { x0: px(DEFAULT_WINDOW_MM.left), y0: px(DEFAULT_WINDOW_MM.top), x1: px(DEFAULT_WINDOW_MM.left + DEFAULT_WINDOW_MM.width), y1: px(DEFAULT_WINDOW_MM.top + DEFAULT_WINDOW_MM.height) };
    const inside = (x: number, y: number, m = 0) => x >= win.x0 - m && x < win.x1 + m && y >= win.y0 - m && y < win.y1 + m;
    for (const seq of [1, 2, 3, 4]) {
      const onlyWindow = await renderLayers('window', [seq], `window-${seq}`);
      const allBut = await renderLayers('outside-window', [seq], `outside-${seq}`);
      execFileSync('pdftoppm', ['-r', String(dpi), '-gray', onlyWindow, path.join(t.tmp, `w${seq}`)]);
      execFileSync('pdftoppm', ['-r', String(dpi), '-gray', allBut, path.join(t.tmp, `o${seq}`)]);
      const a = pgm(path.join(t.tmp, `w${seq}-1.pgm`));
      const b = pgm(path.join(t.tmp, `o${seq}-1.pgm`));
      let inkIn = 0;
      let inkOut = 0;
      let through = 0;
      for (let y = 0; y < a.h; y++) {
        for (let x = 0; x < a.w; x++) {
          if (a.px[y * a.w + x] < 200) {
            if (inside(x, y)) inkIn++;
            else if (!inside(x, y, 1)) inkOut++;
          }
          if (b.px[y * b.w + x] < 250 && inside(x, y, 1)) through++;
        }
      }
      expect(inkIn, `letter ${seq}: the address block has ink in the window`).toBeGreaterThan(1500);
      expect(inkOut, `letter ${seq}: address ink outside the window`).toBe(0);
      expect(through, `letter ${seq}: other ink that would show through the window`).toBe(0);
    }
  });

  it('reads like a letter: date, title, sender, contact desk, name and code once each', async () => {
    const pdfFile = path.join(artifacts, 'letters-window.pdf');
    const { rows: order } = await app.db.query(`select bi.seq, n.notice_code, n.name, n.locale from batch_items bi join notices n on n.id = bi.notice_id where n.campaign_id = $1 order by bi.seq`, [campaignId]);
    const { rows: [{ closed_at }] } = await app.db.query('select closed_at from batches where campaign_id = $1', [campaignId]);
    for (const o of order) {
      const page = execFileSync('pdftotext', ['-f', String(o.seq), '-l', String(o.seq), pdfFile, '-'], { encoding: 'utf8' });
      const once = (s: string, what: string) => expect(page.replace(/\s+/g, ' ').split(s).length - 1, `${what} on page ${o.seq}`).toBe(1);
      once(letterDate(new Date(closed_at), o.locale, 'wareki'), 'the date');
      if (o.locale === 'ja') {
        expect(letterDate(new Date(closed_at), 'ja', 'wareki')).toMatch(/^令和\d+年\d+月\d+日$/);
        once('個人情報流出に関するお詫びとお知らせ', 'the title');
        once('お問い合わせ番号:', 'the code label');
      } else once('Notice of unauthorised access', 'the title');
      once('通販ストア株式会社', 'the company');
      once('代表取締役社長 山田 一郎', 'the representative');
      once('0120-000-123', 'the phone');
      once('https://notice.example.com/verify', 'the verify page');
      once(o.notice_code, 'the notice code');
      once(`${o.name} 様`, 'the name');
    }
    // Markdown rendered, not printed: no ** or ## on paper.
    const all = execFileSync('pdftotext', [pdfFile, '-'], { encoding: 'utf8' });
    expect(all).not.toMatch(/\*\*|##/);
    // No line starts with 。、」 (Japanese line breaking).
    expect(all.split('\n').filter((l) => /^[。、」）]/.test(l.trim()))).toEqual([]);
  });

  it('gives vendors the barcode, the letter class, the 区分 counts, the discount estimate and the data version', async () => {
    const { rows: [batch] } = await app.db.query('select id from batches where campaign_id = $1', [campaignId]);
    const csv = parse((await get(`/vendor/v1/batches/${batch.id}/files/letters.csv`)).body, { columns: true }) as Array<Record<string, string>>;
    expect(csv.map((r) => r.postal_code)).toEqual([...csv.map((r) => r.postal_code)].sort());
    const yamada = csv.find((r) => r.name === '山田 太郎')!;
    expect(yamada.barcode).toBe(customerBarcode('1000005', '丸の内一丁目二番三号 丸の内パークビルディング 1203号室')!.text);
    expect(yamada.barcode).toBe('10000051-2-3-1203');
    expect(csv.find((r) => r.name === 'Smith John')!.barcode).toBe('65000469-7-6A1-1');
    expect(csv.map((r) => [r.segment, r.letter_class])).toEqual(expect.arrayContaining([['card', '特定記録'], ['personal', '普通']]));
    // 東京 was put right by itself; its ledger says how.
    expect(csv.find((r) => r.name === '東京 都子')!.prefecture).toBe('東京都');
    const manifest = (await get(`/vendor/v1/batches/${batch.id}`)).json();
    expect(manifest.postal_data).toEqual(postalDataVersion());
    expect(manifest.window_mm).toEqual(DEFAULT_WINDOW_MM);
    expect(manifest.discount_estimate).toMatchObject({ letters: 4, barcoded: 4, per_kubun: { '064': 1, '100': 2, '650': 1 }, postage_yen: 440 });
    expect(manifest.letter_classes).toEqual({ card: '特定記録' });
  });

  it('refuses an address too long for the window, with its reason, before it is batched', async () => {
    const { rows: [p] } = await app.db.query(`select address_error, state from notices where campaign_id = $1 and name = '窓 入らず'`, [campaignId]);
    expect(p.state).toBe('address_invalid');
    expect(p.address_error).toMatch(/does not fit the envelope window \(90 × 45 mm\) even at 8 pt/);
  });

  it('records tracking numbers (特定記録) by sequence number, in the person\'s evidence', async () => {
    const { rows: [batch] } = await app.db.query('select id from batches where campaign_id = $1', [campaignId]);
    const { rows: cards } = await app.db.query(`select bi.seq, n.id from batch_items bi join notices n on n.id = bi.notice_id where bi.batch_id = $1 and n.segment = 'card' order by bi.seq`, [batch.id]);
    const res = await post(`/vendor/v1/batches/${batch.id}/tracking`, cards.map((c, i) => ({ seq: c.seq, tracking_number: `1234-5678-90${i}` })));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().results.map((r: { outcome: string }) => r.outcome)).toEqual(['recorded', 'recorded']);
    const e = await evidenceOf(app.db, cards[0].id);
    expect(e.letters[0]).toMatchObject({ letter_class: '特定記録', tracking_number: '1234-5678-900' });
    expect((await post(`/vendor/v1/batches/${batch.id}/tracking`, [{ seq: 99, tracking_number: '1234-5678-999' }])).json().results[0].outcome).toBe('not_found');
  });
});
