// The public verify page: a person types the code from their notice and learns whether it is
// genuine and who sent it, nothing more; a client guessing codes is stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { campaignWith, person } from '../support/fixtures.ts';
import { testServer } from '../support/setup.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { addOperator } from '../../src/auth/operator-store.ts';
import { normaliseCode } from '../../src/http/verify-routes.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let app: App;
let server: FastifyInstance;
beforeAll(async () => {
  t = await makeTestEnv();
  app = t.app({ ORGANISATION_NAME: '通販ストア株式会社', VERIFY_FLOOR_MS: '40' });
  server = await testServer(app);
});
afterAll(async () => {
  await server?.close();
  await t?.teardown();
});

const check = (code: string, remoteAddress = '10.0.0.1', headers: Record<string, string> = {}) =>
  server.inject({ method: 'POST', url: '/verify.json', payload: { code }, remoteAddress, headers });

describe('/verify', () => {
  it('says genuine, and who sent it, for a code from a launched campaign; not genuine otherwise; nothing personal', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(1, 'hanako.private@example.jp'), person(2)]);
    await app.db.query(`update campaigns set name = 'カード情報流出のお知らせ' where id = $1`, [id]);
    const { rows } = await app.db.query('select notice_code from notices where campaign_id = $1 order by id limit 1', [id]);
    const code: string = rows[0].notice_code;

    // Before launch no notice has gone out: its code proves nothing yet.
    expect((await check(code)).json()).toEqual({ genuine: false });
    await launch(steeringDeps(app), id);

    // As a person types it: lower case, spaces, full-width characters.
    const typed = code.toLowerCase().replace(/-/g, ' ').replace('0', '０');
    const r = await check(typed);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ genuine: true, organisation: '通販ストア株式会社', campaign: 'カード情報流出のお知らせ' });
    expect(body.since).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(JSON.stringify(body)).not.toMatch(/hanako|山田|C1|丸の内/);

    expect((await check('7K3M-9Q2R-X4TB')).json()).toEqual({ genuine: false });
    const bad = await check('hello');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('body.code');
    expect(normaliseCode('7k3m 9q2r x4tb')).toBe('7K3M-9Q2R-X4TB');
    expect(normaliseCode('IL0O-0000-0000')).toBe('1100-0000-0000');

    // The page, in Japanese and English, and its form's answer.
    const ja = await server.inject({ method: 'GET', url: '/verify' });
    expect(ja.headers['content-type']).toMatch(/text\/html/);
    expect(ja.body).toContain('お問い合わせ番号');
    const en = await server.inject({ method: 'GET', url: '/verify', headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    expect(en.body).toContain('Notice code');
    const form = await server.inject({ method: 'POST', url: '/verify?lang=ja', payload: `code=${encodeURIComponent(code)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: '10.0.0.2' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('本物です');
    expect(form.body).toContain('通販ストア株式会社');
    const fake = await server.inject({ method: 'POST', url: '/verify?lang=en', payload: 'code=7K3M-9Q2R-X4TB', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: '10.0.0.2' });
    expect(fake.body).toContain('not from any of our notices');
  });

  it('takes as long for a code that exists as for one that does not', async () => {
    const { rows } = await app.db.query(`select notice_code from notices n join campaigns c on c.id = n.campaign_id where c.state = 'running' limit 1`);
    const time = async (code: string) => {
      const s = performance.now();
      await check(code, '10.0.0.3');
      return performance.now() - s;
    };
    for (const code of [rows[0].notice_code, 'ZZZZ-ZZZZ-ZZZZ', 'nonsense']) expect(await time(code)).toBeGreaterThanOrEqual(39);
  });

  it('stops a client after too many lookups (100 wrong codes → 429), not the next client, not the call centre', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => check(`WRNG-${String(i + k).padStart(4, '0')}-0000`, '10.0.0.66')));
      statuses.push(...batch.map((r) => r.statusCode));
    }
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(100 - 30);
    const limited = await check('WRNG-9999-0000', '10.0.0.66');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatch(/too many lookups/);
    // The HTML form says it in words, as a page.
    const page = await server.inject({ method: 'POST', url: '/verify?lang=ja', payload: 'code=WRNG-0000-0000', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: '10.0.0.66' });
    expect(page.statusCode).toBe(429);
    expect(page.body).toContain('確認の回数が多すぎます');

    expect((await check('WRNG-0001-0000', '10.0.0.67')).statusCode).toBe(200);
    const desk = await addOperator(app.db, 'callcentre', 'viewer');
    expect((await check('WRNG-0002-0000', '10.0.0.66', { authorization: `Bearer ${desk.token}` })).statusCode).toBe(200);
  });
});
