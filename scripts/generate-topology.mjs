#!/usr/bin/env node
// Writes the live diagnosis benchmark's generated topology (bench/generated-topology.ts) to
// stdout: `node scripts/generate-topology.mjs 30 6 > examples/generated-30/topology.yaml`.
// Needs a build (npx tsc -p tsconfig.json): it runs the compiled module from dist/.
import { benchTopologyYaml } from '../dist/bench/generated-topology.js';

const [n = '30', seed = '6'] = process.argv.slice(2);
if (!/^\d+$/.test(n) || !/^\d+$/.test(seed) || Number(n) < 2) {
  process.stderr.write('usage: node scripts/generate-topology.mjs SERVICES SEED\n');
  process.exit(64);
}
process.stdout.write(benchTopologyYaml(Number(n), Number(seed)));
