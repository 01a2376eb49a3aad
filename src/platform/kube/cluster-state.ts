import { parse } from 'yaml';
import type { KindId } from '../../api/kinds.js';
import { resourceKey, type Resource } from '../../api/resource.js';
import type { LoadResult } from '../../config/loader.js';
import { defaultMeshConfig, defaultMeshNetworks, mergeMesh, type MeshConfig, type MeshNetworks } from '../../config/mesh.js';
import { loadObjects, normalizeItem } from './cluster-objects.js';
import { collectionPath, discoverKinds, type ServedKind } from './discovery.js';
import { KubeError } from './errors.js';
import type { Json, KubeClient } from './kube-client.js';

// One read of the cluster: every kind meshmedic knows that the cluster serves, every namespace
// (an analyzer follows references across namespaces, as istioctl's does), plus the mesh config
// from istiod's ConfigMap. A few lists at a time, so a large cluster is not hit all at once.

export interface ClusterState {
  served: Map<KindId, ServedKind>;
  /** The objects as the API returned them (normalized), by kind. */
  objects: Map<KindId, Json[]>;
  /** The List resourceVersion of each kind: where a watch starts. */
  resourceVersions: Map<KindId, string>;
  loaded: LoadResult;
  meshConfig: MeshConfig;
  meshNetworks: MeshNetworks;
  /** Whether the mesh config came from the cluster (ConfigMap istio in the Istio namespace). */
  meshConfigFromCluster: boolean;
  /** Kinds our credentials may not list (RBAC), with the server's reason: read as absent. */
  unreadable: Array<{ kind: KindId; reason: string }>;
}

export interface ReadOptions {
  /** Where istiod runs (its ConfigMap `istio` holds the mesh config). */
  istioNamespace?: string;
  /** Read only these kinds (default: all the cluster serves). */
  kinds?: readonly KindId[];
  concurrency?: number;
}

export async function readCluster(client: KubeClient, opts: ReadOptions = {}): Promise<ClusterState> {
  const served = await discoverKinds(client);
  const kinds = [...served.values()].filter((k) => !opts.kinds || opts.kinds.includes(k.info.id));
  const objects = new Map<KindId, Json[]>();
  const resourceVersions = new Map<KindId, string>();
  const unreadable: ClusterState['unreadable'] = [];
  const queue = [...kinds];
  const worker = async () => {
    for (let k = queue.shift(); k; k = queue.shift()) {
      let list;
      try {
        list = await client.list(collectionPath(k));
      } catch (e) {
        // Least privilege: a role without Secrets (say) still analyzes everything else; the
        // analyzers that need a missing kind are skipped, as for files without it.
        if (e instanceof KubeError && e.code === 'E_KUBE_FORBIDDEN' && e.status === 403) {
          unreadable.push({ kind: k.info.id, reason: e.message });
          continue;
        }
        throw e;
      }
      objects.set(k.info.id, list.items.map((i) => normalizeItem(i, k.apiVersion, k.info.kind)));
      if (list.metadata.resourceVersion) resourceVersions.set(k.info.id, list.metadata.resourceVersion);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  // Kinds in a stable order, so the same cluster always loads the same way.
  const all = kinds.map((k) => objects.get(k.info.id) ?? []).flat();
  const loaded = loadObjects(all);
  const mesh = meshOf(objects.get('ConfigMap') ?? [], opts.istioNamespace ?? 'istio-system');
  unreadable.sort((a, b) => (a.kind < b.kind ? -1 : 1));
  return { served, objects, resourceVersions, loaded, ...mesh, unreadable };
}

/** The mesh config and networks istiod runs with: ConfigMap `istio` (data.mesh, data.meshNetworks) over Istio's defaults. */
export function meshOf(configMaps: readonly Json[], istioNamespace: string): { meshConfig: MeshConfig; meshNetworks: MeshNetworks; meshConfigFromCluster: boolean } {
  const cm = configMaps.find((c) => c.metadata?.namespace === istioNamespace && c.metadata?.name === 'istio');
  const mesh = typeof cm?.data?.mesh === 'string' ? (parse(cm.data.mesh) ?? {}) : undefined;
  const networks = typeof cm?.data?.meshNetworks === 'string' ? (parse(cm.data.meshNetworks) ?? {}) : undefined;
  return {
    meshConfig: mesh ? mergeMesh(defaultMeshConfig(), mesh) : defaultMeshConfig(),
    meshNetworks: networks ? { ...defaultMeshNetworks(), ...networks } : defaultMeshNetworks(),
    meshConfigFromCluster: mesh !== undefined,
  };
}

/**
 * istioctl's overlay: the cluster's resources with the files' on top (a file's object replaces
 * the cluster's object of the same kind, namespace and name), so a change can be analyzed
 * against the cluster before it is applied.
 */
export function overlay(cluster: LoadResult, files: LoadResult): LoadResult {
  const replaced = new Set(files.resources.map(resourceKey));
  const resources: Resource[] = [...cluster.resources.filter((r) => !replaced.has(resourceKey(r))), ...files.resources];
  return { resources, skipped: [...cluster.skipped, ...files.skipped], errors: [...cluster.errors, ...files.errors] };
}
