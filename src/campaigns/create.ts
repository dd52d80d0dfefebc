// `campaign create`: a template set is checked whole before a campaign can exist.
import type { Db } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { createCampaign, noteCampaignEvent, setCampaignDeadline, setCampaignPacing, setCampaignVendor } from '../db/campaign-store.ts';
import { headerProblems, LETTERHEAD_FILE, letterheadProblems, parseTemplateSet, TemplateError } from '../domain/template.ts';
import { readTemplateDir, saveTemplateVersion } from '../db/template-store.ts';

export interface CreatedCampaign {
  id: number;
  templateVersion: string;
  segments: string[];
  locales: string[];
}

/** What a campaign may be created with besides its templates (each is in its ledger as its own write). */
export interface CampaignSettings {
  vendorId?: number;
  deadline?: { discoveredOn: string; basis: 'unauthorized_access' | 'other' };
  pacing?: Parameters<typeof setCampaignPacing>[2];
}

export async function createCampaignFromDir(db: Db, name: string, dir: string, extraVars: string[] = [], actor = 'cli', settings: CampaignSettings = {}): Promise<CreatedCampaign> {
  return createCampaignFromFiles(db, name, await readTemplateDir(dir), extraVars, actor, settings);
}

/**
 * The same from the files themselves (name → text), as the HTTP API receives them. The template
 * set, the campaign, its vendor, deadline and pacing are written in one transaction: a crash or a
 * refusal midway leaves no half-made campaign.
 */
export async function createCampaignFromFiles(db: Db, name: string, files: ReadonlyMap<string, string>, extraVars: string[] = [], actor = 'cli', settings: CampaignSettings = {}): Promise<CreatedCampaign> {
  const header = headerProblems(files);
  let set;
  try {
    set = parseTemplateSet(files, extraVars); // throws TemplateError listing every problem
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError([...err.problems, ...header, ...(files.has(LETTERHEAD_FILE) ? [] : letterheadProblems({ letterhead: null } as never))]);
    throw err;
  }
  if (header.length) throw new TemplateError(header);
  const letterhead = letterheadProblems(set);
  if (letterhead.length) throw new TemplateError(letterhead);
  const { id, version } = await withTransaction(db, async (tx) => {
    const version = await saveTemplateVersion(tx, files);
    const id = await createCampaign(tx, name, version, extraVars);
    await noteCampaignEvent(tx, id, 'create', actor, `template ${version}`);
    if (settings.vendorId !== undefined) await setCampaignVendor(tx, id, settings.vendorId, actor);
    if (settings.deadline) await setCampaignDeadline(tx, id, settings.deadline.discoveredOn, settings.deadline.basis, actor);
    if (settings.pacing) await setCampaignPacing(tx, id, settings.pacing, actor);
    return { id, version };
  });
  return { id, templateVersion: version, segments: [...set.segments].sort(), locales: [...set.locales].sort() };
}
