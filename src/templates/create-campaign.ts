// `campaign create`: a template set is checked whole before a campaign can exist.
import type { Db } from '../db/pool.ts';
import { createCampaign } from '../db/campaign-store.ts';
import { parseTemplateSet } from '../domain/template.ts';
import { readTemplateDir, saveTemplateVersion } from './template-store.ts';

export interface CreatedCampaign {
  id: number;
  templateVersion: string;
  segments: string[];
  locales: string[];
}

export async function createCampaignFromDir(db: Db, name: string, dir: string, extraVars: string[] = []): Promise<CreatedCampaign> {
  const files = await readTemplateDir(dir);
  const set = parseTemplateSet(files, extraVars); // throws TemplateError listing every problem
  const version = await saveTemplateVersion(db, files);
  const id = await createCampaign(db, name, version, extraVars);
  return { id, templateVersion: version, segments: [...set.segments].sort(), locales: [...set.locales].sort() };
}
