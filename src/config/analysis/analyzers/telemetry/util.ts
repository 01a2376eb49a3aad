import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext } from '../../analyzer.js';
import type { MeshConfig } from '../../../mesh.js';

// Helpers for the Telemetry analyzers (and others that read the mesh config as an input).

const MESH_CONFIG_NAME = 'meshconfig';

/** The mesh config as an analysis input: the `meshconfig` resource, else the last one, else the context's. */
export function meshConfigOf(ctx: AnalysisContext): MeshConfig {
  const all = ctx.list<MeshConfig>('MeshConfig');
  const chosen = all.find((r) => r.metadata.name === MESH_CONFIG_NAME) ?? all[all.length - 1];
  return chosen?.spec ?? ctx.meshConfig;
}

/** Names of resources, sorted, for messages that list the resources in conflict. */
export function sortedNames(resources: readonly Resource[]): string[] {
  return resources.map((r) => r.metadata.name).sort();
}

/** Group resources by a key, keeping the order in which they were listed. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}
