// Building campaigns and CSVs the way an operator would.
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { waitFor } from './harness.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../../src/app.ts';
import { importCsv, type ImportReport } from '../../src/intake/importer.ts';
import { createCampaignFromDir } from '../../src/campaigns/create.ts';
import { campaignStatus } from '../../src/campaigns/status.ts';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const demoTemplates = path.join(root, 'templates/demo');
export const HEADER = 'customer_id,name,email,postal_code,prefecture,city,address_line1,address_line2,locale,segment';

export function person(i: number, email: string | null = `p${i}@example.com`, extra: Partial<Record<string, string>> = {}): string {
  const f = { customer_id: `C${i}`, name: `山田 ${i}`, email: email ?? '', postal_code: '100-0005', prefecture: '東京都', city: '千代田区', address_line1: `丸の内${i}`, address_line2: '', locale: 'ja', segment: i % 2 ? 'card' : 'personal', ...extra };
  return HEADER.split(',').map((k) => f[k as keyof typeof f]).join(',');
}

export function writeCsv(dir: string, name: string, rows: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, [HEADER, ...rows].join('\n') + '\n');
  return file;
}

export async function campaignWith(app: App, dir: string, rows: string[]): Promise<{ id: number; report: ImportReport }> {
  const c = await createCampaignFromDir(app.db, 'テスト通販', demoTemplates);
  const file = writeCsv(dir, `c${c.id}.csv`, rows);
  const report = await importCsv(app.db, app.templates, { campaignId: c.id, file, encoding: 'utf8' });
  return { id: c.id, report };
}

/** Launch a campaign and send it with email workers in this process until `sent` people are sent; the workers stop after. */
export async function sendAll(app: App, id: number, sent: number): Promise<void> {
  const workers = await startWorkers(app, { queues: ['email'], concurrency: 2, reconcile: false });
  try {
    await launch(steeringDeps(app), id);
    await waitFor(async () => (await counts(app, id)).counts.sent === sent, { what: `${sent} sent` });
  } finally {
    await workers.close();
  }
}

export async function counts(app: App, id: number) {
  const s = await campaignStatus(app.db, id);
  if (!s) throw new Error('no campaign');
  return s;
}
