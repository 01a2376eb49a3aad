// The resource kinds meshmedic understands, keyed by Istio's collection identifier
// (the names Istio's analyzers declare as inputs: `VirtualService`, `KubernetesGateway`, ...).
// A kind is found by (group, kind) from a document's apiVersion; every listed version of a
// group is an alias of the same kind, as in Istio (v1alpha3, v1beta1 and v1 are one collection).

export type KindId =
  // networking.istio.io
  | 'VirtualService' | 'DestinationRule' | 'Gateway' | 'ServiceEntry' | 'WorkloadEntry'
  | 'WorkloadGroup' | 'Sidecar' | 'EnvoyFilter' | 'ProxyConfig'
  // security.istio.io
  | 'PeerAuthentication' | 'AuthorizationPolicy' | 'RequestAuthentication'
  // telemetry.istio.io, extensions.istio.io
  | 'Telemetry' | 'WasmPlugin'
  // Kubernetes
  | 'Namespace' | 'Service' | 'Pod' | 'Deployment' | 'Node' | 'Secret' | 'ConfigMap' | 'Endpoints' | 'ServiceAccount'
  | 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' | 'CustomResourceDefinition'
  // Gateway API
  | 'KubernetesGateway' | 'GatewayClass' | 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute'
  | 'UDPRoute' | 'ReferenceGrant' | 'BackendTLSPolicy'
  // synthetic resources built from mesh config files
  | 'MeshConfig' | 'MeshNetworks';

export interface KindInfo {
  id: KindId;
  group: string; // '' for the Kubernetes core group
  kind: string; // the `kind:` field as written in YAML
  versions: string[]; // accepted versions; the first one is preferred when we write
  clusterScoped: boolean;
  istio: boolean; // an Istio CRD (schema-validated as IST0106)
}

const k = (id: KindId, group: string, kind: string, versions: string[], clusterScoped = false, istio = false): KindInfo =>
  ({ id, group, kind, versions, clusterScoped, istio });

const NET = 'networking.istio.io';
const NET_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];
const SEC = 'security.istio.io';
const GW = 'gateway.networking.k8s.io';
const GW_VERSIONS = ['v1', 'v1beta1', 'v1alpha2', 'v1alpha3'];

export const KINDS: readonly KindInfo[] = [
  k('VirtualService', NET, 'VirtualService', NET_VERSIONS, false, true),
  k('DestinationRule', NET, 'DestinationRule', NET_VERSIONS, false, true),
  k('Gateway', NET, 'Gateway', NET_VERSIONS, false, true),
  k('ServiceEntry', NET, 'ServiceEntry', NET_VERSIONS, false, true),
  k('WorkloadEntry', NET, 'WorkloadEntry', NET_VERSIONS, false, true),
  k('WorkloadGroup', NET, 'WorkloadGroup', NET_VERSIONS, false, true),
  k('Sidecar', NET, 'Sidecar', NET_VERSIONS, false, true),
  k('EnvoyFilter', NET, 'EnvoyFilter', ['v1alpha3'], false, true),
  k('ProxyConfig', NET, 'ProxyConfig', ['v1beta1'], false, true),
  k('PeerAuthentication', SEC, 'PeerAuthentication', ['v1', 'v1beta1'], false, true),
  k('AuthorizationPolicy', SEC, 'AuthorizationPolicy', ['v1', 'v1beta1'], false, true),
  k('RequestAuthentication', SEC, 'RequestAuthentication', ['v1', 'v1beta1'], false, true),
  k('Telemetry', 'telemetry.istio.io', 'Telemetry', ['v1', 'v1alpha1'], false, true),
  k('WasmPlugin', 'extensions.istio.io', 'WasmPlugin', ['v1alpha1'], false, true),
  k('Namespace', '', 'Namespace', ['v1'], true),
  k('Service', '', 'Service', ['v1']),
  k('Pod', '', 'Pod', ['v1']),
  k('Node', '', 'Node', ['v1'], true),
  k('Secret', '', 'Secret', ['v1']),
  k('ConfigMap', '', 'ConfigMap', ['v1']),
  k('Endpoints', '', 'Endpoints', ['v1']),
  k('ServiceAccount', '', 'ServiceAccount', ['v1']),
  k('Deployment', 'apps', 'Deployment', ['v1']),
  k('MutatingWebhookConfiguration', 'admissionregistration.k8s.io', 'MutatingWebhookConfiguration', ['v1', 'v1beta1'], true),
  k('ValidatingWebhookConfiguration', 'admissionregistration.k8s.io', 'ValidatingWebhookConfiguration', ['v1', 'v1beta1'], true),
  k('CustomResourceDefinition', 'apiextensions.k8s.io', 'CustomResourceDefinition', ['v1', 'v1beta1'], true),
  k('KubernetesGateway', GW, 'Gateway', GW_VERSIONS),
  k('GatewayClass', GW, 'GatewayClass', GW_VERSIONS, true),
  k('HTTPRoute', GW, 'HTTPRoute', GW_VERSIONS),
  k('GRPCRoute', GW, 'GRPCRoute', GW_VERSIONS),
  k('TCPRoute', GW, 'TCPRoute', GW_VERSIONS),
  k('TLSRoute', GW, 'TLSRoute', GW_VERSIONS),
  k('UDPRoute', GW, 'UDPRoute', GW_VERSIONS),
  k('ReferenceGrant', GW, 'ReferenceGrant', GW_VERSIONS),
  k('BackendTLSPolicy', GW, 'BackendTLSPolicy', GW_VERSIONS),
  k('MeshConfig', 'meshmedic.internal', 'MeshConfig', ['v1alpha1']),
  k('MeshNetworks', 'meshmedic.internal', 'MeshNetworks', ['v1alpha1']),
];

const byId = new Map<KindId, KindInfo>(KINDS.map((x) => [x.id, x]));
const byGroupKind = new Map<string, KindInfo>(KINDS.map((x) => [`${x.group}/${x.kind}`, x]));

export function kindInfo(id: KindId): KindInfo {
  const info = byId.get(id);
  if (!info) throw new Error(`unknown kind id ${id}`);
  return info;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The kind of a document, or undefined when meshmedic does not know (group, kind, version). */
export function lookupKind(apiVersion: string, kind: string): KindInfo | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  const info = byGroupKind.get(`${group}/${kind}`);
  if (!info || !info.versions.includes(version)) return undefined;
  return info;
}

/** True when the group belongs to Istio, so an unknown kind there is a user error, not a foreign CRD. */
export function isIstioGroup(apiVersion: string): boolean {
  return splitApiVersion(apiVersion).group.endsWith('istio.io');
}
