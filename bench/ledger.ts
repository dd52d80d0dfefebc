// The tamper-evident ledger, measured beside a baseline in the same run (never asserted):
//   writing: N people's ledgers (4 rows each, as a campaign leaves them: queued, sending, sent,
//   delivered) inserted with the chain trigger, beside the same insert with the trigger off;
//   verify: `notice ledger verify` for the campaign (every chain recomputed in Node from the plain
//   columns), beside one bare sha256 pass over the same COPY bytes.
// Target (issue 18): 1M people verified in ≤ 60 s on 2 cores. Usage: npm run bench:ledger [-- --people 1000000]
import { createHash } from 'node:crypto';
import pgCopy from 'pg-copy-streams';
import { loadConfig } from '../src/config.ts';
import { arg, benchDatabase, measured } from './bench-env.ts';
import { makeApp } from '../src/app.ts';
import { migrate } from '../src/db/migrate.ts';
import { verifyLedger } from '../src/db/ledger-chain.ts';

const PEOPLE = arg('people', 1_000_000);
const STEPS = [['pending', 'queued'], ['queued', 'sending'], ['sending', 'sent'], ['sent', 'delivered']];

async function main() {
  const bench = await benchDatabase('benchl');
  const app = makeApp(loadConfig({ ...process.env, DATABASE_URL: bench.url, QUEUE_PREFIX: `{${bench.name}}` }));
  try {
    await migrate(app.db);
    const { rows: [c] } = await app.db.query(`insert into template_versions (version, files) values ('bench', '{}') on conflict do nothing returning version`);
    void c;
    const campaign = async () => {
      const { rows: [camp] } = await app.db.query(`insert into campaigns (name, template_version, extra_vars) values ('bench', 'bench', '{}') returning id`);
      await app.db.query(
        `insert into notices (campaign_id, customer_id, notice_code, name, email, email_normalized, postal_code, prefecture, city, address_line1, address_line2, locale, segment, extra)
         select $1::bigint, 'C' || g, 'CODE-' || $1::bigint || '-' || g, '名前 ' || g, 'p' || g || '@example.com', 'p' || g || '@example.com', '1000005', '東京都', '千代田区', '丸の内1-1-1', '', 'ja', 'card', '{}'
         from generate_series(1, $2) g`,
        [camp.id, PEOPLE],
      );
      return camp.id as number;
    };
    // One step at a time, as a campaign writes them (every writer holds the person's row).
    const insertSteps = async (campaignId: number) => {
      for (const [i, [from, to]] of STEPS.entries()) {
        await app.db.query(
          `insert into notice_events (notice_id, campaign_id, from_state, to_state, channel, detail)
           select id, campaign_id, $2, $3, 'email', jsonb_build_object('step', $4::int, 'reply', '250 2.0.0 Ok: queued as ' || id) from notices where campaign_id = $1 order by id`,
          [campaignId, from, to, i],
        );
      }
    };
    // Baseline: the same rows for another campaign into the same table with the chain trigger off.
    const other = await campaign();
    const camp = { id: await campaign() };
    await app.db.query('alter table notice_events disable trigger notice_events_chain');
    const plain = await measured(() => insertSteps(other));
    await app.db.query('alter table notice_events enable trigger notice_events_chain');
    const chained = await measured(() => insertSteps(camp.id));
    const rows = PEOPLE * STEPS.length;
    const verify = await measured(() => verifyLedger(app.db, 'notice_events', { campaignId: camp.id }));
    if (verify.value.broken) throw new Error(`bench ledger does not verify: ${JSON.stringify(verify.value.broken)}`);
    const bare = await measured(async () => {
      const h = createHash('sha256');
      const client = await app.db.connect();
      try {
        const sql = `select notice_id, encode(prev_hash, 'hex'), encode(hash, 'hex'), id, notice_id, campaign_id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), from_state, to_state, channel, detail::text from notice_events where campaign_id = ${camp.id} order by notice_id, id`;
        for await (const chunk of client.query(pgCopy.to(`copy (${sql}) to stdout`)) as AsyncIterable<Buffer>) h.update(chunk);
      } finally {
        client.release();
      }
      return h.digest('hex');
    });
    const line = (what: string, ours: string, base: string, ratio: number) => console.log(`${what.padEnd(58)} ${ours.padEnd(22)} ${base.padEnd(26)} ${ratio.toFixed(2)}`);
    console.log(`bench: ledger of ${PEOPLE} people (${rows} rows), ${new Date().toISOString()}\n`);
    console.log(`${'measure'.padEnd(58)} ${'ours'.padEnd(22)} ${'baseline (same run)'.padEnd(26)} ratio`);
    line(`write ${rows} ledger rows, chained (trigger)`, `${chained.seconds.toFixed(1)} s`, `no trigger: ${plain.seconds.toFixed(1)} s`, chained.seconds / plain.seconds);
    line(`verify ${PEOPLE} people's chains (notice ledger verify)`, `${verify.seconds.toFixed(1)} s, ${verify.peakMb} MB`, `bare sha256 pass: ${bare.seconds.toFixed(1)} s`, verify.seconds / bare.seconds);
    console.log(`\n${verify.seconds <= 60 ? 'within' : 'OVER'} the target of 60 s for 1M people (${(verify.seconds * 1_000_000 / PEOPLE).toFixed(1)} s per million here)`);
  } finally {
    await app.close();
    await bench.drop();
  }
}

await main();
