// The operator API from the outside: a whole campaign run over HTTP only (no shell, no direct
// calls), the auth matrix over every route the server registers, and /docs validated as OpenAPI 3.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { demoTemplates, HEADER, person } from '../support/fixtures.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers, type RunningWorkers } from '../../workers/runner.ts';
import { simpleParser } from 'mailparser';
import { registeredRoutes } from '../../src/http/server.ts';
import { testServer } from '../support/setup.ts';
import { addOperator } from '../../src/auth/operator-store.ts';
import { addVendor } from '../../src/channels/post/vendor-store.ts';
import type { App } from '../../src/app.ts';

let t: TestEnv;
let sink: SmtpSink;
let app: App;
let server: FastifyInstance;
let base: string;
let workers: RunningWorkers;
const tokens = { viewer: '', operator: '', vendor: '' };

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink({ keep: true });
  app = t.app({ SMTP_URL: sink.url, ORGANISATION_NAME: '通販ストア株式会社' });
  server = await testServer(app);
  await server.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  tokens.viewer = (await addOperator(app.db, 'vera', 'viewer')).token;
  tokens.operator = (await addOperator(app.db, 'otto', 'operator')).token;
  tokens.vendor = (await addVendor(app.db, 'insatsu')).token;
  workers = await startWorkers(t.app({ SMTP_URL: sink.url, BATCH_MAX_AGE_MS: '1000' }), { concurrency: 4, queues: ['email', 'bounce', 'postal', 'print'] });
});
afterAll(async () => {
  await workers?.close();
  await server?.close();
  await sink?.close();
  await t?.teardown();
});

const as = (who: keyof typeof tokens | null, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}) },
});
const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const templateFiles = () => Object.fromEntries(readdirSync(demoTemplates).map((f) => [f, readFileSync(path.join(demoTemplates, f), 'utf8')]));

describe('a whole campaign over HTTP only', () => {
  it('create, upload a hostile CSV, dry run, launch, pause, resume, report: everyone accounted for, every write in the ledger by name', async () => {
    // Create from a template set sent as files.
    let r = await fetch(`${base}/api/v1/campaigns`, as('operator', json({ name: 'カード情報流出のお知らせ', templates: templateFiles(), vendor: 'insatsu', discovered_on: '2026-11-20', pacing: { hourly_cap: null } })));
    expect(r.status).toBe(201);
    const created = (await r.json()) as { id: number; segments: string[] };
    const id = created.id;
    expect(created.segments).toEqual(['card', 'personal']);

    // A broken template set is a 400 that lists what is wrong.
    r = await fetch(`${base}/api/v1/campaigns`, as('operator', json({ name: 'x', templates: { 'card.ja.subject.txt': '{{nope}}' } })));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/template set is not usable/);
    // The notice code may not travel in a header.
    r = await fetch(`${base}/api/v1/campaigns`, as('operator', json({ name: 'x', templates: { ...templateFiles(), 'card.ja.subject.txt': 'お知らせ {{notice_code}}' } })));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/card\.ja\.subject\.txt: \{\{notice_code\}\} may not be in the subject/);

    // A body that does not match the schema: 400 naming the field.
    r = await fetch(`${base}/api/v1/campaigns`, as('operator', json({ templates: templateFiles() })));
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ field: 'body.name' });

    // The hostile CSV: a formula, a bad email with a good address, nobody reachable, a duplicate,
    // a row with too many fields, quotes and a BOM.
    const people = Array.from({ length: 40 }, (_, i) => person(i + 1));
    const csv = '\uFEFF' + [
      HEADER,
      ...people,
      person(41, 'not-an-email'),
      person(42, '=HYPERLINK("http://evil")', { name: '=cmd|calc' }),
      'C43,"名前, カンマ",,,,,,,ja,card',
      person(1, 'dup@example.com'),
      person(44) + ',extra,fields',
      '"C45","山田 ""花子""",hanako@example.com,100-0005,東京都,千代田区,丸の内45,,ja,card',
    ].join('\r\n') + '\r\n';
    r = await fetch(`${base}/api/v1/campaigns/${id}/recipients?file_name=affected.csv`, as('operator', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv }));
    expect(r.status).toBe(200);
    const imp = (await r.json()) as { file: string; accepted: number; rejected: Array<{ line: number; field: string; reason: string }>; duplicates: Array<{ line: number }> };
    expect(imp.file).toBe('affected.csv');
    // Lines: 1 the header, 2–41 the forty, then 42 bad email, 43 formula, 44 nobody reachable,
    // 45 a duplicate of C1, 46 too many fields, 47 quotes.
    expect(imp.duplicates.map((d) => d.line)).toEqual([45]);
    expect(imp.rejected.map((x) => x.line)).toEqual(expect.arrayContaining([44, 46]));
    for (const x of imp.rejected) expect(x.reason).toBeTruthy();
    const accepted = imp.accepted;
    expect(accepted).toBeGreaterThanOrEqual(42);

    // Not a CSV body: a clear 415.
    r = await fetch(`${base}/api/v1/campaigns/${id}/recipients`, as('operator', json({ rows: [] })));
    expect(r.status).toBe(415);

    // Dry run: counts per segment × locale × channel.
    r = await fetch(`${base}/api/v1/campaigns/${id}/dry-run`, as('viewer'));
    const dry = (await r.json()) as { total: { email: number; post: number; rejected: number } };
    expect(dry.total.email + dry.total.post).toBe(accepted);
    expect(dry.total.post).toBeGreaterThanOrEqual(2); // the bad email and the formula go by post
    expect(dry.total.rejected).toBe(imp.rejected.length ? new Set(imp.rejected.map((x) => x.line)).size : 0);

    // Preview one person; the letter is one PDF page.
    r = await fetch(`${base}/api/v1/campaigns/${id}/preview?customer_id=C3`, as('operator'));
    const pv = (await r.json()) as { subject: string; text: string; html: string };
    expect(pv.text).toContain('山田 3');
    r = await fetch(`${base}/api/v1/campaigns/${id}/preview/letter.pdf?customer_id=C3`, as('operator'));
    expect(r.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await r.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1').match(/\/Type \/Page\b/g)).toHaveLength(1);

    // Launch, pause while it sends slowly, resume.
    sink.mode.delayMs = 40;
    r = await fetch(`${base}/api/v1/campaigns/${id}/launch`, as('operator', { method: 'POST' }));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ state: 'running', changed: true });
    r = await fetch(`${base}/api/v1/campaigns/${id}/launch`, as('operator', { method: 'POST' }));
    expect(await r.json()).toMatchObject({ changed: false });
    r = await fetch(`${base}/api/v1/campaigns/${id}/pause`, as('operator', json({ reason: 'enquiry desk full' })));
    expect(await r.json()).toMatchObject({ state: 'paused' });
    r = await fetch(`${base}/api/v1/campaigns/${id}/pause`, as('operator', { method: 'POST' }));
    expect(r.status).toBe(200); // already paused: says so, changes nothing
    r = await fetch(`${base}/api/v1/campaigns/${id}/launch`, as('operator', { method: 'POST' }));
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: string }).error).toMatch(/paused/);
    sink.mode.delayMs = 0;
    r = await fetch(`${base}/api/v1/campaigns/${id}/resume`, as('operator', { method: 'POST' }));
    expect(await r.json()).toMatchObject({ state: 'running' });

    const status = await waitFor(async () => {
      const s = (await (await fetch(`${base}/api/v1/campaigns/${id}`, as('viewer'))).json()) as { emailPhaseDone: boolean; counts: Record<string, number> };
      return s.emailPhaseDone ? s : null;
    }, { what: 'email phase done', timeoutMs: 60_000 });
    expect(status.counts.sent).toBe(dry.total.email);

    // The letters: the vendor pulls its batch, prints it, posts it; all over HTTP.
    const vendor = (init: RequestInit = {}) => as('vendor', init);
    const batch = await waitFor(async () => {
      const b = (await (await fetch(`${base}/vendor/v1/batches?status=ready`, vendor())).json()) as { batches: Array<{ id: number; size: number }> };
      return b.batches[0];
    }, { what: 'a ready print batch', timeoutMs: 30_000 });
    expect(batch.size).toBe(dry.total.post);
    const manifest = (await (await fetch(`${base}/vendor/v1/batches/${batch.id}`, vendor())).json()) as { count: number; files: Array<{ name: string }> };
    expect(manifest.count).toBe(dry.total.post);
    const letters = await (await fetch(`${base}/vendor/v1/batches/${batch.id}/files/letters.csv`, vendor())).text();
    expect(letters).toContain("'=cmd|calc"); // the formula is neutralised
    expect((await fetch(`${base}/vendor/v1/batches/${batch.id}/ack`, vendor({ method: 'POST' }))).status).toBe(200);
    r = await fetch(`${base}/vendor/v1/batches/${batch.id}/mailed`, vendor({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mailed_at: new Date().toISOString().slice(0, 10) }) }));
    expect(await r.json()).toEqual({ mailed: dry.total.post });

    // The report streams with its reconciliation at the end and in a header.
    r = await fetch(`${base}/api/v1/campaigns/${id}/report.csv`, as('viewer'));
    expect(r.headers.get('x-reconciliation')).toBe('ok');
    const report = await r.text();
    const rows = report.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rows).toHaveLength(accepted + 1);
    expect(report).toMatch(new RegExp(`# reconciliation: imported ${accepted}; people ${accepted}`));
    expect(report).toContain('everyone is accounted for');
    r = await fetch(`${base}/api/v1/campaigns/${id}/report.json`, as('viewer'));
    const rj = (await r.json()) as { reconciliation: { ok: boolean; imported: number }; people: unknown[] };
    expect(rj.reconciliation).toMatchObject({ ok: true, imported: accepted });
    expect(rj.people).toHaveLength(accepted);

    // One person's notice and its ledger.
    const { rows: one } = await app.db.query(`select id from notices where campaign_id = $1 and customer_id = 'C3'`, [id]);
    r = await fetch(`${base}/api/v1/notices/${one[0].id}`, as('viewer'));
    const notice = (await r.json()) as { state: string; events: Array<{ to_state: string }> };
    expect(notice.state).toBe('sent');
    expect(notice.events.map((e) => e.to_state)).toEqual(expect.arrayContaining(['queued', 'sending', 'sent']));
    expect(JSON.stringify(notice)).not.toContain('山田');

    // Every write, by whom.
    r = await fetch(`${base}/api/v1/campaigns/${id}/events`, as('viewer'));
    const events = ((await r.json()) as { events: Array<{ verb: string; actor: string; reason: string | null }> }).events;
    expect(events.map((e) => `${e.verb} ${e.actor}`)).toEqual(expect.arrayContaining([
      'create operator:otto', 'pacing operator:otto', 'import operator:otto', 'launch operator:otto', 'pause operator:otto', 'resume operator:otto',
    ]));
    expect(events.find((e) => e.verb === 'pause')?.reason).toBe('enquiry desk full');
    const { rows: runs } = await app.db.query('select actor, file_name from import_runs where campaign_id = $1', [id]);
    expect(runs).toEqual([{ actor: 'operator:otto', file_name: 'affected.csv' }]);

    // The notice code is in the body, never in a header a mail server logs.
    const { rows: coded } = await app.db.query(`select notice_code, email from notices where campaign_id = $1 and customer_id = 'C3'`, [id]);
    const msg = sink.messages.find((m) => m.to.includes(coded[0].email))!;
    const raw = msg.raw.toString('utf8');
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(head).not.toContain(coded[0].notice_code);
    expect(head).not.toMatch(/X-Notice-Code/i);
    expect(head).toMatch(/Message-ID: <notice-\d+-\d+\.[0-9a-f]{12}@/i);
    const parsed = await simpleParser(msg.raw);
    const decoded = [...parsed.headers.entries()].map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n');
    expect(decoded).not.toContain(coded[0].notice_code);
    expect(parsed.subject).not.toContain(coded[0].notice_code);
    expect(parsed.text).toContain(coded[0].notice_code);
    expect(String(parsed.html)).toContain(coded[0].notice_code);
  });
});

describe('the auth matrix, over every route the server registers', () => {
  // Open by design: health, metrics (no personal data), the public verify page, the public
  // announcement (no personal data by construction), the docs, and the SES webhook (which checks
  // SNS signatures instead).
  const open = (url: string) => ['/healthz', '/readyz', '/metrics', '/verify', '/verify.json', '/webhooks/ses', '/announcements/:id'].includes(url) || url.startsWith('/docs');
  const concrete = (url: string) => url.replace(/:id\b/g, '999999').replace(/:name\b/g, 'letters.csv').replace(/:asset\b/g, 'app.js').replace(/\*/g, 'x');

  it('none → 401; viewer on a write → 403; operator passes; vendor and operator tokens refused on each other\'s routes', async () => {
    // Signing in takes the token in its body: open, like the sign-in page.
    const routes = registeredRoutes.get(server)!.filter((r) => r.method !== 'HEAD' && !open(r.url) && !r.url.startsWith('/signin') && `${r.method} ${r.url}` !== 'POST /api/v1/session');
    expect(routes.length).toBeGreaterThan(25);
    const seen: string[] = [];
    for (const { method, url } of routes) {
      const u = `${base}${concrete(url)}`;
      const write = method !== 'GET';
      const call = (who: keyof typeof tokens | null) =>
        fetch(u, as(who, { method, redirect: 'manual', ...(write ? { headers: { 'content-type': 'application/json' }, body: method === 'POST' && url.endsWith('/returns') ? '[]' : '{}' } : {}) })).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      const vendorRoute = url.startsWith('/vendor/');
      // A browser that is not signed in is sent to sign in.
      expect(await call(null), `${method} ${url} without a token`).toBe(url === '/dashboard' || url === '/console' ? 303 : 401);
      if (vendorRoute) {
        expect(await call('operator'), `${method} ${url} with an operator token`).toBe(401);
        expect(await call('viewer'), `${method} ${url} with a viewer token`).toBe(401);
        expect([401, 403], `${method} ${url} with a vendor token`).not.toContain(await call('vendor'));
      } else {
        expect(await call('vendor'), `${method} ${url} with a vendor token`).toBe(401);
        // (A viewer may sign out.)
        if (write && url.startsWith('/api/') && url !== '/api/v1/session') expect(await call('viewer'), `${method} ${url} as a viewer`).toBe(403);
        expect([401, 403], `${method} ${url} as an operator`).not.toContain(await call('operator'));
      }
      seen.push(`${method} ${url}`);
    }
    expect(seen).toEqual(expect.arrayContaining(['POST /api/v1/campaigns', 'POST /api/v1/campaigns/:id/recipients', 'GET /api/v1/notices/:id', 'GET /vendor/v1/batches', 'GET /dashboard']));
  });
});

describe('creating a campaign', () => {
  it('is one transaction: when its last write fails, no half-made campaign is left', async () => {
    const before = (await app.db.query('select count(*)::int as n from campaigns')).rows[0].n;
    await app.db.query(`create function fail_pacing() returns trigger language plpgsql as $$
      begin if new.verb = 'pacing' then raise exception 'test: pacing could not be written'; end if; return new; end $$`);
    await app.db.query(`create trigger fail_pacing before insert on campaign_events for each row execute function fail_pacing()`);
    try {
      const r = await fetch(`${base}/api/v1/campaigns`, as('operator', json({ name: 'half-made', templates: templateFiles(), vendor: 'insatsu', discovered_on: '2026-11-20', pacing: { hourly_cap: 100 } })));
      expect(r.status).toBe(500);
    } finally {
      await app.db.query('drop trigger fail_pacing on campaign_events');
    }
    expect((await app.db.query('select count(*)::int as n from campaigns')).rows[0].n).toBe(before);
    expect((await app.db.query(`select count(*)::int as n from campaigns where name = 'half-made'`)).rows[0].n).toBe(0);
    // And the same request, nothing failing, creates it whole.
    const ok = await fetch(`${base}/api/v1/campaigns`, as('operator', json({ name: 'whole', templates: templateFiles(), vendor: 'insatsu', discovered_on: '2026-11-20', pacing: { hourly_cap: 100 } })));
    expect(ok.status).toBe(201);
    const id = (await ok.json()).id;
    const { rows } = await app.db.query('select vendor_id is not null as vendor, discovered_on, hourly_cap from campaigns where id = $1', [id]);
    expect(rows[0]).toEqual({ vendor: true, discovered_on: '2026-11-20', hourly_cap: 100 });
    const verbs = (await app.db.query('select verb from campaign_events where campaign_id = $1 order by id', [id])).rows.map((x) => x.verb);
    expect(verbs).toEqual(['create', 'vendor', 'deadline', 'pacing']);
  });
});

describe('/docs', () => {
  it('is a valid OpenAPI 3.1 description with every route the server registers, the vendor API included', async () => {
    const r = await fetch(`${base}/docs/json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1\./);
    const v = new Validator();
    const result = await v.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // A plugin's root is registered with and without its trailing slash; the description lists one.
    const bare = (p: string) => (p.length > 1 ? p.replace(/\/$/, '') : p);
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${bare(p)}`)));
    const toOpenApi = (url: string) => bare(url.replace(/:([A-Za-z_]+)/g, '{$1}'));
    const missing = registeredRoutes.get(server)!
      .filter((x) => x.method !== 'HEAD' && !x.url.startsWith('/docs'))
      .map((x) => `${x.method} ${toOpenApi(x.url)}`)
      .filter((k) => !documented.has(k) && !documented.has(k.replace(/\*$/, '{*}')) && !documented.has(k.replace(/\*$/, '{wildcard}')));
    expect(missing).toEqual([]);
    expect(documented).toContain('POST /vendor/v1/batches/{id}/mailed');
    expect(documented).toContain('POST /api/v1/campaigns/{id}/recipients');
    // The UI is there for people.
    const ui = await fetch(`${base}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });
});
