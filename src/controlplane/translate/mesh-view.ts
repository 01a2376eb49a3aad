import type { WorkloadInstance } from '../../api/snapshot.js';
import type { Resource } from '../../api/resource.js';
import type { ConfigStore } from '../../config/store.js';
import type { MeshConfig } from '../../config/mesh.js';
import { meshConfigFromStore } from './telemetry-selection.js';
import type { ServiceRegistry } from '../registry.js';
import type { MeshService } from '../services.js';

// Everything translation reads, taken once per recompute so every node's snapshot is built
// from the same state (and the store is walked once, not once per node).

export interface MeshView {
  services: MeshService[]; // sorted by hostname, then namespace
  instances: WorkloadInstance[]; // sorted by namespace, then name
  /** VirtualServices in Istio's order (creation time, then name, then namespace): the first one wins a host. */
  virtualServices: Resource[];
  destinationRules: Resource[]; // same order
  /** Istio's root namespace: its DestinationRules apply mesh-wide as a last resort. */
  rootNamespace: string;
  /** Telemetry resources in Istio's order (creation time, then name): the oldest wins a level. */
  telemetries: Resource[];
  /** The mesh config (a MeshConfig resource or the root namespace's `istio` ConfigMap, over Istio's defaults): telemetry defaults and providers. */
  meshConfig: MeshConfig;
  /** Kinds in the store that translation does not use yet (reported, never silently ignored). */
  unusedKinds: string[];
  /** PeerAuthentications and AuthorizationPolicies in Istio's order (src/controlplane/translate/security.ts). */
  peerAuthentications?: Resource[];
  authorizationPolicies?: Resource[];
  requestAuthentications?: Resource[];
}

/** Kinds the translation reads (directly or through the registry). */
const USED_KINDS = new Set(['VirtualService', 'DestinationRule', 'Service', 'ServiceEntry', 'WorkloadEntry', 'Namespace', 'Telemetry', 'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication']);
/** Kinds that configure proxies in Istio, so their presence without effect must be told. */
const PROXY_KINDS = new Set([
  'Gateway', 'Sidecar', 'EnvoyFilter', 'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication',
  'Telemetry', 'WasmPlugin', 'WorkloadGroup', 'ProxyConfig', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute', 'KubernetesGateway',
]);

export function buildMeshView(store: ConfigStore, registry: ServiceRegistry, rootNamespace = 'istio-system'): MeshView {
  const unused = new Set<string>();
  for (const r of store.all()) if (!USED_KINDS.has(r.info.id) && PROXY_KINDS.has(r.info.id)) unused.add(r.info.id);
  return {
    services: registry.services(),
    instances: registry.instances(),
    virtualServices: istioOrder(store.list('VirtualService')),
    destinationRules: istioOrder(store.list('DestinationRule')),
    rootNamespace,
    telemetries: istioOrder(store.list('Telemetry')),
    meshConfig: meshConfigFromStore(store, rootNamespace),
    unusedKinds: [...unused].sort(),
    peerAuthentications: istioOrder(store.list('PeerAuthentication')),
    authorizationPolicies: istioOrder(store.list('AuthorizationPolicy')),
    requestAuthentications: istioOrder(store.list('RequestAuthentication')),
  };
}

/** Istio's sortConfigByCreationTime: oldest first, then name, then namespace. */
export function istioOrder(resources: Resource[]): Resource[] {
  const created = (r: Resource) => (typeof r.metadata.creationTimestamp === 'string' ? r.metadata.creationTimestamp : '');
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...resources].sort(
    (a, b) => cmp(created(a), created(b)) || cmp(a.metadata.name, b.metadata.name) || cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? ''),
  );
}
