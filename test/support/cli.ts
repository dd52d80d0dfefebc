import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './fixtures.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `notice ...` as an operator would, with the test's environment. */
export function notice(env: Record<string, string>, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/notice.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
