// `campaign create`: a template set is checked whole before a campaign can exist.
import type { Db } from '../db/pool.ts';
import { createCampaign, noteCampaignEvent } from '../db/campaign-store.ts';
import { headerProblems, parseTemplateSet, TemplateError } from '../domain/template.ts';
import { readTemplateDir, saveTemplateVersion } from './template-store.ts';

export interface CreatedCampaign {
  id: number;
  templateVersion: string;
  segments: string[];
  locales: string[];
}

export async function createCampaignFromDir(db: Db, name: string, dir: string, extraVars: string[] = [], actor = 'cli'): Promise<CreatedCampaign> {
  return createCampaignFromFiles(db, name, await readTemplateDir(dir), extraVars, actor);
}

/** The same from the files themselves (name → text), as the HTTP API receives them. */
export async function createCampaignFromFiles(db: Db, name: string, files: ReadonlyMap<string, string>, extraVars: string[] = [], actor = 'cli'): Promise<CreatedCampaign> {
  const header = headerProblems(files);
  let set;
  try {
    set = parseTemplateSet(files, extraVars); // throws TemplateError listing every problem
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError([...err.problems, ...header]);
    throw err;
  }
  if (header.length) throw new TemplateError(header);
  const version = await saveTemplateVersion(db, files);
  const id = await createCampaign(db, name, version, extraVars);
  await noteCampaignEvent(db, id, 'create', actor, `template ${version}`);
  return { id, templateVersion: version, segments: [...set.segments].sort(), locales: [...set.locales].sort() };
}
