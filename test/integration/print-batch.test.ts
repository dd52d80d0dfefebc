// Print batches as the vendor receives them, and the vendor API's boundaries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person, root } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { cancel, launch, steeringDeps } from '../../src/campaigns/control.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { closeBatch } from '../../src/channels/post/close-batch.ts';
import type { App } from '../../src/app.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

/** The vendor posts today (mailed_at may be neither in the future nor before printing). */
const today = () => new Date().toISOString().slice(0, 10);
let t: TestEnv;
let app: App;
let workers: RunningWorkers;
let http: FastifyInstance;
let vendorA: { id: number; token: string };
let vendorB: { id: number; token: string };
let campaignId: number;

const get = (url: string, token?: string) => http.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
const postJson = (url: string, token: string, payload?: unknown) => http.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
const artifacts = path.join(root, 'test-artifacts');
const closeDeps = () => ({ db: app.db, templates: app.templates, fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS });

beforeAll(async () => {
  t = await makeTestEnv();
  app = t.app();
  workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES.filter((q) => q !== 'email'), concurrency: 4 });
  http = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
  vendorA = await addVendor(app.db, 'A 印刷');
  vendorB = await addVendor(app.db, 'B 印刷');
  const rows = [
    person(1, null, { name: '𠮷田 花子', postal_code: '530-0001', prefecture: '大阪府', city: '大阪市北区', address_line1: '梅田1-1' }),
    person(2, null, { name: '髙橋 一郎', postal_code: '100-0005' }),
    person(3, null, { name: '=HYPERLINK("http://x")', postal_code: '060-0001', prefecture: '北海道', city: '札幌市中央区', address_line1: '北一条西2丁目' }),
    person(4, null, { name: '佐藤 三郎', postal_code: '９８０－００２１', prefecture: '宮城県', city: '仙台市青葉区', address_line1: '中央１ー２ー３' }),
    person(5, null, { name: '鈴木 四郎', postal_code: '460-0008', prefecture: '愛知県', city: '名古屋市中区', address_line1: '栄3-4-5', address_line2: 'センタービル５Ｆ' }),
    person(6, null, { name: '住所 不備', city: '渋谷区' }),
  ];
  const c = await campaignWith(app, t.tmp, rows);
  campaignId = c.id;
  await app.db.query('update campaigns set vendor_id = $2 where id = $1', [campaignId, vendorA.id]);
  await launch(steeringDeps(app), campaignId);
  await waitFor(async () => {
    const s = await counts(app, campaignId);
    return s.counts.batched === 5 && s.counts.address_invalid === 1;
  }, { what: 'postal routing' });
});
afterAll(async () => {
  await http?.close();
  await workers?.close();
  await t?.teardown();
});

async function theBatch(): Promise<number> {
  const { rows } = await app.db.query(`select id from batches where campaign_id = $1 order by id desc limit 1`, [campaignId]);
  return rows[0].id;
}

describe('a print batch', () => {
  it('renders sorted UTF-8 and strict Shift_JIS CSVs, exceptions, a Japanese PDF and a manifest, reproducibly', async () => {
    const batchId = await theBatch();
    const r = await closeBatch(closeDeps(), batchId);
    expect(r).toMatchObject({ letters: 5, exceptions: 2 });
    const csv = (await get(`/vendor/v1/batches/${batchId}/files/letters.csv`, vendorA.token)).body;
    const utf8 = parse(csv, { columns: true }) as Array<Record<string, string>>;
    expect(utf8.map((x) => x.postal_code)).toEqual(['060-0001', '100-0005', '460-0008', '530-0001', '980-0021']);
    expect(utf8.map((x) => x.seq)).toEqual(['1', '2', '3', '4', '5']);
    expect(utf8.find((x) => x.postal_code === '060-0001')!.name).toBe(`'=HYPERLINK("http://x")`);
    expect(utf8.find((x) => x.postal_code === '980-0021')!.address_line1).toBe('中央1-2-3');
    expect(utf8.find((x) => x.postal_code === '460-0008')!.address_line2).toBe('センタービル5F');

    const sjisRes = await get(`/vendor/v1/batches/${batchId}/files/letters.sjis.csv`, vendorA.token);
    const sjisBytes = sjisRes.rawPayload;
    const decoded = iconv.decode(sjisBytes, 'cp932');
    expect(iconv.encode(decoded, 'cp932').equals(sjisBytes)).toBe(true); // opens as CP932, byte for byte
    const sjis = parse(decoded, { columns: true }) as Array<Record<string, string>>;
    expect(sjis).toEqual(utf8.filter((x) => !/𠮷|髙/.test(x.name))); // every encodable row, unaltered
    const exceptions = parse((await get(`/vendor/v1/batches/${batchId}/files/exceptions.csv`, vendorA.token)).body, { columns: true }) as Array<Record<string, string>>;
    expect(exceptions.map((x) => [x.field, x.characters])).toEqual([['name', '髙'], ['name', '𠮷']]);
    expect(exceptions[1].reason).toMatch(/U\+20BB7/);

    const pdf = (await get(`/vendor/v1/batches/${batchId}/files/letters.pdf`, vendorA.token)).rawPayload;
    const pdfFile = path.join(t.tmp, 'letters.pdf');
    writeFileSync(pdfFile, pdf);
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    const { rows: codes } = await app.db.query(`select name, notice_code from notices where campaign_id = $1 and state = 'batched'`, [campaignId]);
    for (const c of codes.filter((x) => !/𠮷/.test(x.name))) {
      expect(text).toContain(c.notice_code);
      expect(text.replace(/\s+/g, ' ')).toContain(`${c.name} 様`);
    }
    expect(text).toContain('〒100-0005');
    // One page per letter (no blank sheet after each), each page its own person, in batch order.
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdfFile], { encoding: 'utf8' }))![1]);
    expect(pages).toBe(5);
    const { rows: order } = await app.db.query(`select bi.seq, n.notice_code from batch_items bi join notices n on n.id = bi.notice_id where bi.batch_id = $1 order by bi.seq`, [batchId]);
    for (const o of order) {
      const page = execFileSync('pdftotext', ['-f', String(o.seq), '-l', String(o.seq), '-layout', pdfFile, '-'], { encoding: 'utf8' });
      expect(page).toContain(o.notice_code);
      expect(page).toContain(`No. ${o.seq}`);
      // The sender and the contact desk, each whole and once.
      expect(page.split('通販ストア株式会社')).toHaveLength(2);
      expect(page.split('個人情報流出に関するお問い合わせ窓口')).toHaveLength(2);
    }
    // Kept for a person to look at: test-artifacts/letters-page-1.png
    mkdirSync(artifacts, { recursive: true });
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', pdfFile, path.join(artifacts, 'letters-page-1')]);
    copyFileSync(pdfFile, path.join(artifacts, 'letters.pdf'));

    const manifest = (await get(`/vendor/v1/batches/${batchId}`, vendorA.token)).json();
    expect(manifest).toMatchObject({ batch_id: batchId, campaign_id: campaignId, vendor_id: vendorA.id, count: 5, exceptions: 2, sort_key: ['postal_code', 'notice_id'] });
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['letters.csv', 'letters.sjis.csv', 'exceptions.csv', 'letters.pdf']);

    // Closing again (say, after a crash half-way) renders the same bytes.
    await app.db.query(`update batches set status = 'closing' where id = $1`, [batchId]);
    const again = await closeBatch(closeDeps(), batchId);
    expect(again!.files.map((f) => f.sha256)).toEqual(manifest.files.map((f: { sha256: string }) => f.sha256));
  });

  it('is for its own vendor only: no token 401, another vendor 404, tokens stored hashed', async () => {
    const batchId = await theBatch();
    expect((await get('/vendor/v1/batches')).statusCode).toBe(401);
    expect((await get('/vendor/v1/batches', 'nv_not-a-token')).statusCode).toBe(401);
    expect((await get(`/vendor/v1/batches/${batchId}`, vendorB.token)).statusCode).toBe(404);
    expect((await get(`/vendor/v1/batches/${batchId}/files/letters.csv`, vendorB.token)).statusCode).toBe(404);
    expect((await postJson(`/vendor/v1/batches/${batchId}/ack`, vendorB.token)).statusCode).toBe(404);
    expect((await get('/vendor/v1/batches?status=ready', vendorB.token)).json()).toEqual({ batches: [] });
    expect((await get(`/vendor/v1/batches/${batchId}/files/..%2F..%2Fetc%2Fpasswd`, vendorA.token)).statusCode).toBe(400); // not one of the file names
    const { rows } = await app.db.query('select token_hash from vendors');
    expect(rows.map((r) => r.token_hash)).not.toContain(vendorA.token);
    const dump = (await app.db.query(`select string_agg(v::text, '|') as s from vendors v`)).rows[0].s;
    expect(dump).not.toContain(vendorA.token);
    const { rows: ev } = await app.db.query(`select action, count(*)::int as n from batch_events where batch_id = $1 group by 1 order by 1`, [batchId]);
    expect(ev.find((e) => e.action === 'download')!.n).toBeGreaterThanOrEqual(4);
  });

  it('takes ack, mailed and returns: a corrected address is re-mailed once, others become unreachable', async () => {
    const batchId = await theBatch();
    expect((await postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: today() })).statusCode).toBe(409);
    expect((await postJson(`/vendor/v1/batches/${batchId}/ack`, vendorA.token)).json()).toEqual({ printed: 5 });
    expect((await postJson(`/vendor/v1/batches/${batchId}/ack`, vendorA.token)).json()).toEqual({ printed: 0 });
    expect((await postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: 'yesterday' })).statusCode).toBe(400);
    const feb31 = await postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: '2026-02-31' });
    expect(feb31.statusCode).toBe(400); // not a 500 from the database
    expect(feb31.json().error).toMatch(/calendar date/);
    // Three months ahead, or before the batch was printed: refused, and the batch is not mailed.
    const ahead = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    const future = await postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: ahead });
    expect(future.statusCode).toBe(400);
    expect(future.json().error).toMatch(/is in the future/);
    const before = await postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10) });
    expect(before.statusCode).toBe(400);
    expect(before.json().error).toMatch(/before the batch was printed/);
    expect((await app.db.query('select status from batches where id = $1', [batchId])).rows[0].status).toBe('printed');
    expect((await postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: today() })).json()).toEqual({ mailed: 5 });

    const { rows } = await app.db.query(`select id, name from notices where campaign_id = $1 and state = 'mailed' order by id`, [campaignId]);
    const [first, second] = rows;
    const fix = notice(t.env, 'address', 'fix', String(second.id), '--line1', '中央9-9-9');
    expect(fix.status, fix.stderr).toBe(0);
    // Named as the vendor sees them: by the notice code printed on the letter, by batch and
    // sequence number (the footer's No.), or by our id.
    const { rows: [firstItem] } = await app.db.query('select bi.seq, n.notice_code from batch_items bi join notices n on n.id = bi.notice_id where bi.notice_id = $1', [first.id]);
    const res = await postJson('/vendor/v1/returns', vendorA.token, [{ notice_code: firstItem.notice_code, reason: '宛所に尋ねあたりません' }, { batch_id: batchId, seq: (await app.db.query('select seq from batch_items where notice_id = $1', [second.id])).rows[0].seq, reason: '転居先不明' }, { notice_id: 999999, reason: 'x' }]);
    expect(res.json().results.map((r: { notice_id: number | null; outcome: string }) => [r.notice_id, r.outcome])).toEqual([
      [first.id, 'unreachable'],
      [second.id, 'remail'],
      [null, 'not_found'],
    ]);
    expect(res.json().results[0].ref).toEqual({ notice_code: firstItem.notice_code });
    // Another vendor's letter is not found, by any name (nor is its id given away).
    expect((await postJson('/vendor/v1/returns', vendorB.token, [{ notice_id: first.id, reason: 'x' }, { notice_code: firstItem.notice_code, reason: 'x' }])).json().results.map((r: { notice_id: number | null; outcome: string }) => [r.notice_id, r.outcome])).toEqual([[null, 'not_found'], [null, 'not_found']]);
    await waitFor(async () => (await app.db.query('select state from notices where id = $1', [second.id])).rows[0].state === 'batched', { what: 're-mail batched' });
    const { rows: items } = await app.db.query('select batch_id, mailing from batch_items where notice_id = $1 order by mailing', [second.id]);
    expect(items.map((i) => i.mailing)).toEqual([1, 2]);
    expect(items[1].batch_id).not.toBe(items[0].batch_id);

    // The one with an unusable address: ops fix it, and it joins a batch.
    const { rows: bad } = await app.db.query(`select id from notices where campaign_id = $1 and state = 'address_invalid'`, [campaignId]);
    expect(notice(t.env, 'address', 'fix', String(bad[0].id), '--city', '千代田区').status).toBe(0);
    await waitFor(async () => (await app.db.query('select state from notices where id = $1', [bad[0].id])).rows[0].state === 'batched', { what: 'fixed address batched' });
    expect(notice(t.env, 'address', 'fix', String(bad[0].id), '--postal-code', '12').status).toBe(2);
  });

  it('cancelling a campaign takes its letters out of an open batch', async () => {
    const c = await campaignWith(app, t.tmp, [person(1, null), person(2, null)]);
    await app.db.query('update campaigns set vendor_id = $2 where id = $1', [c.id, vendorA.id]);
    await launch(steeringDeps(app), c.id);
    await waitFor(async () => (await counts(app, c.id)).counts.batched === 2, { what: 'batched' });
    expect((await cancel(app.db, c.id)).cancelled).toBe(2);
    expect((await counts(app, c.id)).counts).toMatchObject({ cancelled: 2, batched: 0 });
    const { rows } = await app.db.query(`select b.size, count(bi.notice_id)::int as items from batches b left join batch_items bi on bi.batch_id = b.id where b.campaign_id = $1 group by b.id`, [c.id]);
    expect(rows).toEqual([{ size: 0, items: 0 }]);
  });

  it('holds under concurrency: one close renders, one mailed report moves, one return per letter', async () => {
    const c = await campaignWith(app, t.tmp, [person(11, null), person(12, null), person(13, null)]);
    await app.db.query('update campaigns set vendor_id = $2 where id = $1', [c.id, vendorA.id]);
    await launch(steeringDeps(app), c.id);
    await waitFor(async () => (await counts(app, c.id)).counts.batched === 3, { what: 'batched' });
    const { rows: b } = await app.db.query(`select id from batches where campaign_id = $1 and status = 'open'`, [c.id]);
    const batchId = b[0].id;
    // The print worker and an operator close the same batch at the same moment.
    const closes = await Promise.all([closeBatch(closeDeps(), batchId), closeBatch(closeDeps(), batchId), closeBatch(closeDeps(), batchId)]);
    expect(closes.filter(Boolean)).toHaveLength(1);
    const { rows: closed } = await app.db.query(`select count(*)::int as n from batch_events where batch_id = $1 and action = 'closed'`, [batchId]);
    expect(closed[0].n).toBe(1);

    await postJson(`/vendor/v1/batches/${batchId}/ack`, vendorA.token);
    const mailedTwice = await Promise.all([1, 2, 3].map(() => postJson(`/vendor/v1/batches/${batchId}/mailed`, vendorA.token, { mailed_at: today() })));
    expect(mailedTwice.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(mailedTwice.map((r) => r.json().mailed).sort()).toEqual([0, 0, 3]);

    const { rows: people } = await app.db.query(`select id from notices where campaign_id = $1 order by id`, [c.id]);
    const item = [{ notice_id: people[0].id, reason: '宛所不明' }];
    const returned = await Promise.all([1, 2, 3].map(() => postJson('/vendor/v1/returns', vendorA.token, item)));
    expect(returned.map((r) => r.json().results[0].outcome).sort()).toEqual(['not_mailed', 'not_mailed', 'unreachable']);
    // Nobody is left in `returned`: each return commits with what follows it.
    expect((await counts(app, c.id)).counts).toMatchObject({ returned: 0, unreachable: 1, mailed: 2 });
  });
});
