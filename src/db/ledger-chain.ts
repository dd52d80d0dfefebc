// Checking the tamper-evident ledger (migration 010). Every chain is recomputed here from the
// plain columns, in Node, with the canonical encoding written out below (not the database's
// function): a row changed with SQL no longer hashes to what it says, and a row re-hashed to hide
// a change breaks the link of the row after it, or moves the chain's head away from the root a
// copy of the report pinned. Streamed with COPY: a million people's ledgers in one pass.
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import pgCopy from 'pg-copy-streams';
import type { Db, Queryable } from './pool.ts';

export const GENESIS = Buffer.alloc(32);
const SEP = '\u001f';
const AT = `to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** One ledger: which chains it has, the columns of its canonical row (in order) and its tag. */
const LEDGERS = {
  notice_events: { tag: 'n1', chain: 'notice_id', columns: `id, notice_id, campaign_id, ${AT}, coalesce(from_state, '\\N'), to_state, coalesce(channel, '\\N'), detail::text`, campaign: 'campaign_id' },
  campaign_events: { tag: 'c1', chain: 'campaign_id', columns: `id, campaign_id, ${AT}, verb, from_state, to_state, actor, coalesce(reason, '\\N')`, campaign: 'campaign_id' },
  batch_events: { tag: 'b1', chain: 'batch_id', columns: `id, batch_id, coalesce(vendor_id::text, '\\N'), ${AT}, action, detail::text`, campaign: null },
} as const;
export type LedgerName = keyof typeof LEDGERS;

export interface BrokenRow {
  ledger: LedgerName;
  id: number;
  chain: number;
  why: string;
}

export interface VerifyResult {
  rows: number;
  chains: number;
  /** The first row that does not check out, in chain order; null when every chain holds. */
  broken: BrokenRow | null;
  /** sha256 over every person's chain head ("notice_id:hash\n" in notice order). */
  root: string | null;
}

/** COPY text format's escapes (we select no NULLs). */
const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };
const unescape = (s: string) => (s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c) : s);

async function* copyLines(db: Db, sql: string): AsyncGenerator<string[]> {
  const client = await db.connect();
  try {
    let rest = '';
    const utf8 = new StringDecoder('utf8'); // a character may be split between chunks
    for await (const chunk of client.query(pgCopy.to(`copy (${sql}) to stdout`)) as AsyncIterable<Buffer>) {
      const text = rest + utf8.write(chunk);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) yield line.split('\t').map(unescape);
    }
    if (rest) yield rest.split('\t').map(unescape);
  } finally {
    client.release();
  }
}

/** hash = sha256(prev || canonical row), the canonical row being the tag and the columns joined by U+001F. */
export function chainHash(prev: Buffer, tag: string, columns: readonly string[]): Buffer {
  return createHash('sha256').update(prev).update([tag, ...columns].join(SEP), 'utf8').digest();
}

/**
 * Recomputes every chain of one ledger (optionally one campaign's) and returns the first row
 * that does not match, with the root over the chain heads. `onRows` hears progress.
 */
export async function verifyLedger(db: Db, ledger: LedgerName, o: { campaignId?: number; onRows?: (n: number) => void } = {}): Promise<VerifyResult> {
  const l = LEDGERS[ledger];
  const where = o.campaignId === undefined ? '' : l.campaign ? `where ${l.campaign} = ${Number(o.campaignId)}` : `where batch_id in (select id from batches where campaign_id = ${Number(o.campaignId)})`;
  const sql = `select ${l.chain}, encode(prev_hash, 'hex'), encode(hash, 'hex'), ${l.columns} from ${ledger} ${where} order by ${l.chain}, id`;
  const root = createHash('sha256');
  let rows = 0, chains = 0, chain = -1, head: string | null = null;
  let expected = GENESIS;
  let broken: BrokenRow | null = null;
  const closeChain = () => head !== null && root.update(`${chain}:${head}\n`);
  for await (const [chainText, prevHex, hashHex, ...columns] of copyLines(db, sql)) {
    const key = Number(chainText);
    if (key !== chain) {
      closeChain();
      chain = key;
      chains++;
      expected = GENESIS;
    }
    rows++;
    if (rows % 100_000 === 0) o.onRows?.(rows);
    if (broken) continue;
    const id = Number(columns[0]);
    const prev = Buffer.from(prevHex, 'hex');
    if (!prev.equals(expected)) broken = { ledger, id, chain: key, why: prevHex ? 'its link to the row before it in the chain does not match (a row was removed, inserted or re-hashed)' : 'it carries no hash' };
    else if (!chainHash(prev, l.tag, columns).equals(Buffer.from(hashHex, 'hex'))) broken = { ledger, id, chain: key, why: 'its content does not match its hash (the row was changed after it was written)' };
    expected = Buffer.from(hashHex, 'hex');
    head = hashHex;
  }
  closeChain();
  return { rows, chains, broken, root: chains ? root.digest('hex') : null };
}

/** takes: campaign; returns the root over its people's chain heads and its own ledger's head (what the report pins). */
export async function chainHeads(db: Db, campaignId: number): Promise<{ people: number; root: string | null; campaignHead: string | null }> {
  const root = createHash('sha256');
  let people = 0;
  for await (const [noticeId, hash] of copyLines(db, `select distinct on (notice_id) notice_id, encode(hash, 'hex') from notice_events where campaign_id = ${Number(campaignId)} order by notice_id, id desc`)) {
    root.update(`${noticeId}:${hash}\n`);
    people++;
  }
  const head = await campaignHead(db, campaignId);
  return { people, root: people ? root.digest('hex') : null, campaignHead: head };
}

export async function campaignHead(db: Queryable, campaignId: number): Promise<string | null> {
  const { rows } = await db.query(`select encode(hash, 'hex') as h from campaign_events where campaign_id = $1 order by id desc limit 1`, [campaignId]);
  return rows[0]?.h ?? null;
}

/** takes: a notice; returns its chain, oldest first (what its evidence carries to be re-checked). */
export async function noticeChain(db: Queryable, noticeId: number): Promise<Array<{ id: number; prev_hash: string; hash: string }>> {
  const { rows } = await db.query(`select id::int, encode(prev_hash, 'hex') as prev_hash, encode(hash, 'hex') as hash from notice_events where notice_id = $1 order by id`, [noticeId]);
  return rows;
}
