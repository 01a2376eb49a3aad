#!/usr/bin/env node
// `npm run demo`: `meshmedic demo` (docs/demo.md). On a terminal it is interactive: Bookinfo
// with auto-recovery, a fault, the loop as a timeline, then the mesh keeps running until Ctrl-C.
// Without a terminal (stdin not a TTY, or CI set) it runs one scenario headless, prints the
// timeline and exits with the demo's code. Extra arguments pass through:
// `npm run demo -- --scenario instance-crash`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;
if (!existsSync(cli)) {
  process.stderr.write('meshmedic is not built: run `npm ci` (it builds) or `npm run build` first\n');
  process.exit(1);
}
const args = process.argv.slice(2);
const interactive = process.stdin.isTTY && !process.env.CI;
if (!interactive && !args.includes('--headless')) args.push('--headless');
process.stdout.write(`$ meshmedic demo ${args.join(' ')}\n`);
const child = spawn(process.execPath, [cli, 'demo', ...args], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the demo too (same process group): let it stop its mesh, then exit with its code.
const forward = (sig) => () => {
  if (child.exitCode === null) child.kill(sig);
};
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
