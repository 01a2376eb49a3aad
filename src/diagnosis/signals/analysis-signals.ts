import type { Resource } from '../../api/resource.js';
import { namespaceOf } from '../../api/resource.js';
import type { Analyzer } from '../../config/analysis/analyzer.js';
import { DEFAULT_ANALYZERS } from '../../config/analysis/registry.js';
import { runAnalyzers } from '../../config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../../config/mesh.js';
import { hostsOf } from './config-signals.js';
import type { AnalysisFinding } from './snapshot.js';

// The static analyzers (istioctl analyze's) on the live config: their findings on a resource
// that touches a suspected service join that cause's evidence. Analyzers that need runtime
// kinds the store does not hold (Pods, Secrets) are left out, as `meshmedic analyze` does for
// files without them: run on nothing, they would only report everything as missing.

const RUNTIME_KINDS = new Set<string>(['Pod', 'Secret']);

export function runnableAnalyzers(resources: readonly Resource[], analyzers: readonly Analyzer[] = DEFAULT_ANALYZERS): Analyzer[] {
  const present = new Set(resources.map((r) => r.info.id));
  return analyzers.filter((a) => !a.inputs.some((k) => RUNTIME_KINDS.has(k) && !present.has(k)));
}

/** Findings of level Warning and Error (Info says nothing about a fault). */
export function analysisFindings(resources: readonly Resource[]): AnalysisFinding[] {
  const { messages } = runAnalyzers(resources, runnableAnalyzers(resources), { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks() });
  return messages
    .filter((m) => m.level === 'Error' || m.level === 'Warning')
    .map((m) => ({
      code: m.code,
      level: m.level,
      text: m.text,
      ...(m.resource && { resource: { kind: m.resource.info.kind, namespace: namespaceOf(m.resource), name: m.resource.metadata.name } }),
      hosts: m.resource ? hostsOf(m.resource) : [],
    }));
}
