// The CLI when something is wrong, as an operator meets it: a dependency down, a port taken, a
// verb that does not fit the campaign's state. One clear line, the right exit code, nothing
// changed, and never a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTestEnv, type TestEnv } from '../support/harness.ts';
import { demoTemplates, person, writeCsv } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';
import { exited, freePort, spawnNotice, stop } from '../support/processes.ts';
import { CAMPAIGN_STATES, CAMPAIGN_VERBS } from '../../src/domain/campaign-state.ts';
import { DEV_VERP_SECRET } from '../../src/config.ts';

let t: TestEnv;
let id: number;
beforeAll(async () => {
  t = await makeTestEnv();
  const created = notice(t.env, 'campaign', 'create', '--name', 'faults', '--templates', demoTemplates);
  expect(created.status, created.stderr).toBe(0);
  // stdout is the id alone: `id=$(notice campaign create …)` works; the human line is on stderr.
  expect(created.stdout).toMatch(/^\d+\n$/);
  expect(created.stderr).toMatch(/^campaign \d+ created: template [0-9a-f]+/);
  id = Number(created.stdout);
  expect(notice(t.env, 'import', String(id), writeCsv(t.tmp, 'f.csv', [person(1), person(2, null)])).status).toBe(0);
});
afterAll(async () => t?.teardown());

const NO_REDIS = 'redis://127.0.0.1:1';
const NO_PG = 'postgres://notice@127.0.0.1:1/notice';
const oneLine = (s: string) => s.trim().split('\n');
const state = async () => (await t.app().db.query('select state from campaigns where id = $1', [id])).rows[0].state;

describe('an unreachable dependency', () => {
  it('Redis: commands that need it fail fast with one line and change nothing; PostgreSQL-only commands never touch it', () => {
    const env = { ...t.env, REDIS_URL: NO_REDIS, DEPENDENCY_TIMEOUT_MS: '2000' };
    const started = Date.now();
    const launch = notice(env, 'campaign', 'launch', String(id));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(launch.status).toBe(1);
    expect(oneLine(launch.stderr)).toEqual([expect.stringMatching(/^notice: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\): /)]);
    for (const args of [['reconcile'], ['campaign', 'resume', String(id)]]) {
      const r = notice(env, ...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/cannot reach Redis/);
    }
    // PostgreSQL-only commands work with Redis down.
    const status = notice(env, 'campaign', 'status', String(id), '--json');
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'draft', total: 2 });
    expect(status.stderr).toBe('');
    expect(notice(env, 'db', 'migrate').status).toBe(0);
  });

  it('PostgreSQL: says it is PostgreSQL, where, and which setting', () => {
    const env = { ...t.env, DATABASE_URL: NO_PG, DEPENDENCY_TIMEOUT_MS: '2000' };
    for (const args of [['campaign', 'status', String(id)], ['import', String(id), path.join(t.tmp, 'f.csv')], ['campaign', 'launch', String(id)]]) {
      const r = notice(env, ...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/^notice: cannot reach PostgreSQL at 127\.0\.0\.1:1\/notice \(DATABASE_URL\): /)]);
    }
  });

  it('long-running commands exit 1 with one line instead of starting half-way', async () => {
    for (const [env, args, what] of [
      [{ REDIS_URL: NO_REDIS }, ['worker'], /cannot reach Redis/],
      [{ DATABASE_URL: NO_PG }, ['serve', '--port', String(await freePort())], /cannot reach PostgreSQL/],
      [{ REDIS_URL: NO_REDIS }, ['receive', '--port', String(await freePort())], /cannot reach Redis/],
    ] as Array<[Record<string, string>, string[], RegExp]>) {
      const p = spawnNotice({ ...t.env, ...env, DEPENDENCY_TIMEOUT_MS: '2000' }, args);
      expect(await exited(p), args[0]).toBe(1);
      expect(oneLine(p.stderrText())).toEqual([expect.stringMatching(what)]);
    }
  });
});

describe('ports and secrets', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    busy = createServer().listen(port, '127.0.0.1');
  });
  afterAll(() => busy?.close());

  it('a port in use: serve and receive exit 1 naming the address and the setting', async () => {
    const serve = spawnNotice(t.env, ['serve', '--port', String(port)]);
    expect(await exited(serve)).toBe(1);
    expect(oneLine(serve.stderrText())).toEqual([`notice: cannot listen on 127.0.0.1:${port} (--port): address already in use (another process listens there)`]);
    const receive = spawnNotice({ ...t.env, BOUNCE_SMTP_PORT: String(port) }, ['receive']);
    expect(await exited(receive)).toBe(1);
    expect(oneLine(receive.stderrText())).toEqual([`notice: cannot listen on 127.0.0.1:${port} (BOUNCE_SMTP_PORT): address already in use (another process listens there)`]);
  });

  it('two workers and a receiver on one machine: all start (workers listen on no port), and stop cleanly', async () => {
    const receivePort = await freePort();
    const env = { ...t.env, BOUNCE_SMTP_PORT: String(receivePort) };
    const procs = [spawnNotice(env, ['worker']), spawnNotice(env, ['worker']), spawnNotice(env, ['receive'])];
    try {
      const deadline = Date.now() + 60_000;
      while (!procs.every((p) => /started|listening/.test(p.stderrText())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(procs.map((p) => p.stderrText().trim())).toEqual([
        expect.stringMatching(/^notice: worker \d+ started/), expect.stringMatching(/^notice: worker \d+ started/),
        `notice: bounce receiver listening on 127.0.0.1:${receivePort} for bounce.example.com`,
      ]);
    } finally {
      expect(await Promise.all(procs.map((p) => stop(p)))).toEqual([0, 0, 0]);
    }
  });

  it('refuses to face the world with the built-in VERP secret unless NOTICE_DEV is set', async () => {
    const p = spawnNotice({ ...t.env, NOTICE_DEV: '', VERP_SECRET: DEV_VERP_SECRET }, ['worker']);
    expect(await exited(p)).toBe(2);
    expect(p.stderrText()).toMatch(/VERP_SECRET: is the built-in development value/);
  });
});

describe('the campaign state machine, from the CLI', () => {
  it('refuses what does not fit (pause or resume a draft sends nobody), and says "already" when nothing changes', async () => {
    for (const verb of ['pause', 'resume']) {
      const r = notice(t.env, 'campaign', verb, String(id));
      expect(r.status, verb).toBe(2);
      expect(r.stderr).toMatch(/has not been launched/);
    }
    expect(await state()).toBe('draft');
    expect((await t.app().db.query(`select count(*)::int as n from notices where campaign_id = $1 and state <> 'pending'`, [id])).rows[0].n).toBe(0);
    const first = notice(t.env, 'campaign', 'launch', String(id));
    expect(first.stdout).toBe(`campaign ${id} launched: 1 queued for email, 1 to post\n`);
    const again = notice(t.env, 'campaign', 'launch', String(id));
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`campaign ${id} already running; nothing new to queue\n`);
    expect(notice(t.env, 'campaign', 'cancel', String(id)).status).toBe(0);
    const dead = notice(t.env, 'campaign', 'resume', String(id));
    expect(dead.status).toBe(2);
    expect(dead.stderr).toMatch(/is cancelled/);
    const { rows } = await t.app().db.query('select verb, from_state, to_state, actor from campaign_events where campaign_id = $1 order by id', [id]);
    expect(rows.map((r) => `${r.verb}:${r.from_state}>${r.to_state}`)).toEqual(['create:draft>draft', 'import:draft>draft', 'launch:draft>running', 'cancel:running>cancelled']);
    expect(rows.every((r) => /^cli/.test(r.actor))).toBe(true);
  });

  it('every state × verb is in the table', () => {
    expect(CAMPAIGN_STATES.length * CAMPAIGN_VERBS.length).toBe(16);
  });
});

describe('campaign status', () => {
  it('says what is waiting and why, not only counts', async () => {
    const c = Number(notice(t.env, 'campaign', 'create', '--name', 'waits', '--templates', demoTemplates, '--discovered', '2026-11-20').stdout);
    notice(t.env, 'import', String(c), writeCsv(t.tmp, 'w.csv', [person(1, null), person(2, null), person(3)]));
    expect(notice(t.env, 'campaign', 'status', String(c)).stdout).toMatch(/3 people: the campaign is not launched yet/);
    await t.app().db.query(`update campaigns set state = 'running' where id = $1`, [c]);
    await t.app().db.query(`update notices set state = 'postal_queued' where campaign_id = $1 and email is null`, [c]);
    expect(notice(t.env, 'campaign', 'pause', String(c), '--reason', 'enquiry desk full').status).toBe(0);
    const text = notice(t.env, 'campaign', 'status', String(c)).stdout;
    expect(text).toMatch(new RegExp(`campaign ${c} "waits": paused by cli(:\\S+)?: enquiry desk full`));
    expect(text).toMatch(/deadline: report due 2027-01-19 \(60 days from discovery on 2026-11-20, unauthorised access\)/);
    expect(text).toMatch(/2 letters: no printing vendor is named for this campaign \(notice campaign vendor \d+ NAME\)/);
    expect(text).toMatch(/1 email: paused by cli(:\S+)?: enquiry desk full/);
  });
});

describe('small things', () => {
  it('--version, and a re-import of 20,000 rows summarised instead of 20,000 lines', async () => {
    const v = notice(t.env, '--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const c = Number(notice(t.env, 'campaign', 'create', '--name', 'big', '--templates', demoTemplates).stdout);
    const file = writeCsv(t.tmp, 'big.csv', Array.from({ length: 20_000 }, (_, i) => person(i + 1)));
    expect(notice(t.env, 'import', String(c), file).status).toBe(0);
    const again = notice(t.env, 'import', String(c), file);
    const lines = again.stdout.trim().split('\n');
    expect(lines[0]).toBe('big.csv: 20000 rows: 0 accepted, 20000 duplicates, 0 rejected, 0 warnings');
    expect(lines[1]).toBe('  read as UTF-8 (detected)');
    expect(lines.length).toBeLessThanOrEqual(33);
    expect(lines.at(-1)).toMatch(/… and 19970 more .*--json lists every one/);
    writeFileSync(path.join(t.tmp, 'unused'), '');
  });
});
