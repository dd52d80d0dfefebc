// What an operator sees when the CSV is bad: a line-by-line report; the good rows go on; nothing
// dangerous reaches the SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { simpleParser } from 'mailparser';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { counts, demoTemplates, HEADER } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers } from '../../workers/runner.ts';

let t: TestEnv;
let sink: SmtpSink;
beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink({ keep: true });
});
afterAll(async () => {
  await sink?.close();
  await t?.teardown();
});

const HOSTILE = [
  `${HEADER},member_rank,card_number`,
  'H1,佐藤 花子,hanako@example.com,100-0005,東京都,千代田区,丸の内1-1,,ja,card,gold,4111111111111111', // 2 ok
  'H1,佐藤 花子,other@example.com,100-0005,東京都,千代田区,丸の内1-1,,ja,card,gold,', // 3 dup customer_id
  'H3,鈴木 一郎,HANAKO@Example.com,100-0005,東京都,千代田区,丸の内1-2,,ja,card,,', // 4 same email as line 2 (a family): imported, warned
  'H4,田中 次郎,not-an-email,１００－０００５,東京都,千代田区,丸の内1-3,,ja,personal,,', // 5 bad email, full-width postal → post
  'H5,高橋 三郎,also@bad@example.com,,,,,,ja,personal,,', // 6 bad email and no address → rejected
  '"H6","山田\r\nBcc: victim@evil.example","inject@example.com",100-0005,東京都,千代田区,丸の内1-4,,ja,card,,', // 7-8 CRLF in name
  'H7,<script>alert(1)</script> & co,html@example.com,100-0005,東京都,千代田区,丸の内1-5,,en,personal,,', // 9 HTML in name
  'H8,伊藤 四郎,short@example.com,100-0005', // 10 missing columns
  'H9,渡辺 五郎,seg@example.com,100-0005,東京都,千代田区,丸の内1-6,,ja,vip,,', // 11 unknown segment
  ',名無し,noid@example.com,100-0005,東京都,千代田区,丸の内1-7,,ja,card,,', // 12 no customer_id
  'H11,中村 六郎,,100-0005,東京都,千代田区,丸の内1-8,,ja,card,,', // 13 no email, address → post
];

describe('importing a hostile CSV', () => {
  it('reports line by line, imports the good rows, and keeps card numbers out', async () => {
    const created = notice(t.env, 'campaign', 'create', '--name', 'テスト', '--templates', demoTemplates, '--extra-vars', 'member_rank', '--json');
    expect(created.status, created.stderr).toBe(0);
    const id = JSON.parse(created.stdout).id as number;
    const file = path.join(t.tmp, 'hostile.csv');
    writeFileSync(file, HOSTILE.join('\n') + '\n');

    const r = notice(t.env, 'import', String(id), file, '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.accepted).toBe(6); // H1, H3, H4, H6, H7, H11
    expect(report.duplicates).toEqual([{ line: 3, field: 'customer_id', reason: 'customer_id repeats line 2' }]);
    const rejected = report.rejected.map((x: { line: number; field: string }) => `${x.line}:${x.field}`);
    expect(rejected).toEqual(['6:email', '10:row', '11:segment', '12:customer_id']);
    expect(report.warnings).toEqual(expect.arrayContaining([
      expect.objectContaining({ line: 5, field: 'email' }),
      expect.objectContaining({ line: 7, field: 'name' }),
      { line: 4, field: 'email', reason: 'same email as line 2 under another customer_id: both are imported and each gets their own notice' },
    ]));
    expect(report.droppedColumns).toEqual(['card_number']);

    const text = notice(t.env, 'import', String(id), file);
    expect(text.stdout).toContain('hostile.csv:6: rejected: email: neither a valid email nor a complete postal address');
    expect(text.stdout).toContain('hostile.csv: 11 rows: 0 accepted, 7 duplicates'); // the same file again adds nobody
    expect(text.stdout).toContain('hostile.csv:4: duplicate: customer_id: customer_id is already in this campaign');
    expect(text.stdout).toContain('hostile.csv:3: duplicate: customer_id: customer_id is already in this campaign');

    const app = t.app();
    const { rows } = await app.db.query(`select customer_id, postal_code, email, extra::text from notices where campaign_id = $1 order by customer_id`, [id]);
    expect(rows.map((x) => x.customer_id)).toEqual(['H1', 'H11', 'H3', 'H4', 'H6', 'H7']);
    const codes = await app.db.query(`select notice_code from notices where campaign_id = $1 and email_normalized = 'hanako@example.com'`, [id]);
    expect(new Set(codes.rows.map((x) => x.notice_code)).size).toBe(2); // each their own notice code
    expect(rows.find((x) => x.customer_id === 'H4')).toMatchObject({ postal_code: '1000005', email: null });
    const dump = await app.db.query(`select string_agg(t::text, '|') as s from notices t`);
    expect(dump.rows[0].s).not.toContain('4111111111111111');
    expect(dump.rows[0].s).toContain('gold');
  });

  it('imports Shift_JIS and refuses a file missing a required column', async () => {
    const id = JSON.parse(notice(t.env, 'campaign', 'create', '--name', 'sjis', '--templates', demoTemplates, '--json').stdout).id;
    const sjis = path.join(t.tmp, 'sjis.csv');
    writeFileSync(sjis, iconv.encode(`${HEADER}\r\nS1,髙橋 ①子,sjis@example.com,１００ー０００５,東京都,千代田区,丸の内,,ja,card\r\n`, 'cp932'));
    const r = notice(t.env, 'import', String(id), sjis, '--encoding', 'shift_jis', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted).toBe(1);
    const app = t.app();
    const { rows } = await app.db.query('select name, postal_code from notices where campaign_id = $1', [id]);
    expect(rows[0]).toEqual({ name: '髙橋 ①子', postal_code: '1000005' });

    const bad = path.join(t.tmp, 'bad.csv');
    writeFileSync(bad, 'customer_id,name,email\nX1,a,b@example.com\n');
    const b = notice(t.env, 'import', String(id), bad);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/bad\.csv: line 1: header is missing column\(s\): postal_code, prefecture, city, address_line1, segment/);
    expect((await app.db.query('select count(*)::int as n from notices where campaign_id = $1', [id])).rows[0].n).toBe(1);

    const again = notice(t.env, 'import', String(id), sjis, '--encoding', 'shift_jis', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicates: [{ line: 2, field: 'customer_id' }] });
  });

  it('sends no injected header, and HTML in a name arrives escaped', async () => {
    const app = t.app({ SMTP_URL: sink.url });
    const id = 1;
    expect(notice(t.env, 'campaign', 'launch', String(id)).status).toBe(0);
    const workers = await startWorkers(app, { concurrency: 2 });
    try {
      await waitFor(async () => (await counts(app, id)).emailPhaseDone);
    } finally {
      await workers.close();
    }
    expect((await counts(app, id)).counts).toMatchObject({ sent: 4, postal_queued: 2 });
    // The family sharing one mailbox: two notices arrive there, each with its own code.
    const shared = sink.messages.filter((m) => m.to.some((a) => a.toLowerCase() === 'hanako@example.com'));
    expect(shared).toHaveLength(2);
    const all = sink.messages.map((m) => m.raw.toString('utf8'));
    for (const raw of all) {
      const head = raw.split('\r\n\r\n')[0];
      expect(head).not.toMatch(/^Bcc:/im);
    }
    expect(sink.messages.flatMap((m) => m.to)).not.toContain('victim@evil.example');
    const html = await simpleParser(sink.messages.find((m) => m.to.includes('html@example.com'))!.raw);
    expect(html.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(html.html).not.toContain('<script>');
    const injected = await simpleParser(sink.messages.find((m) => m.to.includes('inject@example.com'))!.raw);
    expect(injected.headers.has('bcc')).toBe(false);
    expect(injected.text).toContain('山田 Bcc: victim@evil.example 様'.replace(' 様', ''));
  });

  it('refuses a file broken by an unclosed quote whole, naming the line; a stray quote inside a field is a warning', async () => {
    const id = JSON.parse(notice(t.env, 'campaign', 'create', '--name', 'quotes', '--templates', demoTemplates, '--json').stdout).id;
    // 20,000 people; line 10,001 opens a quote it never closes (the rest of the file would vanish
    // into that one field).
    const rows = Array.from({ length: 20_000 }, (_, i) => `Q${i + 1},名前 ${i + 1},q${i + 1}@example.com,100-0005,東京都,千代田区,丸の内${i + 1},,ja,card`);
    rows[9999] = `Q10000,"壊れた 行,broken@example.com,100-0005,東京都,千代田区,丸の内,,ja,card`;
    const broken = path.join(t.tmp, 'broken.csv');
    writeFileSync(broken, [HEADER, ...rows].join('\n') + '\n');
    const r = notice(t.env, 'import', String(id), broken);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^notice: broken\.csv: line 10001: not valid CSV: a quoted field opened on this line is never closed.*; the file is broken from here and nothing was imported/);
    const app = t.app();
    expect((await app.db.query('select count(*)::int as n from notices where campaign_id = $1', [id])).rows[0].n).toBe(0);

    // The same break, closed by a later quote: still refused whole, at the line where it starts.
    rows[14999] = `Q15000,"名前",q15000@example.com,100-0005,東京都,千代田区,丸の内,,ja,card`;
    rows[9999] = `Q10000,"壊れた 行,broken@example.com,100-0005,東京都,千代田区,丸の内,,ja,card`;
    writeFileSync(broken, [HEADER, ...rows].join('\n') + '\n');
    const r2 = notice(t.env, 'import', String(id), broken);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/broken\.csv: line 10001: /);
    expect((await app.db.query('select count(*)::int as n from notices where campaign_id = $1', [id])).rows[0].n).toBe(0);

    // A quote inside a field is not a break: imported as written, with a warning; counts add up.
    const stray = path.join(t.tmp, 'stray.csv');
    writeFileSync(stray, [HEADER, 'S1,佐藤 "花子,s1@example.com,100-0005,東京都,千代田区,丸の内,,ja,card', 'S2,鈴木,s2@example.com,100-0005,東京都,千代田区,丸の内,,ja,card'].join('\n') + '\n');
    const ok = notice(t.env, 'import', String(id), stray, '--json');
    expect(ok.status, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ rows: 2, accepted: 2, rejected: [], duplicates: [] });
    expect(report.warnings).toEqual([{ line: 2, field: 'name', reason: 'contains a stray double quote ("); imported as written' }]);
    expect((await app.db.query(`select name from notices where customer_id = 'S1' and campaign_id = $1`, [id])).rows[0].name).toBe('佐藤 "花子');
  });
});
