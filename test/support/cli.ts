import { spawn, spawnSync } from 'node:child_process';
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

/** The same without blocking this process: for a command that talks to a server this test runs (DNS, SMTP). */
export function noticeAsync(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/notice.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
