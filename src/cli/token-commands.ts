// `notice operator add|list|revoke|rotate` and `notice vendor add|list|revoke|rotate`: the tokens
// of the ops API / dashboard / queue UI and of the printing vendors. A token is printed once and
// stored only as its sha256; a revoked, rotated-away or expired one is refused at once by every
// `notice serve` (each request reads PostgreSQL).
/* eslint-disable no-console -- this is the CLI's own output */
import { InvalidArgumentError, type Command } from 'commander';
import type { OperatorRole } from '../auth/operator-store.ts';
import type { TokenTable } from '../auth/token-store.ts';
import { UsageError, cliActor, print, say, withApp } from './common.ts';

/** `--expires 90d`, `--expires 12h` or `--expires 2027-03-31`: when the token stops working. */
export function parseExpiry(v: string, now = new Date()): Date {
  const rel = /^(\d+)([dh])$/.exec(v);
  if (rel) return new Date(now.getTime() + Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000));
  if (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
    const d = new Date(`${v}T00:00:00Z`);
    if (d.getTime() <= now.getTime()) throw new InvalidArgumentError('is in the past');
    return d;
  }
  throw new InvalidArgumentError('is a duration (90d, 12h) or a date (YYYY-MM-DD)');
}

const role = (v: string): OperatorRole => {
  if (v !== 'viewer' && v !== 'operator') throw new InvalidArgumentError('is viewer or operator');
  return v;
};

function addLifecycle(parent: Command, table: TokenTable, what: string, handOver: string): void {
  parent
    .command('list')
    .description(`every ${what}, with its token's status (active, expired, revoked); never the tokens`)
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) =>
      withApp(async (app) => {
        const { listHolders } = await import('../auth/token-store.ts');
        const rows = await listHolders(app.db, table, new Date());
        const day = (d: Date | null) => (d ? new Date(d).toISOString().slice(0, 16).replace('T', ' ') : '-');
        print(o.json, rows, rows.length
          ? rows.map((r) => `${r.name.padEnd(24)} ${(r.role ?? '').padEnd(9)} ${r.status.padEnd(8)} created ${day(r.created_at)}  expires ${day(r.expires_at)}${r.revoked_at ? `  revoked ${day(r.revoked_at)}` : ''}${r.rotated_at ? `  rotated ${day(r.rotated_at)}` : ''}`).join('\n')
          : `no ${what}s`);
      }),
    );
  parent
    .command('revoke')
    .argument('<name>', `the ${what}`)
    .description('the token stops working now (an operator\'s browser sessions end too)')
    .action((name: string) =>
      withApp(async (app) => {
        const { revokeHolder } = await import('../auth/token-store.ts');
        if (!(await revokeHolder(app.db, table, name, { ...cliActor(), now: new Date() }))) throw new UsageError(`no ${what} named "${name}"`);
        say(`${what} "${name}": token revoked; every serve refuses it from now on.`);
      }),
    );
  parent
    .command('rotate')
    .argument('<name>', `the ${what}`)
    .option('--expires <when>', 'the new token stops working then: 90d, 12h or YYYY-MM-DD', (v: string) => parseExpiry(v))
    .description('a new token (printed once); the old one stops working now')
    .action((name: string, o: { expires?: Date }) =>
      withApp(async (app) => {
        const { rotateHolder } = await import('../auth/token-store.ts');
        const token = await rotateHolder(app.db, table, name, { ...cliActor(), now: new Date(), expiresAt: o.expires ?? null });
        if (!token) throw new UsageError(`no ${what} named "${name}"`);
        console.log(token);
        say(`${what} "${name}": new token above, shown once${o.expires ? `, valid until ${o.expires.toISOString()}` : ''}; the old one no longer works. ${handOver}`);
      }),
    );
}

export function addTokenCommands(program: Command): void {
  const operator = program.command('operator').description('operators of the dashboard, the queue UI and the ops API');
  operator
    .command('add')
    .argument('<name>', 'who (shown in the campaign ledger for what they do)')
    .option('--role <role>', 'viewer (read only) or operator (also steers campaigns)', role, 'viewer')
    .option('--expires <when>', 'the token stops working then: 90d, 12h or YYYY-MM-DD', (v: string) => parseExpiry(v))
    .action((name: string, o: { role: OperatorRole; expires?: Date }) =>
      withApp(async (app) => {
        const { addOperator, operatorByName } = await import('../auth/operator-store.ts');
        if (await operatorByName(app.db, name)) throw new UsageError(`operator "${name}" exists already (rotate gives a new token)`);
        const op = await addOperator(app.db, name, o.role, { expiresAt: o.expires ?? null, ...cliActor() });
        console.log(op.token);
        say(`operator ${op.id} "${name}" (${o.role}) added${o.expires ? `, valid until ${o.expires.toISOString()}` : ''}. The token above is shown once and stored only as a hash.`);
      }),
    );
  addLifecycle(operator, 'operators', 'operator', '');

  const vendor = program.command('vendor').description('printing vendors');
  vendor
    .command('add')
    .argument('<name>', 'vendor name')
    .option('--expires <when>', 'the token stops working then: 90d, 12h or YYYY-MM-DD', (v: string) => parseExpiry(v))
    .action((name: string, o: { expires?: Date }) =>
      withApp(async (app) => {
        const { addVendor, vendorByName } = await import('../channels/post/vendor-store.ts');
        if (await vendorByName(app.db, name)) throw new UsageError(`vendor "${name}" exists already (rotate gives a new token)`);
        const v = await addVendor(app.db, name, { expiresAt: o.expires ?? null, ...cliActor() });
        console.log(v.token);
        say(`vendor ${v.id} "${name}" added. The token above is shown once and stored only as a hash: hand it to the vendor now.`);
      }),
    );
  addLifecycle(vendor, 'vendors', 'vendor', 'Hand the new token to the vendor now.');
  vendor
    .command('window')
    .description('the envelope window this vendor\'s letters must fit, in mm from the sheet\'s top-left corner as it sits in the envelope (default: 長形3号, left 20, top 13, 90 × 45)')
    .argument('<name>', 'vendor name')
    .option('--left <mm>', 'left edge', Number)
    .option('--top <mm>', 'top edge', Number)
    .option('--width <mm>', 'width', Number)
    .option('--height <mm>', 'height', Number)
    .option('--default', 'back to the default window')
    .action((name: string, o: { left?: number; top?: number; width?: number; height?: number; default?: boolean }) =>
      withApp(async (app) => {
        const { setVendorWindow, vendorByName } = await import('../channels/post/vendor-store.ts');
        const { DEFAULT_WINDOW_MM, windowProblems } = await import('../channels/post/pdf-letters.ts');
        const v = await vendorByName(app.db, name);
        if (!v) throw new UsageError(`no vendor "${name}"`);
        const w = o.default ? null : { left: o.left ?? DEFAULT_WINDOW_MM.left, top: o.top ?? DEFAULT_WINDOW_MM.top, width: o.width ?? DEFAULT_WINDOW_MM.width, height: o.height ?? DEFAULT_WINDOW_MM.height };
        const problems = w ? windowProblems(w) : [];
        if (problems.length) throw new UsageError(problems.join('; '));
        await setVendorWindow(app.db, v.id, w);
        say(`vendor "${name}": letters fit the window ${JSON.stringify(w ?? DEFAULT_WINDOW_MM)} (mm) from the next batch on`);
      }),
    );
}
