// Helpers the `notice` commands share.
/* eslint-disable no-console -- this is the CLI's own output */
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../config.ts';
import { makeApp, type App } from '../app.ts';

export class UsageError extends Error {}

export const servicesScript = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive whole number`);
  return n;
}

/** Open the app for one command and always close it. */
export async function withApp<T>(fn: (app: App) => Promise<T>, opts: { dbPoolSize?: number } = {}): Promise<T> {
  const app = makeApp(loadConfig(), { dbPoolSize: opts.dbPoolSize ?? 4 });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

export function print(json: boolean | undefined, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

