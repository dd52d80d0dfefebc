// `notice operator add NAME --role viewer|operator`: tokens for the dashboard, the queue UI and
// the ops API. Printed once; only the hash is stored.
/* eslint-disable no-console -- this is the CLI's own output */
import { InvalidArgumentError, type Command } from 'commander';
import type { OperatorRole } from '../http/operator-store.ts';
import { UsageError, say, withApp } from './common.ts';

export function addOperatorCommands(program: Command): void {
  program
    .command('operator')
    .description('operators of the dashboard, the queue UI and the ops API')
    .command('add')
    .argument('<name>', 'who (shown in the campaign ledger for what they do)')
    .option('--role <role>', 'viewer (read only) or operator (also steers campaigns)', (v: string): OperatorRole => {
      if (v !== 'viewer' && v !== 'operator') throw new InvalidArgumentError('is viewer or operator');
      return v;
    }, 'viewer')
    .action((name: string, o: { role: OperatorRole }) =>
      withApp(async (app) => {
        const { addOperator, operatorByName } = await import('../http/operator-store.ts');
        if (await operatorByName(app.db, name)) throw new UsageError(`operator "${name}" exists already`);
        const op = await addOperator(app.db, name, o.role);
        console.log(op.token);
        say(`operator ${op.id} "${name}" (${o.role}) added. The token above is shown once and stored only as a hash.`);
      }),
    );
}
