// The SMTP sink the benchmark sends to: postfix's smtp-sink (C, Debian package `postfix`) when it
// is installed, so the sink is not the bottleneck; else the Node sink in a process of its own.
// And smtp-source beside it: the C limit of the machine, in the same run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { root } from './bench-env.ts';

export interface Sink {
  url: string;
  port: number;
  kind: string;
  stop(): Promise<void>;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const stopped = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

export async function startSink(): Promise<Sink> {
  if (has('smtp-sink')) {
    const port = await freePort();
    const asRoot = process.getuid?.() === 0;
    const child = spawn('smtp-sink', [...(asRoot ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '2048'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(true)); // taken: the sink is listening
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url: `smtp://127.0.0.1:${port}`, port, kind: 'postfix smtp-sink (C)', stop: async () => { child.kill('SIGTERM'); await stopped(child); } };
  }
  const child = spawn(process.execPath, [path.join(root, 'bench/sink-process.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url: string = await new Promise((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
  return { url, port: Number(url.split(':').at(-1)), kind: 'Node smtp-server in its own process (postfix smtp-sink not installed: apt-get install postfix)', stop: async () => { child.kill('SIGTERM'); await stopped(child); } };
}

/** smtp-source's messages/s to the sink (the C limit), or null when it is not installed. */
export function smtpSource(port: number, messages: number, sessions: number, bytes: number): number | null {
  if (!has('smtp-source')) return null;
  const t0 = performance.now();
  const r = spawnSync('smtp-source', ['-s', String(sessions), '-m', String(messages), '-l', String(bytes), '-f', 'bench@example.com', '-t', 'sink@example.com', `127.0.0.1:${port}`], { stdio: 'ignore' });
  if (r.status !== 0) return null;
  return Math.round(messages / ((performance.now() - t0) / 1000));
}
