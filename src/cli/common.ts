// Helpers the `notice` commands share.
/* eslint-disable no-console -- this is the CLI's own output */
import { PermanentError } from '../domain/errors.ts';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import type { App } from '../app.ts';

export class UsageError extends PermanentError {
  constructor(message: string) {
    super('invalid', message);
  }
}

export const servicesScript = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive whole number`);
  return n;
}

/**
 * Open the app for one command and always close it. It first checks that PostgreSQL answers, and
 * Redis too when the command needs it (`redis: true`); a command that needs only PostgreSQL never
 * opens a Redis connection.
 */
export async function withApp<T>(fn: (app: App) => Promise<T>, opts: { redis?: boolean; dbPoolSize?: number } = {}): Promise<T> {
  // Loaded here, not at the top: `notice --version` or `notice config` should not pay for them.
  const [{ loadConfig }, { makeApp }] = await Promise.all([import('../config.ts'), import('../app.ts')]);
  const app = makeApp(loadConfig(), { dbPoolSize: opts.dbPoolSize ?? 4, mode: 'command' });
  try {
    await app.ready({ redis: opts.redis ?? false });
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Who is steering from this shell, for the campaign ledger. */
export function cliActor(): { actor: string } {
  let user = process.env.SUDO_USER || process.env.USER || '';
  try {
    user ||= userInfo().username;
  } catch {
    /* no passwd entry (a container): the actor is just "cli" */
  }
  return { actor: user ? `cli:${user}` : 'cli' };
}

/** The result: JSON, or a line for a person. Both on stdout; notes for people go to stderr (say). */
export function print(json: boolean | undefined, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

/** A note for the person at the terminal, kept off stdout so `x=$(notice …)` captures only the result. */
export function say(text: string): void {
  console.error(text);
}
