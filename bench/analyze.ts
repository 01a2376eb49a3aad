import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeFiles } from '../src/cli/analyze.js';
import type { Benchmark } from './registry.js';
import { generateMesh } from './generate-mesh.js';

// Times `meshmedic analyze` on a generated mesh (10,000 resources by default): in-process
// (load + validate + every default analyzer), and the real CLI end to end once.

const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export const analyzeBench: Benchmark = {
  description: 'analyze a generated mesh of 10,000 resources with planted errors',
  async run({ size = 10_000, runs, progress }) {
    const mesh = generateMesh(size);
    const dir = mkdtempSync(join(tmpdir(), 'meshmedic-bench-'));
    try {
      for (const f of mesh.files) writeFileSync(join(dir, f.name), f.text);
      progress(`generated ${mesh.resources} resources in ${mesh.files.length} files under ${dir}`);
      const times: number[] = [];
      let found: Record<string, number> = {};
      let messages = 0;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const outcome = await analyzeFiles({ paths: [dir], namespace: 'default', allNamespaces: true, recursive: false, suppress: [] });
        times.push(performance.now() - t0);
        progress(`run ${i + 1}/${runs}: ${times[i].toFixed(0)} ms, ${outcome.messages.length} messages`);
        messages = outcome.messages.length;
        found = {};
        for (const m of outcome.messages) found[m.code] = (found[m.code] ?? 0) + 1;
      }
      const t0 = performance.now();
      const cli = spawnSync(process.execPath, [cliPath, 'analyze', '-A', '-o', 'json', dir], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      const cliWallMs = performance.now() - t0;
      progress(`cli: exit ${cli.status}, ${cliWallMs.toFixed(0)} ms`);
      return {
        benchmark: 'analyze',
        resources: mesh.resources,
        files: mesh.files.length,
        runs,
        inProcessMs: { median: Math.round(median(times)), min: Math.round(Math.min(...times)), max: Math.round(Math.max(...times)) },
        cliWallMs: Math.round(cliWallMs),
        cliExitCode: cli.status,
        messages,
        planted: mesh.planted,
        foundByCode: found,
        node: process.version,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
