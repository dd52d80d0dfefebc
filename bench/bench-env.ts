// What both benchmarks need: their arguments, the repo root, and a database of their own that is
// dropped when they finish.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';

export const root = fileURLToPath(new URL('../', import.meta.url));

/** `--name value` from the command line, or the default. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

/** Create a fresh database next to the configured one; drop() removes it. */
export async function benchDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const base = loadConfig().DATABASE_URL;
  const name = `${prefix}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  return {
    name,
    url: Object.assign(new URL(base), { pathname: `/${name}` }).toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Peak RSS while fn runs, sampled every 50 ms. */
export async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, seconds: (performance.now() - t0) / 1000, peakMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576) };
  } finally {
    clearInterval(timer);
  }
}
