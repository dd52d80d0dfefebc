// `npm run bench [-- ARGS]`: the send benchmark with ARGS (--people 1000000 …), then the batch
// benchmark with its defaults. Each in a process of its own; numbers printed, never asserted.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './bench-env.ts';

const args = process.argv.slice(2);
for (const [file, a] of [['bench/run.ts', args], ['bench/batch.ts', []]] as const) {
  const r = spawnSync(process.execPath, [path.join(root, file), ...a], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
