#!/usr/bin/env node
// `npm run demo`: the main job until the live-mesh demo lands: analyze the bundled examples
// with the real CLI, a clean Bookinfo and a namespace of common mistakes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;
const run = (title, args) => {
  process.stdout.write(`\n$ meshmedic ${args.join(' ')}    # ${title}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
  process.stdout.write(`(exit code ${r.status})\n`);
  return r.status;
};
const clean = run('Bookinfo, as shipped: no findings', ['analyze', '-A', '-R', 'examples/bookinfo']);
const broken = run('common mistakes, planted on purpose', ['analyze', '-A', 'examples/broken']);
// Bookinfo must be clean (0) and the broken examples must be caught (79, istioctl's "found issues").
process.exit(clean === 0 && broken === 79 ? 0 : 1);
