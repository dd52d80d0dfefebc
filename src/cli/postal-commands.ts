// `notice batches | address` (vendors: token-commands.ts): the postal route, for operators.
/* eslint-disable no-console -- this is the CLI's own output */
import type { Command } from 'commander';
import { positiveInt, withApp } from './common.ts';

export function addPostalCommands(program: Command): void {
  program
    .command('batches')
    .description('print batches')
    .command('close')
    .description('close open print batches now and render their files')
    .option('--campaign <id>', 'only this campaign', positiveInt)
    .action((o: { campaign?: number }) =>
      withApp(async (app) => {
        const [{ closeBatch }, { batchesToClose }] = await Promise.all([import('../channels/post/close-batch.ts'), import('../channels/post/batch-store.ts')]);
        const rows = await batchesToClose(app.db, o.campaign ?? null);
        for (const id of rows) {
          const res = await closeBatch({ db: app.db, templates: app.templates, fontPath: app.config.PDF_FONT, returnAddress: app.config.RETURN_ADDRESS }, id);
          if (res) console.log(`batch ${res.batchId}: ${res.letters} letters, ${res.exceptions} in exceptions.csv; ${res.files.map((f) => f.name).join(', ')}`);
        }
        if (!rows.length) console.log('no open batches');
      }),
    );

  program
    .command('address')
    .description('postal addresses')
    .command('fix')
    .argument('<notice>', 'notice id', positiveInt)
    .option('--postal-code <code>')
    .option('--prefecture <text>')
    .option('--city <text>')
    .option('--line1 <text>')
    .option('--line2 <text>')
    .option('--name <text>')
    .action((id: number, o: { postalCode?: string; prefecture?: string; city?: string; line1?: string; line2?: string; name?: string }) =>
      withApp(async (app) => {
        const [{ fixAddress }, { enqueuePostal }] = await Promise.all([import('../channels/post/address-fix.ts'), import('../dispatch/enqueue.ts')]);
        const r = await fixAddress(app.db, id, { postal_code: o.postalCode, prefecture: o.prefecture, city: o.city, address_line1: o.line1, address_line2: o.line2, name: o.name }, (n) => enqueuePostal(app.queues, n));
        console.log(`notice ${id}: address corrected; ${r.requeued ? 'back on the postal route' : `state stays ${r.state}`}`);
      }),
    );
}
