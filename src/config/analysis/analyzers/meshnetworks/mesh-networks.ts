import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// MeshNetworks endpoints name the service registry (cluster) whose endpoints form a network.
// A registry istiod does not know, neither a built-in one nor a remote cluster from a
// multicluster secret, gives that network no endpoints, so cross-network traffic fails.

const BUILT_IN_REGISTRIES = ['Mock', 'Kubernetes', 'External'];
const MULTICLUSTER_SECRET_LABEL = 'istio/multiCluster';

/** Built-in registries plus one per cluster in the remote-cluster secrets (each data key is a cluster id). */
function knownRegistries(ctx: AnalysisContext): Set<string> {
  const known = new Set(BUILT_IN_REGISTRIES);
  for (const secret of ctx.list('Secret')) {
    if (secret.metadata.labels?.[MULTICLUSTER_SECRET_LABEL] !== 'true') continue;
    // Kubernetes folds stringData into data on write; files may use either.
    for (const key of [...Object.keys(secret.raw.data ?? {}), ...Object.keys(secret.raw.stringData ?? {})]) known.add(key);
  }
  return known;
}

function checkNetworks(ctx: AnalysisContext, meshNetworks: Resource, known: Set<string>): void {
  for (const [network, spec] of Object.entries<any>(meshNetworks.spec?.networks ?? {})) {
    (spec?.endpoints ?? []).forEach((endpoint: any, i: number) => {
      const registry = endpoint?.fromRegistry;
      if (registry === undefined || known.has(registry)) return; // fromCidr endpoints need no registry
      ctx.report(newMessage('IST0126', meshNetworks, [registry, network], ['networks', network, 'endpoints', i]));
    });
  }
}

export const meshNetworksAnalyzer: Analyzer = {
  name: 'meshnetworks.MeshNetworksAnalyzer',
  description: 'Checks that MeshNetworks endpoints refer to known service registries',
  inputs: ['MeshNetworks', 'Secret'],
  codes: ['IST0126'],
  analyze(ctx) {
    const known = knownRegistries(ctx);
    for (const meshNetworks of ctx.list('MeshNetworks')) checkNetworks(ctx, meshNetworks, known);
  },
};
