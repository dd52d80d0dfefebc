// SQL lives only in stores: src/db/* and *-store.ts (../shared/DESIGN.md, "Layout"). This check,
// part of `npm run check`, names every string or template literal outside them that reads like a
// statement, by file and line. Plain JavaScript so it runs on any Node.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const roots = ['src', 'workers', 'queues'];
const allowed = (f) => f.startsWith('src/db/') || f.endsWith('-store.ts');
// A literal that starts a statement, or holds one of its clauses, as SQL is written here.
const statement = /^\s*(select\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|with\s+\w+\s+as\s*\(|begin\b|commit\b|rollback\b|lock\s+table|copy\s+\w+|truncate\s|create\s+(table|index)|alter\s+table|notify\s|listen\s)/i;
const clause = /\b(select\s[\s\S]+\sfrom\s|insert\s+into\s+\w+|update\s+\w+\s+set\s|delete\s+from\s+\w+|pg_advisory\w*\(|pg_try_advisory\w*\()/i;

function* files(dir) {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) yield* files(rel);
    else if (name.endsWith('.ts')) yield rel;
  }
}

// String and template literals with the line they start on (comments skipped). A template's
// ${…} parts are code: scanned for literals of their own, not counted as the template's text.
function literals(text) {
  const out = [];
  let i = 0, line = 1;
  const scan = (stopAtBrace) => {
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '\n') { line++; i++; continue; }
      if (c === '/' && text[i + 1] === '/') { while (i < text.length && text[i] !== '\n') i++; continue; }
      if (c === '/' && text[i + 1] === '*') { const end = text.indexOf('*/', i + 2); line += (text.slice(i, end).match(/\n/g) ?? []).length; i = end + 2; continue; }
      if (stopAtBrace && c === '{') depth++;
      if (stopAtBrace && c === '}') { if (depth === 0) { i++; return; } depth--; }
      if (c === "'" || c === '"') {
        const start = line; let j = i + 1, body = '';
        while (j < text.length && text[j] !== c && text[j] !== '\n') { if (text[j] === '\\') { body += text[j + 1]; j += 2; continue; } body += text[j++]; }
        out.push({ line: start, body }); i = j + 1; continue;
      }
      if (c === '`') {
        const start = line; let body = ''; i++;
        while (i < text.length && text[i] !== '`') {
          if (text[i] === '\\') { body += text[i + 1]; i += 2; continue; }
          if (text[i] === '$' && text[i + 1] === '{') { i += 2; body += ' ? '; scan(true); continue; }
          if (text[i] === '\n') line++;
          body += text[i++];
        }
        out.push({ line: start, body }); i++; continue;
      }
      i++;
    }
  };
  scan(false);
  return out;
}

const found = [];
for (const dir of roots) for (const f of files(dir)) {
  if (allowed(f)) continue;
  for (const { line, body } of literals(readFileSync(path.join(root, f), 'utf8'))) {
    if (statement.test(body) || clause.test(body)) found.push(`${f}:${line}: ${body.trim().split('\n')[0].slice(0, 90)}`);
  }
}
if (found.length) {
  console.error(`SQL outside the stores (move it into src/db/ or a *-store.ts beside its area):\n${found.join('\n')}\n${found.length} literal(s)`);
  process.exit(1);
}
console.log('sql: only in stores');
