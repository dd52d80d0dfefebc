// The importer's statements: its run record, COPY into notices (or a staging table when the file
// has duplicates), and the reads that explain duplicates and shared addresses. All on the
// import's own transaction (the caller's client).
import pgCopy from 'pg-copy-streams';
import type { DbClient, Queryable } from '../db/pool.ts';

const DIRECT_COLUMNS = [
  'campaign_id', 'customer_id', 'notice_code', 'name', 'email', 'email_normalized', 'postal_code', 'prefecture', 'city',
  'address_line1', 'address_line2', 'locale', 'segment', 'extra', 'import_line', 'import_run_id',
];
const STAGE_COLUMNS = [
  'line', 'customer_id', 'notice_code', 'name', 'email', 'email_normalized', 'postal_code', 'prefecture', 'city',
  'address_line1', 'address_line2', 'locale', 'segment', 'extra',
];

/** takes: campaign, file name and its sha256, actor; returns the new import run's id (its counts are set at the end). */
export async function startImportRun(tx: Queryable, campaignId: number, fileName: string, fileSha256: string, actor: string): Promise<number> {
  const { rows } = await tx.query('insert into import_runs (campaign_id, file_name, file_sha256, accepted, duplicates, rejected, report, actor) values ($1, $2, $3, 0, 0, 0, $4, $5) returning id', [campaignId, fileName, fileSha256, '{}', actor]);
  return rows[0].id as number;
}

export async function finishImportRun(tx: Queryable, id: number, n: { accepted: number; duplicates: number; rejected: number }, report: unknown): Promise<void> {
  await tx.query('update import_runs set accepted = $2, duplicates = $3, rejected = $4, report = $5 where id = $1', [id, n.accepted, n.duplicates, n.rejected, JSON.stringify(report)]);
}

/** A COPY stream into notices (DIRECT_COLUMNS order) or the staging table (STAGE_COLUMNS order), tab-separated text. */
export function copyInto(client: DbClient, target: 'notices' | 'stage') {
  const columns = target === 'notices' ? DIRECT_COLUMNS : STAGE_COLUMNS;
  return client.query(pgCopy.from(`copy ${target} (${columns.join(', ')}) from stdin`));
}

/** The staging table, dropped at commit. */
export async function createStage(tx: Queryable): Promise<void> {
  await tx.query(`create temp table stage (
    line integer, customer_id text, notice_code text, name text, email text, email_normalized text, postal_code text,
    prefecture text, city text, address_line1 text, address_line2 text, locale text, segment text, extra jsonb
  ) on commit drop`);
}

/**
 * First come, first kept: staged rows go into notices in line order, and a row whose customer_id
 * is already in the campaign (from an earlier file or an earlier line) is not inserted. Returns
 * how many were.
 */
export async function insertStaged(tx: Queryable, campaignId: number, importRunId: number): Promise<number> {
  const r = await tx.query(
    `insert into notices (${DIRECT_COLUMNS.join(', ')})
     select $1, customer_id, notice_code, name, email, email_normalized, postal_code, prefecture, city,
            address_line1, address_line2, locale, segment, extra, line, $2
     from stage order by line
     on conflict do nothing`,
    [campaignId, importRunId],
  );
  return r.rowCount ?? 0;
}

/** takes: campaign, import run; returns staged lines not inserted, with the earlier person each repeats (c_line null: a notice code collided). */
export async function stagedNotInserted(tx: Queryable, campaignId: number, importRunId: number): Promise<Array<{ line: number; c_run: number | null; c_line: number | null }>> {
  const { rows } = await tx.query(
    `select s.line, c.import_run_id as c_run, c.import_line as c_line
     from stage s
     left join notices c on c.campaign_id = $1 and c.customer_id = s.customer_id
     where c.id is null or c.import_run_id is distinct from $2 or c.import_line <> s.line
     order by s.line`,
    [campaignId, importRunId],
  );
  return rows;
}

/** takes: campaign, import run; returns lines of this run whose email an earlier person of the campaign has, with that person's run and line. */
export async function emailSharers(tx: Queryable, campaignId: number, importRunId: number): Promise<Array<{ line: number; first_run: number; first_line: number }>> {
  const { rows } = await tx.query(
    `select line, first_run, first_line from (
       select n.id, n.import_run_id, n.import_line as line,
              count(*) over (partition by n.email_normalized) as k,
              first_value(n.id) over w as first_id, first_value(n.import_run_id) over w as first_run, first_value(n.import_line) over w as first_line
       from notices n where n.campaign_id = $1 and n.email_normalized is not null
       window w as (partition by n.email_normalized order by n.id)
     ) x where k > 1 and import_run_id = $2 and id <> first_id
     order by line`,
    [campaignId, importRunId],
  );
  return rows;
}
