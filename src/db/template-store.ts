// Template sets on disk and in Postgres. A set is stored whole under the sha256 of its files, so
// the version recorded with every send names exactly the text that was used.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseTemplateSet, type TemplateSet } from '../domain/template.ts';
import type { Queryable } from './notice-store.ts';

export async function readTemplateDir(dir: string): Promise<Map<string, string>> {
  const s = await stat(dir).catch(() => null);
  if (!s?.isDirectory()) throw new Error(`${dir}: not a directory of templates`);
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const full = path.join(dir, name);
    if ((await stat(full)).isFile()) files.set(name, await readFile(full, 'utf8'));
  }
  return files;
}

export function templateVersion(files: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const name of [...files.keys()].sort()) h.update(name).update('\0').update(files.get(name)!).update('\0');
  return h.digest('hex').slice(0, 16);
}

export async function saveTemplateVersion(db: Queryable, files: ReadonlyMap<string, string>): Promise<string> {
  const version = templateVersion(files);
  await db.query('insert into template_versions (version, files) values ($1, $2) on conflict (version) do nothing', [
    version,
    JSON.stringify(Object.fromEntries(files)),
  ]);
  return version;
}

/** Loads and parses template sets by version; versions never change, so they cache forever. */
export function makeTemplateCache(db: Queryable) {
  const cache = new Map<string, Promise<TemplateSet>>();
  return {
    get(version: string, extraVars: readonly string[]): Promise<TemplateSet> {
      let hit = cache.get(version);
      if (!hit) {
        hit = db.query('select files from template_versions where version = $1', [version]).then(({ rows }) => {
          if (!rows[0]) throw new Error(`template version ${version} not found`);
          return parseTemplateSet(new Map(Object.entries(rows[0].files as Record<string, string>)), extraVars);
        });
        hit.catch(() => cache.delete(version));
        cache.set(version, hit);
      }
      return hit;
    },
  };
}
export type TemplateCache = ReturnType<typeof makeTemplateCache>;

/** takes: a template version; returns its stored files, or null when no set has that version. */
export async function storedTemplateFiles(db: Queryable, version: string): Promise<Map<string, string> | null> {
  const { rows } = await db.query('select files from template_versions where version = $1', [version]);
  return rows[0] ? new Map(Object.entries(rows[0].files as Record<string, string>)) : null;
}
