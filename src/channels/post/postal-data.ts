// Japan Post's postal-code data, as shipped in data/postal (built by scripts/build-postal-data.mjs
// from kufu/jpostcode-data; the version is data/postal/VERSION.json). Read once per process, on
// first use: ~150,000 rows, a map by code.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { PostalLookup, PostalRow } from '../../domain/address-verify.ts';

const DIR = fileURLToPath(new URL('../../../data/postal/', import.meta.url));

export interface PostalDataVersion {
  source: string;
  commit: string;
  data_date: string;
  rows: number;
  business_offices: number;
}

let table: Map<string, PostalRow[]> | null = null;
let version: PostalDataVersion | null = null;

export function postalDataVersion(): PostalDataVersion {
  version ??= JSON.parse(readFileSync(`${DIR}VERSION.json`, 'utf8')) as PostalDataVersion;
  return version;
}

function load(): Map<string, PostalRow[]> {
  const m = new Map<string, PostalRow[]>();
  const text = gunzipSync(readFileSync(`${DIR}jp-postal.tsv.gz`)).toString('utf8');
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end);
    start = end < 0 ? text.length : end + 1;
    if (!line) continue;
    const [code, prefecture, city, town, office] = line.split('\t');
    const row: PostalRow = { prefecture, city, town, office: office === '1' };
    const rows = m.get(code);
    if (rows) rows.push(row);
    else m.set(code, [row]);
  }
  return m;
}

/** The rows for a 7-digit code (none: it does not exist). */
export const postalLookup: PostalLookup = (code) => {
  table ??= load();
  return table.get(code) ?? [];
};
