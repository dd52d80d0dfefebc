#!/usr/bin/env node
// Builds data/postal/jp-postal.tsv.gz from a copy of kufu/jpostcode-data (MIT; SmartHR's monthly,
// automated repackaging of Japan Post's KEN_ALL, via zipcloud's cleaned copy with split rows
// joined, and of Japan Post's business-office list JIGYOSYO). Japan Post claims no copyright on
// its postal-code data. One row per (code, prefecture, city, town): a code may have several
// (towns, and even prefectures: 498-0000 is in Aichi and Mie).
//
//   git clone https://github.com/kufu/jpostcode-data /tmp/jpostcode-data
//   node scripts/build-postal-data.mjs /tmp/jpostcode-data      # or a bare git directory
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const src = process.argv[2];
if (!src) {
  console.error('usage: node scripts/build-postal-data.mjs DIR   (a clone of https://github.com/kufu/jpostcode-data, or a bare git directory of it)');
  process.exit(2);
}
let dir = path.join(src, 'data/json');
let git = existsSync(path.join(src, 'HEAD')) ? src : existsSync(path.join(src, '.git')) ? path.join(src, '.git') : null;
if (!existsSync(dir)) {
  if (!git) throw new Error(`${src}: no data/json in it (a checkout or a bare git directory of kufu/jpostcode-data)`);
  const out = mkdtempSync(path.join(tmpdir(), 'jpostcode-'));
  execFileSync('sh', ['-c', `git --git-dir "${git}" archive HEAD data/json | tar -x -C "${out}"`]);
  dir = path.join(out, 'data/json');
}
const commit = git ? execFileSync('git', ['--git-dir', git, 'log', '-1', '--format=%H %cs'], { encoding: 'utf8' }).trim().split(' ') : ['unknown', 'unknown'];
const clean = (s) => (s ?? '').replace(/[\t\n\r]/g, ' ').trim();
const lines = [];
let offices = 0;
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
  const data = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  for (const v of Object.values(data)) {
    for (const r of Array.isArray(v) ? v : [v]) {
      const office = r.office_name ? 1 : 0;
      offices += office;
      lines.push([r.postcode, clean(r.prefecture), clean(r.city), clean(r.town), office].join('\t'));
    }
  }
}
lines.sort();
const out = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'data/postal');
writeFileSync(path.join(out, 'jp-postal.tsv.gz'), gzipSync(`${lines.join('\n')}\n`, { level: 9 }));
const version = { source: 'kufu/jpostcode-data (Japan Post KEN_ALL + JIGYOSYO)', commit: commit[0], data_date: commit[1], rows: lines.length, business_offices: offices };
writeFileSync(path.join(out, 'VERSION.json'), `${JSON.stringify(version, null, 2)}\n`);
console.log(`${lines.length} rows (${offices} business offices) from ${version.source} @ ${commit[0].slice(0, 10)} (${commit[1]}) → data/postal/`);
