import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { friendlyName, type Resource } from '../../src/api/resource.js';
import { loadPaths } from '../../src/config/loader.js';
import { defaultMeshConfig, defaultMeshNetworks, loadMeshConfigFile, loadMeshNetworksFile } from '../../src/config/mesh.js';
import { findAnalyzer } from '../../src/config/analysis/registry.js';
import { defaultIngressResources, runAnalyzers } from '../../src/config/analysis/runner.js';

// Runs Istio's analyzer test table (pkg/config/analysis/analyzers/analyzers_test.go, copied
// under istio-analyze/) the way Istio's Go test does: only the analyzer under test, the test
// loader (only its input kinds, no default namespace, system namespaces dropped), the default
// ingress gateway added after the files, and a multiset comparison of (code, origin).

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/peer: the data stays in the source tree.
export const PEER_DIR = join(here, '..', '..', '..', 'test', 'peer', 'istio-analyze');

export interface PeerCase {
  name: string;
  index: number;
  inputFiles: string[];
  meshConfigFile: string | null;
  meshNetworksFile: string | null;
  analyzerMetadataName: string;
  analyzerInputs: string[];
  expected: Array<{ code: string; resource: string }>;
}

export interface CaseResult {
  case: PeerCase;
  passed: boolean;
  missing: string[]; // expected but not reported
  extra: string[]; // reported but not expected
  read: string[]; // kinds the analyzer read (for the declared-inputs check)
  error?: string;
}

export function loadCases(): PeerCase[] {
  return JSON.parse(readFileSync(join(PEER_DIR, 'cases.json'), 'utf8')) as PeerCase[];
}

export function knownFailures(): Record<string, string> {
  return JSON.parse(readFileSync(join(PEER_DIR, '..', 'known-failures.json'), 'utf8')) as Record<string, string>;
}

export function runCase(c: PeerCase): CaseResult {
  const analyzer = findAnalyzer(c.analyzerMetadataName);
  if (!analyzer) return { case: c, passed: false, missing: [], extra: [], read: [], error: `analyzer ${c.analyzerMetadataName} is not registered` };
  try {
    const onlyKinds = new Set(c.analyzerInputs);
    const testdata = join(PEER_DIR, 'testdata');
    const loaded = loadPaths(c.inputFiles.map((f) => join(testdata, f)), { defaultNamespace: '', onlyKinds, lenientKinds: true });
    if (loaded.errors.length) throw new Error(loaded.errors.map((e) => e.format()).join('; '));
    const meshConfig = c.meshConfigFile ? loadMeshConfigFile(join(testdata, c.meshConfigFile)) : defaultMeshConfig();
    const meshNetworks = c.meshNetworksFile ? loadMeshNetworksFile(join(testdata, c.meshNetworksFile)) : defaultMeshNetworks();
    const defaults = defaultIngressResources(meshConfig).filter((r: Resource) => onlyKinds.has(r.info.id));
    const { messages, executed } = runAnalyzers([...loaded.resources, ...defaults], [analyzer], { meshConfig, meshNetworks, namespace: '' });
    const actual = messages.map((m) => `${m.code}|${m.resource ? friendlyName(m.resource) : ''}`);
    const expected = c.expected.map((e) => `${e.code}|${e.resource}`);
    const { missing, extra } = multisetDiff(expected, actual);
    return { case: c, passed: missing.length === 0 && extra.length === 0, missing, extra, read: [...executed[0].read] };
  } catch (e) {
    return { case: c, passed: false, missing: [], extra: [], read: [], error: (e as Error).stack ?? String(e) };
  }
}

function multisetDiff(expected: string[], actual: string[]): { missing: string[]; extra: string[] } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const extra: string[] = [];
  for (const a of actual) {
    const n = counts.get(a) ?? 0;
    if (n > 0) counts.set(a, n - 1);
    else extra.push(a);
  }
  const missing: string[] = [];
  for (const [k, n] of counts) for (let i = 0; i < n; i++) missing.push(k);
  return { missing, extra };
}

export function describe(r: CaseResult): string {
  const lines = [`FAIL #${r.case.index} ${r.case.name} [${r.case.analyzerMetadataName}]`];
  if (r.error) lines.push(`  error: ${r.error}`);
  for (const m of r.missing) lines.push(`  missing: ${m}`);
  for (const x of r.extra) lines.push(`  unexpected: ${x}`);
  return lines.join('\n');
}
