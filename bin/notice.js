#!/usr/bin/env node
// The `notice` command. Node strips the TypeScript types itself (22.18+, 24 LTS): no build step and
// no transpiler at run time. On an older Node (a system Node 20), it runs itself again on the
// Node 24 LTS that `npm ci` put in node_modules (the `node` package).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  // Compiled code (and stripped TypeScript) is cached on disk: a second start skips the work.
  module.enableCompileCache?.();
  await import('../src/cli/main.ts');
} else {
  const node = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(node)) {
    console.error(`notice: needs Node.js 22.18+ or 24 (this is ${process.version}); run npm ci, which installs Node 24 into node_modules`);
    process.exit(1);
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
