// The security review's findings, each as the request an attacker sends and the state after it.
// First the severe one in a real browser: an operator is signed in to `notice serve` (and even
// holds Basic credentials for it), and a page on another origin tries to launch, cancel, create
// and test-send through that browser. Nothing may change and nothing may be sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import type { FastifyInstance } from 'fastify';
import { createTransport } from 'nodemailer';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, demoTemplates, HEADER, person } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { freePort } from '../support/processes.ts';
import { testServer } from '../support/setup.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { addOperator } from '../../src/auth/operator-store.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import { startBounceReceiver } from '../../src/bounces/receiver.ts';
import { loadConfig } from '../../src/config.ts';
import { verpAddress } from '../../src/channels/email/verp.ts';
import type { App } from '../../src/app.ts';


let t: TestEnv;
let sink: SmtpSink;
let app: App;
let http: FastifyInstance;
let base: string;
let port: number;
let browser: Browser;
let evil: Server;
let evilPort: number;
const tokens = { viewer: '', operator: '' };

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink({ keep: true });
  app = t.app({ SMTP_URL: sink.url, VERIFY_RATE_MAX: '3', TRUST_PROXY: '1' });
  http = await testServer(app);
  await http.listen({ host: '127.0.0.1', port: 0 });
  port = (http.server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  tokens.viewer = (await addOperator(app.db, 'vera', 'viewer')).token;
  tokens.operator = (await addOperator(app.db, 'otto', 'operator')).token;
  // The attacker's page: served from another port (same site, another origin) and reached as
  // localhost (another site too).
  evil = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(attackPage(Number(new URL(req.url!, 'http://x').searchParams.get('draft')), Number(new URL(req.url!, 'http://x').searchParams.get('running'))));
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
  evilPort = (evil.address() as AddressInfo).port;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => evil?.close(r));
  await http?.close();
  await sink?.close();
  await t?.teardown();
});

const templateFiles = () => Object.fromEntries(readdirSync(demoTemplates).map((f) => [f, readFileSync(path.join(demoTemplates, f), 'utf8')]));

/** Everything a page on another origin can send without asking first. */
function attackPage(draft: number, running: number): string {
  const target = `http://127.0.0.1:${port}`;
  const create = JSON.stringify({ name: 'phish', templates: templateFiles() }).replace(/</g, '\\u003c');
  return `<!doctype html><html><body>
<form id="f1" method="POST" action="${target}/api/v1/campaigns/${draft}/launch" target="sink1"></form>
<form id="f2" method="POST" action="${target}/api/v1/campaigns/${running}/cancel" target="sink2"><input name="reason" value="x"></form>
<form id="f3" method="POST" enctype="text/plain" action="${target}/api/v1/campaigns/${draft}/test-send" target="sink3"><input name='{"to":"victim@evil.example","x":"' value='"}'></form>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe name="sink3"></iframe>
<script>
(async () => {
  const results = [];
  const tryFetch = async (url, init) => { try { const r = await fetch(url, init); results.push(url + ' ' + r.type + ' ' + r.status); } catch (e) { results.push(url + ' error ' + e); } };
  document.getElementById('f1').submit();
  document.getElementById('f2').submit();
  document.getElementById('f3').submit();
  await tryFetch('${target}/api/v1/campaigns/${draft}/launch', { method: 'POST', mode: 'no-cors', credentials: 'include' });
  await tryFetch('${target}/api/v1/campaigns/${running}/cancel', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"reason":"x"}' });
  await tryFetch('${target}/api/v1/campaigns', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(create)} });
  await tryFetch('${target}/api/v1/campaigns/${draft}/test-send', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"to":"victim@evil.example"}' });
  await tryFetch('${target}/api/v1/campaigns/${draft}/launch', { method: 'POST', mode: 'cors', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' });
  await new Promise((r) => setTimeout(r, 500));
  document.body.dataset.done = results.length;
})();
</script></body></html>`;
}

describe('a page on another origin, in a signed-in operator\'s browser', () => {
  it('cannot launch, cancel, create or test-send: nothing changes, nothing is sent', async () => {
    const draft = (await campaignWith(app, t.tmp, [person(1), person(2)])).id;
    const running = (await campaignWith(app, t.tmp, [person(3)])).id;
    await app.db.query(`update campaigns set state = 'running' where id = $1`, [running]);
    const before = (await app.db.query('select id, state from campaigns order by id')).rows;

    // The operator signs in through the page (and the browser also holds Basic credentials for
    // the server, as the old dashboard asked for).
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: tokens.operator } });
    const page = await context.newPage();
    await page.goto(`${base}/signin?next=/dashboard`);
    await page.fill('#token', tokens.operator);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/dashboard`);
    const cookie = (await context.cookies()).find((c) => c.name === 'nd_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    for (const host of [`127.0.0.1:${evilPort}`, `localhost:${evilPort}`]) {
      const attacker = await context.newPage();
      await attacker.goto(`http://${host}/?draft=${draft}&running=${running}`);
      await attacker.waitForFunction(() => document.body.dataset.done === '5', undefined, { timeout: 20_000 });
      await attacker.close();
    }
    // The operator's own page can still act (same origin, CSRF token): the session is fine.
    const own = await page.evaluate(async () => {
      const s = await (await fetch('/api/v1/session')).json();
      const r = await fetch('/api/v1/campaigns', { headers: { 'x-csrf-token': s.csrf_token } });
      return r.status;
    });
    expect(own).toBe(200);
    await context.close();

    expect((await app.db.query('select id, state from campaigns order by id')).rows).toEqual(before);
    expect(sink.messages).toHaveLength(0);
    const writes = (await app.db.query(`select verb, actor from campaign_events where actor like 'operator:%'`)).rows;
    expect(writes).toEqual([]);
  });

  it('sends the browser back only to a page of this site after sign-in (no open redirect)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const next of ['/\\evil.example/', '//evil.example/', 'https://evil.example/']) {
      await page.goto(`${base}/signin?next=${encodeURIComponent(next)}`);
      await page.fill('#token', tokens.viewer);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/dashboard`);
    }
    await context.close();
  });

  it('refuses HTTP Basic everywhere, and cookie writes without the CSRF token or from another origin', async () => {
    const id = (await campaignWith(app, t.tmp, [person(10)])).id;
    const basic = `Basic ${Buffer.from(`ops:${tokens.operator}`).toString('base64')}`;
    const r = await http.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/launch`, headers: { authorization: basic } });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toMatch(/HTTP Basic is not accepted/);
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { authorization: basic } })).statusCode).toBe(401);

    const signin = await http.inject({ method: 'POST', url: '/api/v1/session', payload: { token: tokens.operator } });
    expect(signin.statusCode).toBe(200);
    const cookie = `nd_session=${signin.cookies.find((c) => c.name === 'nd_session')!.value}`;
    const csrf = signin.json().csrf_token as string;
    const launch = (headers: Record<string, string>) => http.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/pause`, headers: { cookie, ...headers } });
    expect((await launch({})).statusCode).toBe(403); // no CSRF token
    expect((await launch({ 'x-csrf-token': 'guess' })).statusCode).toBe(403);
    expect((await launch({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await launch({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    expect((await launch({ 'x-csrf-token': csrf, origin: 'http://localhost:1' })).statusCode).toBe(403);
    expect((await launch({ 'x-csrf-token': csrf })).statusCode).toBe(409); // passes auth: a draft cannot be paused
    // The console's own writes: the same rules (no CSRF token, or another origin: 403).
    const { rows: [n] } = await app.db.query('select id from notices where campaign_id = $1', [id]);
    for (const [method, url, payload] of [
      ['POST', `/api/v1/notices/${n.id}/address`, { city: '千代田区' }], ['POST', `/api/v1/campaigns/${id}/batches/close`, {}],
      ['PUT', `/api/v1/campaigns/${id}/vendor`, { vendor: 'x' }], ['PUT', `/api/v1/campaigns/${id}/deadline`, { discovered_on: '2026-11-20' }],
    ] as const) {
      const write = (headers: Record<string, string>) => http.inject({ method, url, payload, headers: { cookie, ...headers } });
      expect((await write({})).statusCode, `${method} ${url} without the CSRF token`).toBe(403);
      expect((await write({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).statusCode, `${method} ${url} from another origin`).toBe(403);
    }
    // Bodies other than JSON: 415, whatever the credentials.
    const op = { authorization: `Bearer ${tokens.operator}` };
    const plain = await http.inject({ method: 'POST', url: '/api/v1/campaigns', headers: { ...op, 'content-type': 'text/plain' }, payload: JSON.stringify({ name: 'x', templates: templateFiles() }) });
    expect(plain.statusCode).toBe(415);
    const form = await http.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/launch`, headers: { ...op, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' });
    expect(form.statusCode).toBe(415);
    const multipart = await http.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/recipients`, headers: { ...op, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--' });
    expect(multipart.statusCode).toBe(415);
    expect(multipart.json().error).toMatch(/send the file itself as the body/);
    expect((await app.db.query('select state from campaigns where id = $1', [id])).rows[0].state).toBe('draft');

    // Signing out ends the session at once.
    expect((await http.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf } })).json()).toEqual({ signed_out: true });
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { cookie } })).statusCode).toBe(401);
  });

  it('sends every page with CSP, frame-ancestors, X-Frame-Options and nosniff', async () => {
    const session = await http.inject({ method: 'POST', url: '/api/v1/session', payload: { token: tokens.viewer } });
    const cookie = `nd_session=${session.cookies[0].value}`;
    for (const url of ['/dashboard', '/console', '/verify', '/docs/', '/signin']) {
      const r = await http.inject({ method: 'GET', url, headers: { cookie } });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-security-policy'], url).toMatch(/frame-ancestors 'none'/);
      expect(r.headers['x-frame-options'], url).toBe('DENY');
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
    }
    // Not signed in: the dashboard sends the browser to sign in.
    const anon = await http.inject({ method: 'GET', url: '/dashboard' });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe('/signin?next=/dashboard');
  });
});

describe('what a viewer can read', () => {
  it('no notice codes in the report, no addresses in replies; operators still see them', async () => {
    const { id } = await campaignWith(app, t.tmp, [person(20, 'taro@example.jp')]);
    const { rows } = await app.db.query(`select id, notice_code from notices where campaign_id = $1`, [id]);
    await app.db.query(`update notices set state = 'sent', smtp_reply = '250 2.0.0 <taro@example.jp> accepted', last_error = '550 5.1.1 <taro@example.jp>: User unknown' where id = $1`, [rows[0].id]);
    await app.db.query(`insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail) values ($1, $2, 'sending', 'sent', 'email', $3)`, [rows[0].id, id, JSON.stringify({ reply: '250 ok <taro@example.jp>', before: { address_line1: '丸の内1' } })]);
    const get = (url: string, who: keyof typeof tokens) => http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[who]}` } });
    for (const format of ['csv', 'json']) {
      const v = (await get(`/api/v1/campaigns/${id}/report.${format}`, 'viewer')).body;
      expect(v, format).not.toContain(rows[0].notice_code);
      expect(v, format).not.toContain('taro@example.jp');
      expect(v, format).toContain('[address]');
      const o = (await get(`/api/v1/campaigns/${id}/report.${format}`, 'operator')).body;
      expect(o, format).toContain(rows[0].notice_code);
    }
    const nv = (await get(`/api/v1/notices/${rows[0].id}`, 'viewer')).body;
    expect(nv).not.toContain('taro@example.jp');
    expect(nv).not.toContain('丸の内1');
    expect((await get(`/api/v1/notices/${rows[0].id}`, 'operator')).body).toContain('taro@example.jp');
    // The console's list of people who need a hand: ids and states for a viewer, not the code or
    // the reason (which quotes the address).
    await app.db.query(`update notices set state = 'address_invalid', address_error = 'city "渋谷区" is not where postal code 100-0005 is' where id = $1`, [rows[0].id]);
    const av = (await get(`/api/v1/campaigns/${id}/attention?kind=address_invalid`, 'viewer')).json();
    expect(av.people).toEqual([{ notice_id: rows[0].id, state: 'address_invalid' }]);
    const ao = (await get(`/api/v1/campaigns/${id}/attention?kind=address_invalid`, 'operator')).json();
    expect(ao.people[0]).toMatchObject({ notice_code: rows[0].notice_code, reason: expect.stringContaining('渋谷区') });
  });

  it('200 report downloads at once leave the API its connections: /healthz answers meanwhile', async () => {
    const { id } = await campaignWith(app, t.tmp, Array.from({ length: 50 }, (_, i) => person(100 + i)));
    const auth = { authorization: `Bearer ${tokens.viewer}` };
    const downloads = Array.from({ length: 200 }, () => fetch(`${base}/api/v1/campaigns/${id}/report.csv`, { headers: auth }).then((r) => r.text()));
    const started = Date.now();
    const h = await fetch(`${base}/readyz`);
    const healthMs = Date.now() - started;
    const bodies = await Promise.all(downloads);
    expect(h.status).toBe(200);
    expect(bodies.every((b) => b.split('\n').filter((l) => /^\d+,/.test(l)).length === 50)).toBe(true);
    // Not a timing assertion on speed: the point is that /readyz did not wait for 200 reports.
    expect(healthMs).toBeLessThan(5000);
  });
});

describe('tokens that can be shut off', () => {
  it('list, revoke, rotate and expire, over the CLI and the API; every change refused at once', async () => {
    const v = await addVendor(app.db, 'leaky-printer');
    const vendorGet = (token: string) => http.inject({ method: 'GET', url: '/vendor/v1/batches', headers: { authorization: `Bearer ${token}` } });
    expect((await vendorGet(v.token)).statusCode).toBe(200);
    const list = notice(t.env, 'vendor', 'list', '--json');
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).find((x: { name: string }) => x.name === 'leaky-printer')).toMatchObject({ status: 'active' });
    expect(list.stdout).not.toContain(v.token);
    expect(notice(t.env, 'vendor', 'revoke', 'leaky-printer').status).toBe(0);
    expect((await vendorGet(v.token)).statusCode).toBe(401);
    const rotated = notice(t.env, 'vendor', 'rotate', 'leaky-printer', '--expires', '30d');
    const fresh = rotated.stdout.trim();
    expect((await vendorGet(fresh)).statusCode).toBe(200);
    expect((await vendorGet(v.token)).statusCode).toBe(401);

    // Over the API, an operator rotates a viewer; the old token and its browser session stop.
    const op = { authorization: `Bearer ${tokens.operator}` };
    const viewer = await addOperator(app.db, 'temp-viewer', 'viewer');
    const s = await http.inject({ method: 'POST', url: '/api/v1/session', payload: { token: viewer.token } });
    const cookie = `nd_session=${s.cookies[0].value}`;
    const r = await http.inject({ method: 'POST', url: '/api/v1/operators/temp-viewer/rotate', headers: op, payload: {} });
    expect(r.statusCode).toBe(200);
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { authorization: `Bearer ${viewer.token}` } })).statusCode).toBe(401);
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { cookie } })).statusCode).toBe(401);
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { authorization: `Bearer ${r.json().token}` } })).statusCode).toBe(200);
    const rv = await http.inject({ method: 'POST', url: '/api/v1/operators/temp-viewer/revoke', headers: op });
    expect(rv.json()).toEqual({ name: 'temp-viewer', revoked: true });
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { authorization: `Bearer ${r.json().token}` } })).statusCode).toBe(401);
    // A viewer cannot touch tokens.
    expect((await http.inject({ method: 'GET', url: '/api/v1/operators', headers: { authorization: `Bearer ${tokens.viewer}` } })).statusCode).toBe(403);

    // An expired token is refused.
    const soon = await addOperator(app.db, 'short-lived', 'viewer', { expiresAt: new Date(Date.now() + 300) });
    await new Promise((res) => setTimeout(res, 400)); // let the expiry pass (the clock is real here)
    expect((await http.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { authorization: `Bearer ${soon.token}` } })).statusCode).toBe(401);
    const ops = (await http.inject({ method: 'GET', url: '/api/v1/operators', headers: op })).json().operators;
    expect(ops.find((o: { name: string }) => o.name === 'short-lived').status).toBe('expired');
    // Every token change is in the administrative ledger.
    const verbs = (await app.db.query(`select verb from admin_events where subject in ('leaky-printer', 'temp-viewer') order by id`)).rows.map((x) => x.verb);
    expect(verbs).toEqual(['vendor.add', 'vendor.revoke', 'vendor.rotate', 'operator.add', 'session.start', 'operator.rotate', 'operator.revoke']);
  });

  it('records queue UI actions in the ledger', async () => {
    const op = { authorization: `Bearer ${tokens.operator}` };
    expect((await http.inject({ method: 'PUT', url: '/admin/queues/api/queues/email/pause', headers: op })).statusCode).toBe(200);
    expect((await http.inject({ method: 'PUT', url: '/admin/queues/api/queues/email/resume', headers: op })).statusCode).toBe(200);
    const rows = await waitFor(async () => {
      const r = (await app.db.query(`select actor, verb, subject from admin_events where verb = 'queue_ui' order by id`)).rows;
      return r.length === 2 && r;
    }, { what: 'both actions in the ledger' });
    expect(rows).toEqual([
      { actor: 'operator:otto', verb: 'queue_ui', subject: 'queues/email/pause' },
      { actor: 'operator:otto', verb: 'queue_ui', subject: 'queues/email/resume' },
    ]);
  });
});

describe('the rest of the findings', () => {
  it('TRUST_PROXY=1 trusts one hop: a made-up left-most X-Forwarded-For does not reset the /verify limit', async () => {
    let limited = 0;
    for (let i = 0; i < 6; i++) {
      const r = await http.inject({ method: 'POST', url: '/verify.json', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7` }, payload: { code: 'AAAA-BBBB-CCCC' } });
      if (r.statusCode === 429) limited++;
    }
    expect(limited).toBe(3); // a limit of 3: the last three are refused
    expect(() => loadConfig({ ...process.env, ...t.env, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: say how many proxies/);
    expect(loadConfig({ ...process.env, ...t.env, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('an upload in Shift_JIS without an encoding is detected and reported; errors name the file, not a temporary path', async () => {
    const id = (await campaignWith(app, t.tmp, [])).id;
    const body = iconv.encode(`${HEADER}\r\nU1,髙橋 花子,u1@example.com,100-0005,東京都,千代田区,丸の内1,,ja,card\r\n`, 'cp932');
    const op = { authorization: `Bearer ${tokens.operator}`, 'content-type': 'text/csv' };
    const r = await http.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/recipients?file_name=export.csv`, headers: op, payload: body });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ accepted: 1, encoding: 'shift_jis', encodingDetected: true });
    expect((await app.db.query(`select name from notices where customer_id = 'U1'`)).rows[0].name).toBe('髙橋 花子');
    const bad = await http.inject({ method: 'POST', url: `/api/v1/campaigns/999999/recipients?file_name=export.csv`, headers: op, payload: body });
    expect(bad.body).not.toMatch(/notice-upload-|\/tmp\//);
  });

  it('the production guard: a short VERP secret and NOTICE_DEV under NODE_ENV=production are refused', async () => {
    expect(() => loadConfig({ ...process.env, ...t.env, VERP_SECRET: 'sixteen-chars-ok' })).toThrow(/VERP_SECRET: at least 32 characters/);
    const r = notice({ ...t.env, NODE_ENV: 'production', NOTICE_DEV: '1' }, 'worker');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NOTICE_DEV: is set while NODE_ENV=production/);
  });

  it('the bounce receiver caps recipients and invalid addresses per connection, and logs them once', async () => {
    const rcv = await startBounceReceiver({
      host: '127.0.0.1', port: await freePort(), verpSecret: app.config.VERP_SECRET, bounceDomain: app.config.BOUNCE_DOMAIN,
      accept: async () => true, log: app.log.child({ component: 'test-receiver' }), limits: { maxRefused: 5, maxClients: 2 },
    });
    try {
      const mta = createTransport({ host: '127.0.0.1', port: rcv.port, secure: false, ignoreTLS: true });
      const bad = Array.from({ length: 1000 }, (_, i) => `bounce+${i}.bad@${app.config.BOUNCE_DOMAIN}`);
      await expect(mta.sendMail({ envelope: { from: '', to: bad }, raw: 'Subject: x\r\n\r\nx' })).rejects.toThrow();
      mta.close();
      // The connection was dropped after 6 tries, not 1,000.
      expect(rcv.stats.forged).toBe(6);
      await waitFor(async () => readFileSync(t.logFile, 'utf8').includes('"refused":6'), { what: 'the summary line' });
      const lines = readFileSync(t.logFile, 'utf8').split('\n').filter((l) => l.includes('test-receiver') && l.includes('bounce_refused'));
      expect(lines.length).toBe(2); // the first refusal and the connection's sum
    } finally {
      await rcv.close();
    }
  });

  it('the bounce receiver takes a bounded number of connections and recipients, and closes silent or trickling ones', async () => {
    const rcv = await startBounceReceiver({
      host: '127.0.0.1', port: await freePort(), verpSecret: app.config.VERP_SECRET, bounceDomain: app.config.BOUNCE_DOMAIN,
      accept: async () => true, log: app.log.child({ component: 'test-receiver-2' }), limits: { maxClients: 2, maxRecipients: 3, idleMs: 400, maxConnectionMs: 1500 },
    });
    /** A raw SMTP client: what the server said, and when it hung up. */
    const open = () => {
      const sock = connect(rcv.port, '127.0.0.1');
      const c = { sock, text: '', closedAt: 0, closed: new Promise<void>((r) => sock.once('close', () => { c.closedAt = Date.now(); r(); })) };
      sock.on('data', (d: Buffer) => (c.text += d.toString('latin1')));
      sock.on('error', () => {});
      return c;
    };
    try {
      // Two connections at once are served; a third is turned away with 421.
      const a = open();
      const b = open();
      await waitFor(() => a.text.startsWith('220') && b.text.startsWith('220'), { what: 'two greetings' });
      const third = open();
      await third.closed;
      expect(third.text).toMatch(/^421 /);

      // Silent for longer than idleMs: closed by the server.
      const started = Date.now();
      await Promise.all([a.closed, b.closed]);
      expect(a.text).toMatch(/421 .*Timeout/);
      expect(a.closedAt - started).toBeLessThan(5000);

      // Busy but trickling (a byte every 200 ms, never a whole command): cut at maxConnectionMs.
      const slow = open();
      await waitFor(() => slow.text.startsWith('220'), { what: 'greeting' });
      const t0 = Date.now();
      const drip = setInterval(() => slow.sock.write('N'), 200);
      await slow.closed;
      clearInterval(drip);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(Date.now() - t0).toBeLessThan(5000);

      // At most maxRecipients valid VERP recipients on one connection: the fourth gets 452.
      const mta = createTransport({ host: '127.0.0.1', port: rcv.port, secure: false, ignoreTLS: true });
      const to = [1, 2, 3, 4].map((id) => verpAddress(app.config.VERP_SECRET, app.config.BOUNCE_DOMAIN, id));
      const info = await mta.sendMail({ envelope: { from: '', to }, raw: 'Subject: x\r\n\r\nx' });
      mta.close();
      expect(info.accepted).toHaveLength(3);
      expect(info.rejected).toEqual([to[3]]);
      expect(String((info as { rejectedErrors?: Array<{ response: string }> }).rejectedErrors?.[0]?.response)).toMatch(/^452 /);
    } finally {
      await rcv.close();
    }
  });
});
