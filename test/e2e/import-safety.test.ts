// The importer against what the security review sent it: undeclared columns, card numbers in any
// field, a Shift_JIS file given without --encoding, bytes that are no text, a __proto__ column,
// a 5,000-character name. Each from the operator's side: the command, its report, what is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { demoTemplates, HEADER } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
beforeAll(async () => {
  t = await makeTestEnv();
  app = t.app();
});
afterAll(async () => {
  await t?.teardown();
});

const create = (...extra: string[]) => {
  const r = notice(t.env, 'campaign', 'create', '--name', 'safety', '--templates', demoTemplates, ...extra, '--json');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).id as number;
};
const file = (name: string, body: string | Buffer) => {
  const f = path.join(t.tmp, name);
  writeFileSync(f, body);
  return f;
};
const stored = async (id: number) => (await app.db.query(`select string_agg(t::text, '|') as s, count(*)::int as n from notices t where campaign_id = $1`, [id])).rows[0];

describe('importing what an attacker or a careless export sends', () => {
  it('keeps only the columns the campaign declared, and says which it dropped', async () => {
    const id = create('--extra-vars', 'member_rank');
    const f = file('extra.csv', `${HEADER},member_rank,phone\nE1,佐藤 花子,e1@example.com,100-0005,東京都,千代田区,丸の内1-1,,ja,card,gold,090-1234-5678\n`);
    const r = notice(t.env, 'import', String(id), f, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 1, undeclaredColumns: ['phone'] });
    expect(notice(t.env, 'import', String(id), f).stdout).toContain('column phone: not declared at campaign create (--extra-vars); not stored');
    const { rows } = await app.db.query('select extra from notices where campaign_id = $1', [id]);
    expect(rows[0].extra).toEqual({ member_rank: 'gold' });
    expect((await stored(id)).s).not.toContain('090-1234-5678');
  });

  it('refuses a row with a card number in the name or an address line, naming line and field; nothing of it is stored', async () => {
    const id = create();
    const f = file('cards.csv', [
      HEADER,
      'K1,佐藤 4111 1111 1111 1111,k1@example.com,100-0005,東京都,千代田区,丸の内1-1,,ja,card',
      'K2,鈴木 一郎,k2@example.com,100-0005,東京都,千代田区,丸の内1-2,5500-0000-0000-0004,ja,card',
      'K3,田中 次郎,k3@example.com,100-0005,東京都,千代田区,丸の内1-3,,ja,card',
    ].join('\n') + '\n');
    const r = notice(t.env, 'import', String(id), f, '--json');
    const report = JSON.parse(r.stdout);
    expect(report.accepted).toBe(1);
    expect(report.rejected.map((x: { line: number; field: string }) => `${x.line}:${x.field}`)).toEqual(['2:name', '3:address_line2']);
    expect(report.rejected[0].reason).toMatch(/payment card number/);
    const all = (await stored(id)).s;
    expect(all).not.toContain('4111 1111 1111 1111');
    expect(all).not.toContain('5500-0000-0000-0004');
  });

  it('detects a Shift_JIS file given without --encoding, and says so; names print right', async () => {
    const id = create();
    const body = iconv.encode(`${HEADER}\r\n${Array.from({ length: 20 }, (_, i) => `J${i},髙橋 花子${i},j${i}@example.com,100-0005,東京都,千代田区,丸の内${i},,ja,card`).join('\r\n')}\r\n`, 'cp932');
    const f = file('excel-export.csv', body);
    const r = notice(t.env, 'import', String(id), f, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 20, encoding: 'shift_jis', encodingDetected: true });
    const { rows } = await app.db.query(`select name from notices where campaign_id = $1 and customer_id = 'J3'`, [id]);
    expect(rows[0].name).toBe('髙橋 花子3');
    expect((await stored(id)).s).not.toContain('\uFFFD');
    const again = notice(t.env, 'import', String(id), f);
    expect(again.stdout).toContain('read as Shift_JIS (CP932) (detected)');

    // Told it is UTF-8 when it is not: refused whole, with the way out.
    const told = notice(t.env, 'import', String(id), f, '--encoding', 'utf8');
    expect(told.status).toBe(2);
    expect(told.stderr).toMatch(/excel-export\.csv: line 2: is not valid UTF-8, but the file reads cleanly as Shift_JIS \(CP932\).*--encoding shift_jis/);
  });

  it('refuses whole a file that is neither UTF-8 nor Shift_JIS, naming its first bad line; never a silent U+FFFD', async () => {
    const id = create();
    const good = Buffer.from(`${HEADER}\nB1,佐藤 花子,b1@example.com,100-0005,東京都,千代田区,丸の内1,,ja,card\n`);
    const bad = Buffer.concat([good, Buffer.from('B2,'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(',b2@example.com,100-0005,東京都,千代田区,丸の内2,,ja,card\n')]);
    const r = notice(t.env, 'import', String(id), file('broken-bytes.csv', bad));
    expect(r.status).toBe(2);
    // Line 2 is UTF-8 Japanese: the file is UTF-8 with a broken byte on line 3.
    expect(r.stderr).toMatch(/broken-bytes\.csv: line 3: is not valid UTF-8, though the lines before it are/);
    expect((await stored(id)).n).toBe(0);
    // A UTF-8 file (BOM) with a broken byte: refused as broken UTF-8, not read as Shift_JIS.
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bad]);
    const b = notice(t.env, 'import', String(id), file('bom.csv', bom));
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/bom\.csv: line 3: is not valid UTF-8/);
    // Bytes that are no text in either, from the first line on: neither.
    const junk = notice(t.env, 'import', String(id), file('junk.csv', Buffer.concat([Buffer.from([0xff, 0xfe, 0x80, 0x0a]), good])));
    expect(junk.status).toBe(2);
    expect(junk.stderr).toMatch(/junk\.csv: line 1: is neither UTF-8 nor Shift_JIS/);
  });

  it('never reads a UTF-8 file with one broken byte as Shift_JIS (its names would decode "cleanly" into mojibake)', async () => {
    const id = create();
    // 山田, 佐藤, 鈴木, 東京都: their UTF-8 bytes are valid CP932 (as other characters).
    const rows = Array.from({ length: 100 }, (_, i) => `M${i},${['山田', '佐藤', '鈴木'][i % 3]} ${['伊藤', '渡辺', '小林'][i % 3]},m${i}@example.com,100-0005,東京都,北区,丸の内${i},,ja,card`);
    const buf = Buffer.from([HEADER, ...rows].join('\n') + '\n');
    buf[buf.indexOf(Buffer.from('M50,')) + 4] = 0x80; // one stray byte on line 52
    const r = notice(t.env, 'import', String(id), file('one-bad-byte.csv', buf));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/one-bad-byte\.csv: line 52: is not valid UTF-8, though the lines before it are/);
    expect((await stored(id)).n).toBe(0);
  });

  it('refuses a __proto__ column (and a repeated one) with exit 2 naming it', async () => {
    const id = create();
    const p = notice(t.env, 'import', String(id), file('proto.csv', `${HEADER},__proto__\nP1,佐藤,p1@example.com,100-0005,東京都,千代田区,丸の内1,,ja,card,x\n`));
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/proto\.csv: line 1: header: column 11 is named "__proto__", which cannot be a column name/);
    const d = notice(t.env, 'import', String(id), file('twice.csv', `${HEADER},name\nP1,佐藤,p1@example.com,100-0005,東京都,千代田区,丸の内1,,ja,card,x\n`));
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/column "name" appears twice \(columns 2 and 11\)/);
  });

  it('refuses a 5,000-character name with its line and reason (no 5,002-character header lines)', async () => {
    const id = create();
    const r = notice(t.env, 'import', String(id), file('long.csv', `${HEADER}\nL1,${'あ'.repeat(5000)},l1@example.com,100-0005,東京都,千代田区,丸の内1,,ja,card\n`), '--json');
    expect(JSON.parse(r.stdout).rejected).toEqual([{ line: 2, field: 'name', reason: 'is 5000 characters long; at most 100' }]);
  });
});
