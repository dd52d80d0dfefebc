// The operations console on a million-person campaign: how fast its list and its person search
// answer (the issue's bar: < 300 ms), through the HTTP API the browser calls (fastify inject: the
// whole route, auth and serialisation included, without a socket), beside GET /healthz in the
// same run (the floor of a request). Also the campaign page (kept counts) and the pages of
// people who need a hand (first page and one deep in the list). Prints; never asserts.
// Usage: npm run bench:console [-- --people 1000000 --runs 30]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { arg, benchDatabase, root } from './bench-env.ts';
import { makeApp } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { importCsv } from '../src/intake/importer.ts';
import { writeDemoCsv } from '../src/cli/demo-data.ts';
import { createCampaignFromDir } from '../src/campaigns/create.ts';
import { buildServer } from '../src/http/server.ts';
import { makeSnsVerifier } from '../src/bounces/sns.ts';
import { addOperator } from '../src/auth/operator-store.ts';

const PEOPLE = arg('people', 1_000_000);
const RUNS = arg('runs', 30);
const tmp = mkdtempSync(path.join(tmpdir(), 'notice-bench-console-'));

async function main() {
  const bench = await benchDatabase('benchc');
  const app = makeApp(loadConfig({ ...process.env, DATABASE_URL: bench.url, QUEUE_PREFIX: `{${bench.name}}` }));
  const server = await buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
  try {
    await migrate(app.db);
    const csv = path.join(tmp, 'people.csv');
    await writeDemoCsv(csv, PEOPLE, { noEmail: 0.05, hardBounce: 0.03, greylist: 0, english: 0.1, card: 0.57 });
    const c = await createCampaignFromDir(app.db, 'bench', path.join(root, 'templates/demo'));
    const t0 = performance.now();
    await importCsv(app.db, app.templates, { campaignId: c.id, file: csv, encoding: 'utf8' });
    console.log(`bench: a campaign of ${PEOPLE.toLocaleString('en')} people (imported in ${((performance.now() - t0) / 1000).toFixed(1)} s); ${RUNS} runs of each request`);
    // Some campaigns beside it, a thousandth of the people waiting on an address fix, most sent.
    for (let i = 0; i < 20; i++) await createCampaignFromDir(app.db, `other ${i}`, path.join(root, 'templates/demo'));
    await app.db.query(`update notices set state = case when id % 1000 = 0 then 'address_invalid' else 'sent' end, address_error = case when id % 1000 = 0 then 'city does not match' end where campaign_id = $1`, [c.id]);
    await app.db.query('analyze notices');
    const { token } = await addOperator(app.db, 'bench', 'operator');
    const { rows: [someone] } = await app.db.query(`select notice_code, customer_id, email from notices where campaign_id = $1 and email is not null order by id offset $2 limit 1`, [c.id, Math.floor(PEOPLE / 2)]);
    const { rows: [mid] } = await app.db.query(`select id from notices where campaign_id = $1 order by id offset $2 limit 1`, [c.id, Math.floor(PEOPLE / 2)]);

    const time = async (url: string) => {
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        const res = await server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
        ms.push(performance.now() - start);
        if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
      ms.sort((a, b) => a - b);
      return { median: ms[Math.floor(ms.length / 2)], p95: ms[Math.floor(ms.length * 0.95)] };
    };
    const rows: Array<[string, string]> = [
      ['GET /healthz (baseline: the floor of a request)', '/healthz'],
      ['campaign list with progress (21 campaigns)', '/api/v1/console/campaigns'],
      ['find a person by notice code', `/api/v1/campaigns/${c.id}/people?code=${someone.notice_code}`],
      ['find a person by customer id', `/api/v1/campaigns/${c.id}/people?customer_id=${someone.customer_id}`],
      ['find a person by email', `/api/v1/campaigns/${c.id}/people?email=${encodeURIComponent(someone.email)}`],
      ['people who need a hand, first page (50)', `/api/v1/campaigns/${c.id}/attention?kind=address_invalid`],
      ['people who need a hand, a page halfway (50)', `/api/v1/campaigns/${c.id}/attention?kind=address_invalid&after=${mid.id}`],
      ['the campaign page (kept counts, caught up)', `/api/v1/console/campaigns/${c.id}`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n${'request'.padEnd(w)}  ${'median'.padStart(9)}  ${'p95'.padStart(9)}`);
    for (const [what, url] of rows) {
      const r = await time(url);
      console.log(`${what.padEnd(w)}  ${`${r.median.toFixed(1)} ms`.padStart(9)}  ${`${r.p95.toFixed(1)} ms`.padStart(9)}`);
    }
  } finally {
    await server.close();
    await app.close();
    await bench.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
